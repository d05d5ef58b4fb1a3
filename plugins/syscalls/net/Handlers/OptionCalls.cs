using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Net.Interop;

namespace Donjon.Syscalls.Net.Handlers;

/// <summary>
/// <c>setsockopt</c> and <c>getsockopt</c> for the options servers use, made on the host socket. Any other option is
/// <c>ENOPROTOOPT</c>: an option such as <c>SO_BINDTODEVICE</c> or <c>IP_TRANSPARENT</c> could reach beyond the policy.
/// </summary>
internal static class OptionCalls
{
    /// <summary>The most option bytes either call carries.</summary>
    public const int MaxOptionSize = 256;

    private const int SolSocket = 1;
    private const int IpProtoIp = 0;
    private const int IpProtoTcp = 6;
    private const int IpProtoIpv6 = 41;

    // SOL_SOCKET: SO_REUSEADDR 2, SO_BROADCAST 6, SO_SNDBUF 7, SO_RCVBUF 8, SO_KEEPALIVE 9, SO_OOBINLINE 10, SO_LINGER 13,
    // SO_REUSEPORT 15, SO_RCVLOWAT 18, SO_SNDLOWAT 19, SO_RCVTIMEO_OLD 20, SO_SNDTIMEO_OLD 21, SO_RCVTIMEO_NEW 66, SO_SNDTIMEO_NEW 67.
    private static readonly int[] SocketSettable = [2, 6, 7, 8, 9, 10, 13, 15, 18, 19, 20, 21, 66, 67];

    // and readable only: SO_TYPE 3, SO_ERROR 4, SO_ACCEPTCONN 30, SO_PROTOCOL 38, SO_DOMAIN 39.
    private static readonly int[] SocketReadable = [3, 4, 30, 38, 39];

    // IPPROTO_TCP: TCP_NODELAY 1, TCP_MAXSEG 2, TCP_KEEPIDLE 4, TCP_KEEPINTVL 5, TCP_KEEPCNT 6, TCP_DEFER_ACCEPT 9, TCP_QUICKACK 12, TCP_USER_TIMEOUT 18.
    private static readonly int[] Tcp = [1, 2, 4, 5, 6, 9, 12, 18];

    // IPPROTO_IP: IP_TOS 1, IP_TTL 2. IPPROTO_IPV6: IPV6_V6ONLY 26.
    private static readonly int[] Ip = [1, 2];
    private static readonly int[] Ipv6 = [26];

    /// <summary><c>setsockopt(fd, level, name, value, len)</c>.</summary>
    public static SyscallResult Set(SyscallRequest request, IKeepSession session)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        int level = request.Int32(1);
        int name = request.Int32(2);
        if (!Allowed(socket, level, name, set: true))
        {
            return SyscallResult.Error(Errno.ENOPROTOOPT);
        }

        ReadOnlyMemory<byte> value = request.Input(3);
        if (request.Argument(4) > MaxOptionSize || (ulong)value.Length != request.Argument(4))
        {
            return SyscallResult.Error(request.Argument(4) > MaxOptionSize ? Errno.EINVAL : Errno.EFAULT);
        }

        return RequestReader.FromHost(Kernel.SetOption(socket.HostDescriptor, level, name, value.Span));
    }

    /// <summary><c>getsockopt(fd, level, name, value, &amp;len)</c>: the value cut to <c>*len</c>, the kernel's length back.</summary>
    public static SyscallResult Get(SyscallRequest request, IKeepSession session)
    {
        if (!Descriptors.TryGetSocket(session, request.Int32(0), out KeepSocket socket, out SyscallResult error))
        {
            return error;
        }

        int level = request.Int32(1);
        int name = request.Int32(2);
        if (!Allowed(socket, level, name, set: false))
        {
            return SyscallResult.Error(Errno.ENOPROTOOPT);
        }

        ReadOnlyMemory<byte> lengthInput = request.Input(4);
        if (lengthInput.Length != 4 || request.OutputCapacity(4) < 4)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        int asked = BinaryPrimitives.ReadInt32LittleEndian(lengthInput.Span);
        if (asked < 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        byte[] value = new byte[MaxOptionSize];
        int length = Math.Min(asked, Math.Max(0, request.OutputCapacity(3)));
        long result = Kernel.GetOption(socket.HostDescriptor, level, name, value, ref length);
        if (result < 0)
        {
            return RequestReader.FromHost(result);
        }

        int copied = Math.Clamp(length, 0, Math.Max(0, request.OutputCapacity(3)));
        byte[] full = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(full, length);
        var outputs = new List<SyscallOutput>(2);
        if (copied > 0)
        {
            outputs.Add(new SyscallOutput(3, value.AsMemory(0, copied)));
        }

        outputs.Add(new SyscallOutput(4, full));
        return new SyscallResult(0, outputs);
    }

    private static bool Allowed(KeepSocket socket, int level, int name, bool set) => level switch
    {
        SolSocket => SocketSettable.Contains(name) || (!set && SocketReadable.Contains(name)),
        IpProtoTcp => socket.IsInternet && socket.Type == SocketAddress.Stream && Tcp.Contains(name),
        IpProtoIp => socket.IsInternet && Ip.Contains(name),
        IpProtoIpv6 => socket.Domain == SocketAddress.Inet6 && Ipv6.Contains(name),
        _ => false,
    };
}
