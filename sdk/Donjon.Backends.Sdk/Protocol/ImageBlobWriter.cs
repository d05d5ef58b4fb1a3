using System.Buffers.Binary;
using Donjon.Abstractions.Images;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Backends.Sdk.Protocol;

/// <summary>
/// Serializes a <see cref="KeepImage"/> into the keep image blob (<c>docs/protocol.md</c> §1): each segment as a
/// kind 1 region, the initial stack as a kind 2 region, and the configuration page appended.
/// </summary>
/// <remarks>
/// Blob layout: the 128-byte header, the region descriptors, then each region's data placed so that the
/// region's first page starts on a page boundary of the blob (a shim may map it straight from the blob), then
/// the configuration page on a page boundary; the blob size is a whole number of pages.
/// </remarks>
public static class ImageBlobWriter
{
    /// <summary>Checks <paramref name="image"/> against what the shim accepts and serializes it.</summary>
    /// <param name="image">The keep image.</param>
    /// <param name="memoryLimit">All anonymous memory the workload may map, in bytes (usually <c>KeepLimits.MemorySize</c>).</param>
    /// <returns>The blob.</returns>
    /// <exception cref="InvalidOperationException">The image breaks a rule of §1; the message says which and where.</exception>
    public static byte[] Write(KeepImage image, ulong memoryLimit)
    {
        ArgumentNullException.ThrowIfNull(image);
        var regions = CollectRegions(image);
        Validate(image, regions);

        // Place the data: header and descriptors first, then each region's page image page-aligned.
        ulong position = AlignUp((ulong)ImageHeaderSize + ((ulong)regions.Count * RegionSize), PageSize);
        var blobOffsets = new ulong[regions.Count];
        for (int i = 0; i < regions.Count; i++)
        {
            var region = regions[i];
            if (region.Data.IsEmpty)
            {
                continue;
            }

            ulong inPage = region.DataOffset % PageSize;
            blobOffsets[i] = position + inPage;
            position = AlignUp(blobOffsets[i] + (ulong)region.Data.Length, PageSize);
        }

        ulong configOffset = position;
        ulong blobSize = AlignUp(configOffset + (ulong)image.Configuration.Length, PageSize);
        if (blobSize > (ulong)Array.MaxLength)
        {
            throw new InvalidOperationException($"the keep image would be {blobSize} bytes, more than one blob can hold ({Array.MaxLength})");
        }

        var blob = new byte[blobSize];
        var span = blob.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span[ImageMagicOffset..], ImageMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[ImageVersionMajorOffset..], ImageVersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(span[ImageVersionMinorOffset..], ImageVersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ImageHeaderSizeOffset..], ImageHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ImageRegionCountOffset..], (uint)regions.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageBlobSizeOffset..], blobSize);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageEntryPointOffset..], image.EntryPoint);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageStackPointerOffset..], image.Stack.InitialPointer);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageHeapBaseOffset..], image.Layout.HeapBase);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageHeapMaxSizeOffset..], image.Layout.HeapMaxSize);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageMmapBaseOffset..], image.Layout.MmapBase);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageMmapEndOffset..], image.Layout.MmapEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageConfigOffsetOffset..], configOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageConfigSizeOffset..], (ulong)image.Configuration.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(span[ImageMemoryLimitOffset..], memoryLimit);

        for (int i = 0; i < regions.Count; i++)
        {
            var region = regions[i];
            var descriptor = span.Slice(ImageRegionsOffset + (i * RegionSize), RegionSize);
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor[RegionAddressOffset..], region.Address);
            BinaryPrimitives.WriteUInt64LittleEndian(descriptor[RegionSizeOffset..], region.Size);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[RegionPermissionsOffset..], (uint)region.Permissions);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[RegionKindOffset..], region.Kind);
            if (!region.Data.IsEmpty)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(descriptor[RegionDataOffsetOffset..], region.DataOffset);
                BinaryPrimitives.WriteUInt64LittleEndian(descriptor[RegionBlobOffsetOffset..], blobOffsets[i]);
                BinaryPrimitives.WriteUInt64LittleEndian(descriptor[RegionDataSizeOffset..], (ulong)region.Data.Length);
                region.Data.Span.CopyTo(span[(int)blobOffsets[i]..]);
            }
        }

        image.Configuration.Span.CopyTo(span[(int)configOffset..]);
        return blob;
    }

    private static List<Region> CollectRegions(KeepImage image)
    {
        if (image.Segments is null || image.Stack is null || image.Layout is null)
        {
            throw new InvalidOperationException("the keep image has no segments, stack or layout");
        }

        var regions = new List<Region>(image.Segments.Count + 1);
        for (int i = 0; i < image.Segments.Count; i++)
        {
            var segment = image.Segments[i] ?? throw new InvalidOperationException($"keep image segment {i} is null");
            regions.Add(new Region($"segment {i}", segment.Address, segment.Size, segment.Permissions, RegionKindSegment, segment.DataOffset, segment.Data));
        }

        var stack = image.Stack;
        if (stack.IsExecutable)
        {
            throw new InvalidOperationException(
                "the workload asks for an executable stack (PT_GNU_STACK with PF_X); a keep never maps memory both writable and executable. Rebuild it with -z noexecstack.");
        }

        if (stack.InitialPointer < stack.Base || stack.InitialPointer - stack.Base >= stack.Size)
        {
            throw new InvalidOperationException(
                $"the initial stack pointer 0x{stack.InitialPointer:x} lies outside the stack region [0x{stack.Base:x}, 0x{stack.Base + stack.Size:x})");
        }

        regions.Add(new Region("the stack", stack.Base, stack.Size, MemoryPermissions.Read | MemoryPermissions.Write, RegionKindStack, stack.InitialPointer - stack.Base, stack.Contents));
        return regions;
    }

    private static void Validate(KeepImage image, List<Region> regions)
    {
        if (regions.Count > ImageMaxRegions)
        {
            throw new InvalidOperationException($"the keep image has {regions.Count} regions (segments and stack); at most {ImageMaxRegions} are allowed");
        }

        foreach (var region in regions)
        {
            string name = $"{region.Name} [0x{region.Address:x}, +0x{region.Size:x})";
            if (region.Address % PageSize != 0 || region.Size % PageSize != 0 || region.Size == 0)
            {
                throw new InvalidOperationException($"{name}: address and size must be page-aligned and the size non-zero");
            }

            if (region.Address > ImageMaxAddress || region.Size > ImageMaxAddress - region.Address)
            {
                throw new InvalidOperationException($"{name}: ends beyond the user address space (0x{ImageMaxAddress:x})");
            }

            if ((region.Permissions & ~(MemoryPermissions.Read | MemoryPermissions.Write | MemoryPermissions.Execute)) != 0)
            {
                throw new InvalidOperationException($"{name}: unknown permission bits 0x{(int)region.Permissions:x}");
            }

            if (region.Permissions.HasFlag(MemoryPermissions.Write) && region.Permissions.HasFlag(MemoryPermissions.Execute))
            {
                throw new InvalidOperationException($"{name}: is both writable and executable, which a keep never maps");
            }

            if (region.DataOffset > region.Size || (ulong)region.Data.Length > region.Size - region.DataOffset)
            {
                throw new InvalidOperationException($"{name}: its {region.Data.Length} data bytes at offset 0x{region.DataOffset:x} do not fit the region");
            }
        }

        // Segments come in address order; the stack may lie anywhere, so compare every pair.
        for (int i = 1; i < image.Segments.Count; i++)
        {
            if (image.Segments[i].Address < image.Segments[i - 1].Address)
            {
                throw new InvalidOperationException($"segment {i} (0x{image.Segments[i].Address:x}) comes before segment {i - 1} (0x{image.Segments[i - 1].Address:x}); segments must be in address order");
            }
        }

        for (int i = 0; i < regions.Count; i++)
        {
            for (int j = i + 1; j < regions.Count; j++)
            {
                if (Overlaps(regions[i].Address, regions[i].Size, regions[j].Address, regions[j].Size))
                {
                    throw new InvalidOperationException($"{regions[i].Name} [0x{regions[i].Address:x}, +0x{regions[i].Size:x}) overlaps {regions[j].Name} [0x{regions[j].Address:x}, +0x{regions[j].Size:x})");
                }
            }
        }

        bool entryInExecutableSegment = regions.Any(r => r.Kind == RegionKindSegment
            && r.Permissions.HasFlag(MemoryPermissions.Execute)
            && image.EntryPoint >= r.Address && image.EntryPoint - r.Address < r.Size);
        if (!entryInExecutableSegment)
        {
            throw new InvalidOperationException($"the entry point 0x{image.EntryPoint:x} lies in no executable segment");
        }

        var stack = image.Stack;
        if (stack.InitialPointer % 16 != 0)
        {
            throw new InvalidOperationException($"the initial stack pointer 0x{stack.InitialPointer:x} is not 16-byte aligned");
        }

        if (stack.Contents.IsEmpty)
        {
            throw new InvalidOperationException("the initial stack has no contents (argc at least)");
        }

        ValidateLayout(image.Layout, regions);

        var configuration = image.Configuration.Span;
        if (configuration.Length < ConfigHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(configuration) != ConfigMagic)
        {
            throw new InvalidOperationException("the keep image's configuration page is not a DJNC page (build it with ConfigurationPageBuilder)");
        }
    }

    private static void ValidateLayout(AddressSpaceLayout layout, List<Region> regions)
    {
        if (layout.HeapBase % PageSize != 0 || layout.MmapBase % PageSize != 0 || layout.MmapEnd % PageSize != 0)
        {
            throw new InvalidOperationException(
                $"the layout's heap base 0x{layout.HeapBase:x}, mmap base 0x{layout.MmapBase:x} and mmap end 0x{layout.MmapEnd:x} must be page-aligned");
        }

        if (layout.HeapBase > ImageMaxAddress || layout.HeapMaxSize > ImageMaxAddress - layout.HeapBase)
        {
            throw new InvalidOperationException($"the heap [0x{layout.HeapBase:x}, +0x{layout.HeapMaxSize:x}) ends beyond the user address space");
        }

        if (layout.MmapBase > layout.MmapEnd || layout.MmapEnd > ImageMaxAddress)
        {
            throw new InvalidOperationException($"the mmap region [0x{layout.MmapBase:x}, 0x{layout.MmapEnd:x}) ends before it starts or beyond the user address space");
        }

        if (Overlaps(layout.HeapBase, layout.HeapMaxSize, layout.MmapBase, layout.MmapEnd - layout.MmapBase))
        {
            throw new InvalidOperationException($"the heap [0x{layout.HeapBase:x}, +0x{layout.HeapMaxSize:x}) overlaps the mmap region [0x{layout.MmapBase:x}, 0x{layout.MmapEnd:x})");
        }

        foreach (var region in regions)
        {
            if (Overlaps(layout.HeapBase, layout.HeapMaxSize, region.Address, region.Size))
            {
                throw new InvalidOperationException($"the heap [0x{layout.HeapBase:x}, +0x{layout.HeapMaxSize:x}) overlaps {region.Name} at 0x{region.Address:x}");
            }

            if (Overlaps(layout.MmapBase, layout.MmapEnd - layout.MmapBase, region.Address, region.Size))
            {
                throw new InvalidOperationException($"the mmap region [0x{layout.MmapBase:x}, 0x{layout.MmapEnd:x}) overlaps {region.Name} at 0x{region.Address:x}");
            }
        }
    }

    /// <summary>Whether two ranges overlap; both are known not to wrap.</summary>
    private static bool Overlaps(ulong a, ulong aSize, ulong b, ulong bSize) =>
        aSize != 0 && bSize != 0 && a < b + bSize && b < a + aSize;

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) / alignment * alignment;

    /// <summary>One region to describe in the blob: a segment or the stack.</summary>
    private sealed record Region(string Name, ulong Address, ulong Size, MemoryPermissions Permissions, uint Kind, ulong DataOffset, ReadOnlyMemory<byte> Data);
}
