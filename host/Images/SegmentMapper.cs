using Donjon.Abstractions.Images;
using Donjon.Host.Elf;

namespace Donjon.Host.Images;

/// <summary>
/// Turns the loadable segments (<c>PT_LOAD</c>) of an accepted ELF file into page-aligned
/// <see cref="SegmentMapping"/> records that never overlap, so a shim can map each record on its own, in any order.
/// </summary>
/// <remarks>
/// Segments do not overlap in memory, but two consecutive segments may share a page: the first ends and the
/// second starts inside it. Linux maps the second segment over that page, which loses the first segment's
/// permissions and its zeroed bss there. Donjon instead gives a shared page a record of its own, with the union of
/// the permissions of every segment that touches it and the bytes of all of them (zero where none has file
/// bytes); the segments' other pages keep records with their own permissions. A segment with
/// <c>p_memsz = 0</c> maps nothing.
/// </remarks>
internal static class SegmentMapper
{
    private const ulong PageSize = 4096;

    /// <summary>Maps the <paramref name="loadSegments"/> of a file loaded at <paramref name="loadBase"/>.</summary>
    /// <param name="loadSegments">The <c>PT_LOAD</c> headers, already checked: in ascending address order, not overlapping, inside the file.</param>
    /// <param name="loadBase">The address of virtual address 0; page-aligned.</param>
    /// <param name="fileContents">The whole file; the records' data are slices of it.</param>
    public static IReadOnlyList<SegmentMapping> Map(IReadOnlyList<ElfProgramHeader> loadSegments, ulong loadBase, ReadOnlyMemory<byte> fileContents)
    {
        List<PlacedSegment> segments = loadSegments
            .Where(load => load.MemorySize != 0)
            .Select(load => new PlacedSegment(load, loadBase + load.VirtualAddress))
            .ToList();

        // Every boundary where the set of segments covering a page can change: each segment's first page and
        // the end of its last page. Starts and ends are each ascending, because the segments are sorted and disjoint.
        // Sorted and distinct by insertion into an array (a handful of segments; no LINQ over ulong, which would
        // JIT-compile at every start: docs/performance.md, "Start-up").
        var boundaries = new ulong[segments.Count * 2];
        int count = 0;
        for (int i = 0; i < boundaries.Length; i++)
        {
            ulong value = i < segments.Count ? segments[i].PageStart : segments[i - segments.Count].PageEnd;
            int at = count;
            while (at > 0 && boundaries[at - 1] > value)
            {
                at--;
            }

            if (at > 0 && boundaries[at - 1] == value)
            {
                continue;
            }

            Array.Copy(boundaries, at, boundaries, at + 1, count - at);
            boundaries[at] = value;
            count++;
        }

        var mappings = new List<SegmentMapping>();
        int firstCandidate = 0;
        for (int index = 0; index + 1 < count; index++)
        {
            ulong start = boundaries[index];
            ulong end = boundaries[index + 1];
            while (firstCandidate < segments.Count && segments[firstCandidate].PageEnd <= start)
            {
                firstCandidate++;
            }

            // Segments from firstCandidate on end after start; those that also begin by start cover [start, end).
            var covering = new List<PlacedSegment>();
            for (int candidate = firstCandidate; candidate < segments.Count && segments[candidate].PageStart <= start; candidate++)
            {
                covering.Add(segments[candidate]);
            }

            if (covering.Count > 0)
            {
                mappings.Add(MakeMapping(start, end, covering, fileContents));
            }
        }

        return mappings;
    }

    private static SegmentMapping MakeMapping(ulong start, ulong end, List<PlacedSegment> covering, ReadOnlyMemory<byte> fileContents)
    {
        MemoryPermissions permissions = MemoryPermissions.None;
        var pieces = new List<(ulong Address, ReadOnlyMemory<byte> Bytes)>();
        foreach (PlacedSegment segment in covering)
        {
            permissions |= segment.Permissions;
            ulong dataStart = Math.Max(segment.Address, start);
            ulong dataEnd = Math.Min(segment.Address + segment.Header.FileSize, end);
            if (dataStart < dataEnd)
            {
                ulong fileOffset = segment.Header.Offset + (dataStart - segment.Address);
                pieces.Add((dataStart, fileContents.Slice(checked((int)fileOffset), checked((int)(dataEnd - dataStart)))));
            }
        }

        if (pieces.Count == 0)
        {
            return new SegmentMapping(start, end - start, permissions, 0, ReadOnlyMemory<byte>.Empty);
        }

        if (pieces.Count == 1)
        {
            return new SegmentMapping(start, end - start, permissions, pieces[0].Address - start, pieces[0].Bytes);
        }

        // Several segments share this page: gather their bytes into one buffer, zero in between (at most a page).
        ulong first = pieces[0].Address;
        ulong last = pieces[^1].Address + (ulong)pieces[^1].Bytes.Length;
        byte[] data = new byte[last - first];
        foreach ((ulong address, ReadOnlyMemory<byte> bytes) in pieces)
        {
            bytes.CopyTo(data.AsMemory(checked((int)(address - first))));
        }

        return new SegmentMapping(start, end - start, permissions, first - start, data);
    }

    /// <summary>A loadable segment with its absolute address and the pages it touches.</summary>
    private sealed record PlacedSegment(ElfProgramHeader Header, ulong Address)
    {
        public ulong PageStart => Address & ~(PageSize - 1);

        public ulong PageEnd => (Address + Header.MemorySize + PageSize - 1) & ~(PageSize - 1);

        public MemoryPermissions Permissions =>
            (Header.IsReadable ? MemoryPermissions.Read : MemoryPermissions.None)
            | (Header.IsWritable ? MemoryPermissions.Write : MemoryPermissions.None)
            | (Header.IsExecutable ? MemoryPermissions.Execute : MemoryPermissions.None);
    }
}
