using System.Net;
using System.Net.Sockets;
using System.Text;
using Donjon.Abstractions.Sessions;

namespace Donjon.Host.Sessions;

/// <summary>
/// The keep's <c>/etc/hosts</c> and <c>/etc/resolv.conf</c>, synthesised by the host when the keep starts, so that a
/// program's resolver (musl's, which reads <c>/etc/hosts</c> itself) finds the names <c>policy.network</c> grants and
/// no other: each host name of a <c>connect</c> entry, with the addresses the host resolves it to now;
/// <c>localhost</c> when an entry covers a loopback address; and a <c>nameserver</c> line for each single address
/// granted by a <c>udp</c> <c>connect</c> entry whose ports include 53 (else no DNS server, so an ungranted name does
/// not resolve). They are written read-only into the skeleton root, so a mount of the admin's at <c>/etc</c> or at
/// either path is what the keep sees instead.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class KeepNameFiles
{
    /// <summary>Writes <c>etc/hosts</c> and <c>etc/resolv.conf</c> under the skeleton <paramref name="root"/> when
    /// <paramref name="network"/> has any entry; a keep without network grants gets neither.</summary>
    public static void Write(string root, IReadOnlyList<NetworkGrant> network)
    {
        if (network.Count == 0)
        {
            return;
        }

        string etc = Path.Combine(root, "etc");
        Directory.CreateDirectory(etc);
        WriteIfAbsent(Path.Combine(etc, "hosts"), Hosts(network));
        WriteIfAbsent(Path.Combine(etc, "resolv.conf"), ResolvConf(network));
    }

    /// <summary>The text of <c>/etc/hosts</c> for <paramref name="network"/>; a name that does not resolve is left out.</summary>
    public static string Hosts(IReadOnlyList<NetworkGrant> network)
    {
        var lines = new List<string>();
        if (network.Any(g => CoversLoopback(g.Host)))
        {
            lines.Add("127.0.0.1\tlocalhost");
            lines.Add("::1\tlocalhost");
        }

        foreach (string name in network.Where(g => g.Direction == NetworkDirection.Connect && IsName(g.Host)).Select(g => g.Host.ToLowerInvariant()).Distinct())
        {
            IPAddress[] addresses;
            try
            {
                addresses = Dns.GetHostAddresses(name);
            }
            catch (SocketException)
            {
                continue; // the net set says, when the keep uses the network, that the name grants nothing
            }

            foreach (IPAddress address in addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6).Distinct())
            {
                string line = $"{address}\t{name}";
                if (!lines.Contains(line))
                {
                    lines.Add(line);
                }
            }
        }

        return "# Synthesised by Donjon from policy.network: only the names it grants.\n" + string.Concat(lines.Select(l => l + "\n"));
    }

    /// <summary>The text of <c>/etc/resolv.conf</c>: a <c>nameserver</c> per granted DNS server, else none.</summary>
    public static string ResolvConf(IReadOnlyList<NetworkGrant> network)
    {
        var text = new StringBuilder("# Synthesised by Donjon from policy.network: a nameserver only where a udp connect entry grants port 53 of one address.\n");
        foreach (NetworkGrant grant in network)
        {
            bool port53 = grant.Port == 0 || grant.Port == 53 || (grant.LastPort is int last && grant.Port <= 53 && last >= 53);
            if (grant.Direction == NetworkDirection.Connect && grant.Protocol == NetworkProtocol.Udp && port53 && IPAddress.TryParse(grant.Host, out IPAddress? server))
            {
                text.Append("nameserver ").Append(server).Append('\n');
            }
        }

        return text.ToString();
    }

    private static bool IsName(string host) =>
        host != "*" && !host.Contains('/', StringComparison.Ordinal) && !IPAddress.TryParse(host, out _) && !host.Contains(':', StringComparison.Ordinal);

    /// <summary>Whether an entry's host (address, CIDR block, name or <c>*</c>) includes 127.0.0.1 or ::1.</summary>
    private static bool CoversLoopback(string host)
    {
        if (host == "*" || host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return IPAddress.IsLoopback(address);
        }

        return IPNetwork.TryParse(host, out IPNetwork block) && (block.Contains(IPAddress.Loopback) || block.Contains(IPAddress.IPv6Loopback));
    }

    private static void WriteIfAbsent(string path, string text)
    {
        if (!Path.Exists(path))
        {
            File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.SetUnixFileMode(path, (UnixFileMode)0x124); // 0444
        }
    }
}
