namespace Donjon.Abstractions.Sessions;

/// <summary>
/// An optional ability of a session: a handler set may send the workload a signal, as the kernel does when a timer
/// it armed expires (<c>alarm</c>, <c>setitimer</c>). The host type-tests the session for it.
/// </summary>
/// <remarks>
/// The signal reaches the workload as one Donjon forwards does (<c>docs/protocol.md</c> §3, "Forwarded signals"):
/// pending for the whole keep, delivered to a thread that does not block it, interrupting a blocked call. Its
/// <c>si_code</c> is <c>SI_USER</c>, not the kernel's <c>SI_KERNEL</c>.
/// </remarks>
public interface IKeepSignalSender
{
    /// <summary>Sends <paramref name="signal"/> to the workload. Safe from any thread, and after the keep has ended.</summary>
    /// <param name="signal">1 to 64.</param>
    /// <returns><see langword="false"/> when the keep cannot take signals now (it has ended, or its backend cannot be interrupted).</returns>
    bool Send(int signal);
}
