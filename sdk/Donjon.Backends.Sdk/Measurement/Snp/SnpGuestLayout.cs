using System.Globalization;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The guest-physical layout of a VM keep's initial memory under SEV-SNP (<c>docs/measurement.md</c>, "sev"), and its
/// launch digest. Provisional until the VM shim lands: the doc lists what will be revisited.
/// </summary>
/// <remarks>
/// Pages, in ascending guest-physical order, then the VMSA: the layout page; the configuration page(s); a boot scratch
/// area of ZERO pages (the shim's first page tables and stack); the shim; the workload's segments, at
/// <see cref="WorkloadGpa"/> plus their offset from the load base; the boot vCPU's VMSA. Pages that are all zero are
/// ZERO pages. The heap, the <c>mmap</c> region and the stack are not part of the launch: the shim accepts
/// (PVALIDATE) and clears that memory at run time, and copies argv, the environment and the auxiliary vector in.
/// Host-independent: also compiled into the <c>sev</c> backend.
/// </remarks>
public static class SnpGuestLayout
{
    /// <summary>The name of the value, as <see cref="LaunchMeasurement.Algorithm"/> gives it.</summary>
    public const string Algorithm = "sev-snp-launch-digest";

    /// <summary>The layout page's guest-physical address (and EBX at entry).</summary>
    public const ulong LayoutGpa = 0x0000_1000;

    /// <summary>The configuration page's guest-physical address.</summary>
    public const ulong ConfigurationGpa = 0x0000_2000;

    /// <summary>The boot scratch area's guest-physical address: ZERO pages for the shim's first page tables and stack.</summary>
    public const ulong ScratchGpa = 0x0008_0000;

    /// <summary>The boot scratch area's size: 128 KiB.</summary>
    public const ulong ScratchSize = 0x0002_0000;

    /// <summary>The shim's guest-physical address (1 MiB, where PVH and multiboot kernels load).</summary>
    public const ulong ShimGpa = 0x0010_0000;

    /// <summary>The guest-physical address of the workload's load base (16 MiB).</summary>
    public const ulong WorkloadGpa = 0x0100_0000;

    /// <summary>Computes the SEV-SNP launch digest of the VM keep that runs <paramref name="image"/> with <paramref name="shim"/>.</summary>
    /// <param name="image">The keep image, built with the measurement layout (seed 0).</param>
    /// <param name="shim">The shim loaded at <see cref="ShimGpa"/>, placed by its physical addresses (<see cref="ShimPlacement.PhysicalAddresses"/>).</param>
    /// <param name="notes">What the caller adds to the measurement's notes (for example where the shim came from).</param>
    /// <returns>The measurement: <see cref="Algorithm"/>, 48 bytes.</returns>
    /// <exception cref="ArgumentException">The image does not fit the guest layout.</exception>
    public static LaunchMeasurement Measure(KeepImage image, ShimImage shim, IEnumerable<string> notes)
    {
        ArgumentNullException.ThrowIfNull(notes);
        var chain = new SnpPageInfoChain();
        IReadOnlyList<MeasuredRegion> regions = KeepPageWalker.Walk(Regions(image, shim), chain);
        return new LaunchMeasurement(Algorithm, chain.Digest.ToArray(), regions,
        [
            .. notes,
            string.Create(CultureInfo.InvariantCulture,
                $"guest: one vCPU entering the shim at GPA 0x{ShimGpa + shim.EntryOffset:x} in 32-bit protected mode; IMI 0, VMPL permissions 0; addresses are guest-physical; this layout is provisional until the VM shim lands"),
        ]);
    }

    /// <summary>The guest's regions for <paramref name="image"/> and <paramref name="shim"/>.</summary>
    /// <param name="image">The keep image.</param>
    /// <param name="shim">The shim.</param>
    /// <returns>The regions, in no particular order (the walker sorts them).</returns>
    /// <exception cref="ArgumentException">The configuration or the shim is too large, or the shim is linked to load elsewhere.</exception>
    public static IReadOnlyList<KeepRegion> Regions(KeepImage image, ShimImage shim)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(shim);
        if (image.Configuration.IsEmpty || (ulong)image.Configuration.Length > ScratchGpa - ConfigurationGpa)
        {
            throw new ArgumentException($"the configuration page has {image.Configuration.Length} bytes; the SEV layout holds 1 to {ScratchGpa - ConfigurationGpa}", nameof(image));
        }

        if (shim.LinkBase != 0 && shim.LinkBase != ShimGpa)
        {
            throw new ArgumentException($"the shim {shim.Name} is linked to load at GPA 0x{shim.LinkBase:x}; the SEV layout loads it at 0x{ShimGpa:x} (or anywhere, if it is position-independent)", nameof(shim));
        }

        if (shim.Span > WorkloadGpa - ShimGpa)
        {
            throw new ArgumentException($"the shim spans 0x{shim.Span:x} bytes; the SEV layout holds at most 0x{WorkloadGpa - ShimGpa:x}", nameof(shim));
        }

        var regions = new List<KeepRegion>
        {
            KeepRegion.Of("layout page", LayoutGpa, MemoryPermissions.Read, KeepPageKind.Measured, KeepLayoutPage.Build(image, ConfigurationGpa)),
            KeepRegion.Of("configuration", ConfigurationGpa, MemoryPermissions.Read, KeepPageKind.Measured, image.Configuration),
            KeepRegion.Empty("boot scratch", ScratchGpa, ScratchSize, MemoryPermissions.Read | MemoryPermissions.Write, KeepPageKind.Zero),
        };
        regions.AddRange(shim.Regions(ShimGpa, "shim"));
        for (int i = 0; i < image.Segments.Count; i++)
        {
            SegmentMapping segment = image.Segments[i];
            if (segment.Address < image.Layout.LoadBase)
            {
                throw new ArgumentException($"workload segment {i} (0x{segment.Address:x}) lies below the load base 0x{image.Layout.LoadBase:x}", nameof(image));
            }

            regions.Add(new KeepRegion($"workload segment {i}", WorkloadGpa + (segment.Address - image.Layout.LoadBase), segment.Size,
                segment.Permissions, KeepPageKind.Measured, segment.DataOffset, segment.Data));
        }

        regions.Add(new KeepRegion("VMSA (boot vCPU)", SnpVmsa.Gpa, KeepPageWalker.PageSize, MemoryPermissions.None, KeepPageKind.VcpuState, 0,
            SnpVmsa.BootVcpu(ShimGpa + shim.EntryOffset, LayoutGpa)));
        return regions;
    }
}
