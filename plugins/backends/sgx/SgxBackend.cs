using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Measurement;
using Donjon.Abstractions.Plugins;
using Donjon.Backends.Sdk.Measurement;
using Donjon.Backends.Sdk.Probes;
using Donjon.Backends.Sdk.Shims;

namespace Donjon.Backends.Sgx;

/// <summary>
/// The <c>sgx</c> backend: a keep in the shape of a process whose memory an Intel SGX enclave protects from the host.
/// </summary>
/// <remarks>
/// This build probes the real hardware (CPUID, the kernel's SGX device nodes, the AESM service) and explains what is
/// missing, but it cannot launch an enclave yet: <see cref="LaunchAsync"/> always throws
/// <see cref="BackendUnavailableException"/>. Probing never throws and takes well under a millisecond once loaded.
/// <see cref="Measure"/> computes, without the hardware, the MRENCLAVE an enclave of a keep image would have
/// (<c>docs/measurement.md</c>).
/// </remarks>
public sealed class SgxBackend : IBackend, IMeasuringBackend
{
    private readonly string _pluginDirectory;

    /// <summary>Creates the backend; its shim is looked for from the folder of its own assembly.</summary>
    public SgxBackend()
        : this(ShimLocator.PluginDirectoryOf(typeof(SgxBackend)))
    {
    }

    /// <summary>Creates the backend as the host loads it; its shim is looked for from the plugin's folder.</summary>
    /// <param name="context">The plugin's folder and logging.</param>
    public SgxBackend(IPluginContext context)
        : this(context?.PluginDirectory ?? throw new ArgumentNullException(nameof(context)))
    {
    }

    private SgxBackend(string pluginDirectory) => _pluginDirectory = pluginDirectory;

    /// <summary>The remedy when SGX launching is asked for in this build.</summary>
    internal const string NotImplementedRemedy =
        "Use backend 'process' (donjon run --backend process ...) for the same keep shape without hardware memory protection.";

    private static readonly BackendTraits SgxTraits = new(
        KeepShape.Process,
        IsConfidential: true,
        "Intel SGX enclave: a process-shaped keep whose memory the CPU protects from the host (this build probes and computes MRENCLAVE; launching is not implemented)");

    /// <inheritdoc />
    public string Name => "sgx";

    /// <inheritdoc />
    public BackendTraits Traits => SgxTraits;

    /// <inheritdoc />
    /// <remarks>
    /// The tree has three groups: <c>CPU</c> (vendor, SGX, Flexible Launch Control, SGX1/SGX2, enclave size, EPC),
    /// <c>Kernel</c> (<c>/dev/sgx_enclave</c>, <c>/dev/sgx_provision</c>) and <c>AESM</c> (the aesmd socket).
    /// </remarks>
    public Probe ProbePlatform() => SgxPlatformProbe.Run();

    /// <inheritdoc />
    /// <remarks>Always fails in this build: launching SGX enclaves is not implemented.</remarks>
    public Probe ProbeConfiguration() => Probe.Group(
        "sgx configuration",
        [Probe.Fail("enclave launch", "launching SGX enclaves is not implemented in this build", NotImplementedRemedy)],
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
            "sgx",
            [ProbePlatform(), ProbeConfiguration()],
            "Apply the remedies of the failed checks, or choose backend 'process'.");
        return Task.FromException<IKeep>(new BackendUnavailableException(ProbeReport.DescribeUnavailable(Name, tree), tree));
    }

    /// <inheritdoc />
    /// <remarks>
    /// MRENCLAVE (<c>sgx-mrenclave</c>, 32 bytes) of the enclave layout in <c>docs/measurement.md</c>: TCS, SSA frames,
    /// layout page, configuration page, shim, workload segments (all measured), then heap, <c>mmap</c> region and stack
    /// (added, not measured). The shim is <c>donjon-shim</c> beside this plugin, or else the process keep's shim built in
    /// this repository, standing in until an SGX shim exists; the notes name the file and its SHA-256.
    /// </remarks>
    public LaunchMeasurement Measure(KeepImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        (string path, byte[] bytes, string? standIn) = ShimLocator.Read(_pluginDirectory, Name, [ShimLocator.ProcessShim]);
        ShimImage shim = ShimImage.Parse(path, bytes, ShimPlacement.VirtualAddresses);
        string note = $"shim: {path} (SHA-256 {shim.Sha256})" + (standIn is null ? "" : $", {standIn}, standing in until an SGX shim exists");
        return SgxEnclaveLayout.Measure(image, shim, [note]);
    }
}
