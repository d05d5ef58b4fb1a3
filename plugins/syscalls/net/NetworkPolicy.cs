using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Microsoft.Extensions.Logging;

namespace Donjon.Syscalls.Net;

/// <summary>
/// The keep's network policy, default-deny: <c>listen</c> entries of <c>policy.network</c> say which addresses and
/// ports the keep may bind, <c>connect</c> entries where it may connect or send datagrams. Nothing is implicit, not even
/// loopback. A denied bind is <c>EACCES</c>; a denied connect or datagram send is <c>ECONNREFUSED</c>, as if nothing
/// listened there. Every denial is one warning naming the entry that would allow it (each endpoint once, at most
/// <see cref="MaxWarnings"/> per keep).
/// </summary>
/// <remarks>
/// One instance per keep (<see cref="Of"/>); immutable after construction but for the denial log, which takes a lock.
/// Host names in connect entries are resolved once, when the keep first uses the network; a name that does not resolve
/// grants nothing and is said once.
/// </remarks>
internal sealed class NetworkPolicy
{
    /// <summary>The most denial warnings one keep logs.</summary>
    public const int MaxWarnings = 32;

    private static readonly ConditionalWeakTable<IKeepSession, NetworkPolicy> PerKeep = new();

    private readonly Rule[] _rules;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);
    private bool _silenced;

    private NetworkPolicy(IKeepSession session)
    {
        var rules = new List<Rule>();
        foreach (NetworkGrant grant in session.Policy.Network ?? [])
        {
            if (grant is not null && Rule.Compile(grant, session.Logger) is { } rule)
            {
                rules.Add(rule);
            }
        }

        _rules = [.. rules];
    }

    /// <summary>The policy of <paramref name="session"/>.</summary>
    public static NetworkPolicy Of(IKeepSession session) => PerKeep.GetValue(session, s => new NetworkPolicy(s));

    /// <summary>Whether a socket of <paramref name="protocol"/> may bind <paramref name="address"/>:<paramref name="port"/>.</summary>
    public bool MayListen(IPAddress address, int port, NetworkProtocol protocol) =>
        _rules.Any(rule => rule.Direction == NetworkDirection.Listen && rule.Protocol == protocol && rule.Ports(port) && rule.Binds(address));

    /// <summary>Whether a socket of <paramref name="protocol"/> may connect or send to <paramref name="address"/>:<paramref name="port"/>.</summary>
    public bool MayConnect(IPAddress address, int port, NetworkProtocol protocol) =>
        _rules.Any(rule => rule.Direction == NetworkDirection.Connect && rule.Protocol == protocol && rule.Ports(port) && rule.Reaches(address));

    /// <summary>Says a denied bind (or a listen that would bind implicitly), once per endpoint.</summary>
    public void DeniedBind(IKeepSession session, string operation, IPAddress address, int port, NetworkProtocol protocol) =>
        Say(session, $"{operation} {address} {port} {protocol}",
            $"denied {operation} of {SocketAddress.Display(address, port)}/{Name(protocol)}: no listen entry of policy.network grants it (EACCES); " +
            $"to grant it, add {Entry("listen", address, port, protocol)} to policy.network");

    /// <summary>Says a denied connect or datagram send, once per endpoint.</summary>
    public void DeniedConnect(IKeepSession session, string operation, IPAddress address, int port, NetworkProtocol protocol) =>
        Say(session, $"{operation} {address} {port} {protocol}",
            $"denied {operation} to {SocketAddress.Display(address, port)}/{Name(protocol)}: no connect entry of policy.network grants it (ECONNREFUSED); " +
            $"to grant it, add {Entry("connect", address, port, protocol)} to policy.network");

    /// <summary>Says a denial that no entry can grant yet (a named <c>AF_UNIX</c> address).</summary>
    public void DeniedOther(IKeepSession session, string key, string message) => Say(session, key, message);

    private static string Name(NetworkProtocol protocol) => protocol == NetworkProtocol.Udp ? "udp" : "tcp";

    private static string Entry(string direction, IPAddress address, int port, NetworkProtocol protocol) =>
        $"{{ \"direction\": \"{direction}\", \"host\": \"{address}\", \"port\": {port}{(protocol == NetworkProtocol.Udp ? ", \"protocol\": \"udp\"" : string.Empty)} }}";

    private void Say(IKeepSession session, string key, string message)
    {
        bool silenceNow = false;
        lock (_gate)
        {
            if (_silenced || !_said.Add(key))
            {
                return;
            }

            if (_said.Count > MaxWarnings)
            {
                _silenced = silenceNow = true;
            }
        }

        if (silenceNow)
        {
            session.Logger.LogWarning("more network-policy denials: not logged ({Max} said already)", MaxWarnings);
            return;
        }

        session.Logger.LogWarning("{Message}", message);
    }

    /// <summary>One compiled entry: a set of addresses (any, a CIDR block, or the addresses of a name), a port range and a protocol.</summary>
    private sealed record Rule(NetworkDirection Direction, NetworkProtocol Protocol, int FirstPort, int LastPort, bool AnyHost, IPAddress[] Networks, int[] PrefixLengths)
    {
        public static Rule? Compile(NetworkGrant grant, ILogger logger)
        {
            int first = grant.Port;
            int last = grant.LastPort ?? grant.Port;
            if (first == 0 && grant.LastPort is null)
            {
                last = 65535; // port 0: any
            }

            string host = grant.Host?.Trim() ?? string.Empty;
            if (host is "*" or "")
            {
                return new Rule(grant.Direction, grant.Protocol, first, last, true, [], []);
            }

            int slash = host.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && IPAddress.TryParse(host[..slash], out IPAddress? network) &&
                int.TryParse(host[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int prefix) &&
                prefix <= (network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            {
                return new Rule(grant.Direction, grant.Protocol, first, last, false, [Normalise(network)], [prefix]);
            }

            if (IPAddress.TryParse(host, out IPAddress? single))
            {
                IPAddress address = Normalise(single);
                return new Rule(grant.Direction, grant.Protocol, first, last, false, [address], [address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128]);
            }

            // A name: resolved by the host once, for this keep.
            try
            {
                IPAddress[] addresses = [.. Dns.GetHostAddresses(host).Select(Normalise).Distinct()];
                return new Rule(grant.Direction, grant.Protocol, first, last, false, addresses,
                    [.. addresses.Select(a => a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)]);
            }
            catch (Exception exception) when (exception is SocketException or ArgumentException)
            {
                logger.LogWarning("policy.network entry for host '{Host}' grants nothing: the name does not resolve ({Reason})", host, exception.Message);
                return null;
            }
        }

        public bool Ports(int port) => port >= FirstPort && port <= LastPort;

        /// <summary>Whether the keep may connect to <paramref name="address"/>.</summary>
        public bool Reaches(IPAddress address) => AnyHost || Contains(Normalise(address));

        /// <summary>
        /// Whether the keep may bind <paramref name="address"/>: an entry's own address (or one inside its block), and
        /// under an entry for the wildcard of a family (<c>0.0.0.0</c>, <c>::</c>) any address of it.
        /// </summary>
        public bool Binds(IPAddress address)
        {
            if (AnyHost)
            {
                return true;
            }

            IPAddress normal = Normalise(address);
            for (int i = 0; i < Networks.Length; i++)
            {
                IPAddress network = Networks[i];
                bool wildcard = network.Equals(IPAddress.Any) || network.Equals(IPAddress.IPv6Any);
                if (wildcard && network.AddressFamily == normal.AddressFamily && PrefixLengths[i] == (normal.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
                {
                    return true;
                }
            }

            return Contains(normal);
        }

        private bool Contains(IPAddress address)
        {
            for (int i = 0; i < Networks.Length; i++)
            {
                if (InBlock(address, Networks[i], PrefixLengths[i]))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool InBlock(IPAddress address, IPAddress network, int prefix)
        {
            if (address.AddressFamily != network.AddressFamily)
            {
                return false;
            }

            byte[] a = address.GetAddressBytes();
            byte[] n = network.GetAddressBytes();
            int whole = prefix / 8;
            for (int i = 0; i < whole; i++)
            {
                if (a[i] != n[i])
                {
                    return false;
                }
            }

            int bits = prefix % 8;
            if (bits == 0)
            {
                return true;
            }

            int mask = 0xFF << (8 - bits) & 0xFF;
            return (a[whole] & mask) == (n[whole] & mask);
        }

        private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
