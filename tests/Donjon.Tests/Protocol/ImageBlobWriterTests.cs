using System.Buffers.Binary;
using Donjon.Abstractions.Images;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>The keep image blob of docs/protocol.md §1: round trip through a test-side reader, and every refusal.</summary>
public sealed class ImageBlobWriterTests
{
    private const ulong Text = 0x5555_5555_4000;
    private const ulong StackBase = 0x7FFF_F7F0_0000;
    private const ulong StackSize = 0x10_0000;
    private const ulong MemoryLimit = 1UL << 30;

    private static readonly byte[] TextBytes = Bytes(0x1800, 1);
    private static readonly byte[] DataBytes = Bytes(0x100, 2);
    private static readonly byte[] StackBytes = Bytes(0x180, 3);

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static KeepImage ValidImage() => new(
        new WorkloadIdentity("/bin/app", new string('0', 64), 0x2000),
        new AddressSpaceLayout(Text, Text + 0x5000, Text + 0x10_0000, 0x100_0000, 0x7F00_0000_0000, 0x7FF0_0000_0000, 42),
        [
            new SegmentMapping(Text, 0x2000, MemoryPermissions.Read | MemoryPermissions.Execute, 0, TextBytes),
            new SegmentMapping(Text + 0x2000, 0x3000, MemoryPermissions.Read | MemoryPermissions.Write, 0x80, DataBytes),
        ],
        Text + 0x123,
        new ProgramHeaderTable(Text + 64, 56, 9),
        null,
        new StackImage(StackBase, StackSize, false, StackBase + StackSize - 0x200, StackBytes),
        ConfigurationPageBuilder.Build(TestShim.Signatures.Select(s => new DeclaredSyscall("core", s)).ToList()));

    private sealed record Region(ulong Address, ulong Size, uint Permissions, uint Kind, ulong DataOffset, ulong BlobOffset, ulong DataSize);

    [Fact]
    public void The_blob_round_trips_through_a_reader_of_the_document()
    {
        var image = ValidImage();
        var blob = ImageBlobWriter.Write(image, MemoryLimit);
        var span = blob.AsSpan();
        ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(blob.AsSpan(offset));
        uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(offset));

        span[..4].ToArray().Should().Equal("DJNI"u8.ToArray());
        BinaryPrimitives.ReadUInt16LittleEndian(span[4..]).Should().Be(1);
        BinaryPrimitives.ReadUInt16LittleEndian(span[6..]).Should().Be(0);
        U32(0x08).Should().Be(128);
        U32(0x0C).Should().Be(3);
        U64(0x10).Should().Be((ulong)blob.Length);
        (blob.Length % 4096).Should().Be(0);
        U64(0x18).Should().Be(image.EntryPoint);
        U64(0x20).Should().Be(image.Stack.InitialPointer);
        U64(0x28).Should().Be(image.Layout.HeapBase);
        U64(0x30).Should().Be(image.Layout.HeapMaxSize);
        U64(0x38).Should().Be(image.Layout.MmapBase);
        U64(0x40).Should().Be(image.Layout.MmapEnd);
        U64(0x58).Should().Be(MemoryLimit);
        span.Slice(0x60, 32).ToArray().Should().OnlyContain(b => b == 0);

        ulong configOffset = U64(0x48), configSize = U64(0x50);
        configSize.Should().Be((ulong)image.Configuration.Length);
        span.Slice((int)configOffset, (int)configSize).ToArray().Should().Equal(image.Configuration.ToArray());

        var regions = Enumerable.Range(0, 3).Select(i =>
        {
            int at = 128 + (48 * i);
            return new Region(U64(at), U64(at + 8), U32(at + 0x10), U32(at + 0x14), U64(at + 0x18), U64(at + 0x20), U64(at + 0x28));
        }).ToList();

        regions[0].Should().BeEquivalentTo(new { Address = Text, Size = 0x2000UL, Permissions = 5u, Kind = 1u, DataOffset = 0UL, DataSize = (ulong)TextBytes.Length });
        regions[1].Should().BeEquivalentTo(new { Address = Text + 0x2000, Size = 0x3000UL, Permissions = 3u, Kind = 1u, DataOffset = 0x80UL, DataSize = (ulong)DataBytes.Length });
        regions[2].Should().BeEquivalentTo(new { Address = StackBase, Size = StackSize, Permissions = 3u, Kind = 2u, DataOffset = StackSize - 0x200, DataSize = (ulong)StackBytes.Length });

        byte[][] contents = [TextBytes, DataBytes, StackBytes];
        for (int i = 0; i < 3; i++)
        {
            var region = regions[i];
            (region.BlobOffset + region.DataSize).Should().BeLessThanOrEqualTo((ulong)blob.Length);
            (region.BlobOffset % 4096).Should().Be(region.DataOffset % 4096, "a region's page image starts on a page of the blob");
            span.Slice((int)region.BlobOffset, (int)region.DataSize).ToArray().Should().Equal(contents[i]);
            (region.BlobOffset >= configOffset + configSize || region.BlobOffset + region.DataSize <= configOffset).Should().BeTrue();
        }
    }

    [Fact]
    public void A_segment_without_data_has_no_blob_bytes()
    {
        var image = ValidImage();
        image = image with { Segments = [image.Segments[0], image.Segments[1] with { Data = ReadOnlyMemory<byte>.Empty }] };
        var blob = ImageBlobWriter.Write(image, MemoryLimit);
        int at = 128 + 48;
        BinaryPrimitives.ReadUInt64LittleEndian(blob.AsSpan(at + 0x28)).Should().Be(0);
    }

    private static void ShouldRefuse(KeepImage image, string because) =>
        FluentActions.Invoking(() => ImageBlobWriter.Write(image, MemoryLimit))
            .Should().Throw<InvalidOperationException>().Which.Message.Should().Contain(because);

    private static KeepImage WithSegment(int index, Func<SegmentMapping, SegmentMapping> change)
    {
        var image = ValidImage();
        var segments = image.Segments.ToArray();
        segments[index] = change(segments[index]);
        return image with { Segments = segments };
    }

    [Fact]
    public void An_unaligned_segment_address_is_refused() => ShouldRefuse(WithSegment(1, s => s with { Address = s.Address + 8 }), "page-aligned");

    [Fact]
    public void An_unaligned_segment_size_is_refused() => ShouldRefuse(WithSegment(1, s => s with { Size = 0x2800 }), "page-aligned");

    [Fact]
    public void An_empty_segment_is_refused() => ShouldRefuse(WithSegment(1, s => s with { Size = 0, Data = ReadOnlyMemory<byte>.Empty, DataOffset = 0 }), "non-zero");

    [Fact]
    public void A_writable_executable_segment_is_refused() =>
        ShouldRefuse(WithSegment(1, s => s with { Permissions = MemoryPermissions.Read | MemoryPermissions.Write | MemoryPermissions.Execute }), "both writable and executable");

    [Fact]
    public void Data_beyond_the_region_is_refused() => ShouldRefuse(WithSegment(1, s => s with { DataOffset = 0x2F80 }), "do not fit the region");

    [Fact]
    public void Overlapping_segments_are_refused() => ShouldRefuse(WithSegment(1, s => s with { Address = Text + 0x1000 }), "overlaps");

    [Fact]
    public void Segments_out_of_order_are_refused()
    {
        var image = ValidImage();
        ShouldRefuse(image with { Segments = [image.Segments[1], image.Segments[0]] }, "address order");
    }

    [Fact]
    public void A_region_beyond_the_user_address_space_is_refused() =>
        ShouldRefuse(WithSegment(1, s => s with { Address = 0x7FFF_FFFF_E000 }), "user address space");

    [Fact]
    public void An_entry_point_outside_executable_segments_is_refused() =>
        ShouldRefuse(ValidImage() with { EntryPoint = Text + 0x2100 }, "lies in no executable segment");

    [Fact]
    public void An_executable_stack_is_refused() =>
        ShouldRefuse(ValidImage() with { Stack = ValidImage().Stack with { IsExecutable = true } }, "executable stack");

    [Fact]
    public void An_unaligned_stack_pointer_is_refused() =>
        ShouldRefuse(ValidImage() with { Stack = ValidImage().Stack with { InitialPointer = StackBase + StackSize - 0x208 } }, "16-byte aligned");

    [Fact]
    public void A_stack_pointer_outside_the_stack_is_refused() =>
        ShouldRefuse(ValidImage() with { Stack = ValidImage().Stack with { InitialPointer = StackBase + StackSize } }, "outside the stack region");

    [Fact]
    public void Stack_contents_beyond_the_stack_top_are_refused() =>
        ShouldRefuse(ValidImage() with { Stack = ValidImage().Stack with { InitialPointer = StackBase + StackSize - 0x100 } }, "do not fit the region");

    [Fact]
    public void More_than_64_regions_are_refused()
    {
        var segments = Enumerable.Range(0, 64).Select(i => new SegmentMapping(Text + ((ulong)i * 0x1000), 0x1000, MemoryPermissions.Read | MemoryPermissions.Execute, 0, ReadOnlyMemory<byte>.Empty)).ToArray();
        ShouldRefuse(ValidImage() with { Segments = segments }, "at most 64");
    }

    [Fact]
    public void A_configuration_that_is_not_a_DJNC_page_is_refused() =>
        ShouldRefuse(ValidImage() with { Configuration = new byte[64] }, "not a DJNC page");

    [Fact]
    public void A_heap_over_a_segment_is_refused() =>
        ShouldRefuse(ValidImage() with { Layout = ValidImage().Layout with { HeapBase = Text + 0x4000 } }, "the heap");

    [Fact]
    public void An_mmap_region_over_the_stack_is_refused() =>
        ShouldRefuse(ValidImage() with { Layout = ValidImage().Layout with { MmapEnd = 0x7FFF_FFFF_F000 } }, "overlaps the stack");

    [Fact]
    public void An_unaligned_heap_base_is_refused() =>
        ShouldRefuse(ValidImage() with { Layout = ValidImage().Layout with { HeapBase = Text + 0x10_0008 } }, "page-aligned");
}
