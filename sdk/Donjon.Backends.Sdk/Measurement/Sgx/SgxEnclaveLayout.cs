using System.Buffers.Binary;
using System.Globalization;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The enclave layout of an SGX keep (<c>docs/measurement.md</c>, "sgx"), and its MRENCLAVE. The enclave covers the
/// upper half of the 47-bit user address space, so every region of a keep image keeps the virtual address the host
/// gave it; the shim and its control pages lie at the enclave's base, far below the workload.
/// </summary>
/// <remarks>
/// Pages, in the order they are added (ascending address): the TCS; the SSA frames (measured zero); the layout page;
/// the configuration page(s); the shim; the workload's segments (all measured); then the heap, the <c>mmap</c> region
/// and the stack, added but not measured (the shim clears heap and <c>mmap</c> pages before use; the stack's contents
/// are runtime inputs). Host-independent: also compiled into the <c>sgx</c> backend.
/// </remarks>
public static class SgxEnclaveLayout
{
    /// <summary>The name of the value, as <see cref="LaunchMeasurement.Algorithm"/> gives it.</summary>
    public const string Algorithm = "sgx-mrenclave";

    /// <summary>SECS.BASEADDR: 2^46, so that the enclave is <c>[0x4000_0000_0000, 0x8000_0000_0000)</c>.</summary>
    public const ulong EnclaveBase = 0x4000_0000_0000;

    /// <summary>SECS.SIZE: 2^46 bytes, a power of two that covers every address the host's layout planner uses.</summary>
    public const ulong EnclaveSize = 0x4000_0000_0000;

    /// <summary>SECS.SSAFRAMESIZE, in pages: one page holds the XSAVE area up to AVX-512 and the GPRSGX area.</summary>
    public const uint SsaFrameSize = 1;

    /// <summary>TCS.NSSA: SSA frames per thread (one for the workload, one for the shim's exception handler).</summary>
    public const uint SsaFrameCount = 2;

    /// <summary>The TCS page's offset from the enclave base.</summary>
    public const ulong TcsOffset = 0x0000;

    /// <summary>The first SSA frame's offset from the enclave base (TCS.OSSA).</summary>
    public const ulong SsaOffset = 0x1000;

    /// <summary>The layout page's offset from the enclave base.</summary>
    public const ulong LayoutOffset = 0x3000;

    /// <summary>The configuration page's offset from the enclave base.</summary>
    public const ulong ConfigurationOffset = 0x4000;

    /// <summary>The shim's offset from the enclave base; TCS.OENTRY is this plus the shim's entry offset.</summary>
    public const ulong ShimOffset = 0x10_0000;

    /// <summary>Computes the MRENCLAVE of the SGX keep that runs <paramref name="image"/> with <paramref name="shim"/>.</summary>
    /// <param name="image">The keep image, built with the measurement layout (seed 0).</param>
    /// <param name="shim">The shim loaded at <see cref="ShimOffset"/>.</param>
    /// <param name="notes">What the caller adds to the measurement's notes (for example where the shim came from).</param>
    /// <returns>The measurement: <see cref="Algorithm"/>, 32 bytes.</returns>
    /// <exception cref="ArgumentException">The image does not fit the enclave layout.</exception>
    public static LaunchMeasurement Measure(KeepImage image, ShimImage shim, IEnumerable<string> notes)
    {
        ArgumentNullException.ThrowIfNull(notes);
        using var sink = new SgxMeasurementSink(EnclaveBase, EnclaveSize, SsaFrameSize);
        IReadOnlyList<MeasuredRegion> regions = KeepPageWalker.Walk(Regions(image, shim), sink);
        return new LaunchMeasurement(Algorithm, sink.Mrenclave.ToArray(), regions,
        [
            .. notes,
            string.Create(CultureInfo.InvariantCulture,
                $"enclave: SECS.BASEADDR 0x{EnclaveBase:x}, SECS.SIZE 0x{EnclaveSize:x}, SSAFRAMESIZE {SsaFrameSize}, one TCS with NSSA {SsaFrameCount}; addresses are enclave linear addresses"),
        ]);
    }

    /// <summary>The enclave's regions for <paramref name="image"/> and <paramref name="shim"/>.</summary>
    /// <param name="image">The keep image.</param>
    /// <param name="shim">The shim.</param>
    /// <returns>The regions, in no particular order (the walker sorts them).</returns>
    /// <exception cref="ArgumentException">The configuration or the shim is too large, or a region of the image lies outside the enclave or under the shim.</exception>
    public static IReadOnlyList<KeepRegion> Regions(KeepImage image, ShimImage shim)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(shim);
        if (image.Configuration.IsEmpty || (ulong)image.Configuration.Length > ShimOffset - ConfigurationOffset)
        {
            throw new ArgumentException($"the configuration page has {image.Configuration.Length} bytes; the SGX layout holds 1 to {ShimOffset - ConfigurationOffset}", nameof(image));
        }

        var regions = new List<KeepRegion>
        {
            new("TCS", EnclaveBase + TcsOffset, KeepPageWalker.PageSize, MemoryPermissions.None, KeepPageKind.ThreadControl, 0, ThreadControlPage(shim)),
            KeepRegion.Empty("SSA", EnclaveBase + SsaOffset, SsaFrameCount * SsaFrameSize * KeepPageWalker.PageSize,
                MemoryPermissions.Read | MemoryPermissions.Write, KeepPageKind.Measured),
            KeepRegion.Of("layout page", EnclaveBase + LayoutOffset, MemoryPermissions.Read, KeepPageKind.Measured,
                KeepLayoutPage.Build(image, EnclaveBase + ConfigurationOffset)),
            KeepRegion.Of("configuration", EnclaveBase + ConfigurationOffset, MemoryPermissions.Read, KeepPageKind.Measured, image.Configuration),
        };
        regions.AddRange(shim.Regions(EnclaveBase + ShimOffset, "shim"));

        ulong imageFloor = EnclaveBase + ShimOffset + shim.Span;
        var workload = new List<KeepRegion>();
        for (int i = 0; i < image.Segments.Count; i++)
        {
            SegmentMapping segment = image.Segments[i];
            workload.Add(new KeepRegion($"workload segment {i}", segment.Address, segment.Size, segment.Permissions, KeepPageKind.Measured, segment.DataOffset, segment.Data));
        }

        var readWrite = MemoryPermissions.Read | MemoryPermissions.Write;
        AddIfAny(workload, "heap", image.Layout.HeapBase, image.Layout.HeapMaxSize, readWrite);
        AddIfAny(workload, "mmap", image.Layout.MmapBase, image.Layout.MmapEnd - image.Layout.MmapBase, readWrite);
        AddIfAny(workload, "stack", image.Stack.Base, image.Stack.Size, readWrite);
        foreach (KeepRegion region in workload)
        {
            if (region.Address < imageFloor || region.Address - EnclaveBase > EnclaveSize || region.Size > EnclaveBase + EnclaveSize - region.Address)
            {
                throw new ArgumentException(
                    $"{region.Name} [0x{region.Address:x}, +0x{region.Size:x}) lies outside the part of the enclave for the keep image [0x{imageFloor:x}, 0x{EnclaveBase + EnclaveSize:x}); build the image with the measurement layout",
                    nameof(image));
            }
        }

        regions.AddRange(workload);
        return regions;
    }

    /// <summary>The TCS page (Intel SDM vol. 3D, "Thread Control Structure"): only the fields a launch sets are non-zero.</summary>
    /// <param name="shim">The shim, whose entry is TCS.OENTRY.</param>
    /// <returns>The page's 4096 bytes.</returns>
    public static byte[] ThreadControlPage(ShimImage shim)
    {
        ArgumentNullException.ThrowIfNull(shim);
        byte[] page = new byte[KeepPageWalker.PageSize];
        Span<byte> tcs = page;
        BinaryPrimitives.WriteUInt64LittleEndian(tcs[0x10..], SsaOffset);                   // OSSA
        BinaryPrimitives.WriteUInt32LittleEndian(tcs[0x1C..], SsaFrameCount);               // NSSA
        BinaryPrimitives.WriteUInt64LittleEndian(tcs[0x20..], ShimOffset + shim.EntryOffset); // OENTRY
        BinaryPrimitives.WriteUInt32LittleEndian(tcs[0x40..], uint.MaxValue);               // FSLIMIT (ignored in 64-bit mode)
        BinaryPrimitives.WriteUInt32LittleEndian(tcs[0x44..], uint.MaxValue);               // GSLIMIT (ignored in 64-bit mode)
        return page;
    }

    private static void AddIfAny(List<KeepRegion> regions, string name, ulong address, ulong size, MemoryPermissions permissions)
    {
        if (size != 0)
        {
            regions.Add(KeepRegion.Empty(name, address, size, permissions, KeepPageKind.Unmeasured));
        }
    }
}
