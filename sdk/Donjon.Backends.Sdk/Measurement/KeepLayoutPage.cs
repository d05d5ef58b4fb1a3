using System.Buffers.Binary;
using Donjon.Abstractions.Images;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The measured layout page (<c>DJNL</c>, <c>docs/measurement.md</c>): the values of a keep image that a confidential
/// shim needs and that do not depend on runtime inputs — the entry point, where the heap, the <c>mmap</c> region and
/// the stack lie, the program headers, the configuration page, and every workload segment with its permissions.
/// Measuring this page binds them to the launch measurement; the initial stack pointer, which depends on argv and the
/// environment, is not in it.
/// </summary>
/// <remarks>Host-independent: also compiled into the <c>sgx</c> and <c>sev</c> backends.</remarks>
public static class KeepLayoutPage
{
    /// <summary>The page's magic number, "DJNL" in little-endian byte order.</summary>
    public const uint Magic = 0x4C4E_4A44;

    /// <summary>The layout page format's major version.</summary>
    public const ushort VersionMajor = 1;

    /// <summary>The layout page format's minor version.</summary>
    public const ushort VersionMinor = 0;

    /// <summary>The size of the header, before the segment entries.</summary>
    public const int HeaderSize = 128;

    /// <summary>The size of one segment entry: address, size, permissions, reserved.</summary>
    public const int SegmentEntrySize = 24;

    /// <summary>The most segments one page describes.</summary>
    public const int MaxSegments = (KeepPageWalker.PageSize - HeaderSize) / SegmentEntrySize;

    /// <summary>Writes the layout page of <paramref name="image"/>.</summary>
    /// <param name="image">The keep image, built with the measurement layout.</param>
    /// <param name="configurationAddress">Where the configuration page lies in the keep's measured address space.</param>
    /// <returns>The page's 4096 bytes.</returns>
    /// <exception cref="ArgumentException">The image has more segments than one page describes.</exception>
    public static byte[] Build(KeepImage image, ulong configurationAddress)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Segments.Count > MaxSegments)
        {
            throw new ArgumentException($"the keep image has {image.Segments.Count} segments; the layout page describes at most {MaxSegments}", nameof(image));
        }

        byte[] page = new byte[KeepPageWalker.PageSize];
        Span<byte> span = page;
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x00..], Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x04..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(span[0x06..], VersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x08..], HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x0C..], (uint)image.Segments.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x10..], image.EntryPoint);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x18..], image.Layout.LoadBase);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x20..], image.Layout.ImageEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x28..], image.Layout.HeapBase);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x30..], image.Layout.HeapMaxSize);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x38..], image.Layout.MmapBase);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x40..], image.Layout.MmapEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x48..], image.Stack.Base);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x50..], image.Stack.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x58..], image.ProgramHeaders.Address);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x60..], (uint)image.ProgramHeaders.EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x64..], (uint)image.ProgramHeaders.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x68..], configurationAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x70..], (ulong)image.Configuration.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x78..], SegmentEntrySize);
        for (int i = 0; i < image.Segments.Count; i++)
        {
            SegmentMapping segment = image.Segments[i];
            Span<byte> entry = span.Slice(HeaderSize + (i * SegmentEntrySize), SegmentEntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[0x00..], segment.Address);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[0x08..], segment.Size);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[0x10..], (uint)segment.Permissions);
        }

        return page;
    }
}
