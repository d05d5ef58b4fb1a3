using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The one loader of a keep's initial memory: walks a layout's regions page by page, in ascending address order, and
/// feeds every page to an <see cref="IKeepPageSink"/>. A measurer and a launcher fed by this walk see the same pages.
/// </summary>
/// <remarks>
/// The order is fixed: regions sorted by address, each page once, lowest first. A page of a
/// <see cref="KeepPageKind.Measured"/> region whose bytes are all zero is fed as a <see cref="KeepPageKind.Zero"/>
/// page (with empty contents), so that a sink that has a cheaper zero page (SEV-SNP) uses it; a sink without one
/// (SGX) measures the zeros. Host-independent: also compiled into the <c>sgx</c> and <c>sev</c> backends.
/// </remarks>
public static class KeepPageWalker
{
    /// <summary>The size of a page, in bytes.</summary>
    public const int PageSize = 4096;

    /// <summary>Feeds the pages of <paramref name="regions"/> to <paramref name="sink"/>, then finishes it.</summary>
    /// <param name="regions">The layout; in any order, page-aligned, not overlapping.</param>
    /// <param name="sink">The measurer or launcher.</param>
    /// <returns>What was fed: runs of consecutive pages with the same name, kind and permissions.</returns>
    /// <exception cref="ArgumentException">A region is not page-aligned, is empty, holds data beyond its end, or overlaps another.</exception>
    public static IReadOnlyList<MeasuredRegion> Walk(IEnumerable<KeepRegion> regions, IKeepPageSink sink)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(sink);
        List<KeepRegion> ordered = regions.OrderBy(region => region.Address).ToList();
        Validate(ordered);

        var report = new List<MeasuredRegion>();
        var run = new Run(string.Empty, 0, 0, MemoryPermissions.None, KeepPageKind.Measured);
        byte[] page = new byte[PageSize];
        foreach (KeepRegion region in ordered)
        {
            for (ulong offset = 0; offset < region.Size; offset += PageSize)
            {
                ulong address = region.Address + offset;
                bool hasData = Fill(region, offset, page);
                KeepPageKind kind = region.Kind;
                switch (kind)
                {
                    case KeepPageKind.Measured when !hasData || page.AsSpan().IndexOfAnyExcept((byte)0) < 0:
                    case KeepPageKind.Zero:
                        kind = KeepPageKind.Zero;
                        sink.AddPage(address, [], region.Permissions, kind);
                        break;
                    case KeepPageKind.Unmeasured:
                        sink.AddPage(address, hasData ? page : [], region.Permissions, kind);
                        break;
                    default:
                        // Measured pages with data, and control pages (TCS, VMSA), whose bytes are always given.
                        if (!hasData)
                        {
                            Array.Clear(page);
                        }

                        sink.AddPage(address, page, region.Permissions, kind);
                        break;
                }

                if (run.Size != 0 && run.Name == region.Name && run.Kind == kind && run.Permissions == region.Permissions
                    && run.Address + run.Size == address)
                {
                    run.Size += PageSize;
                }
                else
                {
                    run.Flush(report);
                    run = new Run(region.Name, address, PageSize, region.Permissions, kind);
                }
            }
        }

        run.Flush(report);
        sink.Finish();
        return report;
    }

    /// <summary>How many pages <paramref name="bytes"/> bytes take.</summary>
    /// <param name="bytes">A size in bytes.</param>
    /// <returns>The number of pages, rounded up.</returns>
    public static ulong PagesFor(ulong bytes) => (bytes / PageSize) + (bytes % PageSize == 0 ? 0UL : 1UL);

    /// <summary>Rounds <paramref name="value"/> down to a page boundary.</summary>
    /// <param name="value">An address or size.</param>
    /// <returns>The largest multiple of the page size not above it.</returns>
    public static ulong AlignDown(ulong value) => value & ~(ulong)(PageSize - 1);

    /// <summary>
    /// Writes the bytes of the page at <paramref name="offset"/> in <paramref name="region"/> into <paramref name="page"/>
    /// when any of the region's data falls in it.
    /// </summary>
    /// <returns>Whether the page holds data; when not, <paramref name="page"/> is left as it was.</returns>
    private static bool Fill(KeepRegion region, ulong offset, byte[] page)
    {
        ulong dataStart = region.DataOffset;
        ulong dataEnd = region.DataOffset + (ulong)region.Data.Length;
        ulong pageEnd = offset + PageSize;
        if (region.Data.IsEmpty || dataEnd <= offset || dataStart >= pageEnd)
        {
            return false;
        }

        Array.Clear(page);
        ulong from = Math.Max(dataStart, offset);
        ulong to = Math.Min(dataEnd, pageEnd);
        region.Data.Span.Slice((int)(from - dataStart), (int)(to - from)).CopyTo(page.AsSpan((int)(from - offset)));
        return true;
    }

    private static void Validate(List<KeepRegion> ordered)
    {
        KeepRegion? previous = null;
        foreach (KeepRegion region in ordered)
        {
            string name = $"region '{region.Name}' [0x{region.Address:x}, +0x{region.Size:x})";
            if (region.Address % PageSize != 0 || region.Size % PageSize != 0 || region.Size == 0)
            {
                throw new ArgumentException($"{name}: the address and size must be page-aligned and the size non-zero", nameof(ordered));
            }

            if (region.Size > ulong.MaxValue - region.Address)
            {
                throw new ArgumentException($"{name}: ends beyond the 64-bit address space", nameof(ordered));
            }

            if (region.DataOffset > region.Size || (ulong)region.Data.Length > region.Size - region.DataOffset)
            {
                throw new ArgumentException($"{name}: its {region.Data.Length} bytes of data at offset 0x{region.DataOffset:x} do not fit", nameof(ordered));
            }

            if (region.Kind == KeepPageKind.Zero && !region.Data.IsEmpty)
            {
                throw new ArgumentException($"{name}: a zero region holds no data", nameof(ordered));
            }

            if (!Enum.IsDefined(region.Kind))
            {
                throw new ArgumentException($"{name}: unknown page kind {(int)region.Kind}", nameof(ordered));
            }

            if (previous is not null && previous.Address + previous.Size > region.Address)
            {
                throw new ArgumentException(
                    $"region '{previous.Name}' [0x{previous.Address:x}, +0x{previous.Size:x}) overlaps {name}", nameof(ordered));
            }

            previous = region;
        }
    }

    /// <summary>The run of pages being reported, grown a page at a time without allocating.</summary>
    private struct Run(string name, ulong address, ulong size, MemoryPermissions permissions, KeepPageKind kind)
    {
        public readonly string Name = name;
        public readonly ulong Address = address;
        public ulong Size = size;
        public readonly MemoryPermissions Permissions = permissions;
        public readonly KeepPageKind Kind = kind;

        public readonly void Flush(List<MeasuredRegion> report)
        {
            if (Size != 0)
            {
                report.Add(new MeasuredRegion(Name, Address, Size, Permissions, Kind));
            }
        }
    }
}
