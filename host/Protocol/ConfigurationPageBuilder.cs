using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Host.Protocol;

/// <summary>One syscall declaration and the handler set that made it.</summary>
/// <param name="SetName">The declaring set's name, for error messages.</param>
/// <param name="Signature">The declaration.</param>
/// <remarks>A class, not a struct: the framework's generic collections over a reference type are shared code, already
/// precompiled, where over a Donjon value type each method is JIT-compiled at start (docs/performance.md, "Start-up").</remarks>
internal sealed record DeclaredSyscall(string SetName, SyscallSignature Signature);

/// <summary>
/// The marshalling table of a keep, built once from the loaded handler sets: the configuration page for the keep
/// image, and the dispatch map for the executor. Both come from the same snapshot of the declarations.
/// </summary>
/// <param name="ConfigurationPage">The <c>DJNC</c> bytes (<c>KeepImage.Configuration</c>).</param>
/// <param name="Dispatch">Each declared syscall number, with the set that handles it and its declaration.</param>
internal sealed record MarshallingTable(
    ReadOnlyMemory<byte> ConfigurationPage,
    IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> Dispatch);

/// <summary>
/// Builds the configuration page (<c>docs/protocol.md</c> §2) from the syscall declarations of the loaded
/// handler sets, refusing any declaration the shim could not carry out.
/// </summary>
internal static class ConfigurationPageBuilder
{
    /// <summary>
    /// Reads every set's declarations once, checks them, and returns the configuration page with the matching
    /// dispatch map.
    /// </summary>
    /// <param name="sets">The loaded handler sets.</param>
    /// <param name="maxThreads">The most threads the workload may have at once (the page's max-threads field, and so the backend's slot count).</param>
    /// <param name="cpus">The vCPUs the policy grants the keep (the page's cpus field), 1 to <see cref="MaxCpus"/>.</param>
    /// <param name="moduleSha256">The SHA-256 of the module an exec layer runs (the page's module digest, 1.4), or <see langword="null"/> for none (zero).</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException">A declaration is invalid or declared twice; the message names the set and the syscall.</exception>
    public static MarshallingTable BuildTable(IReadOnlyList<ISyscallHandlerSet> sets, int maxThreads = DefaultMaxThreads, int cpus = 1, ReadOnlyMemory<byte>? moduleSha256 = null)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var declarations = new List<DeclaredSyscall>();
        var owners = new List<ISyscallHandlerSet>();
        for (int s = 0; s < sets.Count; s++)
        {
            var set = sets[s] ?? throw new ArgumentException($"handler set #{s} is null", nameof(sets));
            string setName = set.Name ?? $"#{s}";
            var syscalls = set.Syscalls ?? throw new ArgumentException($"handler set '{setName}' declares no syscall list (Syscalls is null)", nameof(sets));
            foreach (var signature in syscalls)
            {
                declarations.Add(new DeclaredSyscall(setName, Snapshot(setName, signature)));
                owners.Add(set);
            }
        }

        var page = Build(declarations, maxThreads, cpus);
        if (moduleSha256 is { } digest)
        {
            if (digest.Length != ConfigModuleDigestSize)
            {
                throw new ArgumentException($"a module digest is {ConfigModuleDigestSize} bytes (a SHA-256), not {digest.Length}", nameof(moduleSha256));
            }

            digest.Span.CopyTo(page.AsSpan(ConfigModuleDigestOffset, ConfigModuleDigestSize));
        }

        var dispatch = new Dictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)>();
        for (int i = 0; i < declarations.Count; i++)
        {
            dispatch.Add(declarations[i].Signature.Number, (owners[i], declarations[i].Signature));
        }

        return new MarshallingTable(page, dispatch);
    }

    /// <summary>
    /// A copy of <paramref name="page"/> with the trusted-library manifest's SHA-256 in its header (1.4): measured with
    /// the image, so a verifier who trusts the measurement trusts the libraries the manifest pins.
    /// </summary>
    /// <param name="page">A page from <see cref="Build"/>.</param>
    /// <param name="manifestSha256">The 32-byte SHA-256 of the manifest's bytes.</param>
    public static byte[] WithTrustedManifest(ReadOnlyMemory<byte> page, ReadOnlySpan<byte> manifestSha256)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(manifestSha256.Length, 32);
        ArgumentOutOfRangeException.ThrowIfLessThan(page.Length, ConfigHeaderSize);
        byte[] copy = page.ToArray();
        manifestSha256.CopyTo(copy.AsSpan(ConfigTrustedManifestOffset));
        return copy;
    }

    /// <summary>
    /// A copy of <paramref name="page"/> with the keep flag <see cref="ConfigFlagTrace"/> set (<c>run --strace</c>): the
    /// shims then report each call they serve themselves in a TRACE item. The flag is measured with the image, so a
    /// traced keep measures differently from an untraced one.
    /// </summary>
    /// <param name="page">A page <see cref="Build"/> made.</param>
    /// <returns>The new page.</returns>
    public static byte[] WithTrace(ReadOnlyMemory<byte> page)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page.Length, ConfigHeaderSize);
        byte[] copy = page.ToArray();
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(ConfigFlagsOffset));
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(ConfigFlagsOffset), flags | ConfigFlagTrace);
        return copy;
    }

    /// <summary>Checks <paramref name="syscalls"/> and builds the configuration page.</summary>
    /// <param name="syscalls">Every declaration of every loaded set.</param>
    /// <param name="maxThreads">The page's max-threads field, 1 to <see cref="MaxThreads"/>.</param>
    /// <param name="cpus">The page's cpus field, 1 to <see cref="MaxCpus"/>.</param>
    /// <returns>The page: a 128-byte header, one 32-byte entry per number from 0 to the highest declared, then the choice table (1.5).</returns>
    /// <exception cref="ArgumentException">A declaration is invalid or declared twice; the message names the set and the syscall.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxThreads"/> is outside 1 to <see cref="MaxThreads"/>, or <paramref name="cpus"/> outside 1 to <see cref="MaxCpus"/>.</exception>
    public static byte[] Build(IReadOnlyList<DeclaredSyscall> syscalls, int maxThreads = DefaultMaxThreads, int cpus = 1)
    {
        ArgumentNullException.ThrowIfNull(syscalls);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxThreads, MaxThreads);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpus, MaxCpus);
        // Indexed by number (SignatureValidator keeps each below ConfigMaxEntries), so the entries come out in order
        // without a sort; plain loops, no LINQ: this runs at every start, and each framework generic is a JIT.
        var byNumber = new DeclaredSyscall?[ConfigMaxEntries];
        int entryCount = 0;
        for (int d = 0; d < syscalls.Count; d++)
        {
            var declared = syscalls[d];
            Validate(declared);
            int number = declared.Signature.Number;
            if (byNumber[number] is { } first)
            {
                string others = first.SetName == declared.SetName ? $"twice by '{declared.SetName}'" : $"by both '{first.SetName}' and '{declared.SetName}'";
                throw new ArgumentException(
                    $"syscall {declared.Signature.Number} ({first.Signature.Name} / {declared.Signature.Name}) is declared {others}; each syscall must have one handler set",
                    nameof(syscalls));
            }

            byNumber[number] = declared;
            entryCount = Math.Max(entryCount, number + 1);
        }

        // 1.5: the choices of the selected arguments, each argument's sorted by selector value, after the syscall table.
        int choiceCount = 0;
        for (int number = 0; number < entryCount; number++)
        {
            if (byNumber[number] is not { } declared)
            {
                continue;
            }

            var arguments = declared.Signature.Arguments;
            for (int a = 0; a < arguments.Count; a++)
            {
                if (arguments[a].Kind == ArgumentKind.Selected)
                {
                    choiceCount += arguments[a].Choices!.Count;
                }
            }
        }

        if (choiceCount > ConfigMaxChoices)
        {
            throw new ArgumentException($"the loaded handler sets declare {choiceCount} choices of selected arguments in all; a configuration page holds at most {ConfigMaxChoices}", nameof(syscalls));
        }

        int choiceTableOffset = ConfigHeaderSize + (entryCount * ConfigEntrySize);
        var page = new byte[choiceTableOffset + (choiceCount * ConfigChoiceSize)];
        var span = page.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigMagicOffset..], ConfigMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[ConfigVersionMajorOffset..], ConfigVersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(span[ConfigVersionMinorOffset..], ConfigVersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigHeaderSizeOffset..], ConfigHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigTableOffsetOffset..], ConfigHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigEntryCountOffset..], (uint)entryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigEntrySizeOffset..], ConfigEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigMaxThreadsOffset..], (uint)maxThreads);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigCpusOffset..], (uint)cpus);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigChoiceTableOffsetOffset..], choiceCount == 0 ? 0u : (uint)choiceTableOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigChoiceCountOffset..], (uint)choiceCount);

        int nextChoice = 0;
        for (int number = 0; number < entryCount; number++)
        {
            if (byNumber[number] is not { } declared)
            {
                continue;
            }

            var entry = span.Slice(ConfigHeaderSize + (number * ConfigEntrySize), ConfigEntrySize);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[ConfigEntryFlagsOffset..], ConfigFlagDeclared);
            var arguments = declared.Signature.Arguments;
            for (int i = 0; i < MaxArguments; i++)
            {
                var descriptor = entry.Slice(ConfigEntryArgumentsOffset + (i * ConfigArgumentSize), ConfigArgumentSize);
                var argument = i < arguments.Count ? arguments[i] : SyscallArgument.Value;
                descriptor[ConfigArgumentKindOffset] = (byte)argument.Kind;
                descriptor[ConfigArgumentLengthOffset] = argument.LengthArgument >= 0 ? (byte)argument.LengthArgument : (byte)ConfigNoLengthArgument;
                if (argument.Kind == ArgumentKind.Selected)
                {
                    // 1.5: the descriptor's fixed size is the choice count; the entry says where its choices start.
                    var choices = SortedBySelector(argument.Choices!);
                    BinaryPrimitives.WriteUInt16LittleEndian(descriptor[ConfigArgumentFixedSizeOffset..], (ushort)choices.Length);
                    BinaryPrimitives.WriteUInt16LittleEndian(entry[ConfigEntryFirstChoiceOffset..], (ushort)nextChoice);
                    foreach (var choice in choices)
                    {
                        var slot = span.Slice(choiceTableOffset + (nextChoice++ * ConfigChoiceSize), ConfigChoiceSize);
                        BinaryPrimitives.WriteUInt32LittleEndian(slot[ConfigChoiceSelectorOffset..], choice.SelectorValue);
                        slot[ConfigChoiceKindOffset] = (byte)choice.Kind;
                        BinaryPrimitives.WriteUInt16LittleEndian(slot[ConfigChoiceFixedSizeOffset..], (ushort)choice.FixedSize);
                    }

                    continue;
                }

                BinaryPrimitives.WriteUInt16LittleEndian(descriptor[ConfigArgumentFixedSizeOffset..], (ushort)argument.FixedSize);
            }
        }

        return page;
    }

    /// <summary>The choices in ascending selector order, equal selectors in their declared order (as a stable sort).</summary>
    private static ArgumentChoice[] SortedBySelector(IReadOnlyList<ArgumentChoice> choices)
    {
        var sorted = new ArgumentChoice[choices.Count];
        for (int i = 0; i < sorted.Length; i++)
        {
            // Insertion sort: a handful of choices per argument.
            ArgumentChoice choice = choices[i];
            int j = i;
            while (j > 0 && sorted[j - 1].SelectorValue > choice.SelectorValue)
            {
                sorted[j] = sorted[j - 1];
                j--;
            }

            sorted[j] = choice;
        }

        return sorted;
    }

    /// <summary>Copies a plugin's declaration, so that later changes to its lists cannot desynchronise page and dispatch.</summary>
    private static SyscallSignature Snapshot(string setName, SyscallSignature? signature)
    {
        if (signature is null)
        {
            throw new ArgumentException($"handler set '{setName}' declares a null syscall signature");
        }

        if (signature.Arguments is null)
        {
            throw new ArgumentException($"handler set '{setName}': syscall {signature.Number} ({signature.Name}) has no argument list");
        }

        return signature with { Arguments = signature.Arguments.Select(a => a?.Choices is { } choices ? a with { Choices = choices.ToArray() } : a!).ToArray() };
    }

    private static void Validate(DeclaredSyscall? declared)
    {
        if (declared is null)
        {
            throw new ArgumentException("a syscall declaration is null");
        }

        string setName = declared.SetName ?? "(unnamed)";
        var signature = declared.Signature ?? throw new ArgumentException($"handler set '{setName}' declares a null syscall signature");
        if (SignatureValidator.Problem(signature) is { } problem)
        {
            throw new ArgumentException($"handler set '{setName}', syscall {signature.Number} ({signature.Name}): {problem}");
        }
    }
}
