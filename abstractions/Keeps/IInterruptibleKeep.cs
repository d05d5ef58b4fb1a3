namespace Donjon.Abstractions.Keeps;

/// <summary>
/// An optional ability of a keep: it can be told to look, now, at what the host posted for it in its shared block
/// (signals forwarded to the workload, <c>docs/protocol.md</c> §3). The host type-tests a keep for it.
/// </summary>
/// <remarks>
/// A keep without it still gets the signals the host posts, but only when it next crosses the block (its next
/// proxied syscall); a workload that computes without making one would not see them, so the host stops such a
/// keep instead of forwarding.
/// </remarks>
public interface IInterruptibleKeep : IKeep
{
    /// <summary>
    /// Makes the keep's shim look at the block now, whatever the workload is doing (the process keep sends its
    /// shim <c>SIGURG</c>; the VM keep writes a byte on its doorbell line). Safe to call at any time, from any
    /// thread, and after the keep has ended (it then does nothing).
    /// </summary>
    void Interrupt();
}
