namespace Donjon.Host.Elf;

/// <summary>
/// What <see cref="ElfInspector"/> found in a workload file, and whether Donjon can run it. It is plain data
/// (strings, numbers, lists) so the CLI can print it or serialise it. Every value read from the file is
/// untrusted: strings taken from it (interpreter, library names) are already made printable.
/// </summary>
/// <param name="DisplayName">The name the file was inspected under (the path as the user gave it).</param>
/// <param name="FileSize">The file's size in bytes.</param>
/// <param name="Sha256">
/// The SHA-256 of the whole file, in lowercase hexadecimal (what <c>sha256sum</c> prints); empty when the file
/// could not be read (<see cref="ElfRejectionKind.Unreadable"/>, <see cref="ElfRejectionKind.FileTooLarge"/>).
/// </param>
/// <param name="Header">The ELF file header, or <see langword="null"/> when the file is too short or not ELF.</param>
/// <param name="ProgramHeaders">Every program header, in file order; empty when the table could not be read.</param>
/// <param name="InterpreterPath">The dynamic loader named by <c>PT_INTERP</c>, when there is one.</param>
/// <param name="NeededLibraries">The shared libraries named by <c>DT_NEEDED</c> entries of <c>PT_DYNAMIC</c>.</param>
/// <param name="SharedObjectName">The <c>DT_SONAME</c> of <c>PT_DYNAMIC</c>, when there is one.</param>
/// <param name="IsStaticPie">
/// Whether the file is a static position-independent executable: <c>ET_DYN</c> with an entry point, no
/// <c>PT_INTERP</c>, no <c>DT_NEEDED</c>, and not a shared library.
/// </param>
/// <param name="IsStackExecutable">
/// Whether <c>PT_GNU_STACK</c> asks for an executable stack. Without <c>PT_GNU_STACK</c> this is
/// <see langword="false"/>, as Linux (since 5.8) decides for 64-bit x86 programs.
/// </param>
/// <param name="Verdict">Whether Donjon can run the file, and if not, why.</param>
public sealed record ElfReport(
    string DisplayName,
    long FileSize,
    string Sha256,
    ElfFileHeader? Header,
    IReadOnlyList<ElfProgramHeader> ProgramHeaders,
    string? InterpreterPath,
    IReadOnlyList<string> NeededLibraries,
    string? SharedObjectName,
    bool IsStaticPie,
    bool IsStackExecutable,
    ElfVerdict Verdict)
{
    /// <summary>Whether Donjon can run the file; the same as <c>Verdict.IsRunnable</c>.</summary>
    public bool IsRunnable => Verdict.IsRunnable;

    /// <summary>Whether the file is linked at fixed addresses (<c>e_type = ET_EXEC</c>): it is loaded at its link addresses, not at a random base.</summary>
    public bool IsFixedAddress => Header is { TypeValue: ElfConstants.ET_EXEC };

    /// <summary>Whether the file is dynamically linked: <c>PT_INTERP</c> names the interpreter that loads its libraries.</summary>
    public bool IsDynamic => InterpreterPath is not null;

    /// <summary>The printable <c>DT_RUNPATH</c> of <c>PT_DYNAMIC</c> (colon-separated folders), when there is one.</summary>
    public string? RunPath { get; init; }

    /// <summary>The printable <c>DT_RPATH</c> of <c>PT_DYNAMIC</c>, when there is one.</summary>
    public string? RPath { get; init; }
}

/// <summary>The fields of the ELF file header (<c>Elf64_Ehdr</c>, or <c>Elf32_Ehdr</c> for a 32-bit file), as read.</summary>
/// <param name="Class">The file class: <c>ELF64</c> or <c>ELF32</c> (<c>e_ident[EI_CLASS]</c>).</param>
/// <param name="DataEncoding">The byte order: <c>little-endian</c> or <c>big-endian</c> (<c>e_ident[EI_DATA]</c>).</param>
/// <param name="OsAbi">The OS ABI byte (<c>e_ident[EI_OSABI]</c>); 0 is System V, 3 is GNU.</param>
/// <param name="MachineValue">The raw <c>e_machine</c>.</param>
/// <param name="Machine">The name of <c>e_machine</c>, for example <c>x86-64</c> or <c>AArch64</c>.</param>
/// <param name="TypeValue">The raw <c>e_type</c>.</param>
/// <param name="Type">The name of <c>e_type</c>, for example <c>ET_DYN</c>.</param>
/// <param name="Entry">The entry point's virtual address (<c>e_entry</c>), relative to the load base for <c>ET_DYN</c>.</param>
/// <param name="ProgramHeaderOffset">Where the program header table starts in the file (<c>e_phoff</c>), in bytes.</param>
/// <param name="ProgramHeaderEntrySize">The size of one program header (<c>e_phentsize</c>), in bytes.</param>
/// <param name="ProgramHeaderCount">The number of program headers (<c>e_phnum</c>).</param>
/// <param name="SectionHeaderOffset">Where the section header table starts in the file (<c>e_shoff</c>), in bytes.</param>
/// <param name="SectionHeaderEntrySize">The size of one section header (<c>e_shentsize</c>), in bytes.</param>
/// <param name="SectionHeaderCount">The number of section headers (<c>e_shnum</c>; 0 may mean "see section 0").</param>
public sealed record ElfFileHeader(
    string Class,
    string DataEncoding,
    byte OsAbi,
    ushort MachineValue,
    string Machine,
    ushort TypeValue,
    string Type,
    ulong Entry,
    ulong ProgramHeaderOffset,
    ushort ProgramHeaderEntrySize,
    ushort ProgramHeaderCount,
    ulong SectionHeaderOffset,
    ushort SectionHeaderEntrySize,
    ushort SectionHeaderCount);

/// <summary>One program header (<c>Elf64_Phdr</c>), as read from the file.</summary>
/// <param name="Index">The header's position in the table, from 0.</param>
/// <param name="TypeValue">The raw <c>p_type</c>.</param>
/// <param name="Type">The name of <c>p_type</c>, for example <c>PT_LOAD</c> or <c>PT_GNU_STACK</c>.</param>
/// <param name="Offset">Where the segment's bytes start in the file (<c>p_offset</c>).</param>
/// <param name="VirtualAddress">Where the segment starts in memory, relative to the load base (<c>p_vaddr</c>).</param>
/// <param name="PhysicalAddress">The unused physical address (<c>p_paddr</c>).</param>
/// <param name="FileSize">How many bytes of the segment come from the file (<c>p_filesz</c>).</param>
/// <param name="MemorySize">How many bytes the segment occupies in memory (<c>p_memsz</c>); the rest is zero.</param>
/// <param name="FlagsValue">The raw <c>p_flags</c>.</param>
/// <param name="Flags">The access flags as letters, for example <c>R E</c> or <c>R W</c>; empty when none.</param>
/// <param name="Alignment">The segment's alignment (<c>p_align</c>), in bytes.</param>
public sealed record ElfProgramHeader(
    int Index,
    uint TypeValue,
    string Type,
    ulong Offset,
    ulong VirtualAddress,
    ulong PhysicalAddress,
    ulong FileSize,
    ulong MemorySize,
    uint FlagsValue,
    string Flags,
    ulong Alignment)
{
    /// <summary>Whether the segment may be read (<c>PF_R</c>).</summary>
    public bool IsReadable => (FlagsValue & ElfConstants.PF_R) != 0;

    /// <summary>Whether the segment may be written (<c>PF_W</c>).</summary>
    public bool IsWritable => (FlagsValue & ElfConstants.PF_W) != 0;

    /// <summary>Whether the segment may be executed (<c>PF_X</c>).</summary>
    public bool IsExecutable => (FlagsValue & ElfConstants.PF_X) != 0;
}

/// <summary>Whether a workload file can be run, and if not, why.</summary>
/// <param name="Kind">The kind of rejection; <see cref="ElfRejectionKind.None"/> when the file is runnable.</param>
/// <param name="RejectionReason">
/// Why the file cannot be run: what is wrong, where (the ELF field) and what to do. It does not repeat the file
/// name; prefix <see cref="ElfReport.DisplayName"/>. <see langword="null"/> when the file is runnable.
/// </param>
public sealed record ElfVerdict(ElfRejectionKind Kind, string? RejectionReason)
{
    /// <summary>The verdict for a file Donjon can run.</summary>
    public static ElfVerdict Runnable { get; } = new(ElfRejectionKind.None, null);

    /// <summary>Whether Donjon can run the file.</summary>
    public bool IsRunnable => Kind == ElfRejectionKind.None;

    /// <summary>Makes the verdict for a file Donjon cannot run.</summary>
    /// <param name="kind">What kind of problem the file has; not <see cref="ElfRejectionKind.None"/>.</param>
    /// <param name="reason">What is wrong, where, and what to do.</param>
    public static ElfVerdict Reject(ElfRejectionKind kind, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(kind, ElfRejectionKind.None);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new ElfVerdict(kind, reason);
    }
}

/// <summary>
/// Why a workload file was rejected, so the CLI can choose an exit status (every kind means "cannot run", 126)
/// and tests can tell rejections apart without matching message text.
/// </summary>
public enum ElfRejectionKind
{
    /// <summary>Not rejected: the file can be run.</summary>
    None = 0,

    /// <summary>The file exists but could not be read (permissions, not a regular file, an I/O error).</summary>
    Unreadable,

    /// <summary>The file is larger than Donjon accepts for a workload.</summary>
    FileTooLarge,

    /// <summary>The file is empty or does not start with the ELF magic bytes.</summary>
    NotElf,

    /// <summary>The file ends inside a header or a table it declares.</summary>
    Truncated,

    /// <summary>A 32-bit ELF file (<c>ELFCLASS32</c>).</summary>
    UnsupportedClass,

    /// <summary>A big-endian ELF file (<c>ELFDATA2MSB</c>).</summary>
    UnsupportedByteOrder,

    /// <summary>An ELF file for another processor than x86-64 (<c>e_machine</c>).</summary>
    UnsupportedMachine,

    /// <summary>An object file, a core dump or an unknown <c>e_type</c>: not an executable.</summary>
    UnsupportedFileType,

    /// <summary>A static executable that is not position-independent (<c>ET_EXEC</c>) that Donjon cannot place.</summary>
    StaticNonPie,

    /// <summary>A dynamically linked executable (<c>PT_INTERP</c> or <c>DT_NEEDED</c>).</summary>
    DynamicallyLinked,

    /// <summary>A shared library rather than an executable.</summary>
    SharedLibrary,

    /// <summary>A header field holds a value that no valid file has.</summary>
    CorruptedHeader,

    /// <summary>A segment's bytes lie (partly) beyond the end of the file.</summary>
    SegmentOutsideFile,

    /// <summary>Two loadable segments occupy the same memory.</summary>
    OverlappingSegments,

    /// <summary>The entry point lies in no executable loadable segment.</summary>
    EntryOutsideExecutableSegment,

    /// <summary>Parsing failed in a way no specific check caught.</summary>
    Corrupted,

    /// <summary>An <c>ET_EXEC</c> whose segments are linked where Donjon's own pieces (stack, mmap region, interpreter, shim, block, blob) lie, or below <c>mmap_min_addr</c>.</summary>
    OverlapsKeepRegions,
}
