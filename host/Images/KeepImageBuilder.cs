using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using Donjon.Abstractions.Images;
using Donjon.Host.Elf;

namespace Donjon.Host.Images;

/// <summary>
/// Builds the <see cref="KeepImage"/> of an accepted workload: the layout, the segments to map, the entry point,
/// the program header and TLS locations, and the initial stack. Everything a shim needs is computed here, in
/// testable C#, and is the same for every backend.
/// </summary>
public static class KeepImageBuilder
{
    /// <summary>The <c>AT_CLKTCK</c> value: Linux's <c>USER_HZ</c> on x86-64.</summary>
    public const ulong ClockTicksPerSecond = 100;

    private const ulong PageSize = 4096;

    /// <summary>Builds the keep image for one launch.</summary>
    /// <param name="request">The inspected workload, its bytes, and the launch's arguments, environment, ids, limits and seed.</param>
    /// <exception cref="ArgumentException">The report is not runnable, or the bytes are not the ones it was made from.</exception>
    /// <exception cref="KeepImageException">The arguments or limits do not fit; the message says what to change.</exception>
    public static KeepImage Build(KeepImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ElfReport report = request.Elf;
        if (!report.IsRunnable || report.Header is not { } header)
        {
            throw new ArgumentException($"{report.DisplayName} was not accepted ({report.Verdict.RejectionReason}); only a runnable report can be built", nameof(request));
        }

        // One private copy: the hash is checked on it and the segments are sliced from it, so neither a change to
        // the file nor to the caller's buffer can make the loaded bytes differ from the inspected ones.
        byte[] fileContents = request.FileContents.ToArray();
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(fileContents));
        if (!string.Equals(sha256, report.Sha256, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"the bytes given for {report.DisplayName} have SHA-256 {sha256}, but the report was made from bytes with SHA-256 {report.Sha256}; build from the bytes that were inspected",
                nameof(request));
        }

        ulong seed = request.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
        var random = new Random(FoldSeed(seed));

        if (report.IsDynamic != request.Interpreter is not null)
        {
            throw new ArgumentException(
                report.IsDynamic ? $"{report.DisplayName} is dynamically linked: its interpreter {report.InterpreterPath} must be given" : $"{report.DisplayName} is static: it takes no interpreter",
                nameof(request));
        }

        InterpreterFile? interpreter = request.Interpreter;
        byte[]? interpreterContents = null;
        List<ElfProgramHeader>? interpreterLoads = null;
        if (interpreter is not null)
        {
            if (!interpreter.Elf.IsRunnable)
            {
                throw new ArgumentException($"the interpreter {interpreter.KeepPath} was not accepted ({interpreter.Elf.Verdict.RejectionReason})", nameof(request));
            }

            interpreterContents = interpreter.Contents.ToArray();
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(interpreterContents)), interpreter.Elf.Sha256, StringComparison.Ordinal))
            {
                throw new ArgumentException($"the bytes given for the interpreter {interpreter.KeepPath} are not the ones it was inspected from", nameof(request));
            }

            interpreterLoads = interpreter.Elf.ProgramHeaders.Where(programHeader => programHeader.TypeValue == ElfConstants.PT_LOAD).ToList();
        }

        List<ElfProgramHeader> loads = report.ProgramHeaders.Where(programHeader => programHeader.TypeValue == ElfConstants.PT_LOAD).ToList();
        ulong highestEnd = loads.Max(load => load.VirtualAddress + load.MemorySize);
        ulong loadAlignment = Math.Max(PageSize, loads.Max(load => load.Alignment > 1 ? load.Alignment : 1));
        ulong interpreterSpan = interpreterLoads?.Max(load => load.VirtualAddress + load.MemorySize) ?? 0;
        ulong interpreterAlignment = interpreterLoads is null ? PageSize : Math.Max(PageSize, interpreterLoads.Max(load => load.Alignment > 1 ? load.Alignment : 1));
        KeepAddressPlan plan = AddressSpaceLayoutPlanner.Plan(
            highestEnd, loadAlignment, request.Limits, random, seed, report.IsFixedAddress, interpreterSpan, interpreterAlignment);
        ulong loadBase = plan.Layout.LoadBase;

        List<SegmentMapping> segments = [.. SegmentMapper.Map(loads, loadBase, fileContents)];
        ulong interpreterEntry = 0;
        if (interpreterLoads is not null && interpreter is not null && interpreterContents is not null)
        {
            segments.AddRange(SegmentMapper.Map(interpreterLoads, plan.InterpreterBase, interpreterContents));
            segments.Sort((a, b) => a.Address.CompareTo(b.Address));
            interpreterEntry = plan.InterpreterBase + interpreter.Elf.Header!.Entry;
        }

        CheckImageFitsTheLimit(segments, plan.StackSize, request.Limits);
        ulong programEntry = loadBase + header.Entry;
        ulong entryPoint = interpreter is null ? programEntry : interpreterEntry;
        var programHeaders = new ProgramHeaderTable(
            loadBase + ProgramHeaderVirtualAddress(report, header, loads), header.ProgramHeaderEntrySize, header.ProgramHeaderCount);

        // A dynamic program's TLS is the interpreter's to set up (it knows every module's); the image carries the
        // program's template only for a static program, whose C library reads it from AT_PHDR anyway.
        TlsTemplate? tls = interpreter is null && report.ProgramHeaders.FirstOrDefault(programHeader => programHeader.TypeValue == ElfConstants.PT_TLS) is { } tlsHeader
            ? new TlsTemplate(loadBase + tlsHeader.VirtualAddress, tlsHeader.FileSize, tlsHeader.MemorySize, tlsHeader.Alignment)
            : null;

        // With a given seed, AT_RANDOM follows from it too, so the whole image is reproducible. Without one, the
        // recorded seed reproduces the layout but AT_RANDOM (glibc's stack canary and pointer guard) stays secret.
        byte[] randomBytes = new byte[StackBuilder.RandomBytesSize];
        if (request.Seed is null)
        {
            RandomNumberGenerator.Fill(randomBytes);
        }
        else
        {
            random.NextBytes(randomBytes);
        }

        (ulong Tag, ulong Value)[] auxiliaryVector =
        [
            (AuxiliaryVectorTag.AT_HWCAP, ReadHardwareCapabilities()),
            (AuxiliaryVectorTag.AT_PAGESZ, PageSize),
            (AuxiliaryVectorTag.AT_CLKTCK, ClockTicksPerSecond),
            (AuxiliaryVectorTag.AT_PHDR, programHeaders.Address),
            (AuxiliaryVectorTag.AT_PHENT, (ulong)programHeaders.EntrySize),
            (AuxiliaryVectorTag.AT_PHNUM, (ulong)programHeaders.Count),
            (AuxiliaryVectorTag.AT_BASE, interpreter is null ? 0 : plan.InterpreterBase), // 0: no interpreter.
            (AuxiliaryVectorTag.AT_FLAGS, 0),
            (AuxiliaryVectorTag.AT_ENTRY, programEntry),
            (AuxiliaryVectorTag.AT_UID, request.UserId),
            (AuxiliaryVectorTag.AT_EUID, request.UserId),
            (AuxiliaryVectorTag.AT_GID, request.GroupId),
            (AuxiliaryVectorTag.AT_EGID, request.GroupId),
            (AuxiliaryVectorTag.AT_SECURE, 0),
            (AuxiliaryVectorTag.AT_HWCAP2, 0),
        ];
        StackImage stack = StackBuilder.Build(
            plan.StackBase, plan.StackSize, report.IsStackExecutable, request.Arguments, request.Environment,
            request.WorkloadPath, auxiliaryVector, randomBytes);

        var workload = new WorkloadIdentity(Path.GetFullPath(request.WorkloadPath), sha256, fileContents.LongLength);
        return new KeepImage(workload, plan.Layout, segments, entryPoint, programHeaders, tls, stack, request.Configuration)
        {
            Interpreter = interpreter is null ? null : new WorkloadIdentity(interpreter.KeepPath, interpreter.Elf.Sha256, interpreter.Elf.FileSize),
        };
    }

    /// <summary>
    /// Refuses an image whose own regions (every segment, bss included, and the initial stack) already exceed the
    /// memory limit: the limit counts all memory the workload may have mapped at once (docs/protocol.md §1), so such a
    /// workload could never start within it. Both keeps are refused here, before launch.
    /// </summary>
    private static void CheckImageFitsTheLimit(IReadOnlyList<SegmentMapping> segments, ulong stackSize, Abstractions.Sessions.KeepLimits limits)
    {
        ulong segmentBytes = 0;
        foreach (SegmentMapping segment in segments)
        {
            segmentBytes += segment.Size;
        }

        ulong needed = segmentBytes + stackSize;
        if (needed > limits.MemorySize)
        {
            throw new KeepImageException(string.Create(CultureInfo.InvariantCulture,
                $"the image needs {needed} bytes (segments {segmentBytes}, stack {stackSize}) but limits.memorySize is {limits.MemorySize}; raise limits.memorySize in plugins.json or make the program's static data (its .bss and .data) or limits.stackSize smaller"));
        }
    }

    /// <summary>
    /// Where the program header table is in memory, relative to the load base: <c>PT_PHDR</c>'s <c>p_vaddr</c>, or
    /// else the place where the <c>PT_LOAD</c> that holds <c>e_phoff</c> puts it (as Linux computes <c>AT_PHDR</c>).
    /// </summary>
    private static ulong ProgramHeaderVirtualAddress(ElfReport report, ElfFileHeader header, List<ElfProgramHeader> loads)
    {
        if (report.ProgramHeaders.FirstOrDefault(programHeader => programHeader.TypeValue == ElfConstants.PT_PHDR) is { } phdr)
        {
            return phdr.VirtualAddress;
        }

        ElfProgramHeader holder = loads.First(load =>
            load.Offset <= header.ProgramHeaderOffset && header.ProgramHeaderOffset - load.Offset < load.FileSize);
        return holder.VirtualAddress + (header.ProgramHeaderOffset - holder.Offset);
    }

    /// <summary>Folds a 64-bit seed into the 32-bit seed <see cref="Random"/> takes, mixing both halves.</summary>
    private static int FoldSeed(ulong seed)
    {
        // The SplitMix64 finaliser: nearby seeds give unrelated generators.
        ulong mixed = unchecked(seed + 0x9e37_79b9_7f4a_7c15);
        mixed = unchecked((mixed ^ (mixed >> 30)) * 0xbf58_476d_1ce4_e5b9);
        mixed = unchecked((mixed ^ (mixed >> 27)) * 0x94d0_49bb_1331_11eb);
        mixed ^= mixed >> 31;
        return unchecked((int)(mixed ^ (mixed >> 32)));
    }

    /// <summary><c>AT_HWCAP</c> on x86: CPUID leaf 1's EDX, as Linux passes it; 0 off x86.</summary>
    private static ulong ReadHardwareCapabilities() =>
        X86Base.IsSupported ? (uint)X86Base.CpuId(1, 0).Edx : 0UL;
}
