using System.Buffers.Binary;
using System.Net;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Net.Interop;

namespace Donjon.Syscalls.Net.Handlers;

/// <summary>
/// The socket calls: each keep socket is a host socket of the same domain and type, made and used only after the
/// network policy allowed what the call would reach. Addresses cross as bytes; the host never sees a keep pointer.
/// </summary>
/// <remarks>
/// A call that would block (a blocking socket's <c>accept</c>, <c>connect</c>, <c>recvfrom</c>, <c>sendto</c>) is made
/// non-blocking on the host and waits in <see cref="Waiting.For"/>, so it honours <c>SO_RCVTIMEO</c>/<c>SO_SNDTIMEO</c>,
/// answers <c>EINTR</c> when a signal interrupts it, and ends when the keep does.
/// </remarks>
internal static class SocketCalls
{
    private const int TypeMask = 0xF;
    private const int MsgTrunc = 0x20;
    private const int SoReceiveTimeout = 20;
    private const int SoSendTimeout = 21;
    private const int SoError = 4;

    /// <summary><c>socket(domain, type, protocol)</c>: <c>AF_INET</c>, <c>AF_INET6</c>, <c>AF_UNIX</c>; stream or datagram.</summary>
    public static SyscallResult Socket(SyscallRequest request, IKeepSession session)
    {
        int domain = request.Int32(0);
        int type = request.Int32(1);
        int protocol = request.Int32(2);
        int flags = type & ~TypeMask;
        int kind = type & TypeMask;
        if ((flags & ~(Kernel.NonBlock | Kernel.CloseOnExec)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (domain is not (SocketAddress.Unix or SocketAddress.Inet or SocketAddress.Inet6))
        {
            return SyscallResult.Error(Errno.EAFNOSUPPORT);
        }

        if (kind is not (SocketAddress.Stream or SocketAddress.Datagram))
        {
            return SyscallResult.Error(Errno.EPROTONOSUPPORT);
        }

        long host = Kernel.Socket(domain, kind | (flags & Kernel.NonBlock) | Kernel.CloseOnExec, protocol);
        if (host < 0)
        {
            return RequestReader.FromHost(host);
        }

        return Descriptors.AddResult(session, new KeepSocket((int)host, NetObjectKind.Socket, domain, kind, protocol), (flags & Kernel.CloseOnExec) != 0);
    }

    /// <summary><c>socketpair(domain, type, protocol, sv)</c>: <c>AF_UNIX</c> only, as Linux.</summary>
    public static SyscallResult SocketPair(SyscallRequest request, IKeepSession session)
    {
        int domain = request.Int32(0);
        int type = request.Int32(1);
        int flags = type & ~TypeMask;
        int kind = type & TypeMask;
        if ((flags & ~(Kernel.NonBlock | Kernel.CloseOnExec)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (domain != SocketAddress.Unix)
        {
            return SyscallResult.Error(domain is SocketAddress.Inet or SocketAddress.Inet6 ? Errno.EOPNOTSUPP : Errno.EAFNOSUPPORT);
        }

        if (kind is not (SocketAddress.Stream or SocketAddress.Datagram))
        {
            return SyscallResult.Error(Errno.EPROTONOSUPPORT);
        }

        if (!request.HasOutput(3, 8))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        long result = Kernel.SocketPair(domain, kind | (flags & Kernel.NonBlock) | Kernel.CloseOnExec, request.Int32(2), out int first, out int second);
        if (result < 0)
        {
            return RequestReader.FromHost(result);
        }

        bool closeOnExec = (flags & Kernel.CloseOnExec) != 0;
        var a = new KeepSocket(first, NetObjectKind.Socket, domain, kind, 0, bound: true);
        var b = new KeepSocket(second, NetObjectKind.Socket, domain, kind, 0, bound: true);
        int keepA = Descriptors.Add(session, a, closeOnExec);
        if (keepA < 0)
        {
            b.Dispose();
            return SyscallResult.Error(Errno.EMFILE);
        }

        int keepB = Descriptors.Add(session, b, closeOnExec);
        if (keepB < 0)
        {
            session.Files.Close(keepA);
            return SyscallResult.Error(Errno.EMFILE);
        }

        byte[] pair = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(pair, keepA);
        BinaryPrimitives.WriteInt32LittleEndian(pair.AsSpan(4), keepB);
        return SyscallResult.Success(0, 3, pair);
    }

    /// <summary><c>bind(fd, addr, addrlen)</c>: only an address and port a listen entry grants (else <c>EACCES</c>).</summary>
    public static SyscallResult Bind(SyscallRequest request, IKeepSession session)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        if (!TryAddress(request, 1, 2, out ReadOnlyMemory<byte> bytes, out error))
        {
            return error;
        }

        if (!socket.IsInternet)
        {
            string name = SocketAddress.DescribeUnix(bytes.Span);
            NetworkPolicy.Of(session).DeniedOther(session, "bind unix " + name,
                $"denied bind of {name}: the network policy grants no AF_UNIX address{SocketAddress.UnixWhy(bytes.Span)} (EACCES); use socketpair, or a TCP/UDP socket with a listen entry in policy.network");
            return SyscallResult.Error(Errno.EACCES);
        }

        int problem = SocketAddress.TryRead(bytes.Span, socket.Domain, out IPAddress address, out int port);
        if (problem != 0)
        {
            return SyscallResult.Error(problem);
        }

        NetworkProtocol protocol = socket.Type == SocketAddress.Datagram ? NetworkProtocol.Udp : NetworkProtocol.Tcp;
        NetworkPolicy policy = NetworkPolicy.Of(session);
        if (!policy.MayListen(address, port, protocol))
        {
            policy.DeniedBind(session, "bind", address, port, protocol);
            return SyscallResult.Error(Errno.EACCES);
        }

        long result = Kernel.WithAddress(49, socket.HostDescriptor, bytes.Span);
        if (result == 0)
        {
            socket.Bound = true;
        }

        return RequestReader.FromHost(result);
    }

    /// <summary>
    /// <c>listen(fd, backlog)</c>. A socket the keep did not bind would be bound by the kernel to a free port of every
    /// address: that needs a listen entry for any port of the wildcard address.
    /// </summary>
    public static SyscallResult Listen(SyscallRequest request, IKeepSession session)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        if (socket.IsInternet && !socket.Bound)
        {
            IPAddress any = socket.Domain == SocketAddress.Inet ? IPAddress.Any : IPAddress.IPv6Any;
            NetworkPolicy policy = NetworkPolicy.Of(session);
            NetworkProtocol protocol = socket.Type == SocketAddress.Datagram ? NetworkProtocol.Udp : NetworkProtocol.Tcp;
            if (!policy.MayListen(any, 0, protocol))
            {
                policy.DeniedBind(session, "listen without bind (an implicit bind)", any, 0, protocol);
                return SyscallResult.Error(Errno.EACCES);
            }
        }

        return RequestReader.FromHost(Kernel.Listen(socket.HostDescriptor, request.Int32(1)));
    }

    /// <summary><c>connect(fd, addr, addrlen)</c>: only to an endpoint a connect entry grants (else <c>ECONNREFUSED</c>).</summary>
    public static SyscallResult Connect(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        if (!TryAddress(request, 1, 2, out ReadOnlyMemory<byte> bytes, out error))
        {
            return error;
        }

        // AF_UNSPEC dissolves a datagram socket's association: it reaches nothing.
        bool unspecified = bytes.Length >= 2 && BinaryPrimitives.ReadUInt16LittleEndian(bytes.Span) == 0;
        if (!unspecified && Denied(request, session, socket, bytes.Span, "connect", out error))
        {
            return error;
        }

        int host = socket.HostDescriptor;
        if (unspecified || Waiting.IsNonBlocking(host))
        {
            return RequestReader.FromHost(Kernel.WithAddress(42, host, bytes.Span));
        }

        // A blocking connect: started non-blocking, then waited for where it can be interrupted.
        long flags = Kernel.Fcntl(host, 3);
        Kernel.Fcntl(host, 4, flags | Kernel.NonBlock);
        long result = Kernel.WithAddress(42, host, bytes.Span);
        Kernel.Fcntl(host, 4, flags);
        if (result != -Errno.EINPROGRESS)
        {
            return RequestReader.FromHost(result);
        }

        long waited = Waiting.For(host, Kernel.PollOut, Waiting.SocketTimeout(host, SoSendTimeout), cancellationToken);
        if (waited != Waiting.Ready)
        {
            return SyscallResult.Error(waited == -Errno.EAGAIN ? Errno.EINPROGRESS : (int)-waited);
        }

        long pending = Kernel.GetIntOption(host, 1, SoError);
        return pending switch
        {
            < 0 => RequestReader.FromHost(pending),
            0 => SyscallResult.Success(0),
            _ => SyscallResult.Error((int)pending),
        };
    }

    /// <summary><c>accept(fd, addr, addrlen)</c>.</summary>
    public static SyscallResult Accept(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        AcceptWithFlags(request, session, 0, cancellationToken);

    /// <summary><c>accept4(fd, addr, addrlen, flags)</c>: <c>SOCK_NONBLOCK</c>, <c>SOCK_CLOEXEC</c>.</summary>
    public static SyscallResult Accept4(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        int flags = request.Int32(3);
        return (flags & ~(Kernel.NonBlock | Kernel.CloseOnExec)) != 0
            ? SyscallResult.Error(Errno.EINVAL)
            : AcceptWithFlags(request, session, flags, cancellationToken);
    }

    /// <summary><c>getsockname(fd, addr, addrlen)</c> (51) or <c>getpeername</c> (52).</summary>
    public static Func<SyscallRequest, IKeepSession, SyscallResult> Name(int number) => (request, session) =>
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        if (request.Input(2).Length != 4)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] address = new byte[SocketAddress.MaxSize];
        long result = Kernel.WithAddressOut(number, socket.HostDescriptor, address, out int length);
        return result < 0 ? RequestReader.FromHost(result) : AddressResult(request, 0, 1, 2, address, length, []);
    };

    /// <summary><c>shutdown(fd, how)</c>.</summary>
    public static SyscallResult Shutdown(SyscallRequest request, IKeepSession session) =>
        Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error)
            ? RequestReader.FromHost(Kernel.Shutdown(socket.HostDescriptor, request.Int32(1)))
            : error;

    /// <summary><c>sendto(fd, buf, len, flags, addr, addrlen)</c>: a datagram's destination must be granted (else <c>ECONNREFUSED</c>).</summary>
    public static SyscallResult SendTo(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        ReadOnlyMemory<byte> destination = ReadOnlyMemory<byte>.Empty;
        if (request.Input(4).Length > 0 || request.Argument(5) != 0)
        {
            if (!TryAddress(request, 4, 5, out destination, out error))
            {
                return error;
            }

            if (Denied(request, session, socket, destination.Span, "send", out error))
            {
                return error;
            }
        }

        int flags = request.Int32(3);
        ReadOnlyMemory<byte> data = request.Input(1);
        int host = socket.HostDescriptor;
        bool blocking = (flags & Kernel.DontWait) == 0 && !Waiting.IsNonBlocking(host);
        bool stream = socket.Type == SocketAddress.Stream;
        long sent = 0;
        while (true)
        {
            long result = Kernel.SendTo(host, data.Span[(int)sent..], flags | Kernel.DontWait | Kernel.NoSignal, destination.Span);
            if (result >= 0)
            {
                sent += result;
                if (!blocking || !stream || sent >= data.Length)
                {
                    return SyscallResult.Success(sent);
                }

                continue;
            }

            if (result != -Errno.EAGAIN || !blocking)
            {
                return sent > 0 ? SyscallResult.Success(sent) : RequestReader.FromHost(result);
            }

            long waited = Waiting.For(host, Kernel.PollOut, Waiting.SocketTimeout(host, SoSendTimeout), cancellationToken);
            if (waited != Waiting.Ready)
            {
                return sent > 0 ? SyscallResult.Success(sent) : RequestReader.FromHost(waited);
            }
        }
    }

    /// <summary><c>recvfrom(fd, buf, len, flags, addr, addrlen)</c>.</summary>
    public static SyscallResult ReceiveFrom(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        ReceiveFrom(request, session, Memory<byte>.Empty, cancellationToken);

    /// <summary>
    /// <c>recvfrom</c> as above, receiving straight into <paramref name="room"/>, the call's output room for the data in
    /// the shared block (empty: a buffer of its own).
    /// </summary>
    public static SyscallResult ReceiveFrom(SyscallRequest request, IKeepSession session, Memory<byte> room, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        int flags = request.Int32(3);
        int capacity = request.OutputCount(1, 2);
        bool wantAddress = request.Input(5).Length == 4;
        Memory<byte> data = room.Length >= capacity ? room[..capacity] : new byte[capacity];
        byte[] address = new byte[wantAddress ? SocketAddress.MaxSize : 0];
        int host = socket.HostDescriptor;
        bool blocking = (flags & Kernel.DontWait) == 0 && !Waiting.IsNonBlocking(host);
        bool waitAll = (flags & Kernel.WaitAll) != 0 && socket.Type == SocketAddress.Stream && blocking;
        int hostFlags = (flags & ~Kernel.WaitAll) | Kernel.DontWait;
        long got = 0;
        int addressLength = 0;
        while (true)
        {
            long result = Kernel.ReceiveFrom(host, data.Span[(int)got..], hostFlags, address, out int length);
            if (result >= 0)
            {
                addressLength = length;
                if ((flags & MsgTrunc) != 0 && socket.Type == SocketAddress.Datagram)
                {
                    return ReceiveResult(request, result, data, (int)Math.Min(result, capacity), address, addressLength, wantAddress);
                }

                got += result;
                if (!waitAll || result == 0 || got >= capacity)
                {
                    return ReceiveResult(request, got, data, (int)got, address, addressLength, wantAddress);
                }

                continue;
            }

            if (result != -Errno.EAGAIN || !blocking)
            {
                return got > 0 ? ReceiveResult(request, got, data, (int)got, address, addressLength, wantAddress) : RequestReader.FromHost(result);
            }

            long waited = Waiting.For(host, Kernel.PollIn, Waiting.SocketTimeout(host, SoReceiveTimeout), cancellationToken);
            if (waited != Waiting.Ready)
            {
                return got > 0 ? ReceiveResult(request, got, data, (int)got, address, addressLength, wantAddress) : RequestReader.FromHost(waited);
            }
        }
    }

    /// <summary>
    /// Whether the policy forbids <paramref name="operation"/> from <paramref name="socket"/> to the address in
    /// <paramref name="bytes"/>; then <paramref name="error"/> is the answer (<c>ECONNREFUSED</c>, or the address's errno).
    /// </summary>
    private static bool Denied(SyscallRequest request, IKeepSession session, KeepSocket socket, ReadOnlySpan<byte> bytes, string operation, out SyscallResult error)
    {
        _ = request;
        NetworkPolicy policy = NetworkPolicy.Of(session);
        if (!socket.IsInternet)
        {
            string name = SocketAddress.DescribeUnix(bytes);
            policy.DeniedOther(session, operation + " unix " + name,
                $"denied {operation} to {name}: the network policy grants no AF_UNIX address{SocketAddress.UnixWhy(bytes)} (ECONNREFUSED); use socketpair, or a TCP/UDP socket with a connect entry in policy.network");
            error = SyscallResult.Error(Errno.ECONNREFUSED);
            return true;
        }

        int problem = SocketAddress.TryRead(bytes, socket.Domain, out IPAddress address, out int port);
        if (problem != 0)
        {
            error = SyscallResult.Error(problem);
            return true;
        }

        NetworkProtocol protocol = socket.Type == SocketAddress.Datagram ? NetworkProtocol.Udp : NetworkProtocol.Tcp;
        if (!policy.MayConnect(address, port, protocol))
        {
            policy.DeniedConnect(session, operation, address, port, protocol);
            error = SyscallResult.Error(Errno.ECONNREFUSED);
            return true;
        }

        error = null!;
        return false;
    }

    /// <summary>
    /// Whether the policy forbids <paramref name="operation"/> from <paramref name="socket"/> to <paramref name="address"/>
    /// (a message's name); then <paramref name="error"/> is the answer, as for <c>sendto</c>.
    /// </summary>
    public static bool DeniedDestination(IKeepSession session, KeepSocket socket, ReadOnlySpan<byte> address, string operation, out SyscallResult error) =>
        Denied(null!, session, socket, address, operation, out error);

    /// <summary>An address argument and its length: at most <see cref="SocketAddress.MaxSize"/> bytes (else <c>EINVAL</c>), present (else <c>EFAULT</c>).</summary>
    private static bool TryAddress(SyscallRequest request, int index, int lengthIndex, out ReadOnlyMemory<byte> bytes, out SyscallResult error)
    {
        bytes = request.Input(index);
        ulong length = request.Argument(lengthIndex);
        if (length > SocketAddress.MaxSize || (int)length < 0)
        {
            error = SyscallResult.Error(Errno.EINVAL);
            return false;
        }

        if ((ulong)bytes.Length != length || length == 0)
        {
            error = SyscallResult.Error(length == 0 ? Errno.EINVAL : Errno.EFAULT);
            return false;
        }

        error = null!;
        return true;
    }

    private static SyscallResult AcceptWithFlags(SyscallRequest request, IKeepSession session, int flags, CancellationToken cancellationToken)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        int host = socket.HostDescriptor;
        byte[] address = new byte[SocketAddress.MaxSize];
        while (true)
        {
            bool blocking = !Waiting.IsNonBlocking(host);
            if (blocking)
            {
                long waited = Waiting.For(host, Kernel.PollIn, Waiting.SocketTimeout(host, SoReceiveTimeout), cancellationToken);
                if (waited != Waiting.Ready)
                {
                    return RequestReader.FromHost(waited);
                }
            }

            long result = Kernel.WithAddressOut(288, host, address, out int length, (flags & Kernel.NonBlock) | Kernel.CloseOnExec);
            if (result == -Errno.EAGAIN && blocking)
            {
                continue; // another thread took the connection
            }

            if (result < 0)
            {
                return RequestReader.FromHost(result);
            }

            var accepted = new KeepSocket((int)result, NetObjectKind.Socket, socket.Domain, socket.Type, socket.Protocol, bound: true);
            int descriptor = Descriptors.Add(session, accepted, (flags & Kernel.CloseOnExec) != 0);
            return descriptor < 0 ? SyscallResult.Error(Errno.EMFILE) : AddressResult(request, descriptor, 1, 2, address, length, []);
        }
    }

    /// <summary>A result with an address output (cut to its capacity) and its full length in the value-result argument.</summary>
    private static SyscallResult AddressResult(SyscallRequest request, long value, int addressIndex, int lengthIndex, byte[] address, int length, List<SyscallOutput> outputs)
    {
        ReadOnlyMemory<byte> lengthInput = request.Input(lengthIndex);
        if (lengthInput.Length == 4 && request.OutputCapacity(lengthIndex) >= 4)
        {
            int capacity = Math.Max(0, request.OutputCapacity(addressIndex));
            bool addressPresent = capacity > 0 || BinaryPrimitives.ReadInt32LittleEndian(lengthInput.Span) == 0;
            if (addressPresent)
            {
                int copied = Math.Min(Math.Min(capacity, length), address.Length);
                if (copied > 0)
                {
                    outputs.Add(new SyscallOutput(addressIndex, address.AsMemory(0, copied)));
                }

                byte[] full = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(full, length);
                outputs.Add(new SyscallOutput(lengthIndex, full));
            }
        }

        return new SyscallResult(value, outputs);
    }

    private static SyscallResult ReceiveResult(SyscallRequest request, long value, Memory<byte> data, int dataLength, byte[] address, int addressLength, bool wantAddress)
    {
        var outputs = new List<SyscallOutput>(3);
        if (dataLength > 0)
        {
            outputs.Add(new SyscallOutput(1, data[..dataLength]));
        }

        return wantAddress ? AddressResult(request, value, 4, 5, address, addressLength, outputs) : new SyscallResult(value, outputs);
    }
}
