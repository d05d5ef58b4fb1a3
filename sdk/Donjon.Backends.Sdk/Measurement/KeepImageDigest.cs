using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The host's keep-image digest (<c>donjon-keep-image</c>): the SEV-SNP PAGE_INFO chain over the pages of a keep image
/// alone, for keeps that no hardware measures (<c>process</c>, and <c>vm</c>). A change to any mapped byte of the
/// workload, to the configuration page or to the layout changes it.
/// </summary>
/// <remarks>
/// Pages, in ascending address order: the layout page at address 0, the configuration page(s) at 0x1000, then the
/// workload's segments at their virtual addresses. All-zero pages are ZERO pages. No shim (it belongs to the backend,
/// which the host does not look into), no stack (a runtime input), no heap or <c>mmap</c> pages (empty at start).
/// This is the default that <c>donjon measure</c> applies to a backend that is not confidential and does not
/// implement <see cref="IMeasuringBackend"/>.
/// </remarks>
public static class KeepImageDigest
{
    /// <summary>The name of the value, as <see cref="LaunchMeasurement.Algorithm"/> gives it.</summary>
    public const string Algorithm = "donjon-keep-image";

    /// <summary>The layout page's address in the digest's address space.</summary>
    public const ulong LayoutAddress = 0x0000;

    /// <summary>The configuration page's address in the digest's address space.</summary>
    public const ulong ConfigurationAddress = 0x1000;

    /// <summary>Computes the keep-image digest of <paramref name="image"/>.</summary>
    /// <param name="image">The keep image, built with the measurement layout (seed 0).</param>
    /// <returns>The measurement: <see cref="Algorithm"/>, 48 bytes.</returns>
    /// <exception cref="ArgumentException">The image's regions overlap one another.</exception>
    public static LaunchMeasurement Measure(KeepImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var regions = new List<KeepRegion>
        {
            KeepRegion.Of("layout page", LayoutAddress, MemoryPermissions.Read, KeepPageKind.Measured, KeepLayoutPage.Build(image, ConfigurationAddress)),
            KeepRegion.Of("configuration", ConfigurationAddress, MemoryPermissions.Read, KeepPageKind.Measured, image.Configuration),
        };
        for (int i = 0; i < image.Segments.Count; i++)
        {
            SegmentMapping segment = image.Segments[i];
            regions.Add(new KeepRegion($"workload segment {i}", segment.Address, segment.Size, segment.Permissions, KeepPageKind.Measured, segment.DataOffset, segment.Data));
        }

        var chain = new SnpPageInfoChain();
        IReadOnlyList<MeasuredRegion> measured = KeepPageWalker.Walk(regions, chain);
        return new LaunchMeasurement(Algorithm, chain.Digest.ToArray(), measured,
        [
            "keep-image digest computed by the host: the SEV-SNP PAGE_INFO chain (SHA-384) over the layout page, the configuration page and the workload's segments at their virtual addresses; no hardware measures this keep",
        ]);
    }
}
