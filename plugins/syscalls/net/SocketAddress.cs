using System.Buffers.Binary;
using System.Net;

namespace Donjon.Syscalls.Net;

/// <summary>Reads the keep's <c>struct sockaddr</c> bytes (untrusted) into an address and a port.</summary>
internal static class SocketAddress
{
    /// <summary><c>AF_UNIX</c>.</summary>
    public const int Unix = 1;

    /// <summary><c>AF_INET</c>.</summary>
    public const int Inet = 2;

    /// <summary><c>AF_INET6</c>.</summary>
    public const int Inet6 = 10;

    /// <summary><c>SOCK_STREAM</c>.</summary>
    public const int Stream = 1;

    /// <summary><c>SOCK_DGRAM</c>.</summary>
    public const int Datagram = 2;

    /// <summary>The size of <c>struct sockaddr_storage</c>: the most address bytes a call takes or gives.</summary>
    public const int MaxSize = 128;

    /// <summary>The name of a domain, for descriptions.</summary>
    public static string DomainName(int domain) => domain switch { Unix => "unix", Inet => "inet", Inet6 => "inet6", _ => domain.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary>
    /// Reads an IPv4 or IPv6 address of a socket of <paramref name="domain"/>, as the kernel would accept it for
    /// <c>bind</c>, <c>connect</c> or <c>sendto</c>; an IPv4-mapped IPv6 address is read as the IPv4 one.
    /// </summary>
    /// <returns>0, or the errno Linux gives for such bytes (<c>EINVAL</c> for a short address, <c>EAFNOSUPPORT</c> for another family).</returns>
    public static int TryRead(ReadOnlySpan<byte> bytes, int domain, out IPAddress address, out int port)
    {
        address = IPAddress.None;
        port = 0;
        if (bytes.Length < 2)
        {
            return Errno.EINVAL;
        }

        int family = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        if (domain == Inet)
        {
            if (bytes.Length < 16)
            {
                return Errno.EINVAL;
            }

            if (family != Inet)
            {
                return Errno.EAFNOSUPPORT;
            }

            port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            address = new IPAddress(bytes.Slice(4, 4));
            return 0;
        }

        if (bytes.Length < 24)
        {
            return Errno.EINVAL;
        }

        if (family != Inet6)
        {
            return Errno.EAFNOSUPPORT;
        }

        port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        address = new IPAddress(bytes.Slice(8, 16));
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return 0;
    }

    /// <summary>How an endpoint is written in logs and policy entries: <c>127.0.0.1:8080</c>, <c>[::1]:8080</c>.</summary>
    public static string Display(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}
