namespace Donjon.Abstractions.Syscalls;

/// <summary>
/// A set of syscall handlers, loaded from a plugin. The set declares its syscalls as data; the host builds the
/// keep's marshalling table from those declarations and dispatches each proxied call to the set that declared it.
/// </summary>
/// <remarks>
/// Handlers never see keep addresses: pointer arguments arrive as bytes the shim copied out, and outputs leave as
/// bytes the shim copies in, after checking them against the workload's buffers. A handler must not know which
/// backend serves the keep. Since protocol 2.0 a keep has one request in flight per keep thread, and the calls of
/// different threads run concurrently, from different host threads, on the same session: a handler's shared state
/// must be thread-safe, and an output buffer may be reused only per call (the 1.0 guarantee that one buffer per
/// session could be reused is withdrawn). <see cref="HandleAsync"/>'s token is also cancelled when a forwarded signal
/// interrupts the call.
/// </remarks>
public interface ISyscallHandlerSet
{
    /// <summary>The set's unique name, for example <c>core</c>.</summary>
    string Name { get; }

    /// <summary>The syscalls this set handles, with the kinds of their arguments.</summary>
    IReadOnlyList<SyscallSignature> Syscalls { get; }

    /// <summary>Handles one proxied syscall.</summary>
    /// <param name="request">The call: its number, its scalar arguments and its input bytes.</param>
    /// <param name="session">The keep's state that the host owns: descriptors, policy, logger.</param>
    /// <param name="cancellationToken">Cancelled when the keep ends.</param>
    /// <returns>The call's result and output bytes.</returns>
    ValueTask<SyscallResult> HandleAsync(SyscallRequest request, Sessions.IKeepSession session, CancellationToken cancellationToken);
}
