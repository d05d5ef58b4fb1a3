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

    /// <summary>
    /// How an <c>AF_UNIX</c> address from the keep (untrusted bytes) is named in a warning: <c>the abstract AF_UNIX name
    /// '@NAME'</c> (<c>sun_path[0]</c> is 0), <c>the AF_UNIX path '/PATH'</c>, or <c>an unnamed AF_UNIX address (an
    /// autobind)</c> when there is no path. At most 40 characters of the name are shown, anything outside printable
    /// ASCII as <c>\xHH</c>.
    /// </summary>
    public static string DescribeUnix(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= 2)
        {
            return "an unnamed AF_UNIX address (an autobind to an abstract name)";
        }

        ReadOnlySpan<byte> path = bytes[2..];
        bool isAbstract = path[0] == 0;
        if (isAbstract)
        {
            path = path[1..];
        }
        else if (path.IndexOf((byte)0) is int end and >= 0)
        {
            path = path[..end];
        }

        var shown = new System.Text.StringBuilder();
        foreach (byte b in path[..Math.Min(path.Length, 40)])
        {
            shown.Append(b is >= 0x20 and < 0x7f and not (byte)'\\' and not (byte)'\'' ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        string more = path.Length > 40 ? "..." : string.Empty;
        return isAbstract ? $"the abstract AF_UNIX name '@{shown}{more}'" : $"the AF_UNIX path '{shown}{more}'";
    }

    /// <summary>Why a <c>AF_UNIX</c> address is denied, after "grants no AF_UNIX address": for an abstract name (or an
    /// autobind, which takes one), that the abstract namespace is the host's, shared by every process.</summary>
    public static string UnixWhy(ReadOnlySpan<byte> bytes) =>
        bytes.Length <= 2 || bytes[2] == 0 ? " (abstract names are host-global: a keep may neither reach a host process's nor be reached through its own)" : " yet";
}
