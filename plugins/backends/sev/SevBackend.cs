using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Measurement;
using Donjon.Abstractions.Plugins;
using Donjon.Backends.Sdk.Measurement;
using Donjon.Backends.Sdk.Probes;
using Donjon.Backends.Sdk.Shims;

namespace Donjon.Backends.Sev;

/// <summary>
/// The <c>sev</c> backend: a keep in the shape of a virtual machine whose memory AMD SEV-SNP encrypts and protects
/// from the host.
/// </summary>
/// <remarks>
/// This build probes the real hardware (CPUID, <c>/dev/sev</c>, <c>/dev/kvm</c>, the <c>kvm_amd</c> parameters) and
/// explains what is missing, but it cannot launch an SEV-SNP guest yet: <see cref="LaunchAsync"/> always throws
/// <see cref="BackendUnavailableException"/>. Probing never throws and takes well under a millisecond once loaded.
/// <see cref="Measure"/> computes, without the hardware, the SEV-SNP launch digest a guest of a keep image would have
/// (<c>docs/measurement.md</c>).
/// </remarks>
public sealed class SevBackend : IBackend, IMeasuringBackend
{
    private readonly string _pluginDirectory;

    /// <summary>Creates the backend; its shim is looked for from the folder of its own assembly.</summary>
    public SevBackend()
        : this(ShimLocator.PluginDirectoryOf(typeof(SevBackend)))
    {
    }

    /// <summary>Creates the backend as the host loads it; its shim is looked for from the plugin's folder.</summary>
    /// <param name="context">The plugin's folder and logging.</param>
    public SevBackend(IPluginContext context)
        : this(context?.PluginDirectory ?? throw new ArgumentNullException(nameof(context)))
    {
    }

    private SevBackend(string pluginDirectory) => _pluginDirectory = pluginDirectory;

    /// <summary>The remedy when SEV-SNP launching is asked for in this build.</summary>
    internal const string NotImplementedRemedy =
        "Use backend 'vm' (donjon run --backend vm ...) for the same keep shape without hardware memory protection.";

    private static readonly BackendTraits SevTraits = new(
        KeepShape.VirtualMachine,
        IsConfidential: true,
        "AMD SEV-SNP guest: a VM-shaped keep whose memory the CPU encrypts and protects from the host (this build probes and computes the SNP launch digest; launching is not implemented)");

    /// <inheritdoc />
    public string Name => "sev";

    /// <inheritdoc />
    public BackendTraits Traits => SevTraits;

    /// <inheritdoc />
    /// <remarks>
    /// The tree has two groups: <c>CPU</c> (vendor, leaf 8000001FH, SME, SEV, SEV-ES, SEV-SNP, C-bit, guest count)
    /// and <c>Kernel</c> (<c>/dev/sev</c>, <c>/dev/kvm</c> and its API version and VM types, the <c>kvm_amd</c> module).
    /// </remarks>
    public Probe ProbePlatform() => SevPlatformProbe.Run();

    /// <inheritdoc />
    /// <remarks>Always fails in this build: launching SEV-SNP guests is not implemented.</remarks>
    public Probe ProbeConfiguration() => Probe.Group(
        "sev configuration",
        [Probe.Fail("guest launch", "launching SEV-SNP guests is not implemented in this build", NotImplementedRemedy)],
        NotImplementedRemedy);

    /// <inheritdoc />
    /// <remarks>
    /// Always ends in <see cref="BackendUnavailableException"/> (as a faulted task), whose message lists every failed
    /// check of <see cref="ProbePlatform"/> and <see cref="ProbeConfiguration"/> with its remedy, and whose
    /// <see cref="BackendUnavailableException.Probe"/> is that tree.
    /// </remarks>
    public Task<IKeep> LaunchAsync(KeepImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IKeep>(cancellationToken);
        }

        Probe tree = Probe.Group(
            "sev",
            [ProbePlatform(), ProbeConfiguration()],
            "Apply the remedies of the failed checks, or choose backend 'vm'.");
        return Task.FromException<IKeep>(new BackendUnavailableException(ProbeReport.DescribeUnavailable(Name, tree), tree));
    }

    /// <inheritdoc />
    /// <remarks>
    /// The SEV-SNP launch digest (<c>sev-snp-launch-digest</c>, 48 bytes) of the VM keep's guest layout in
    /// <c>docs/measurement.md</c>: layout page, configuration page, boot scratch (ZERO pages), shim, workload segments,
    /// then the boot vCPU's VMSA. The layout is provisional until the VM shim lands. The shim is <c>donjon-shim</c>
    /// beside this plugin, or else, standing in until an SEV-SNP shim exists, the VM keep's shim
    /// (<c>../../vm/bin/donjon-vm-shim</c>) or the process keep's shim built in this repository; it is placed by its
    /// physical addresses, as QEMU loads it. The notes name the file and its SHA-256.
    /// </remarks>
    public LaunchMeasurement Measure(KeepImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        (string path, byte[] bytes, string? standIn) = ShimLocator.Read(_pluginDirectory, Name, [ShimLocator.VmShim, ShimLocator.ProcessShim]);
        ShimImage shim = ShimImage.Parse(path, bytes, ShimPlacement.PhysicalAddresses);
        string note = $"shim: {path} (SHA-256 {shim.Sha256})" + (standIn is null ? "" : $", {standIn}, standing in until an SEV-SNP shim exists");
        return SnpGuestLayout.Measure(image, shim, [note]);
    }
}
