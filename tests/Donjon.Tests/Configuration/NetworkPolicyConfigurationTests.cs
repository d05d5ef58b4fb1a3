using Donjon.Abstractions.Sessions;
using Donjon.Host.Configuration;
using Donjon.Tests.Support;

namespace Donjon.Tests.Configuration;

/// <summary>The network policy of <c>plugins.json</c>: ports, ranges, protocols, CIDR blocks, and every mistake named by its JSON path.</summary>
public sealed class NetworkPolicyConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private KeepPolicy Policy(string policy) =>
        ConfigurationLoader.Load(_dir.Write("plugins.json", $$"""{ "plugins": [], "backendOrder": [], "policy": {{policy}} }""")).Policy;

    private ConfigurationError[] Rejected(string policy)
    {
        string file = _dir.Write("plugins.json", $$"""{ "plugins": [], "backendOrder": [], "policy": {{policy}} }""");
        return FluentActions.Invoking(() => ConfigurationLoader.Load(file)).Should().Throw<ConfigurationException>().Which.Errors.ToArray();
    }

    [Fact]
    public void Entries_give_grants_with_ranges_protocols_and_blocks()
    {
        var policy = Policy("""
            { "network": [
                { "direction": "listen", "host": "127.0.0.1", "port": 8080 },
                { "direction": "connect", "host": "10.0.0.0/8", "port": "5432-5439", "protocol": "tcp" },
                { "direction": "connect", "host": "::1", "port": 53, "protocol": "udp" } ] }
            """);
        policy.Network.Should().Equal(
            new NetworkGrant(NetworkDirection.Listen, "127.0.0.1", 8080),
            new NetworkGrant(NetworkDirection.Connect, "10.0.0.0/8", 5432) { LastPort = 5439 },
            new NetworkGrant(NetworkDirection.Connect, "::1", 53) { Protocol = NetworkProtocol.Udp });
    }

    [Fact]
    public void Each_mistake_is_named_by_its_json_path()
    {
        var errors = Rejected("""
            { "network": [
                { "direction": "listen", "host": "127.0.0.1", "port": "90-80" },
                { "direction": "connect", "host": "10.0.0.0/33", "port": 1 },
                { "direction": "connect", "host": "a", "port": 1, "protocol": "sctp" },
                { "direction": "connect", "host": "a", "port": 70000 } ] }
            """);
        errors.Select(e => e.Location).Should().Equal("$.policy.network[0].port", "$.policy.network[1].host", "$.policy.network[2].protocol", "$.policy.network[3].port");
        errors[0].Problem.Should().Be("'90-80' is not a port range");
        errors[1].Problem.Should().Be("'10.0.0.0/33' is not a CIDR block");
        errors[2].Remedy.Should().Contain("\"tcp\" (the default) or \"udp\"");
    }
}
