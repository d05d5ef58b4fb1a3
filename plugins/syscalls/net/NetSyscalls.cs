using System.Collections.Frozen;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Net.Handlers;

namespace Donjon.Syscalls.Net;

/// <summary>
/// The <c>net</c> handler set: sockets (<c>AF_INET</c>, <c>AF_INET6</c>, <c>AF_UNIX</c>; stream and datagram), epoll and
/// eventfd, under the admin's default-deny network policy (<see cref="NetworkPolicy"/>): a bind needs a listen entry
/// (else <c>EACCES</c>), a connect or datagram send a connect entry (else <c>ECONNREFUSED</c>), and every denial is one
/// warning naming the entry that would allow it. Sockets, epoll instances and eventfds are host descriptors in the
/// keep's one table, so <c>read</c>, <c>write</c>, <c>close</c>, <c>poll</c>, <c>select</c> and <c>fcntl</c> of the
/// other sets work on them, and epoll works on every descriptor. See the plugin's README.
/// </summary>
/// <remarks>
/// Thread-safe: the set keeps no state but one policy (with its denial log, under a lock) per keep; the session's
/// table is thread-safe. A blocking call waits where it can be cancelled (<see cref="Waiting"/>), so it stalls no
/// other keep thread, is interrupted by a forwarded signal (<c>EINTR</c>) and ends with the keep. It never throws for
/// anything the keep sends.
/// </remarks>
public sealed class NetSyscalls : IDirectOutputSyscallHandlerSet, IInPlaceInputSyscallHandlerSet
{
    private readonly FrozenDictionary<int, Handler> _handlers;

    /// <summary>Creates the set.</summary>
    public NetSyscalls()
    {
        List<(SyscallSignature Signature, Handler Handler)> table = Table();
        Syscalls = table.ConvertAll(entry => entry.Signature).AsReadOnly();
        _handlers = table.ToFrozenDictionary(entry => entry.Signature.Number, entry => entry.Handler);
    }

    private delegate SyscallResult Handler(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken);

    /// <inheritdoc />
    public string Name => "net";

    /// <inheritdoc />
    public IReadOnlyList<SyscallSignature> Syscalls { get; }

    /// <inheritdoc />
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(session);
        return new ValueTask<SyscallResult>(_handlers.TryGetValue(request.Number, out Handler? handler)
            ? handler(request, session, cancellationToken)
            : SyscallResult.Error(Errno.ENOSYS));
    }

    /// <summary>
    /// Handles one proxied syscall with room in the shared block for its outputs: <c>recvfrom</c> and <c>recvmsg</c>
    /// receive their data straight into it; every other call is served as by <see cref="HandleAsync(SyscallRequest, IKeepSession, CancellationToken)"/>.
    /// </summary>
    /// <param name="request">The call.</param>
    /// <param name="outputRoom">The call's output room.</param>
    /// <param name="session">The keep's state.</param>
    /// <param name="cancellationToken">Cancelled when the keep ends or a forwarded signal interrupts the call.</param>
    /// <returns>The call's result and output bytes.</returns>
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, ISyscallOutputRoom outputRoom, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outputRoom);
        ArgumentNullException.ThrowIfNull(session);
        return request.Number switch
        {
            45 => new ValueTask<SyscallResult>(SocketCalls.ReceiveFrom(request, session, outputRoom.For(1), cancellationToken)),
            47 => new ValueTask<SyscallResult>(MessageCalls.Receive(request, session, outputRoom.For(1), cancellationToken)),
            _ => HandleAsync(request, session, cancellationToken),
        };
    }

    /// <summary>
    /// The data of <c>sendto</c> (argument 1): bytes handed to the host's <c>sendto</c> as they are, never parsed, so the
    /// host may serve them from the shared block without copying them first. The destination address (argument 4) is
    /// checked against the policy, so it is always the host's private copy.
    /// </summary>
    /// <param name="number">A declared syscall number.</param>
    /// <param name="argumentIndex">The argument index.</param>
    /// <returns>Whether that argument is plain bytes this set only passes on.</returns>
    public bool ReadsInputInPlace(int number, int argumentIndex) => number == 44 && argumentIndex == 1;

    private static List<(SyscallSignature, Handler)> Table()
    {
        SyscallArgument value = SyscallArgument.Value;
        SyscallArgument length = SyscallArgument.ValueResultLength();
        SyscallArgument address2 = SyscallArgument.OutputSizedBy(2, SocketAddress.MaxSize);
        SyscallArgument events = SyscallArgument.OutputArray(2, EpollCalls.EventSize);

        return
        [
            Sync(41, "socket", SocketCalls.Socket, value, value, value),
            (new(42, "connect", [value, SyscallArgument.Input(2), value]), SocketCalls.Connect),
            (new(43, "accept", [value, address2, length]), SocketCalls.Accept),
            (new(44, "sendto", [value, SyscallArgument.Input(2), value, value, SyscallArgument.Input(5), value]), SocketCalls.SendTo),
            (new(45, "recvfrom", [value, SyscallArgument.Output(2), value, value, SyscallArgument.OutputSizedBy(5, SocketAddress.MaxSize), length]), SocketCalls.ReceiveFrom),
            (new(46, "sendmsg", [value, SyscallArgument.SendMessage(), value]), MessageCalls.Send),
            (new(47, "recvmsg", [value, SyscallArgument.ReceiveMessage(), value]), MessageCalls.Receive),
            Sync(48, "shutdown", SocketCalls.Shutdown, value, value),
            Sync(49, "bind", SocketCalls.Bind, value, SyscallArgument.Input(2), value),
            Sync(50, "listen", SocketCalls.Listen, value, value),
            Sync(51, "getsockname", SocketCalls.Name(51), value, address2, length),
            Sync(52, "getpeername", SocketCalls.Name(52), value, address2, length),
            Sync(53, "socketpair", SocketCalls.SocketPair, value, value, value, SyscallArgument.OutputOfSize(8)),
            Sync(54, "setsockopt", OptionCalls.Set, value, value, value, SyscallArgument.Input(4), value),
            Sync(55, "getsockopt", OptionCalls.Get, value, value, value, SyscallArgument.OutputSizedBy(4, OptionCalls.MaxOptionSize), length),
            Sync(213, "epoll_create", EpollCalls.Create, value),
            (new(232, "epoll_wait", [value, events, value, value]), EpollCalls.Wait),
            Sync(233, "epoll_ctl", EpollCalls.Control, value, value, value, SyscallArgument.InputOfSize(EpollCalls.EventSize)),
            (new(281, "epoll_pwait", [value, events, value, value, SyscallArgument.SignalMask(5), value]), EpollCalls.Wait),
            Sync(284, "eventfd", EpollCalls.EventFd(withFlags: false), value),
            (new(288, "accept4", [value, address2, length, value]), SocketCalls.Accept4),
            Sync(290, "eventfd2", EpollCalls.EventFd(withFlags: true), value, value),
            Sync(291, "epoll_create1", EpollCalls.Create1, value),
            (new(299, "recvmmsg", [value, SyscallArgument.ReceiveMessage(2), value, value, SyscallArgument.InputOfSize(16)]), MessageCalls.ReceiveMany),
            (new(307, "sendmmsg", [value, SyscallArgument.SendMessage(2), value, value]), MessageCalls.SendMany),
            (new(441, "epoll_pwait2", [value, events, value, SyscallArgument.InputOfSize(16), SyscallArgument.SignalMask(5), value]), EpollCalls.PWait2),
        ];
    }

    private static (SyscallSignature, Handler) Sync(int number, string name, Func<SyscallRequest, IKeepSession, SyscallResult> handle, params SyscallArgument[] arguments) =>
        (new SyscallSignature(number, name, arguments), (request, session, _) => handle(request, session));
}
