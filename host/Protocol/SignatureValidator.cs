using Donjon.Abstractions.Syscalls;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Host.Protocol;

/// <summary>
/// Checks one syscall declaration against what the configuration page (<c>docs/protocol.md</c> §2) and the shims can
/// carry out. <see cref="Plugins.PluginCatalog"/> runs it on every handler set when the plugin loads, so a bad
/// declaration is a configuration error at start-up; <see cref="ConfigurationPageBuilder"/> runs it again on its own
/// snapshot before it writes the page.
/// </summary>
internal static class SignatureValidator
{
    /// <summary>The highest argument kind this host knows.</summary>
    public const ArgumentKind HighestKnownKind = ArgumentKind.Selected;

    /// <summary>What is wrong with <paramref name="signature"/>, or <see langword="null"/> when the shims can carry it out.</summary>
    /// <param name="signature">A declaration, as a plugin made it (any field may be out of range or null).</param>
    /// <returns>One sentence without the syscall's number and name, which the caller adds.</returns>
    public static string? Problem(SyscallSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Number is < 0 or >= ConfigMaxEntries)
        {
            return $"the number must be 0-{ConfigMaxEntries - 1}";
        }

        if (string.IsNullOrWhiteSpace(signature.Name))
        {
            return "the syscall has no name";
        }

        if (ShimServedSyscalls.Refusing(signature.Number) is { } served)
        {
            return $"the shims serve {served.Name} (syscall {served.Number}) themselves inside the keep, so a handler set may not declare it";
        }

        IReadOnlyList<SyscallArgument>? arguments = signature.Arguments;
        if (arguments is null)
        {
            return "the argument list is null";
        }

        if (arguments.Count > MaxArguments)
        {
            return $"{arguments.Count} arguments declared; a syscall has at most {MaxArguments}";
        }

        for (int i = 0; i < arguments.Count; i++)
        {
            if (ArgumentProblem(arguments, i) is { } problem)
            {
                return problem;
            }
        }

        if (arguments.Count(a => IsMessage(a.Kind)) > 1)
        {
            return "more than one message argument (SendMessage, ReceiveMessage); a syscall has at most one";
        }

        if (arguments.Count(a => a.Kind == ArgumentKind.SignalMask) > 1)
        {
            return "more than one SignalMask argument; a syscall has at most one";
        }

        if (arguments.Count(a => a.Kind == ArgumentKind.Selected) > 1)
        {
            return "more than one Selected argument; a syscall has at most one";
        }

        if (arguments.FirstOrDefault(a => a.Kind == ArgumentKind.Selected) is { } selected &&
            arguments.Any(a => a.Kind is not (ArgumentKind.Value or ArgumentKind.Selected) && a.LengthArgument == selected.LengthArgument))
        {
            return $"the selector (argument {selected.LengthArgument}) of the Selected argument is also another argument's length; a selector sizes nothing";
        }

        return null;
    }

    /// <summary>Whether <paramref name="kind"/> is a message (kinds 11 and 12, configuration page 1.4).</summary>
    /// <param name="kind">An argument kind.</param>
    /// <returns>Whether it is a message.</returns>
    public static bool IsMessage(ArgumentKind kind) => kind is ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage;

    /// <summary>Whether <paramref name="kind"/> is a buffer with a length argument or a fixed size (kinds 1-3).</summary>
    /// <param name="kind">An argument kind.</param>
    /// <returns>Whether it is a plain buffer.</returns>
    public static bool IsBuffer(ArgumentKind kind) => kind is ArgumentKind.InputBuffer or ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer;

    /// <summary>Whether <paramref name="kind"/> is an array of count × element-size bytes (kinds 7-9).</summary>
    /// <param name="kind">An argument kind.</param>
    /// <returns>Whether it is an array.</returns>
    public static bool IsArray(ArgumentKind kind) => kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray;

    /// <summary>Whether argument <paramref name="index"/> of <paramref name="arguments"/> is an output buffer sized by a value-result length (1.3).</summary>
    /// <param name="arguments">A validated argument list.</param>
    /// <param name="index">An argument index.</param>
    /// <returns>Whether its capacity is the value behind another argument.</returns>
    public static bool IsSizedByValueResult(IReadOnlyList<SyscallArgument> arguments, int index) =>
        index < arguments.Count && arguments[index] is { Kind: ArgumentKind.OutputBuffer, LengthArgument: >= 0 } buffer &&
        buffer.LengthArgument < arguments.Count && arguments[buffer.LengthArgument]?.Kind == ArgumentKind.ValueResultLength;

    /// <summary>What is wrong with the choices of a selected argument (1.5), or <see langword="null"/>.</summary>
    private static string? ChoicesProblem(string at, IReadOnlyList<ArgumentChoice>? choices)
    {
        if (choices is null || choices.Count is 0 or > ConfigMaxChoicesPerArgument)
        {
            return $"{at}: a selected argument needs 1-{ConfigMaxChoicesPerArgument} choices, and has {choices?.Count ?? 0}";
        }

        var seen = new HashSet<uint>();
        for (int c = 0; c < choices.Count; c++)
        {
            ArgumentChoice? choice = choices[c];
            if (choice is null)
            {
                return $"{at}: choice {c} is null";
            }

            string which = $"{at}: the choice for selector value {choice.SelectorValue}";
            if (!seen.Add(choice.SelectorValue))
            {
                return $"{which} is given twice";
            }

            if (choice.Kind == ArgumentKind.Value)
            {
                if (choice.FixedSize != 0)
                {
                    return $"{which} is a Value and takes no fixed size";
                }
            }
            else if (!IsBuffer(choice.Kind))
            {
                return $"{which} has kind {choice.Kind}; a choice is a Value or a fixed-size InputBuffer, OutputBuffer or InOutBuffer";
            }
            else if (choice.FixedSize is < 1 or > ConfigMaxFixedSize)
            {
                return $"{which} is a buffer of fixed size {choice.FixedSize}, not 1-{ConfigMaxFixedSize}";
            }
        }

        return null;
    }

    /// <summary>
    /// The declaration argument <paramref name="index"/> of <paramref name="signature"/> has for one request: itself, or for
    /// a <see cref="ArgumentKind.Selected"/> argument the shape its selector's untrusted value picks (1.5): the choice whose
    /// selector value equals the selector's low 32 bits, as a fixed-size buffer or a value; a <see cref="SyscallArgument.Value"/>
    /// when no choice names it.
    /// </summary>
    /// <param name="signature">A validated declaration.</param>
    /// <param name="index">An argument index, 0-5.</param>
    /// <param name="untrustedArguments">The request's six argument values.</param>
    /// <returns>The effective declaration.</returns>
    public static SyscallArgument Effective(SyscallSignature signature, int index, ReadOnlySpan<ulong> untrustedArguments)
    {
        var declaration = index < signature.Arguments.Count ? signature.Arguments[index] : SyscallArgument.Value;
        if (declaration is not { Kind: ArgumentKind.Selected, Choices: { } choices, LengthArgument: >= 0 and < MaxArguments })
        {
            return declaration;
        }

        uint selector = (uint)untrustedArguments[declaration.LengthArgument];
        foreach (var choice in choices)
        {
            if (choice.SelectorValue == selector)
            {
                return choice.Kind == ArgumentKind.Value ? SyscallArgument.Value : new SyscallArgument(choice.Kind, -1, choice.FixedSize);
            }
        }

        return SyscallArgument.Value;
    }

    private static string? ArgumentProblem(IReadOnlyList<SyscallArgument> arguments, int i)
    {
        SyscallArgument? argument = arguments[i];
        if (argument is null)
        {
            return $"argument {i} is null";
        }

        if (argument.Kind is < ArgumentKind.Value or > HighestKnownKind)
        {
            return $"argument {i}: unknown argument kind {(int)argument.Kind}; this host knows kinds 0-{(int)HighestKnownKind} (docs/protocol.md §2)";
        }

        string at = $"argument {i} ({argument.Kind})";
        if (argument.Kind != ArgumentKind.Selected && argument.Choices is not null)
        {
            return $"{at}: only a Selected argument has choices";
        }

        if (argument.FixedSize is < 0 or > ConfigMaxFixedSize)
        {
            return $"{at}: fixed size {argument.FixedSize} is not 0-{ConfigMaxFixedSize}";
        }

        if (argument.LengthArgument != -1)
        {
            if (argument.LengthArgument < 0 || argument.LengthArgument >= arguments.Count)
            {
                return $"{at}: length argument index {argument.LengthArgument} is out of range (the syscall declares {arguments.Count} arguments)";
            }

            SyscallArgument? lengthArgument = arguments[argument.LengthArgument];
            if (lengthArgument is { Kind: ArgumentKind.ValueResultLength } && argument.Kind == ArgumentKind.OutputBuffer)
            {
                // 1.3: an output buffer sized by the value behind a value-result length, at most its fixed size.
                return argument.FixedSize > 0
                    ? null
                    : $"{at}: a buffer sized by the value-result length {argument.LengthArgument} needs a maximum size (its fixed size) of 1-{ConfigMaxFixedSize} bytes";
            }

            if (lengthArgument is null || lengthArgument.Kind != ArgumentKind.Value)
            {
                return lengthArgument is { Kind: ArgumentKind.ValueResultLength }
                    ? $"{at}: only an OutputBuffer may be sized by a value-result length (argument {argument.LengthArgument})"
                    : $"{at}: length argument {argument.LengthArgument} is not a Value argument";
            }
        }

        bool hasLength = argument.LengthArgument >= 0;
        bool hasFixed = argument.FixedSize > 0;
        switch (argument.Kind)
        {
            case ArgumentKind.ValueResultLength:
                return hasLength || argument.FixedSize is not (4 or 8)
                    ? $"{at}: a value-result length takes no length argument and a width (its fixed size) of 4 or 8 bytes"
                    : null;
            case ArgumentKind.Value:
            case ArgumentKind.CString:
                return hasLength || hasFixed ? $"{at}: a {argument.Kind} argument takes neither a length argument nor a fixed size" : null;
            case ArgumentKind.InputBuffer:
            case ArgumentKind.OutputBuffer:
            case ArgumentKind.InOutBuffer:
                if (!hasLength && !hasFixed)
                {
                    return $"{at}: a buffer needs a length argument or a fixed size, and has neither";
                }

                return hasLength && hasFixed ? $"{at}: a buffer has either a length argument or a fixed size, not both" : null;
            case ArgumentKind.InputIovec:
            case ArgumentKind.OutputIovec:
                return !hasLength || hasFixed ? $"{at}: an iovec array needs a length argument (its element count) and no fixed size" : null;
            case ArgumentKind.SendMessage:
            case ArgumentKind.ReceiveMessage:
                return hasFixed ? $"{at}: a message takes no fixed size (a count argument makes it a struct mmsghdr array)" : null;
            case ArgumentKind.Opaque:
                return hasLength || hasFixed ? $"{at}: an opaque pointer takes neither a length argument nor a fixed size" : null;
            case ArgumentKind.Selected:
                return !hasLength || hasFixed
                    ? $"{at}: a selected argument needs a selector argument (another, Value, argument) and no fixed size"
                    : ChoicesProblem(at, argument.Choices);
            case ArgumentKind.SignalMask:
                return hasLength == hasFixed || (hasFixed && argument.FixedSize != SigsetPairSize)
                    ? $"{at}: a signal mask needs either a length argument (its sigsetsize) or the fixed size {SigsetPairSize} of pselect6's {{ sigset_t *, size_t }} pair"
                    : null;
            default: // The arrays.
                return !hasLength || !hasFixed
                    ? $"{at}: an array needs both a count argument (a Value argument) and an element size of 1-{ConfigMaxFixedSize} bytes"
                    : null;
        }
    }
}
