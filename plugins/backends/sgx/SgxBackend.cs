using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Backends.Shared;

namespace Donjon.Backends.Sgx;

/// <summary>
/// The <c>sgx</c> backend: a keep in the shape of a process whose memory an Intel SGX enclave protects from the host.
/// </summary>
/// <remarks>
/// This build probes the real hardware (CPUID, the kernel's SGX device nodes, the AESM service) and explains what is
/// missing, but it cannot launch an enclave yet: <see cref="LaunchAsync"/> always throws
/// <see cref="BackendUnavailableException"/>. Probing never throws and takes well under a millisecond once loaded.
/// </remarks>
public sealed class SgxBackend : IBackend
{
    /// <summary>The remedy when SGX launching is asked for in this build.</summary>
    internal const string NotImplementedRemedy =
        "Use backend 'process' (donjon run --backend process ...) for the same keep shape without hardware memory protection.";

    private static readonly BackendTraits SgxTraits = new(
        KeepShape.Process,
        IsConfidential: true,
        "Intel SGX enclave: a process-shaped keep whose memory the CPU protects from the host (probes only in this build; launching is not implemented)");

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
}
