namespace Donjon.Abstractions.Syscalls;

/// <summary>
/// The writable room that the host gives one proxied call for its outputs: for each output argument, the bytes of the
/// shared block that the shim copies into the workload's buffer after the reply. A handler that writes its output
/// there and returns that same memory as the output's <see cref="SyscallOutput.Data"/> saves the host a copy
/// (<see cref="IDirectOutputSyscallHandlerSet"/>).
/// </summary>
/// <remarks>
/// The room is shared with the keep and untrusted: the keep can read and change it at any moment, so a handler writes
/// into it but never reads back from it anything it relies on. It is valid only until the handler's result is
/// returned (or its call is cancelled): a handler must not keep it, nor write into it afterwards.
/// </remarks>
public interface ISyscallOutputRoom
{
    /// <summary>The room for the output of argument <paramref name="index"/>.</summary>
    /// <param name="index">The argument index, 0-5.</param>
    /// <returns>
    /// Writable memory of exactly <see cref="SyscallRequest.OutputCapacity"/> bytes for that argument; empty when the
    /// argument carries no output (a value, an input, or a NULL buffer).
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not 0-5.</exception>
    Memory<byte> For(int index);
}

/// <summary>
/// An optional ability of a syscall-handler set: it can write a call's outputs straight into the shared block. The host
/// type-tests each set for it and then calls this <see cref="HandleAsync(SyscallRequest, ISyscallOutputRoom, Sessions.IKeepSession, CancellationToken)"/>
/// instead of <see cref="ISyscallHandlerSet.HandleAsync"/>. A set without it is served as before: its outputs are copied
/// into the block after it returns.
/// </summary>
/// <remarks>
/// An output whose <see cref="SyscallOutput.Data"/> is a start of <see cref="ISyscallOutputRoom.For"/> for its own
/// argument is already in place, and the host copies nothing for it; any other output memory is copied as with
/// <see cref="ISyscallHandlerSet"/>. Every check on the result (capacities, output arguments, message records) is the same.
/// </remarks>
public interface IDirectOutputSyscallHandlerSet : ISyscallHandlerSet
{
    /// <summary>Handles one proxied syscall, with room in the shared block for its outputs.</summary>
    /// <param name="request">The call: its number, its scalar arguments and its input bytes.</param>
    /// <param name="outputRoom">The call's output room, valid until the returned task completes.</param>
    /// <param name="session">The keep's state that the host owns: descriptors, policy, logger.</param>
    /// <param name="cancellationToken">Cancelled when the keep ends or a forwarded signal interrupts the call.</param>
    /// <returns>The call's result and output bytes (in the room, or elsewhere).</returns>
    ValueTask<SyscallResult> HandleAsync(SyscallRequest request, ISyscallOutputRoom outputRoom, Sessions.IKeepSession session, CancellationToken cancellationToken);
}
