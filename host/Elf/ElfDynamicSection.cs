namespace Donjon.Host.Elf;

/// <summary>
/// What <see cref="ElfInspector"/> needs from <c>PT_DYNAMIC</c>: the libraries a file needs (<c>DT_NEEDED</c>), its
/// shared-object name (<c>DT_SONAME</c>) and whether the linker marked it a PIE (<c>DF_1_PIE</c>). A static-PIE has
/// a <c>PT_DYNAMIC</c> too (for its self-relocation), but never needs a library.
/// </summary>
/// <param name="NeededLibraries">The printable names of the <c>DT_NEEDED</c> entries, in order.</param>
/// <param name="SharedObjectName">The printable <c>DT_SONAME</c>, when present.</param>
/// <param name="HasPieFlag">Whether <c>DT_FLAGS_1</c> has <c>DF_1_PIE</c>.</param>
internal sealed record ElfDynamicSection(IReadOnlyList<string> NeededLibraries, string? SharedObjectName, bool HasPieFlag)
{
    /// <summary>The printable <c>DT_RUNPATH</c> (colon-separated folders), when present.</summary>
    public string? RunPath { get; init; }

    /// <summary>The printable <c>DT_RPATH</c>, when present (the interpreter ignores it when <c>DT_RUNPATH</c> is there).</summary>
    public string? RPath { get; init; }

    /// <summary>The value used when a file has no <c>PT_DYNAMIC</c>.</summary>
    public static ElfDynamicSection Absent { get; } = new([], null, false);

    /// <summary>The most <c>DT_NEEDED</c> names kept, so a hostile file cannot make the report huge.</summary>
    private const int MaxNeededLibraryCount = 64;

    /// <summary>The most dynamic entries read (real files have well under a hundred), so a hostile file cannot make inspection slow.</summary>
    private const ulong MaxEntryCount = 1 << 16;

    /// <summary>
    /// Reads the dynamic entries of <paramref name="dynamicSegment"/> (an <c>ELF64</c> <c>PT_DYNAMIC</c>). Every
    /// value is untrusted: entries beyond the file are ignored, and a name whose string table cannot be located is
    /// reported as unreadable instead of failing.
    /// </summary>
    public static ElfDynamicSection Read(ElfFieldReader reader, ElfProgramHeader dynamicSegment, IReadOnlyList<ElfProgramHeader> loadSegments)
    {
        if (!reader.Contains(dynamicSegment.Offset, dynamicSegment.FileSize))
        {
            return Absent;
        }

        var neededNameOffsets = new List<ulong>();
        ulong? sharedObjectNameOffset = null;
        ulong? runPathOffset = null;
        ulong? rPathOffset = null;
        ulong? stringTableAddress = null;
        ulong stringTableSize = 0;
        bool hasPieFlag = false;
        ulong entryCount = Math.Min(dynamicSegment.FileSize / ElfConstants.Elf64DynamicEntrySize, MaxEntryCount);
        for (ulong index = 0; index < entryCount; index++)
        {
            ulong entryOffset = dynamicSegment.Offset + (index * ElfConstants.Elf64DynamicEntrySize);
            long tag = (long)reader.U64(entryOffset);
            ulong value = reader.U64(entryOffset + 8);
            switch (tag)
            {
                case ElfConstants.DT_NULL:
                    index = entryCount;
                    break;
                case ElfConstants.DT_NEEDED when neededNameOffsets.Count < MaxNeededLibraryCount:
                    neededNameOffsets.Add(value);
                    break;
                case ElfConstants.DT_SONAME:
                    sharedObjectNameOffset = value;
                    break;
                case ElfConstants.DT_RUNPATH:
                    runPathOffset = value;
                    break;
                case ElfConstants.DT_RPATH:
                    rPathOffset = value;
                    break;
                case ElfConstants.DT_STRTAB:
                    stringTableAddress = value;
                    break;
                case ElfConstants.DT_STRSZ:
                    stringTableSize = value;
                    break;
                case ElfConstants.DT_FLAGS_1:
                    hasPieFlag = (value & ElfConstants.DF_1_PIE) != 0;
                    break;
                default:
                    break;
            }
        }

        (ulong Start, ulong End)? stringTable = LocateInFile(reader, stringTableAddress, stringTableSize, loadSegments);
        var neededLibraries = new List<string>(neededNameOffsets.Count);
        foreach (ulong nameOffset in neededNameOffsets)
        {
            neededLibraries.Add(ReadName(reader, stringTable, nameOffset));
        }

        string? sharedObjectName = sharedObjectNameOffset is { } offset ? ReadName(reader, stringTable, offset) : null;
        return new ElfDynamicSection(neededLibraries, sharedObjectName, hasPieFlag)
        {
            RunPath = runPathOffset is { } run ? ReadName(reader, stringTable, run) : null,
            RPath = rPathOffset is { } rpath ? ReadName(reader, stringTable, rpath) : null,
        };
    }

    /// <summary>Finds the file range of the string table at untrusted virtual address <paramref name="address"/>, through the <c>PT_LOAD</c> that holds it.</summary>
    private static (ulong Start, ulong End)? LocateInFile(ElfFieldReader reader, ulong? address, ulong size, IReadOnlyList<ElfProgramHeader> loadSegments)
    {
        if (address is not { } virtualAddress)
        {
            return null;
        }

        foreach (ElfProgramHeader load in loadSegments)
        {
            if (reader.Contains(load.Offset, load.FileSize)
                && virtualAddress >= load.VirtualAddress
                && virtualAddress - load.VirtualAddress < load.FileSize)
            {
                ulong start = load.Offset + (virtualAddress - load.VirtualAddress);
                ulong segmentFileEnd = load.Offset + load.FileSize;
                ulong end = size <= segmentFileEnd - start ? start + size : segmentFileEnd;
                return (start, end);
            }
        }

        return null;
    }

    /// <summary>Reads the name at untrusted offset <paramref name="nameOffset"/> of the string table, or says it is unreadable.</summary>
    private static string ReadName(ElfFieldReader reader, (ulong Start, ulong End)? stringTable, ulong nameOffset)
    {
        string unreadable = $"(unreadable name at string table offset {ElfNames.Hex(nameOffset)})";
        if (stringTable is not { } table || nameOffset >= table.End - table.Start)
        {
            return unreadable;
        }

        return reader.PrintableString(table.Start + nameOffset, table.End) ?? unreadable;
    }
}
