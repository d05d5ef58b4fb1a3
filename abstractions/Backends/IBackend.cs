namespace Donjon.Abstractions.Backends;

/// <summary>
/// A kind of keep that Donjon can launch: a process, a virtual machine, an SGX enclave, an SEV guest...
/// </summary>
/// <remarks>
/// A backend never interprets syscalls. It carries a <see cref="Images.KeepImage"/> into a keep with its
/// shim, and exposes the keep's syscall port to the host. Implementations must be safe to construct on
/// any machine: a backend whose hardware is absent still loads, and says so through its probes.
/// </remarks>
public interface IBackend
{
    /// <summary>The backend's unique name, as used by <c>--backend</c> and <c>plugins.json</c> (for example <c>process</c>).</summary>
    string Name { get; }

    /// <summary>Properties of the backend that never change for its lifetime.</summary>
    BackendTraits Traits { get; }

    /// <summary>
    /// Checks whether this machine can run the backend at all: CPU features, kernel interfaces, device nodes.
    /// </summary>
    /// <returns>A tree of checks; the root fails if any check that is required fails.</returns>
    Probe ProbePlatform();

    /// <summary>
    /// Checks whether the backend is set up on this machine: its shim, helper programs, permissions.
    /// </summary>
    /// <returns>A tree of checks; the root fails if any check that is required fails.</returns>
    Probe ProbeConfiguration();

    /// <summary>Launches a keep that runs <paramref name="image"/>.</summary>
    /// <param name="image">The keep image the host prepared; identical for every backend.</param>
    /// <param name="cancellationToken">Cancels the launch; a keep half started is torn down.</param>
    /// <returns>The running keep.</returns>
    /// <exception cref="BackendUnavailableException">The backend cannot launch on this machine.</exception>
    Task<Keeps.IKeep> LaunchAsync(Images.KeepImage image, CancellationToken cancellationToken);
}
