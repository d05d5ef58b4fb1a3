using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;

namespace Donjon.Tests.Keeps;

/// <summary>What the network tests share: a configuration with a given <c>policy.network</c>, a keep run, a free
/// loopback port, and a connection that waits for a server to listen.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class NetRuns
{
    /// <summary>Runs <paramref name="program"/> in a keep of <paramref name="backend"/> under <paramref name="config"/>,
    /// with Donjon's own <paramref name="options"/> before the program.</summary>
    public static ChildProcess.Result RunInKeep(string backend, string config, string program, string[] args, string[]? options = null)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        return ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", config, .. options ?? [], program, .. args], ChildProcess.DotnetEnvironment());
    }

    /// <summary>Writes, in <paramref name="directory"/>, a configuration with the repository's plugins (net included)
    /// and a policy of <paramref name="network"/> entries only, and returns its path.</summary>
    public static string Config(string directory, string backend, object[] network, Dictionary<string, object>? policyExtras = null)
    {
        string[] plugins =
        [
            $"plugins/backends/{backend}/bin/Donjon.Backends.{char.ToUpperInvariant(backend[0])}{backend[1..]}.dll",
            "plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll",
            "plugins/syscalls/files/bin/Donjon.Syscalls.Files.dll",
            "plugins/syscalls/net/bin/Donjon.Syscalls.Net.dll",
        ];
        var document = new
        {
            plugins = plugins.Select(p => new { path = Repository.PathOf(p) }).ToArray(),
            backendOrder = new[] { backend },
            policy = new Dictionary<string, object>
            {
                ["files"] = Array.Empty<object>(),
                ["network"] = network,
                ["environment"] = new { set = new Dictionary<string, string> { ["LANG"] = "C.UTF-8" } },
            },
        };
        foreach ((string key, object value) in policyExtras ?? [])
        {
            document.policy[key] = value;
        }

        string path = Path.Combine(directory, $"plugins-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(document), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }

    /// <summary>A loopback port that was free a moment ago (TCP, or UDP when <paramref name="udp"/>).</summary>
    public static int FreePort(bool udp = false)
    {
        if (udp)
        {
            using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>, retrying for 90 s while <paramref name="server"/> runs
    /// and does not listen yet.</summary>
    public static async Task<TcpClient> ConnectWithRetry(int port, Task server)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return client;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !server.IsCompleted)
            {
                client.Dispose();
                await Task.Delay(50);
            }
        }
    }
}
