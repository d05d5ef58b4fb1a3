using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Host.Protocol;

/// <summary>One syscall declaration and the handler set that made it.</summary>
/// <param name="SetName">The declaring set's name, for error messages.</param>
/// <param name="Signature">The declaration.</param>
internal readonly record struct DeclaredSyscall(string SetName, SyscallSignature Signature);

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
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException">A declaration is invalid or declared twice; the message names the set and the syscall.</exception>
    public static MarshallingTable BuildTable(IReadOnlyList<ISyscallHandlerSet> sets, int maxThreads = DefaultMaxThreads)
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

        var page = Build(declarations, maxThreads);
        var dispatch = new Dictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)>();
        for (int i = 0; i < declarations.Count; i++)
        {
            dispatch.Add(declarations[i].Signature.Number, (owners[i], declarations[i].Signature));
        }

        return new MarshallingTable(page, dispatch);
    }

    /// <summary>Checks <paramref name="syscalls"/> and builds the configuration page.</summary>
    /// <param name="syscalls">Every declaration of every loaded set.</param>
    /// <param name="maxThreads">The page's max-threads field, 1 to <see cref="MaxThreads"/>.</param>
    /// <returns>The page: a 64-byte header and one 32-byte entry per number from 0 to the highest declared.</returns>
    /// <exception cref="ArgumentException">A declaration is invalid or declared twice; the message names the set and the syscall.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxThreads"/> is outside 1 to <see cref="MaxThreads"/>.</exception>
    public static byte[] Build(IReadOnlyList<DeclaredSyscall> syscalls, int maxThreads = DefaultMaxThreads)
    {
        ArgumentNullException.ThrowIfNull(syscalls);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxThreads, MaxThreads);
        var byNumber = new Dictionary<int, DeclaredSyscall>();
        foreach (var declared in syscalls)
        {
            Validate(declared);
            if (byNumber.TryGetValue(declared.Signature.Number, out var first))
            {
                string others = first.SetName == declared.SetName ? $"twice by '{declared.SetName}'" : $"by both '{first.SetName}' and '{declared.SetName}'";
                throw new ArgumentException(
                    $"syscall {declared.Signature.Number} ({first.Signature.Name} / {declared.Signature.Name}) is declared {others}; each syscall must have one handler set",
                    nameof(syscalls));
            }

            byNumber.Add(declared.Signature.Number, declared);
        }

        int entryCount = byNumber.Count == 0 ? 0 : byNumber.Keys.Max() + 1;
        var page = new byte[ConfigHeaderSize + (entryCount * ConfigEntrySize)];
        var span = page.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigMagicOffset..], ConfigMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[ConfigVersionMajorOffset..], ConfigVersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(span[ConfigVersionMinorOffset..], ConfigVersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigHeaderSizeOffset..], ConfigHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigTableOffsetOffset..], ConfigHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigEntryCountOffset..], (uint)entryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigEntrySizeOffset..], ConfigEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ConfigMaxThreadsOffset..], (uint)maxThreads);

        foreach (var (number, declared) in byNumber)
        {
            var entry = span.Slice(ConfigHeaderSize + (number * ConfigEntrySize), ConfigEntrySize);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[ConfigEntryFlagsOffset..], ConfigFlagDeclared);
            var arguments = declared.Signature.Arguments;
            for (int i = 0; i < MaxArguments; i++)
            {
                var descriptor = entry.Slice(ConfigEntryArgumentsOffset + (i * ConfigArgumentSize), ConfigArgumentSize);
                var argument = i < arguments.Count ? arguments[i] : SyscallArgument.Value;
                descriptor[ConfigArgumentKindOffset] = (byte)argument.Kind;
                descriptor[ConfigArgumentLengthOffset] = argument.LengthArgument >= 0 ? (byte)argument.LengthArgument : (byte)ConfigNoLengthArgument;
                BinaryPrimitives.WriteUInt16LittleEndian(descriptor[ConfigArgumentFixedSizeOffset..], (ushort)argument.FixedSize);
            }
        }

        return page;
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

        return signature with { Arguments = signature.Arguments.ToArray() };
    }

    private static void Validate(DeclaredSyscall declared)
    {
        string setName = declared.SetName ?? "(unnamed)";
        var signature = declared.Signature ?? throw new ArgumentException($"handler set '{setName}' declares a null syscall signature");
        if (SignatureValidator.Problem(signature) is { } problem)
        {
            throw new ArgumentException($"handler set '{setName}', syscall {signature.Number} ({signature.Name}): {problem}");
        }
    }
}
