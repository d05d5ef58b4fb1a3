using System.Diagnostics;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Net.Interop;

namespace Donjon.Syscalls.Net.Handlers;

/// <summary>
/// <c>epoll_create</c>/<c>epoll_create1</c>, <c>epoll_ctl</c>, <c>epoll_wait</c>/<c>epoll_pwait</c>/<c>epoll_pwait2</c>
/// and <c>eventfd</c>/<c>eventfd2</c>. A keep epoll instance is a host one; <c>epoll_ctl</c> adds the host descriptor
/// behind a keep descriptor (a socket, a pipe, a file, stdio, an eventfd, another epoll), and the keep's
/// <c>epoll_data</c> comes back unchanged. A wait is the host's <c>poll</c> on the epoll descriptor with the call's
/// cancellation eventfd (<see cref="Waiting.For"/>), then a non-blocking host <c>epoll_wait</c>.
/// </summary>
/// <remarks>
/// <c>epoll_pwait</c>'s and <c>epoll_pwait2</c>'s signal mask is a <see cref="ArgumentKind.SignalMask"/>: the shim checks
/// it and applies it around the wait (protocol 1.4), so it never reaches the host.
/// </remarks>
internal static class EpollCalls
{
    /// <summary>The size of the packed x86-64 <c>struct epoll_event</c>.</summary>
    public const int EventSize = 12;

    private const int EventFdSemaphore = 1;

    /// <summary><c>epoll_create(size)</c>: a size above 0, then ignored.</summary>
    public static SyscallResult Create(SyscallRequest request, IKeepSession session) =>
        request.Int32(0) <= 0 ? SyscallResult.Error(Errno.EINVAL) : Make(session, 0);

    /// <summary><c>epoll_create1(flags)</c>: <c>EPOLL_CLOEXEC</c>.</summary>
    public static SyscallResult Create1(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(0);
        return (flags & ~Kernel.CloseOnExec) != 0 ? SyscallResult.Error(Errno.EINVAL) : Make(session, flags);
    }

    /// <summary><c>epoll_ctl(epfd, op, fd, event)</c>.</summary>
    public static SyscallResult Control(SyscallRequest request, IKeepSession session)
    {
        if (!session.Files.TryGet(request.Int32(0), out IOpenFile? epoll) || !session.Files.TryGet(request.Int32(2), out IOpenFile? target))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (epoll is not KeepSocket { Kind: NetObjectKind.Epoll })
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int operation = request.Int32(1);
        if (operation is < 1 or > 3)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        ReadOnlyMemory<byte> eventBytes = request.Input(3);
        if (operation != 2 && eventBytes.Length != EventSize)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        return RequestReader.FromHost(Kernel.EpollControl(epoll.HostDescriptor, operation, target.HostDescriptor, eventBytes.Span));
    }

    /// <summary><c>epoll_wait(epfd, events, maxevents, timeout)</c>.</summary>
    public static SyscallResult Wait(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        int timeout = request.Int32(3);
        return WaitFor(request, session, timeout < 0 ? null : TimeSpan.FromMilliseconds(timeout), cancellationToken);
    }

    /// <summary><c>epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)</c>: a <c>timespec</c> timeout, NULL for ever.</summary>
    public static SyscallResult PWait2(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        TimeSpan? timeout = null;
        if (request.TryTimespec(3, out Timespec limit))
        {
            if (!limit.IsValid)
            {
                return SyscallResult.Error(Errno.EINVAL);
            }

            timeout = TimeSpan.FromTicks((long)Int128.Min(limit.TotalNanoseconds / 100, long.MaxValue));
        }

        return WaitFor(request, session, timeout, cancellationToken);
    }

    /// <summary><c>eventfd(count)</c> (284) and <c>eventfd2(count, flags)</c> (290): <c>EFD_CLOEXEC</c>, <c>EFD_NONBLOCK</c>, <c>EFD_SEMAPHORE</c>.</summary>
    public static Func<SyscallRequest, IKeepSession, SyscallResult> EventFd(bool withFlags) => (request, session) =>
    {
        int flags = withFlags ? request.Int32(1) : 0;
        if ((flags & ~(Kernel.CloseOnExec | Kernel.NonBlock | EventFdSemaphore)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        long host = Kernel.EventFd(request.UInt32(0), flags | Kernel.CloseOnExec);
        return host < 0
            ? RequestReader.FromHost(host)
            : Descriptors.AddResult(session, new KeepSocket((int)host, NetObjectKind.EventFd), (flags & Kernel.CloseOnExec) != 0);
    };

    private static SyscallResult Make(IKeepSession session, int flags)
    {
        long host = Kernel.EpollCreate(Kernel.CloseOnExec);
        return host < 0
            ? RequestReader.FromHost(host)
            : Descriptors.AddResult(session, new KeepSocket((int)host, NetObjectKind.Epoll), (flags & Kernel.CloseOnExec) != 0);
    }

    private static SyscallResult WaitFor(SyscallRequest request, IKeepSession session, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (!session.Files.TryGet(request.Int32(0), out IOpenFile? epoll))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (epoll is not KeepSocket { Kind: NetObjectKind.Epoll })
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int maxEvents = request.Int32(2);
        if (maxEvents <= 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (request.OutputCapacity(1) < (long)maxEvents * EventSize)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] events = new byte[maxEvents * EventSize];
        var clock = Stopwatch.StartNew();
        while (true)
        {
            long taken = Kernel.EpollTake(epoll.HostDescriptor, events, maxEvents);
            if (taken != 0)
            {
                return taken < 0 ? RequestReader.FromHost(taken) : SyscallResult.Success(taken, 1, events.AsMemory(0, (int)taken * EventSize));
            }

            TimeSpan? left = timeout is TimeSpan limit ? limit - clock.Elapsed : null;
            if (left is TimeSpan remaining && remaining <= TimeSpan.Zero)
            {
                return SyscallResult.Success(0);
            }

            long waited = Waiting.For(epoll.HostDescriptor, Kernel.PollIn, left, cancellationToken);
            if (waited == -Errno.EAGAIN)
            {
                return SyscallResult.Success(0);
            }

            if (waited != Waiting.Ready)
            {
                return RequestReader.FromHost(waited);
            }
        }
    }
}
