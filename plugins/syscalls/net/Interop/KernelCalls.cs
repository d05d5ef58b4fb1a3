namespace Donjon.Syscalls.Net.Interop;

/// <summary>
/// Typed wrappers over <see cref="Kernel.Call"/>: each pins its buffers for the call and returns the value or minus
/// errno. Sizes are the spans' lengths; nothing here reads keep memory, only copies the host made.
/// </summary>
internal static partial class Kernel
{
    /// <summary><c>SOCK_NONBLOCK</c>, <c>O_NONBLOCK</c>, <c>EFD_NONBLOCK</c>.</summary>
    public const int NonBlock = 0x800;

    /// <summary><c>SOCK_CLOEXEC</c>, <c>O_CLOEXEC</c>, <c>EFD_CLOEXEC</c>, <c>EPOLL_CLOEXEC</c>.</summary>
    public const int CloseOnExec = 0x80000;

    /// <summary><c>MSG_DONTWAIT</c>.</summary>
    public const int DontWait = 0x40;

    /// <summary><c>MSG_WAITALL</c>.</summary>
    public const int WaitAll = 0x100;

    /// <summary><c>MSG_NOSIGNAL</c>: Donjon itself never takes a SIGPIPE for the keep.</summary>
    public const int NoSignal = 0x4000;

    /// <summary><c>POLLIN</c>.</summary>
    public const short PollIn = 0x1;

    /// <summary><c>POLLOUT</c>.</summary>
    public const short PollOut = 0x4;

    /// <summary><c>socket(domain, type, protocol)</c>.</summary>
    public static long Socket(int domain, int type, int protocol) => Call(41, domain, type, protocol);

    /// <summary><c>socketpair(domain, type, protocol, sv)</c>.</summary>
    public static unsafe long SocketPair(int domain, int type, int protocol, out int first, out int second)
    {
        int* pair = stackalloc int[2];

        // SAFETY: `pair` is an 8-byte stack array, the two ints socketpair writes.
        long result = Call(53, domain, type, protocol, (long)pair);
        first = pair[0];
        second = pair[1];
        return result;
    }

    /// <summary><c>bind</c> (49) or <c>connect</c> (42) with an address the host copied.</summary>
    public static unsafe long WithAddress(int number, int descriptor, ReadOnlySpan<byte> address)
    {
        // SAFETY: `address` is pinned for the call and its length is passed with it.
        fixed (byte* a = address)
        {
            return Call(number, descriptor, (long)a, address.Length);
        }
    }

    /// <summary><c>listen(fd, backlog)</c>.</summary>
    public static long Listen(int descriptor, int backlog) => Call(50, descriptor, backlog);

    /// <summary><c>shutdown(fd, how)</c>.</summary>
    public static long Shutdown(int descriptor, int how) => Call(48, descriptor, how);

    /// <summary>
    /// <c>accept4</c> (288), <c>getsockname</c> (51) or <c>getpeername</c> (52): the address goes into
    /// <paramref name="address"/> (truncated to its length) and its full length into <paramref name="length"/>.
    /// </summary>
    public static unsafe long WithAddressOut(int number, int descriptor, Span<byte> address, out int length, int flags = 0)
    {
        int size = address.Length;

        // SAFETY: `address` is pinned and `size` says how much of it the kernel may write; `size` is a stack int the
        // kernel reads and overwrites with the full length.
        fixed (byte* a = address)
        {
            long result = number == 288
                ? Call(288, descriptor, (long)a, (long)&size, flags)
                : Call(number, descriptor, (long)a, (long)&size);
            length = size;
            return result;
        }
    }

    /// <summary><c>sendto(fd, buf, len, flags, addr, addrlen)</c>; an empty <paramref name="address"/> is NULL.</summary>
    public static unsafe long SendTo(int descriptor, ReadOnlySpan<byte> data, int flags, ReadOnlySpan<byte> address)
    {
        // SAFETY: `data` and `address` are pinned, their lengths passed with them; an empty address passes NULL, 0.
        fixed (byte* d = data)
        fixed (byte* a = address)
        {
            return Call(44, descriptor, (long)d, data.Length, flags, address.IsEmpty ? 0 : (long)a, address.Length);
        }
    }

    /// <summary><c>recvfrom(fd, buf, len, flags, addr, &amp;addrlen)</c>; an empty <paramref name="address"/> asks for none.</summary>
    public static unsafe long ReceiveFrom(int descriptor, Span<byte> data, int flags, Span<byte> address, out int length)
    {
        int size = address.Length;

        // SAFETY: `data` and `address` are pinned, their capacities passed with them; `size` is a stack int.
        fixed (byte* d = data)
        fixed (byte* a = address)
        {
            long result = Call(45, descriptor, (long)d, data.Length, flags, address.IsEmpty ? 0 : (long)a, address.IsEmpty ? 0 : (long)&size);
            length = address.IsEmpty ? 0 : size;
            return result;
        }
    }

    /// <summary>
    /// <c>sendmsg(fd, msg, flags)</c> of one iovec: an empty <paramref name="name"/> is NULL, a null or empty
    /// <paramref name="control"/> none.
    /// </summary>
    public static unsafe long SendMessage(int descriptor, ReadOnlySpan<byte> name, byte[]? control, ReadOnlySpan<byte> data, int flags)
    {
        // SAFETY: every buffer is pinned for the call; the stack msghdr and iovec hold their addresses and lengths.
        fixed (byte* n = name)
        fixed (byte* c = control)
        fixed (byte* d = data)
        {
            long* iov = stackalloc long[2];
            iov[0] = (long)d;
            iov[1] = data.Length;
            long* message = stackalloc long[7];
            message[0] = name.IsEmpty ? 0 : (long)n;
            message[1] = name.Length;
            message[2] = (long)iov;
            message[3] = 1;
            message[4] = control is { Length: > 0 } ? (long)c : 0;
            message[5] = control?.Length ?? 0;
            message[6] = 0;
            return Call(46, descriptor, (long)message, flags);
        }
    }

    /// <summary>
    /// <c>recvmsg(fd, msg, flags)</c> into one iovec: <paramref name="nameLength"/> is the name's full length (0 with an
    /// empty <paramref name="name"/>), <paramref name="controlLength"/> the control bytes written, <paramref name="messageFlags"/> <c>msg_flags</c>.
    /// </summary>
    public static unsafe long ReceiveMessage(int descriptor, Span<byte> name, Span<byte> control, Span<byte> data, int flags, out int nameLength, out int controlLength, out int messageFlags)
    {
        // SAFETY: every buffer is pinned for the call and its capacity is in the stack msghdr; the kernel writes no more.
        fixed (byte* n = name)
        fixed (byte* c = control)
        fixed (byte* d = data)
        {
            long* iov = stackalloc long[2];
            iov[0] = (long)d;
            iov[1] = data.Length;
            long* message = stackalloc long[7];
            message[0] = name.IsEmpty ? 0 : (long)n;
            message[1] = name.Length;
            message[2] = (long)iov;
            message[3] = 1;
            message[4] = control.IsEmpty ? 0 : (long)c;
            message[5] = control.Length;
            message[6] = 0;
            long result = Call(47, descriptor, (long)message, flags);
            nameLength = name.IsEmpty ? 0 : (int)message[1];
            controlLength = control.IsEmpty ? 0 : (int)Math.Min(message[5], control.Length);
            messageFlags = (int)message[6];
            return result;
        }
    }

    /// <summary>Whether two host descriptors of this process are the same open file description (<c>kcmp(KCMP_FILE)</c>).</summary>
    public static bool SameFile(int first, int second)
    {
        long pid = Environment.ProcessId;
        return Call(312, pid, pid, 0, first, second) == 0;
    }

    /// <summary>What <c>/proc/self/fd/N</c> names for host descriptor <paramref name="descriptor"/>, or <c>host file</c>.</summary>
    public static string DescriptorTarget(int descriptor)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{descriptor}").LinkTarget ?? "host file";
        }
        catch (IOException)
        {
            return "host file";
        }
        catch (UnauthorizedAccessException)
        {
            return "host file";
        }
    }

    /// <summary><c>setsockopt(fd, level, name, value, len)</c>.</summary>
    public static unsafe long SetOption(int descriptor, int level, int name, ReadOnlySpan<byte> value)
    {
        // SAFETY: `value` is pinned and its length passed with it.
        fixed (byte* v = value)
        {
            return Call(54, descriptor, level, name, value.IsEmpty ? 0 : (long)v, value.Length);
        }
    }

    /// <summary><c>getsockopt(fd, level, name, value, &amp;len)</c>: <paramref name="length"/> in, the kernel's length out.</summary>
    public static unsafe long GetOption(int descriptor, int level, int name, Span<byte> value, ref int length)
    {
        int size = Math.Min(length, value.Length);

        // SAFETY: `value` is pinned and the kernel writes at most `size` (≤ its length) bytes; `size` is a stack int.
        fixed (byte* v = value)
        {
            long result = Call(55, descriptor, level, name, (long)v, (long)&size);
            length = size;
            return result;
        }
    }

    /// <summary>An int socket option, or minus errno.</summary>
    public static long GetIntOption(int descriptor, int level, int name)
    {
        Span<byte> value = stackalloc byte[4];
        int length = 4;
        long result = GetOption(descriptor, level, name, value, ref length);
        return result < 0 ? result : BitConverter.ToInt32(value);
    }

    /// <summary><c>fcntl(fd, cmd, arg)</c>.</summary>
    public static long Fcntl(int descriptor, int command, long argument = 0) => Call(72, descriptor, command, argument);

    /// <summary><c>close(fd)</c>.</summary>
    public static long Close(int descriptor) => Call(3, descriptor);

    /// <summary><c>epoll_create1(flags)</c>.</summary>
    public static long EpollCreate(int flags) => Call(291, flags);

    /// <summary><c>epoll_ctl(epfd, op, fd, event)</c>; an empty <paramref name="eventBytes"/> is NULL.</summary>
    public static unsafe long EpollControl(int epoll, int operation, int descriptor, ReadOnlySpan<byte> eventBytes)
    {
        // SAFETY: `eventBytes` is pinned; it is the 12-byte packed struct epoll_event, or empty for NULL.
        fixed (byte* e = eventBytes)
        {
            return Call(233, epoll, operation, descriptor, eventBytes.IsEmpty ? 0 : (long)e);
        }
    }

    /// <summary><c>epoll_wait(epfd, events, maxevents, 0)</c>: never blocks.</summary>
    public static unsafe long EpollTake(int epoll, Span<byte> events, int maxEvents)
    {
        // SAFETY: `events` is pinned and holds `maxEvents` 12-byte records (checked by the caller).
        fixed (byte* e = events)
        {
            return Call(232, epoll, (long)e, maxEvents, 0);
        }
    }

    /// <summary><c>eventfd2(count, flags)</c>.</summary>
    public static long EventFd(uint count, int flags) => Call(290, count, flags);

    /// <summary><c>write(fd, &amp;value, 8)</c> of one eventfd count.</summary>
    public static unsafe long Signal(int eventFd)
    {
        ulong one = 1;

        // SAFETY: `one` is an 8-byte stack value.
        return Call(1, eventFd, (long)&one, 8);
    }

    /// <summary><c>poll</c> of <paramref name="descriptor"/> for <paramref name="events"/> and of <paramref name="wake"/> for input.</summary>
    /// <returns>Bit 0: the descriptor is ready; bit 1: <paramref name="wake"/> is; or minus errno.</returns>
    public static unsafe long PollTwo(int descriptor, short events, int wake, int timeoutMilliseconds)
    {
        // struct pollfd { int fd; short events; short revents; } x 2
        int* fds = stackalloc int[4];
        fds[0] = descriptor;
        fds[1] = (ushort)events;
        fds[2] = wake;
        fds[3] = PollIn;

        // SAFETY: `fds` is a 16-byte stack array of two struct pollfd.
        long result = Call(7, (long)fds, wake >= 0 ? 2 : 1, timeoutMilliseconds);
        if (result < 0)
        {
            return result;
        }

        short ready = (short)(fds[1] >> 16);
        short woken = (short)(fds[3] >> 16);
        return (ready != 0 ? 1 : 0) | (wake >= 0 && woken != 0 ? 2 : 0);
    }
}
