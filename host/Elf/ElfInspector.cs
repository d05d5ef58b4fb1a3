using System.Security.Cryptography;
using Donjon.Host.Files;

namespace Donjon.Host.Elf;

/// <summary>
/// Reads a workload file and decides whether Donjon can run it: a static-PIE x86-64 executable
/// (<c>ELF64</c>, little-endian, <c>EM_X86_64</c>, <c>ET_DYN</c>, no <c>PT_INTERP</c>, no <c>DT_NEEDED</c>) whose
/// headers are consistent. The file is untrusted: the ELF header and the program header table are read directly
/// with bounds checks (ELFSharp names neither the GNU segment types nor exposes <c>e_phoff</c>/<c>e_phnum</c>), and
/// inspection never throws on any content; a failure it did not foresee becomes a "corrupted ELF" rejection.
/// </summary>
public static class ElfInspector
{
    /// <summary>The largest workload file Donjon reads, in bytes (1 GiB).</summary>
    public const long MaxFileSize = 1L << 30;

    /// <summary>The highest end (<c>p_vaddr + p_memsz</c>) a loadable segment may have, in bytes from the load base (1 TiB).</summary>
    public const ulong MaxImageSpan = 1UL << 40;

    /// <summary>The largest <c>p_align</c> of a loadable segment that Donjon honours, in bytes (1 GiB).</summary>
    public const ulong MaxSegmentAlignment = 1UL << 30;

    private const string RebuildAdvice = "rebuild it with `gcc -static-pie`";

    /// <summary>The longest interpreter path Donjon accepts (Linux's <c>PATH_MAX</c> is 4096; real ones are under 40).</summary>
    public const int MaxInterpreterPathLength = 255;

    /// <summary>The lowest address an <c>ET_EXEC</c> segment may start at: Linux's default <c>vm.mmap_min_addr</c>.</summary>
    public const ulong MinFixedAddress = 0x1_0000;

    /// <summary>
    /// Where Donjon's own pieces begin: from here to the top of user space lie the keep's stack, its mmap region and a
    /// dynamic program's interpreter (planned by <see cref="Images.AddressSpaceLayoutPlanner"/>), and in the process
    /// keep the shim, its shared block and the image blob, which the kernel places in the top 2 TiB. An <c>ET_EXEC</c>
    /// whose segments reach this address is refused.
    /// </summary>
    public const ulong FixedAddressCeiling = 0x7000_0000_0000;

    /// <summary>
    /// For a dynamic PIE built against musl: Debian's <c>musl-gcc -static-pie</c> makes one, so the advice names the
    /// compiler driver the repository ships instead.
    /// </summary>
    internal const string MuslRebuildAdvice =
        "this is a musl program, and Debian's `musl-gcc -static-pie` makes a dynamic PIE like it; rebuild it with the musl driver in Donjon's repository, `samples/musl-static-pie` (used as gcc is: `samples/musl-static-pie -O2 -o app app.c`; see the README, \"musl programs\")";

    /// <summary>Reads the file at <paramref name="path"/> once and inspects it.</summary>
    /// <param name="path">The path as the user gave it; it is also the report's display name.</param>
    /// <returns>The report; a file that cannot be read gives a rejection, not an exception.</returns>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    public static ElfReport Inspect(string path) => Load(path).Report;

    /// <summary>
    /// Inspects <paramref name="bytes"/>, the whole content of a workload file. Never throws because of the
    /// content: every problem becomes a rejection in <see cref="ElfReport.Verdict"/>.
    /// </summary>
    /// <param name="bytes">The file's bytes; untrusted.</param>
    /// <param name="displayName">How the file is named in the report (usually the path the user gave).</param>
    public static ElfReport Inspect(ReadOnlyMemory<byte> bytes, string displayName) =>
        Inspect(bytes, displayName, Convert.ToHexStringLower(SHA256.HashData(bytes.Span)));

    /// <summary>
    /// Inspects <paramref name="bytes"/> whose SHA-256 the caller already has. The hash is only reported, never
    /// used for a decision; tests that inspect thousands of mutated copies use this to skip re-hashing.
    /// </summary>
    internal static ElfReport Inspect(ReadOnlyMemory<byte> bytes, string displayName, string sha256)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        ArgumentNullException.ThrowIfNull(sha256);
        return new Inspection(bytes, displayName, sha256, asInterpreter: false).Run();
    }

    /// <summary>
    /// Inspects <paramref name="bytes"/> as a dynamic program's interpreter (<c>PT_INTERP</c>): an x86-64
    /// <c>ET_DYN</c> with an entry point and no interpreter of its own, such as <c>ld-linux-x86-64.so.2</c>, whose
    /// headers pass the same checks as a program's. Its shared-object name does not make it a rejected library.
    /// </summary>
    /// <param name="bytes">The interpreter's bytes; untrusted.</param>
    /// <param name="displayName">How it is named in the report (the keep path <c>PT_INTERP</c> gave).</param>
    public static ElfReport InspectInterpreter(ReadOnlyMemory<byte> bytes, string displayName)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        return new Inspection(bytes, displayName, Convert.ToHexStringLower(SHA256.HashData(bytes.Span)), asInterpreter: true).Run();
    }

    /// <summary>
    /// Reads the file at <paramref name="path"/> once, and inspects exactly the bytes it read. Hand the returned
    /// <see cref="WorkloadFile.Contents"/> to the keep image builder, so what was checked is what gets loaded.
    /// </summary>
    /// <param name="path">The path as the user gave it.</param>
    /// <exception cref="FileNotFoundException">No file exists at <paramref name="path"/>.</exception>
    public static WorkloadFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] contents;
        try
        {
            // Opened without blocking and checked with fstat on the descriptor it then reads: a FIFO, a socket or
            // a device named as the workload is refused at once instead of hanging Donjon.
            contents = RegularFile.ReadAll(path, MaxFileSize);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such file; check the path of the workload", path);
        }
        catch (NotARegularFileException e) when (e.Kind == FileKind.Directory)
        {
            return Unreadable(path, 0, ElfRejectionKind.Unreadable,
                "it is a directory, not a file; give the path of an x86-64 static-PIE executable");
        }
        catch (NotARegularFileException e)
        {
            return Unreadable(path, 0, ElfRejectionKind.Unreadable,
                $"it {e.Problem}; give the path of an x86-64 static-PIE executable");
        }
        catch (FileTooLargeException e)
        {
            return Unreadable(path, e.Size, ElfRejectionKind.FileTooLarge,
                $"the file is {ElfNames.Decimal((ulong)e.Size)} bytes, more than the {ElfNames.Decimal(MaxFileSize)} bytes Donjon accepts for a workload; build a smaller executable");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Unreadable(path, 0, ElfRejectionKind.Unreadable,
                $"the file cannot be read ({exception.Message}); check that it is a regular file you may read");
        }

        return new WorkloadFile(path, contents, Inspect(contents, path));
    }

    private static WorkloadFile Unreadable(string path, long fileSize, ElfRejectionKind kind, string reason) =>
        new(path, ReadOnlyMemory<byte>.Empty, new ElfReport(
            path, fileSize, Sha256: string.Empty, Header: null, ProgramHeaders: [], InterpreterPath: null,
            NeededLibraries: [], SharedObjectName: null, IsStaticPie: false, IsStackExecutable: false,
            ElfVerdict.Reject(kind, reason)));

    /// <summary>One inspection: collects what the file says (best effort), then checks it in a fixed order; the first failed check is the verdict.</summary>
    private sealed class Inspection(ReadOnlyMemory<byte> bytes, string displayName, string sha256, bool asInterpreter)
    {
        private static ReadOnlySpan<byte> Magic => [0x7f, (byte)'E', (byte)'L', (byte)'F'];

        private ElfFileHeader? _header;
        private IReadOnlyList<ElfProgramHeader> _programHeaders = [];
        private string? _interpreterPath;
        private ElfDynamicSection _dynamic = ElfDynamicSection.Absent;
        private bool _is64Bit;
        private bool _isLittleEndian;

        private ElfFieldReader Reader => new(bytes.Span, _isLittleEndian);

        private ulong FileSize => (ulong)bytes.Length;

        public ElfReport Run()
        {
            ElfVerdict verdict;
            try
            {
                verdict = Check();
            }
            catch (Exception exception)
            {
                verdict = ElfVerdict.Reject(ElfRejectionKind.Corrupted,
                    $"corrupted ELF: {exception.Message}; the file is damaged, so copy it again or {RebuildAdvice}");
            }

            bool isStaticPie = _header is { TypeValue: ElfConstants.ET_DYN, Entry: not 0 }
                && _interpreterPath is null
                && _dynamic.NeededLibraries.Count == 0
                && !IsSharedObjectByName;
            bool isStackExecutable = _programHeaders.Any(header => header.TypeValue == ElfConstants.PT_GNU_STACK && header.IsExecutable);
            return new ElfReport(
                displayName, bytes.Length, sha256, _header, _programHeaders, _interpreterPath,
                _dynamic.NeededLibraries, _dynamic.SharedObjectName, isStaticPie, isStackExecutable, verdict)
            {
                RunPath = _dynamic.RunPath,
                RPath = _dynamic.RPath,
            };
        }

        /// <summary>Whether <c>PT_DYNAMIC</c> names the file as a shared object without marking it a PIE.</summary>
        private bool IsSharedObjectByName => _dynamic.SharedObjectName is not null && !_dynamic.HasPieFlag;

        private ElfVerdict Check()
        {
            ReadOnlySpan<byte> span = bytes.Span;
            if (span.IsEmpty)
            {
                return ElfVerdict.Reject(ElfRejectionKind.NotElf,
                    "not an ELF file: the file is empty (0 bytes), so it has no ELF magic (e_ident[EI_MAG0..EI_MAG3] = 7f 45 4c 46); give the path of an x86-64 static-PIE executable");
            }

            if (span.Length < Magic.Length && Magic.StartsWith(span))
            {
                return Truncated($"the file ends after {span.Length} bytes, inside the ELF magic 7f 45 4c 46 (e_ident[EI_MAG0..EI_MAG3])");
            }

            if (span.Length < Magic.Length || !span[..Magic.Length].SequenceEqual(Magic))
            {
                string script = span.StartsWith("#!"u8) ? " (it looks like a script; Donjon runs ELF executables, not interpreters' scripts)" : string.Empty;
                return ElfVerdict.Reject(ElfRejectionKind.NotElf,
                    $"not an ELF file: it starts with the bytes {ElfNames.HexBytes(span[..Math.Min(span.Length, 4)])}, not the ELF magic 7f 45 4c 46 (e_ident[EI_MAG0..EI_MAG3]){script}; give the path of an x86-64 static-PIE executable");
            }

            if (span.Length < ElfConstants.IdentSize)
            {
                return Truncated($"the file ends after {span.Length} bytes, inside e_ident (16 bytes)");
            }

            byte classValue = span[ElfConstants.EI_CLASS];
            byte dataValue = span[ElfConstants.EI_DATA];
            if (classValue is not (ElfConstants.ELFCLASS32 or ElfConstants.ELFCLASS64))
            {
                return Corrupted($"e_ident[EI_CLASS] is {classValue}, but it can only be 1 (ELFCLASS32) or 2 (ELFCLASS64)");
            }

            if (dataValue is not (ElfConstants.ELFDATA2LSB or ElfConstants.ELFDATA2MSB))
            {
                return Corrupted($"e_ident[EI_DATA] is {dataValue}, but it can only be 1 (ELFDATA2LSB) or 2 (ELFDATA2MSB)");
            }

            _is64Bit = classValue == ElfConstants.ELFCLASS64;
            _isLittleEndian = dataValue == ElfConstants.ELFDATA2LSB;
            CollectHeaders();

            string forMachine = span.Length >= 20 ? $" for {ElfNames.Machine(Reader.U16(18))}" : string.Empty;
            if (!_is64Bit)
            {
                return ElfVerdict.Reject(ElfRejectionKind.UnsupportedClass,
                    $"a 32-bit ELF file{forMachine} (e_ident[EI_CLASS] = ELFCLASS32); Donjon runs 64-bit x86-64 executables only: {RebuildAdvice} for x86-64 (-m64)");
            }

            if (!_isLittleEndian)
            {
                return ElfVerdict.Reject(ElfRejectionKind.UnsupportedByteOrder,
                    $"a big-endian ELF file{forMachine} (e_ident[EI_DATA] = ELFDATA2MSB); Donjon runs little-endian x86-64 executables only: {RebuildAdvice} for x86-64");
            }

            if (_header is not { } header)
            {
                return Truncated($"the file ends after {span.Length} bytes, inside the 64-byte ELF header (Elf64_Ehdr)");
            }

            return CheckHeader(header) ?? CheckProgramHeaderTable(header) ?? CheckKind(header) ?? CheckSectionHeaderTable(header)
                ?? CheckSegments(header) ?? CheckEntryAndTables(header) ?? ElfVerdict.Runnable;
        }

        /// <summary>Reads the file header, program headers, interpreter and dynamic section as far as they are readable, for the report.</summary>
        private void CollectHeaders()
        {
            ElfFieldReader reader = Reader;
            int headerSize = _is64Bit ? ElfConstants.Elf64HeaderSize : ElfConstants.Elf32HeaderSize;
            if (reader.Length < headerSize)
            {
                return;
            }

            // Elf64_Ehdr and Elf32_Ehdr share the layout up to e_version; then e_entry, e_phoff and e_shoff are
            // address-sized, which shifts the remaining 16-bit fields.
            int wordSize = _is64Bit ? 8 : 4;
            ulong fieldsAfterWords = 24UL + (3UL * (ulong)wordSize) + 4; // e_entry, e_phoff, e_shoff, e_flags
            ushort machineValue = reader.U16(18);
            ushort typeValue = reader.U16(16);
            _header = new ElfFileHeader(
                Class: ElfNames.Class(reader.U8(ElfConstants.EI_CLASS)),
                DataEncoding: ElfNames.DataEncoding(reader.U8(ElfConstants.EI_DATA)),
                OsAbi: reader.U8(ElfConstants.EI_OSABI),
                MachineValue: machineValue,
                Machine: ElfNames.Machine(machineValue),
                TypeValue: typeValue,
                Type: ElfNames.FileType(typeValue),
                Entry: reader.Word(24, _is64Bit),
                ProgramHeaderOffset: reader.Word(24UL + (ulong)wordSize, _is64Bit),
                ProgramHeaderEntrySize: reader.U16(fieldsAfterWords + 2),
                ProgramHeaderCount: reader.U16(fieldsAfterWords + 4),
                SectionHeaderOffset: reader.Word(24UL + (2UL * (ulong)wordSize), _is64Bit),
                SectionHeaderEntrySize: reader.U16(fieldsAfterWords + 6),
                SectionHeaderCount: reader.U16(fieldsAfterWords + 8));

            int expectedEntrySize = _is64Bit ? ElfConstants.Elf64ProgramHeaderSize : ElfConstants.Elf32ProgramHeaderSize;
            if (_header.ProgramHeaderEntrySize != expectedEntrySize
                || _header.ProgramHeaderCount is 0 or ElfConstants.PN_XNUM
                || !reader.Contains(_header.ProgramHeaderOffset, (ulong)_header.ProgramHeaderCount * (ulong)expectedEntrySize))
            {
                return;
            }

            var programHeaders = new List<ElfProgramHeader>(_header.ProgramHeaderCount);
            for (int index = 0; index < _header.ProgramHeaderCount; index++)
            {
                programHeaders.Add(ReadProgramHeader(reader, _header.ProgramHeaderOffset + ((ulong)index * (ulong)expectedEntrySize), index));
            }

            _programHeaders = programHeaders;
            if (programHeaders.Find(header => header.TypeValue == ElfConstants.PT_INTERP) is { } interpreter)
            {
                _interpreterPath = reader.Contains(interpreter.Offset, interpreter.FileSize)
                    ? reader.PrintableString(interpreter.Offset, interpreter.Offset + interpreter.FileSize) ?? string.Empty
                    : $"(unreadable: p_offset = {ElfNames.Hex(interpreter.Offset)}, p_filesz = {ElfNames.Hex(interpreter.FileSize)} lie beyond the end of the file)";
            }

            if (_is64Bit && programHeaders.Find(header => header.TypeValue == ElfConstants.PT_DYNAMIC) is { } dynamic)
            {
                _dynamic = ElfDynamicSection.Read(reader, dynamic, LoadSegments);
            }
        }

        private ElfProgramHeader ReadProgramHeader(ElfFieldReader reader, ulong offset, int index)
        {
            // Elf64_Phdr: p_type, p_flags, then six 64-bit fields. Elf32_Phdr keeps p_flags after p_memsz.
            uint type = reader.U32(offset);
            uint flags;
            ulong fileOffset, virtualAddress, physicalAddress, fileSize, memorySize, alignment;
            if (_is64Bit)
            {
                flags = reader.U32(offset + 4);
                fileOffset = reader.U64(offset + 8);
                virtualAddress = reader.U64(offset + 16);
                physicalAddress = reader.U64(offset + 24);
                fileSize = reader.U64(offset + 32);
                memorySize = reader.U64(offset + 40);
                alignment = reader.U64(offset + 48);
            }
            else
            {
                fileOffset = reader.U32(offset + 4);
                virtualAddress = reader.U32(offset + 8);
                physicalAddress = reader.U32(offset + 12);
                fileSize = reader.U32(offset + 16);
                memorySize = reader.U32(offset + 20);
                flags = reader.U32(offset + 24);
                alignment = reader.U32(offset + 28);
            }

            return new ElfProgramHeader(
                index, type, ElfNames.SegmentType(type), fileOffset, virtualAddress, physicalAddress,
                fileSize, memorySize, flags, ElfNames.SegmentFlags(flags), alignment);
        }

        private List<ElfProgramHeader> LoadSegments => _programHeaders.Where(header => header.TypeValue == ElfConstants.PT_LOAD).ToList();

        /// <summary>Checks the identification and the fixed fields of the ELF64 header.</summary>
        private ElfVerdict? CheckHeader(ElfFileHeader header)
        {
            ElfFieldReader reader = Reader;
            byte identVersion = reader.U8(ElfConstants.EI_VERSION);
            if (identVersion != ElfConstants.EV_CURRENT)
            {
                return Corrupted($"e_ident[EI_VERSION] is {identVersion}, but the only ELF version is 1 (EV_CURRENT)");
            }

            uint version = reader.U32(20);
            if (version != ElfConstants.EV_CURRENT)
            {
                return Corrupted($"e_version is {version}, but the only ELF version is 1 (EV_CURRENT)");
            }

            if (header.MachineValue != ElfConstants.EM_X86_64)
            {
                return ElfVerdict.Reject(ElfRejectionKind.UnsupportedMachine,
                    $"built for {header.Machine} (e_machine = {header.MachineValue}); Donjon runs x86-64 (EM_X86_64 = 62) executables only: {RebuildAdvice} for x86-64");
            }

            ushort headerSize = reader.U16(52);
            if (headerSize != ElfConstants.Elf64HeaderSize)
            {
                return Corrupted($"e_ehsize is {headerSize}, but an ELF64 header is 64 bytes");
            }

            return header.TypeValue switch
            {
                ElfConstants.ET_DYN or ElfConstants.ET_EXEC => null,
                ElfConstants.ET_REL => ElfVerdict.Reject(ElfRejectionKind.UnsupportedFileType,
                    "a relocatable object file (e_type = ET_REL), not an executable: link it first, for example `gcc -static-pie -o app file.o`"),
                ElfConstants.ET_CORE => ElfVerdict.Reject(ElfRejectionKind.UnsupportedFileType,
                    "a core dump (e_type = ET_CORE), not an executable: run the program that produced it instead"),
                _ => ElfVerdict.Reject(ElfRejectionKind.UnsupportedFileType,
                    $"e_type is {header.Type}, which is not an executable type (a static-PIE has ET_DYN); {RebuildAdvice}"),
            };
        }

        /// <summary>Checks that the program header table has the ELF64 entry size and lies inside the file.</summary>
        private ElfVerdict? CheckProgramHeaderTable(ElfFileHeader header)
        {
            if (header.ProgramHeaderEntrySize != ElfConstants.Elf64ProgramHeaderSize)
            {
                return Corrupted($"e_phentsize is {header.ProgramHeaderEntrySize}, but an ELF64 program header (Elf64_Phdr) is 56 bytes");
            }

            if (header.ProgramHeaderCount == 0)
            {
                return Corrupted("e_phnum is 0: the file has no program headers, so there is nothing to load");
            }

            if (header.ProgramHeaderCount == ElfConstants.PN_XNUM)
            {
                return Corrupted("e_phnum is 0xffff (PN_XNUM, more than 65534 program headers), which Donjon does not support");
            }

            ulong tableSize = (ulong)header.ProgramHeaderCount * ElfConstants.Elf64ProgramHeaderSize;
            if (!Reader.Contains(header.ProgramHeaderOffset, tableSize))
            {
                return Truncated(
                    $"the program header table (e_phoff = {ElfNames.Hex(header.ProgramHeaderOffset)}, e_phnum = {header.ProgramHeaderCount} entries of 56 bytes) does not fit in the file ({ElfNames.Decimal(FileSize)} bytes)");
            }

            return null;
        }

        /// <summary>Whether the program was linked against musl's dynamic loader (Debian's <c>musl-gcc</c>, even with <c>-static-pie</c>).</summary>
        private bool IsMusl => _interpreterPath?.Contains("ld-musl", StringComparison.Ordinal) == true;

        /// <summary>
        /// Tells the kinds of executable apart: a static PIE, a static <c>ET_EXEC</c> (loaded at its link addresses),
        /// and a dynamically linked program (<c>PT_INTERP</c>, a PIE or an <c>ET_EXEC</c>) whose interpreter the host
        /// loads beside it. Shared libraries, and <c>DT_NEEDED</c> without an interpreter to load them, are refused.
        /// </summary>
        private ElfVerdict? CheckKind(ElfFileHeader header)
        {
            bool isNonPie = header.TypeValue == ElfConstants.ET_EXEC;
            if (asInterpreter)
            {
                if (isNonPie || header.Entry == 0 || _interpreterPath is not null)
                {
                    return ElfVerdict.Reject(ElfRejectionKind.UnsupportedFileType,
                        $"it is not a dynamic loader: an interpreter is an ET_DYN with an entry point and no PT_INTERP of its own (this has e_type = {header.Type}, e_entry = {ElfNames.Hex(header.Entry)}{(_interpreterPath is null ? string.Empty : ", PT_INTERP " + _interpreterPath)}); check what PT_INTERP names");
                }

                return null;
            }

            if (!isNonPie && header.Entry == 0)
            {
                string name = _dynamic.SharedObjectName is { } soname ? $", DT_SONAME = {soname}" : string.Empty;
                return ElfVerdict.Reject(ElfRejectionKind.SharedLibrary,
                    $"a shared library, not an executable: e_type = ET_DYN with no entry point (e_entry = 0{name}); run the program that uses it");
            }

            if (!isNonPie && IsSharedObjectByName)
            {
                return ElfVerdict.Reject(ElfRejectionKind.SharedLibrary,
                    $"a shared library, not an executable: PT_DYNAMIC names it DT_SONAME = {_dynamic.SharedObjectName} and DT_FLAGS_1 lacks DF_1_PIE; run the program that uses it");
            }

            if (_interpreterPath is not null)
            {
                int index = _programHeaders.First(programHeader => programHeader.TypeValue == ElfConstants.PT_INTERP).Index;
                if (_interpreterPath.Length == 0 || _interpreterPath[0] != '/' || _interpreterPath.Contains('(', StringComparison.Ordinal) || _interpreterPath.Contains('\\', StringComparison.Ordinal)
                    || _interpreterPath.Length > MaxInterpreterPathLength)
                {
                    return ElfVerdict.Reject(ElfRejectionKind.DynamicallyLinked,
                        $"PT_INTERP (program header {index}) names the interpreter \"{_interpreterPath}\", which is not an absolute path of at most {MaxInterpreterPathLength} printable characters: the file is corrupted; copy it again or relink it");
                }

                return null;
            }

            if (_dynamic.NeededLibraries.Count > 0)
            {
                return ElfVerdict.Reject(ElfRejectionKind.DynamicallyLinked,
                    $"it needs the shared libraries {string.Join(", ", _dynamic.NeededLibraries)} (DT_NEEDED) but has no PT_INTERP naming an interpreter to load them; relink it with an interpreter (the default of `gcc`) or as a static executable (`gcc -static-pie`){(IsMusl ? "; " + MuslRebuildAdvice : string.Empty)}");
            }

            return null;
        }

        /// <summary>Checks that the section header table, when there is one, lies inside the file: its absence at the end is how a cut-off copy shows.</summary>
        private ElfVerdict? CheckSectionHeaderTable(ElfFileHeader header)
        {
            if (header.SectionHeaderOffset == 0)
            {
                return null;
            }

            if (header.SectionHeaderEntrySize != ElfConstants.Elf64SectionHeaderSize)
            {
                return Corrupted($"e_shentsize is {header.SectionHeaderEntrySize}, but an ELF64 section header (Elf64_Shdr) is 64 bytes");
            }

            ElfFieldReader reader = Reader;
            ulong sectionCount = header.SectionHeaderCount;
            if (sectionCount == 0)
            {
                // With 65280 sections or more, e_shnum is 0 and section 0's sh_size holds the count.
                if (!reader.Contains(header.SectionHeaderOffset, ElfConstants.Elf64SectionHeaderSize))
                {
                    return Truncated($"the section header table (e_shoff = {ElfNames.Hex(header.SectionHeaderOffset)}) starts beyond the end of the file ({ElfNames.Decimal(FileSize)} bytes)");
                }

                sectionCount = reader.U64(header.SectionHeaderOffset + 32);
            }

            if (sectionCount > FileSize / ElfConstants.Elf64SectionHeaderSize
                || !reader.Contains(header.SectionHeaderOffset, sectionCount * ElfConstants.Elf64SectionHeaderSize))
            {
                return Truncated(
                    $"the section header table (e_shoff = {ElfNames.Hex(header.SectionHeaderOffset)}, {ElfNames.Decimal(sectionCount)} entries of 64 bytes) does not fit in the file ({ElfNames.Decimal(FileSize)} bytes)");
            }

            return null;
        }

        /// <summary>Checks every segment's file range, and the loadable segments' sizes, alignment, order and overlap.</summary>
        private ElfVerdict? CheckSegments(ElfFileHeader header)
        {
            ElfFieldReader reader = Reader;
            foreach (ElfProgramHeader segment in _programHeaders)
            {
                if (segment.FileSize != 0 && !reader.Contains(segment.Offset, segment.FileSize))
                {
                    return ElfVerdict.Reject(ElfRejectionKind.SegmentOutsideFile,
                        $"program header {segment.Index} ({segment.Type}) places its bytes at p_offset = {ElfNames.Hex(segment.Offset)}, p_filesz = {ElfNames.Hex(segment.FileSize)}, beyond the end of the file ({ElfNames.Decimal(FileSize)} bytes): the file is truncated or the header corrupted; copy it again or {RebuildAdvice}");
                }
            }

            List<ElfProgramHeader> loads = LoadSegments;
            if (loads.Count == 0)
            {
                return Corrupted("there is no PT_LOAD program header, so there is nothing to load");
            }

            ElfProgramHeader? previous = null;
            ElfProgramHeader? highestNonEmpty = null;
            foreach (ElfProgramHeader load in loads)
            {
                string where = $"PT_LOAD (program header {load.Index})";
                if (load.FileSize > load.MemorySize)
                {
                    return Corrupted($"{where} has p_filesz = {ElfNames.Hex(load.FileSize)}, larger than p_memsz = {ElfNames.Hex(load.MemorySize)}");
                }

                if (load.Alignment > 1 && !ulong.IsPow2(load.Alignment))
                {
                    return Corrupted($"{where} has p_align = {ElfNames.Hex(load.Alignment)}, which is not a power of two");
                }

                if (load.Alignment > MaxSegmentAlignment)
                {
                    return Corrupted($"{where} has p_align = {ElfNames.Hex(load.Alignment)}, larger than the {ElfNames.Hex(MaxSegmentAlignment)} Donjon supports");
                }

                ulong congruenceModulus = Math.Max(ElfConstants.PageSize, load.Alignment);
                if (load.Offset % congruenceModulus != load.VirtualAddress % congruenceModulus)
                {
                    return Corrupted(
                        $"{where} has p_offset = {ElfNames.Hex(load.Offset)} and p_vaddr = {ElfNames.Hex(load.VirtualAddress)}, which are not congruent modulo {ElfNames.Hex(congruenceModulus)} (the page size or p_align), so it cannot be mapped");
                }

                if (header.TypeValue == ElfConstants.ET_EXEC && load.MemorySize != 0
                    && (load.VirtualAddress < MinFixedAddress || load.VirtualAddress > FixedAddressCeiling || load.MemorySize > FixedAddressCeiling - load.VirtualAddress))
                {
                    string which = load.VirtualAddress < MinFixedAddress
                        ? $"starts below {ElfNames.Hex(MinFixedAddress)} (Linux's vm.mmap_min_addr), where no program may be mapped"
                        : $"reaches [{ElfNames.Hex(FixedAddressCeiling)}, {ElfNames.Hex(Images.AddressSpaceLayoutPlanner.UserAddressSpaceEnd)}), where Donjon places the keep's stack, its mmap region, the interpreter and, in the process keep, the shim, its shared block and the image blob";
                    return ElfVerdict.Reject(ElfRejectionKind.OverlapsKeepRegions,
                        $"a non-PIE executable (e_type = ET_EXEC) is loaded at its link addresses, and {where} at [{ElfNames.Hex(load.VirtualAddress)}, {ElfNames.Hex(load.VirtualAddress + load.MemorySize)}) (p_vaddr, p_memsz) {which}; relink it between {ElfNames.Hex(MinFixedAddress)} and {ElfNames.Hex(FixedAddressCeiling)} (the default of `ld` is 0x400000) or as a PIE");
                }

                if (header.TypeValue != ElfConstants.ET_EXEC && (load.VirtualAddress > MaxImageSpan || load.MemorySize > MaxImageSpan - load.VirtualAddress))
                {
                    return Corrupted(
                        $"{where} has p_vaddr = {ElfNames.Hex(load.VirtualAddress)} and p_memsz = {ElfNames.Hex(load.MemorySize)}, so it ends beyond the {ElfNames.Hex(MaxImageSpan)} bytes Donjon reserves for a workload image");
                }

                if (previous is not null && load.VirtualAddress < previous.VirtualAddress)
                {
                    return Corrupted(
                        $"{where} at p_vaddr = {ElfNames.Hex(load.VirtualAddress)} comes after program header {previous.Index} at p_vaddr = {ElfNames.Hex(previous.VirtualAddress)}; the ELF specification requires PT_LOAD headers in ascending p_vaddr order");
                }

                if (load.MemorySize != 0)
                {
                    if (highestNonEmpty is not null && load.VirtualAddress < highestNonEmpty.VirtualAddress + highestNonEmpty.MemorySize)
                    {
                        return ElfVerdict.Reject(ElfRejectionKind.OverlappingSegments,
                            $"{where} at [{ElfNames.Hex(load.VirtualAddress)}, {ElfNames.Hex(load.VirtualAddress + load.MemorySize)}) overlaps PT_LOAD (program header {highestNonEmpty.Index}) at [{ElfNames.Hex(highestNonEmpty.VirtualAddress)}, {ElfNames.Hex(highestNonEmpty.VirtualAddress + highestNonEmpty.MemorySize)}) (p_vaddr, p_memsz): the file is corrupted; {RebuildAdvice}");
                    }

                    highestNonEmpty = load;
                }

                previous = load;
            }

            if (highestNonEmpty is null)
            {
                return Corrupted("every PT_LOAD program header has p_memsz = 0, so there is nothing to load");
            }

            return null;
        }

        /// <summary>Checks that the entry point is executable and that the program header table and TLS template are loaded.</summary>
        private ElfVerdict? CheckEntryAndTables(ElfFileHeader header)
        {
            List<ElfProgramHeader> loads = LoadSegments;
            ElfProgramHeader? entrySegment = loads.Find(load => Covers(load, header.Entry, 1));
            if (entrySegment is null || !entrySegment.IsExecutable)
            {
                string executableRanges = string.Join(", ", loads.Where(load => load.IsExecutable)
                    .Select(load => $"[{ElfNames.Hex(load.VirtualAddress)}, {ElfNames.Hex(load.VirtualAddress + load.MemorySize)})"));
                string where = entrySegment is null
                    ? "lies in no PT_LOAD segment"
                    : $"lies in PT_LOAD (program header {entrySegment.Index}, flags \"{entrySegment.Flags}\"), which is not executable";
                string executable = executableRanges.Length == 0 ? "there is no executable PT_LOAD" : $"the executable PT_LOAD ranges are {executableRanges}";
                return ElfVerdict.Reject(ElfRejectionKind.EntryOutsideExecutableSegment,
                    $"the entry point e_entry = {ElfNames.Hex(header.Entry)} {where} ({executable}): the header is corrupted; {RebuildAdvice}");
            }

            ulong tableSize = (ulong)header.ProgramHeaderCount * ElfConstants.Elf64ProgramHeaderSize;
            if (_programHeaders.FirstOrDefault(programHeader => programHeader.TypeValue == ElfConstants.PT_PHDR) is { } phdr)
            {
                if (!loads.Exists(load => CoversFileBacked(load, phdr.VirtualAddress, tableSize)))
                {
                    return Corrupted(
                        $"PT_PHDR (program header {phdr.Index}) puts the program header table at p_vaddr = {ElfNames.Hex(phdr.VirtualAddress)}, which no PT_LOAD segment loads from the file");
                }
            }
            else if (!loads.Exists(load => load.Offset <= header.ProgramHeaderOffset
                && header.ProgramHeaderOffset - load.Offset <= load.FileSize
                && tableSize <= load.FileSize - (header.ProgramHeaderOffset - load.Offset)))
            {
                return Corrupted(
                    $"the program header table (e_phoff = {ElfNames.Hex(header.ProgramHeaderOffset)}) lies in no PT_LOAD segment and there is no PT_PHDR, so the program could not find its own headers (AT_PHDR); {RebuildAdvice}");
            }

            List<ElfProgramHeader> tlsSegments = _programHeaders.Where(programHeader => programHeader.TypeValue == ElfConstants.PT_TLS).ToList();
            if (tlsSegments.Count > 1)
            {
                return Corrupted($"there are {tlsSegments.Count} PT_TLS program headers, but a program has at most one TLS template");
            }

            if (tlsSegments.Count == 1)
            {
                ElfProgramHeader tls = tlsSegments[0];
                if (tls.FileSize > tls.MemorySize)
                {
                    return Corrupted($"PT_TLS (program header {tls.Index}) has p_filesz = {ElfNames.Hex(tls.FileSize)}, larger than p_memsz = {ElfNames.Hex(tls.MemorySize)}");
                }

                if (tls.Alignment > 1 && !ulong.IsPow2(tls.Alignment))
                {
                    return Corrupted($"PT_TLS (program header {tls.Index}) has p_align = {ElfNames.Hex(tls.Alignment)}, which is not a power of two");
                }

                if (tls.FileSize != 0 && !loads.Exists(load => CoversFileBacked(load, tls.VirtualAddress, tls.FileSize)))
                {
                    return Corrupted(
                        $"PT_TLS (program header {tls.Index}) puts the TLS template at p_vaddr = {ElfNames.Hex(tls.VirtualAddress)}, p_filesz = {ElfNames.Hex(tls.FileSize)}, which no PT_LOAD segment loads from the file");
                }
            }

            return null;
        }

        /// <summary>Whether <paramref name="load"/>'s memory covers the untrusted range [<paramref name="address"/>, +<paramref name="size"/>).</summary>
        private static bool Covers(ElfProgramHeader load, ulong address, ulong size) =>
            address >= load.VirtualAddress && address - load.VirtualAddress <= load.MemorySize && size <= load.MemorySize - (address - load.VirtualAddress);

        /// <summary>Whether the part of <paramref name="load"/> that comes from the file covers the untrusted range [<paramref name="address"/>, +<paramref name="size"/>).</summary>
        private static bool CoversFileBacked(ElfProgramHeader load, ulong address, ulong size) =>
            address >= load.VirtualAddress && address - load.VirtualAddress <= load.FileSize && size <= load.FileSize - (address - load.VirtualAddress);

        private static ElfVerdict Truncated(string what) =>
            ElfVerdict.Reject(ElfRejectionKind.Truncated, $"the file is truncated: {what}; copy it again or {RebuildAdvice}");

        private static ElfVerdict Corrupted(string what) =>
            ElfVerdict.Reject(ElfRejectionKind.CorruptedHeader, $"corrupted ELF header: {what}; {RebuildAdvice}");
    }
}
