using System.Globalization;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Conformance;

/// <summary>
/// Checks of a syscall handler set outside a keep (docs/contract.md, "Rules a handler set follows"): its declared
/// signatures follow the protocol's rules (docs/protocol.md §2), its errors are errnos, and its outputs fit their
/// capacities. Each method returns the problems it found, one sentence each; none means the set passed.
/// </summary>
public static class SyscallSetHarness
{
    /// <summary>The syscall numbers the shims serve themselves, which no set may declare (docs/protocol.md §2).</summary>
    public static IReadOnlySet<int> ShimServed { get; } = new HashSet<int>
    {
        9, 10, 11, 12, 13, 14, 15, 24, 25, 28, 34, 56, 60, 62, 127, 128, 130, 131, 158, 186, 200, 202, 218, 231, 234, 273, 334, 435,
    };

    /// <summary>The largest errno a result may carry (Linux's MAX_ERRNO).</summary>
    public const int MaxErrno = 4095;

    /// <summary>How long one call may take before the harness stops waiting for it (a call that blocks is allowed).</summary>
    public static readonly TimeSpan CallBudget = TimeSpan.FromSeconds(2);

    /// <summary>Problems with the set's declarations.</summary>
    /// <param name="set">The handler set.</param>
    /// <returns>The problems.</returns>
    public static IReadOnlyList<string> SignatureProblems(ISyscallHandlerSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(set.Name))
        {
            problems.Add("the set has no name");
        }

        if (set.Syscalls is null || set.Syscalls.Count == 0)
        {
            problems.Add("the set declares no syscall");
            return problems;
        }

        var seen = new HashSet<int>();
        foreach (SyscallSignature signature in set.Syscalls)
        {
            string where = string.Create(CultureInfo.InvariantCulture, $"syscall {signature.Number} '{signature.Name}'");
            if (signature.Number is < 0 or > 1023)
            {
                problems.Add($"{where}: the number is outside 0-1023");
            }

            if (!seen.Add(signature.Number))
            {
                problems.Add($"{where}: declared twice");
            }

            if (ShimServed.Contains(signature.Number))
            {
                problems.Add($"{where}: the shims serve this syscall themselves; a set may not declare it");
            }

            if (string.IsNullOrWhiteSpace(signature.Name))
            {
                problems.Add($"{where}: has no name");
            }

            if (signature.Arguments.Count > SyscallRequest.MaxArguments)
            {
                problems.Add($"{where}: has {signature.Arguments.Count} arguments, more than {SyscallRequest.MaxArguments}");
                continue;
            }

            for (int i = 0; i < signature.Arguments.Count; i++)
            {
                if (ArgumentProblem(signature, i) is string problem)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{where}, argument {i} ({signature.Arguments[i].Kind}): {problem}"));
                }
            }
        }

        return problems;
    }

    private static string? ArgumentProblem(SyscallSignature signature, int index)
    {
        SyscallArgument argument = signature.Arguments[index];
        int length = argument.LengthArgument;
        bool hasLength = length >= 0;
        if (hasLength && (length >= signature.Arguments.Count || length == index))
        {
            return $"its length argument {length} is not another argument";
        }

        ArgumentKind? lengthKind = hasLength ? signature.Arguments[length].Kind : null;
        switch (argument.Kind)
        {
            case ArgumentKind.Value:
            case ArgumentKind.CString:
                return hasLength || argument.FixedSize != 0 ? "takes neither a length argument nor a fixed size" : null;
            case ArgumentKind.InputBuffer:
            case ArgumentKind.OutputBuffer:
            case ArgumentKind.InOutBuffer:
                if (argument.Kind == ArgumentKind.OutputBuffer && lengthKind == ArgumentKind.ValueResultLength)
                {
                    return argument.FixedSize is > 0 and <= 0xFFFF ? null : "sized by a value-result length, it needs its maximum capacity as its fixed size";
                }

                if (hasLength == (argument.FixedSize != 0))
                {
                    return "needs either a length argument or a fixed size, not both and not neither";
                }

                return hasLength && lengthKind != ArgumentKind.Value ? "its length argument is not a Value" : argument.FixedSize is < 0 or > 0xFFFF ? "its fixed size is outside 1-65535" : null;
            case ArgumentKind.InputIovec:
            case ArgumentKind.OutputIovec:
                return !hasLength || lengthKind != ArgumentKind.Value || argument.FixedSize != 0 ? "needs a Value length argument (its element count) and no fixed size" : null;
            case ArgumentKind.InputArray:
            case ArgumentKind.OutputArray:
            case ArgumentKind.InOutArray:
                return !hasLength || lengthKind != ArgumentKind.Value || argument.FixedSize is < 1 or > 0xFFFF
                    ? "needs a Value length argument (its element count) and a fixed element size of 1-65535"
                    : null;
            case ArgumentKind.ValueResultLength:
                return hasLength || argument.FixedSize is not (4 or 8) ? "takes no length argument and a width of 4 or 8" : null;
            case ArgumentKind.SendMessage:
            case ArgumentKind.ReceiveMessage:
                // One struct msghdr (no length argument), or a struct mmsghdr array whose count a Value argument gives.
                return argument.FixedSize != 0 || (hasLength && lengthKind != ArgumentKind.Value)
                    ? "takes no fixed size, and a length argument only as a Value (the count of a struct mmsghdr array)"
                    : signature.Arguments.Count(a => a.Kind is ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage) > 1
                    ? "is one of several message arguments; a syscall has at most one" : null;
            case ArgumentKind.Opaque:
                return hasLength || argument.FixedSize != 0 ? "takes neither a length argument nor a fixed size" : null;
            case ArgumentKind.SignalMask:
                return hasLength == (argument.FixedSize != 0) || (hasLength && lengthKind != ArgumentKind.Value) || (!hasLength && argument.FixedSize != 16)
                    ? "needs either a Value length argument (its sigsetsize) or the fixed size 16 of pselect6's { sigset_t *, size_t } pair"
                    : signature.Arguments.Count(a => a.Kind == ArgumentKind.SignalMask) > 1
                    ? "is one of several signal masks; a syscall has at most one" : null;
            case ArgumentKind.Selected:
                // 1.5: a Value selector argument picks this argument's shape from its choices.
                return !hasLength || lengthKind != ArgumentKind.Value || argument.FixedSize != 0
                    ? "needs a Value selector argument (its length argument) and no fixed size"
                    : signature.Arguments.Count(a => a.Kind == ArgumentKind.Selected) > 1
                    ? "is one of several selected arguments; a syscall has at most one"
                    : signature.Arguments.Any(a => a.Kind is not (ArgumentKind.Value or ArgumentKind.Selected) && a.LengthArgument == length)
                    ? "its selector is also another argument's length; a selector sizes nothing"
                    : ChoicesProblem(argument.Choices);
            default:
                return "is not a kind of this contract";
        }
    }

    /// <summary>
    /// Calls every declared syscall with a request as the host would parse it from a zeroed call (every argument 0,
    /// every fixed-size input zeroed, C strings empty) and with one where every Value argument is
    /// <paramref name="value"/> (a length then gives that many zeroed bytes, up to 4096), and checks each result: the
    /// call does not throw, its value is non-negative or an errno (-1 to -4095), and each output names an output
    /// argument and fits its capacity. A call still running after <see cref="CallBudget"/> is left (a blocking call
    /// is allowed) and not counted as a problem.
    /// </summary>
    /// <param name="set">The handler set.</param>
    /// <param name="value">The Value of the second request (default 1).</param>
    /// <returns>The problems.</returns>
    public static async Task<IReadOnlyList<string>> CallProblemsAsync(ISyscallHandlerSet set, ulong value = 1)
    {
        ArgumentNullException.ThrowIfNull(set);
        var problems = new List<string>();
        foreach (SyscallSignature signature in set.Syscalls)
        {
            foreach (ulong fill in new[] { 0UL, value })
            {
                SyscallRequest request = RequestFor(signature, fill);
                using var session = new HarnessSession();
                using var cancel = new CancellationTokenSource(CallBudget);
                string where = string.Create(CultureInfo.InvariantCulture, $"syscall {signature.Number} '{signature.Name}' with every value {fill}");
                Task<SyscallResult> call;
                try
                {
                    call = set.HandleAsync(request, session, cancel.Token).AsTask();
                }
                catch (Exception e)
                {
                    problems.Add($"{where}: threw {e.GetType().Name} ({e.Message}); a handler answers an errno instead");
                    continue;
                }

                if (await Task.WhenAny(call, Task.Delay(CallBudget + CallBudget)).ConfigureAwait(false) != call)
                {
                    continue;
                }

                if (call.IsCanceled)
                {
                    continue;
                }

                if (call.IsFaulted)
                {
                    Exception e = call.Exception!.InnerException!;
                    problems.Add($"{where}: threw {e.GetType().Name} ({e.Message}); a handler answers an errno instead");
                    continue;
                }

                problems.AddRange(ResultProblems(request, call.Result).Select(p => $"{where}: {p}"));
            }
        }

        return problems;
    }

    /// <summary>Problems with one result of <paramref name="request"/>: its value and its outputs.</summary>
    /// <param name="request">The request.</param>
    /// <param name="result">What the set answered.</param>
    /// <returns>The problems.</returns>
    public static IReadOnlyList<string> ResultProblems(SyscallRequest request, SyscallResult result)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(result);
        var problems = new List<string>();
        if (result.Value < -MaxErrno)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"the result {result.Value} is negative but not an errno (-1 to -{MaxErrno})"));
        }

        foreach (SyscallOutput output in result.Outputs ?? [])
        {
            if (output.ArgumentIndex < 0 || output.ArgumentIndex >= request.Signature.Arguments.Count)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"an output names argument {output.ArgumentIndex}, which the signature does not have"));
                continue;
            }

            SyscallArgument declared = request.Signature.Arguments[output.ArgumentIndex];
            ArgumentKind kind = declared.Kind == ArgumentKind.Selected && declared.LengthArgument is >= 0 and < SyscallRequest.MaxArguments
                ? Effective(declared, request.Argument(declared.LengthArgument)).Kind
                : declared.Kind;
            // A message's records come back (recvmsg's, and sendmmsg's msg_len); opaque pointers and masks never cross.
            if (kind is not (ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.OutputIovec or ArgumentKind.OutputArray or ArgumentKind.InOutArray or ArgumentKind.ValueResultLength or ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"an output names argument {output.ArgumentIndex}, of kind {kind}, which carries nothing back"));
            }
            else if (output.Data.Length > request.OutputCapacity(output.ArgumentIndex))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"the output of argument {output.ArgumentIndex} is {output.Data.Length} bytes, more than its capacity {request.OutputCapacity(output.ArgumentIndex)}"));
            }
        }

        return problems;
    }

    private static string? ChoicesProblem(IReadOnlyList<ArgumentChoice>? choices)
    {
        if (choices is null || choices.Count is 0 or > 64)
        {
            return $"needs 1-64 choices, and has {choices?.Count ?? 0}";
        }

        var seen = new HashSet<uint>();
        foreach (ArgumentChoice? choice in choices)
        {
            if (choice is null)
            {
                return "has a null choice";
            }

            if (!seen.Add(choice.SelectorValue))
            {
                return string.Create(CultureInfo.InvariantCulture, $"gives the choice for selector value {choice.SelectorValue} twice");
            }

            bool valid = choice.Kind == ArgumentKind.Value
                ? choice.FixedSize == 0
                : choice.Kind is ArgumentKind.InputBuffer or ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer && choice.FixedSize is >= 1 and <= 0xFFFF;
            if (!valid)
            {
                return string.Create(CultureInfo.InvariantCulture, $"has a choice for selector value {choice.SelectorValue} that is neither a Value nor a buffer of fixed size 1-65535");
            }
        }

        return null;
    }

    /// <summary>The shape a selected argument takes for a selector value: its choice's kind and size, or a Value.</summary>
    private static (ArgumentKind Kind, int FixedSize) Effective(SyscallArgument argument, ulong selector)
    {
        if (argument.Kind != ArgumentKind.Selected)
        {
            return (argument.Kind, argument.FixedSize);
        }

        ArgumentChoice? choice = argument.Choices?.FirstOrDefault(c => c is not null && c.SelectorValue == (uint)selector);
        return choice is null ? (ArgumentKind.Value, 0) : (choice.Kind, choice.FixedSize);
    }

    /// <summary>The request the host would hand the set for a call of <paramref name="signature"/> with every Value
    /// argument <paramref name="value"/>: lengths give that many zeroed bytes (at most 4096), fixed sizes their size,
    /// C strings the empty string.</summary>
    /// <param name="signature">The declaration.</param>
    /// <param name="value">Every Value argument's value.</param>
    /// <returns>The request.</returns>
    public static SyscallRequest RequestFor(SyscallSignature signature, ulong value)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var arguments = new ulong[SyscallRequest.MaxArguments];
        var inputs = new ReadOnlyMemory<byte>[SyscallRequest.MaxArguments];
        var capacities = new int[SyscallRequest.MaxArguments];
        for (int i = 0; i < signature.Arguments.Count; i++)
        {
            if (signature.Arguments[i].Kind == ArgumentKind.Value)
            {
                arguments[i] = value;
            }
        }

        int Count(int lengthArgument) => lengthArgument >= 0 && lengthArgument < signature.Arguments.Count
            ? (int)Math.Min(arguments[lengthArgument], 4096UL) : 0;
        for (int i = 0; i < signature.Arguments.Count; i++)
        {
            SyscallArgument declared = signature.Arguments[i];
            SyscallArgument argument = declared;
            if (declared.Kind == ArgumentKind.Selected && declared.LengthArgument >= 0 && declared.LengthArgument < signature.Arguments.Count)
            {
                // The shape the selector's value picks: a Value takes the value, a buffer its fixed size.
                (ArgumentKind kind, int fixedSize) = Effective(declared, arguments[declared.LengthArgument]);
                argument = new SyscallArgument(kind, -1, fixedSize);
                if (kind == ArgumentKind.Value)
                {
                    arguments[i] = value;
                }
            }

            bool sizedByValueResult = argument.LengthArgument >= 0 && argument.LengthArgument < signature.Arguments.Count
                && signature.Arguments[argument.LengthArgument].Kind == ArgumentKind.ValueResultLength;
            int size = argument.Kind switch
            {
                ArgumentKind.InputBuffer or ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer =>
                    sizedByValueResult ? argument.FixedSize : argument.LengthArgument >= 0 ? Count(argument.LengthArgument) : argument.FixedSize,
                ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray => Math.Min(Count(argument.LengthArgument), 16) * argument.FixedSize,
                ArgumentKind.ValueResultLength => argument.FixedSize,
                ArgumentKind.CString => 1,
                _ => 0,
            };
            if (argument.Kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray && argument.LengthArgument >= 0)
            {
                arguments[argument.LengthArgument] = Math.Min(arguments[argument.LengthArgument], 16UL);
            }

            if (argument.Kind is ArgumentKind.InputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.CString or ArgumentKind.InputArray or ArgumentKind.InOutArray or ArgumentKind.ValueResultLength)
            {
                inputs[i] = new byte[size];
            }

            if (argument.Kind is ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.OutputArray or ArgumentKind.InOutArray or ArgumentKind.ValueResultLength)
            {
                capacities[i] = size;
            }

            if (argument.Kind is ArgumentKind.InputIovec or ArgumentKind.OutputIovec && argument.LengthArgument >= 0)
            {
                // An iovec array of no elements: the request carries nothing for it.
                arguments[argument.LengthArgument] = 0;
            }
        }

        return new SyscallRequest(signature, arguments, inputs, capacities);
    }
}
