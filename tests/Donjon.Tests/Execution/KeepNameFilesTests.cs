using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Sessions;
using Donjon.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Execution;

/// <summary>The keep's synthesised <c>/etc/hosts</c> and <c>/etc/resolv.conf</c>: what they list for a policy, and where they are.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KeepNameFilesTests : IDisposable
{
    private const string HostsHeader = "# Synthesised by Donjon from policy.network: only the names it grants.\n";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Hosts_lists_localhost_once_when_loopback_is_granted_and_leaves_out_a_name_that_does_not_resolve()
    {
        KeepNameFiles.Hosts(
        [
            new NetworkGrant(NetworkDirection.Listen, "127.0.0.1", 8080),
            new NetworkGrant(NetworkDirection.Connect, "LocalHost", 80),
            new NetworkGrant(NetworkDirection.Connect, "10.0.0.0/8", 443),
            new NetworkGrant(NetworkDirection.Connect, "no-such-name.invalid", 1),
        ]).Should().Be(HostsHeader + "127.0.0.1\tlocalhost\n::1\tlocalhost\n");

        KeepNameFiles.Hosts([new NetworkGrant(NetworkDirection.Connect, "10.0.0.0/8", 443), new NetworkGrant(NetworkDirection.Listen, "0.0.0.0", 80)])
            .Should().Be(HostsHeader, "neither entry covers a loopback address, and neither is a name");
        KeepNameFiles.Hosts([new NetworkGrant(NetworkDirection.Connect, "127.0.0.0/8", 443)]).Should().Be(HostsHeader + "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
    }

    [Fact]
    public void Resolv_conf_names_only_single_addresses_that_a_udp_connect_entry_grants_port_53_of()
    {
        KeepNameFiles.ResolvConf(
        [
            new NetworkGrant(NetworkDirection.Connect, "192.0.2.1", 53) { Protocol = NetworkProtocol.Udp },
            new NetworkGrant(NetworkDirection.Connect, "192.0.2.2", 50) { Protocol = NetworkProtocol.Udp, LastPort = 60 },
            new NetworkGrant(NetworkDirection.Connect, "2001:db8::53", 0) { Protocol = NetworkProtocol.Udp },
            new NetworkGrant(NetworkDirection.Connect, "192.0.2.3", 53),
            new NetworkGrant(NetworkDirection.Connect, "10.0.0.0/8", 53) { Protocol = NetworkProtocol.Udp },
            new NetworkGrant(NetworkDirection.Connect, "192.0.2.4", 54) { Protocol = NetworkProtocol.Udp },
            new NetworkGrant(NetworkDirection.Listen, "192.0.2.5", 53) { Protocol = NetworkProtocol.Udp },
        ]).Should().EndWith("\nnameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 2001:db8::53\n").And.StartWith("# ");
    }

    [Fact]
    public void The_files_are_read_only_in_the_skeleton_root_only_when_the_policy_has_network_entries()
    {
        string runtime = Path.Combine(_dir.Path, "runtime");
        Directory.CreateDirectory(runtime, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var policy = KeepPolicy.DenyAll with { Network = [new NetworkGrant(NetworkDirection.Connect, "127.0.0.1", 80)] };
        string keepDirectory;
        using (KeepSession session = Session(policy, runtime))
        {
            keepDirectory = session.RuntimeDirectory!;
            string etc = Path.Combine(keepDirectory, "root", "etc");
            Directory.EnumerateFileSystemEntries(etc).Select(Path.GetFileName).Should().BeEquivalentTo(["hosts", "resolv.conf"]);
            File.ReadAllText(Path.Combine(etc, "hosts")).Should().Be(HostsHeader + "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
            File.GetUnixFileMode(Path.Combine(etc, "hosts")).Should().Be((UnixFileMode)0x124, "the synthesised files are read-only (0444)");
            File.ReadAllLines(Path.Combine(etc, "resolv.conf")).Should().OnlyContain(line => line.StartsWith('#'), "no DNS server is granted");
        }

        Directory.Exists(keepDirectory).Should().BeFalse("the files go with the keep's directory");
        using (KeepSession session = Session(KeepPolicy.DenyAll, runtime))
        {
            Directory.Exists(Path.Combine(session.RuntimeDirectory!, "root", "etc")).Should().BeFalse("a keep without network entries has no /etc");
        }
    }

    private static KeepSession Session(KeepPolicy policy, string runtime) =>
        new(new WorkloadIdentity("/w", new string('0', 64), 1), policy, new KeepStdio(0, 1, 2), NullLogger.Instance, runtime);
}
