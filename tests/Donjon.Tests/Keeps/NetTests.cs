using System.Net;
using System.Net.Sockets;
using System.Text;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// Sockets, epoll and eventfd in both keeps under the default-deny network policy, on loopback only: a real epoll
/// server in the keep answering several connections from the test, a keep client of a test-side listener, a UDP echo,
/// and the denials with their exact warnings. Where a native run can be compared (the same program, the same clients),
/// stdout and status must be equal.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NetTests : IDisposable
{
    private const int Clients = 5;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, Toolchain> CToolchains() => KeepSuiteTests.CToolchains();

    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(CToolchains))]
    public async Task An_epoll_server_in_the_keep_answers_several_loopback_connections_as_natively(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("net", toolchain);
        int nativePort = FreePort();
        var native = await Serve(() => ChildProcess.Run(program, ["server", $"{nativePort}", $"{Clients}"], KeepSuiteTests.NativeEnvironment()), nativePort);

        int port = FreePort();
        string config = Config(backend, [new { direction = "listen", host = "127.0.0.1", port }]);
        var keep = await Serve(() => RunInKeep(backend, config, program, ["server", $"{port}", $"{Clients}"]), port);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(
            "setsockopt SO_REUSEADDR: ok\nlisten: ok\ngetsockname: port as asked, loopback 1\nSO_TYPE stream 1, length 4\nlistening\n" +
            $"served {Clients}, from loopback {Clients}, peers named {Clients}, eventfd seen 1\n", keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText);
        keep.Stderr.Should().NotContain("denied").And.NotContain("no loaded handler set serves");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public async Task A_keep_client_reaches_a_granted_test_side_listener_as_natively(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("net", toolchain);
        var native = await Answer(port => ChildProcess.Run(program, ["client", $"{port}"], KeepSuiteTests.NativeEnvironment()));
        var keep = await Answer(port => RunInKeep(backend, Config(backend, [new { direction = "connect", host = "127.0.0.1", port }]), program, ["client", $"{port}"]));

        keep.Result.ExitCode.Should().Be(0, keep.Result.Stderr);
        keep.Result.StdoutText.Should().Be("connected to port as asked, loopback 1\nsent 20\nanswer: pong\nshutdown: ok\n", keep.Result.Stderr);
        keep.Result.StdoutText.Should().Be(native.Result.StdoutText);
        keep.Received.Should().Be("hello from the keep\n");
        native.Received.Should().Be(keep.Received);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_udp_datagram_goes_in_and_its_answer_comes_back(string backend)
    {
        string program = SuiteWorkloads.Build("net", Toolchain.Glibc);
        int port = FreePort(udp: true);
        string config = Config(backend,
        [
            new { direction = "listen", host = "127.0.0.1", port = (object)port, protocol = "udp" },
            new { direction = "connect", host = "127.0.0.0/8", port = (object)"1-65535", protocol = "udp" },
        ]);
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var run = Task.Run(() => RunInKeep(backend, config, program, ["udp", $"{port}"]));
        string? answer = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (answer is null && !run.IsCompleted && DateTime.UtcNow < deadline)
        {
            await client.SendAsync(Encoding.ASCII.GetBytes("ping"), new IPEndPoint(IPAddress.Loopback, port));
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                UdpReceiveResult received = await client.ReceiveAsync(wait.Token);
                answer = Encoding.ASCII.GetString(received.Buffer);
            }
            catch (OperationCanceledException)
            {
                // not bound yet: send again
            }
        }

        var keep = await run;
        keep.ExitCode.Should().Be(0, keep.Stderr);
        answer.Should().Be("pong: ping");
        keep.StdoutText.Should().Be("udp bound\nudp got 4 bytes: ping, from loopback 1\nudp sent 10\n", keep.Stderr);
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public async Task A_keep_udp_client_is_answered_by_a_granted_test_side_udp_server_as_natively(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("net", toolchain);
        var native = await Echo(port => ChildProcess.Run(program, ["udpclient", $"{port}"], KeepSuiteTests.NativeEnvironment()));
        var keep = await Echo(port => RunInKeep(backend, Config(backend, [new { direction = "connect", host = "127.0.0.1", port = (object)port, protocol = "udp" }]), program, ["udpclient", $"{port}"]));

        native.Result.ExitCode.Should().Be(0, native.Result.StdoutText);
        keep.Result.ExitCode.Should().Be(0, keep.Result.Stderr);
        keep.Result.StdoutText.Should().Be(
            "udp client sent 18\nudp client got 24 bytes: pong: ping from the keep, from the server 1\n" +
            "udp connect: ok\nudp connected sent 5\nudp connected got 11 bytes: pong: again\n", keep.Result.Stderr);
        keep.Result.StdoutText.Should().Be(native.Result.StdoutText);
        keep.Received.Should().Equal("ping from the keep", "again");
        native.Received.Should().Equal(keep.Received);
        keep.Result.Stderr.Should().NotContain("denied");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void A_host_abstract_unix_listener_is_out_of_reach_and_the_keep_cannot_take_an_abstract_name(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("net", toolchain);
        string name = $"donjon-test-{Guid.NewGuid():N}"[..24];
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        listener.Listen(8);

        // Natively the host's abstract listener is reachable by name: the reference shows the test's socket is real.
        var native = ChildProcess.Run(program, ["abstract", name], KeepSuiteTests.NativeEnvironment());
        native.ExitCode.Should().Be(0, native.StdoutText);
        native.StdoutText.Should().StartWith("connect abstract: ok\n");
        listener.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead).Should().BeTrue("the native run connected");
        listener.Accept().Dispose();

        var keep = RunInKeep(backend, Config(backend, [new { direction = "listen", host = "*", port = 0 }, new { direction = "connect", host = "*", port = 0 }]), program, ["abstract", name]);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be("connect abstract: Connection refused\nsendto abstract: Connection refused\nbind abstract: Permission denied\nautobind: Permission denied\n", keep.Stderr);
        listener.Poll(TimeSpan.Zero, SelectMode.SelectRead).Should().BeFalse("no connection from the keep reached the host's abstract listener");
        string why = "the network policy grants no AF_UNIX address (abstract names are host-global: a keep may neither reach a host process's nor be reached through its own)";
        keep.Stderr.Should().Contain($"donjon: warning: denied connect to the abstract AF_UNIX name '@{name}': {why} (ECONNREFUSED)")
            .And.Contain($"donjon: warning: denied send to the abstract AF_UNIX name '@{name}': {why} (ECONNREFUSED)")
            .And.Contain($"donjon: warning: denied bind of the abstract AF_UNIX name '@{name[..^1]}2': {why} (EACCES)")
            .And.Contain($"donjon: warning: denied bind of an unnamed AF_UNIX address (an autobind to an abstract name): {why} (EACCES)");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_granted_name_resolves_through_the_synthesised_etc_hosts_and_an_ungranted_one_does_not(string backend)
    {
        // musl's getaddrinfo reads /etc/hosts and /etc/resolv.conf itself (glibc's static one needs its NSS modules).
        string program = SuiteWorkloads.Build("net", Toolchain.Musl);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var keep = RunInKeep(backend, Config(backend, [new { direction = "connect", host = "localhost", port = (object)port }]), program, ["resolve", $"{port}", "localhost", "ungranted.invalid"]);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(
            "hosts: 127.0.0.1\tlocalhost\nhosts: ::1\tlocalhost\n" +
            "resolve localhost: 127.0.0.1\nconnect: ok\nresolve ungranted.invalid: failed\n", keep.Stderr);
        listener.Pending().Should().BeTrue("the keep connected to the granted name's address");

        // No DNS server is granted: musl's resolver cannot even bind its query socket (an ephemeral udp port needs a
        // listen entry), so getaddrinfo fails at once with EAI_SYSTEM, and the denial is said.
        keep.Stderr.Should().Contain("donjon: warning: denied bind of 0.0.0.0:0/udp: no listen entry of policy.network grants it (EACCES)")
            .And.Contain("resolve ungranted.invalid: System error\n");

        // A udp connect entry for port 53 of one address grants that DNS server; without network entries there are no files.
        var dns = RunInKeep(backend, Config(backend, [new { direction = "connect", host = "192.0.2.53", port = (object)53, protocol = "udp" }]), program, ["resolve", "1"]);
        dns.StdoutText.Should().Be("resolv.conf: nameserver 192.0.2.53\n", dns.Stderr);
        var none = RunInKeep(backend, Config(backend, []), program, ["resolve", "1"]);
        none.StdoutText.Should().Be("/etc/hosts: No such file or directory\n/etc/resolv.conf: No such file or directory\n", none.Stderr);
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Bind_connect_send_and_an_implicit_bind_without_a_grant_fail_with_one_warning_each(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("net", toolchain);
        int port = FreePort();
        const string Denied = "bind: Permission denied\nconnect: Connection refused\nsendto: Connection refused\nlisten unbound: Permission denied\n";

        var none = RunInKeep(backend, Config(backend, []), program, ["deny", $"{port}"]);
        none.ExitCode.Should().Be(0, none.Stderr);
        none.StdoutText.Should().Be(Denied, none.Stderr);
        none.Stderr.Should().Contain(
            $"donjon: warning: denied bind of 127.0.0.1:{port}/tcp: no listen entry of policy.network grants it (EACCES); " +
            $"to grant it, add {{ \"direction\": \"listen\", \"host\": \"127.0.0.1\", \"port\": {port} }} to policy.network")
            .And.Contain(
            $"donjon: warning: denied connect to 127.0.0.1:{port}/tcp: no connect entry of policy.network grants it (ECONNREFUSED); " +
            $"to grant it, add {{ \"direction\": \"connect\", \"host\": \"127.0.0.1\", \"port\": {port} }} to policy.network")
            .And.Contain(
            $"donjon: warning: denied send to 127.0.0.1:{port}/udp: no connect entry of policy.network grants it (ECONNREFUSED); " +
            $"to grant it, add {{ \"direction\": \"connect\", \"host\": \"127.0.0.1\", \"port\": {port}, \"protocol\": \"udp\" }} to policy.network")
            .And.Contain(
            "donjon: warning: denied listen without bind (an implicit bind) of 0.0.0.0:0/tcp: no listen entry of policy.network grants it (EACCES); " +
            "to grant it, add { \"direction\": \"listen\", \"host\": \"0.0.0.0\", \"port\": 0 } to policy.network");

        // Near misses: another port, another address, another protocol.
        var near = RunInKeep(backend, Config(backend,
        [
            new { direction = "listen", host = "127.0.0.1", port = (object)(port + 1), protocol = "tcp" },
            new { direction = "listen", host = "127.0.0.2", port = (object)port, protocol = "tcp" },
            new { direction = "connect", host = "127.0.0.2", port = (object)port, protocol = "tcp" },
            new { direction = "connect", host = "127.0.0.1", port = (object)$"{port + 1}-{port + 2}", protocol = "tcp" },
            new { direction = "connect", host = "127.0.0.1", port = (object)port, protocol = "tcp" },
        ]), program, ["deny", $"{port}"]);
        near.ExitCode.Should().Be(0, near.Stderr);
        near.StdoutText.Should().Be(
            "bind: Permission denied\nconnect: Connection refused\nsendto: Connection refused\nlisten unbound: Permission denied\n", near.Stderr);
        near.Stderr.Should().Contain($"denied bind of 127.0.0.1:{port}/tcp").And.Contain($"denied send to 127.0.0.1:{port}/udp")
            .And.NotContain($"denied connect to 127.0.0.1:{port}/tcp", "the connect was granted: refused by the host kernel, since nothing listens");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Publish_and_allow_connect_on_the_command_line_grant_what_policy_network_entries_would(string backend)
    {
        string program = SuiteWorkloads.Build("net", Toolchain.Glibc);
        int port = FreePort();
        string config = Config(backend, []);
        var served = await Serve(() => RunInKeep(backend, config, program, ["server", $"{port}", $"{Clients}"], ["--publish", $"127.0.0.1:{port}"]), port);
        served.ExitCode.Should().Be(0, served.Stderr);
        served.StdoutText.Should().EndWith($"served {Clients}, from loopback {Clients}, peers named {Clients}, eventfd seen 1\n", served.Stderr);
        served.Stderr.Should().NotContain("denied");

        var client = await Answer(p => RunInKeep(backend, config, program, ["client", $"{p}"], ["--allow-connect", $"127.0.0.1:{p}"]));
        client.Result.ExitCode.Should().Be(0, client.Result.Stderr);
        client.Result.StdoutText.Should().Be("connected to port as asked, loopback 1\nsent 20\nanswer: pong\nshutdown: ok\n", client.Result.Stderr);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_keep_client_fetches_10_MiB_through_a_connect_grant_byte_exact(string backend)
    {
        string program = SuiteWorkloads.Build("net", Toolchain.Glibc);
        byte[] body = new byte[10 << 20];
        new Random(11).NextBytes(body);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var keep = Task.Run(() => RunInKeep(backend, Config(backend, [new { direction = "connect", host = "127.0.0.1", port }]), program, ["fetch", $"{port}"]));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using (TcpClient accepted = await listener.AcceptTcpClientAsync(timeout.Token))
        await using (NetworkStream stream = accepted.GetStream())
        {
            var request = new byte[4];
            await stream.ReadExactlyAsync(request, timeout.Token);
            Encoding.ASCII.GetString(request).Should().Be("GET\n");
            await stream.WriteAsync(body, timeout.Token);
        }

        var result = await keep;
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Length.Should().Be(body.Length);
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(result.Stdout))
            .Should().Be(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Killing_donjon_while_the_server_holds_50_connections_leaves_no_process_and_no_listening_socket(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        string program = SuiteWorkloads.Build("net", Toolchain.Glibc);
        int port = FreePort();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", Config(backend, []), "--publish", $"127.0.0.1:{port}", program, "server", $"{port}", "1000"])
        {
            start.ArgumentList.Add(arg);
        }

        using var donjon = System.Diagnostics.Process.Start(start)!;
        donjon.BeginOutputReadLine();
        donjon.BeginErrorReadLine();
        var held = new List<TcpClient>();
        try
        {
            // The first client is answered, so the server is in its loop; 49 more connect and stay silent.
            TcpClient first = await ConnectWithRetry(port, donjon.WaitForExitAsync());
            held.Add(first);
            NetworkStream stream = first.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("client 0\n"));
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            (await reader.ReadLineAsync()).Should().Be("hello, client 0");
            for (int i = 1; i < 50; i++)
            {
                held.Add(await ConnectWithRetry(port, donjon.WaitForExitAsync()));
            }

            List<int> keep = KeepLifecycleTests.KeepProcessesOf(donjon.Id);
            keep.Should().NotBeEmpty("a keep process runs the server");
            donjon.Kill();
            donjon.WaitForExit(20_000).Should().BeTrue("Donjon must end after SIGKILL");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (keep.Any(pid => Directory.Exists($"/proc/{pid}")) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            keep.Where(pid => Directory.Exists($"/proc/{pid}")).Should().BeEmpty("no keep process may outlive Donjon");
            using var late = new TcpClient();
            var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(IPAddress.Loopback, port));
            refused.SocketErrorCode.Should().Be(SocketError.ConnectionRefused, "nothing listens on the port any more");
            File.ReadAllText("/proc/net/tcp").Should().NotMatchRegex($"(?m)^\\s*\\d+: 0100007F:{port:X4} 00000000:0000 0A ", "no socket of the port is left in LISTEN");
        }
        finally
        {
            held.ForEach(c => c.Dispose());
            if (!donjon.HasExited)
            {
                donjon.Kill();
            }
        }
    }

    [Fact]
    public void An_admin_may_forbid_publish_and_allow_connect_and_a_bad_value_is_named()
    {
        string program = SuiteWorkloads.Build("net", Toolchain.Glibc);
        string forbidding = Config("process", [], new Dictionary<string, object> { ["commandLineNetwork"] = false });
        var forbidden = RunInKeep("process", forbidding, program, ["deny", "1"], ["--publish", "8080"]);
        forbidden.ExitCode.Should().Be(125);
        forbidden.Stderr.Should().Contain("--publish and --allow-connect are forbidden by the admin (policy.commandLineNetwork is false in ")
            .And.Contain("ask the admin to add the entries to policy.network");

        var bad = RunInKeep("process", Config("process", []), program, ["deny", "1"], ["--publish", "example.org:80", "--allow-connect", "10.0.0.1"]);
        bad.ExitCode.Should().Be(125);
        bad.Stderr.Should().Contain("--publish 'example.org:80' is not [ADDR:]PORT[/udp]")
            .And.Contain("--allow-connect '10.0.0.1' is not HOST:PORT[/udp]");
    }

    /// <summary>Runs <paramref name="run"/> while <see cref="Clients"/> loopback clients connect (retrying until the server listens), each sending one line.</summary>
    private static async Task<ChildProcess.Result> Serve(Func<ChildProcess.Result> run, int port)
    {
        var server = Task.Run(run);
        var clients = Enumerable.Range(0, Clients).Select(async i =>
        {
            using TcpClient client = await ConnectWithRetry(port, server);
            await using NetworkStream stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"client {i}\n"));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            string answer = await reader.ReadToEndAsync();
            answer.Should().Be($"hello, client {i}\n");
        }).ToArray();
        try
        {
            await Task.WhenAll(clients);
        }
        catch (SocketException failure) when (server.IsCompleted)
        {
            var result = await server;
            throw new InvalidOperationException($"the server ended (status {result.ExitCode}) before its clients were served: {failure.Message}\nstdout:\n{result.StdoutText}\nstderr:\n{result.Stderr}", failure);
        }

        return await server;
    }

    private static Task<TcpClient> ConnectWithRetry(int port, Task server) => NetRuns.ConnectWithRetry(port, server);

    /// <summary>A test-side listener that answers one connection with "pong\n", while <paramref name="run"/> runs against its port.</summary>
    private static async Task<(ChildProcess.Result Result, string Received)> Answer(Func<int, ChildProcess.Result> run)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var client = Task.Run(() => run(port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using TcpClient accepted = await listener.AcceptTcpClientAsync(timeout.Token);
        await using NetworkStream stream = accepted.GetStream();
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one, timeout.Token) == 1)
        {
            line.Append((char)one[0]);
            if (one[0] == '\n')
            {
                break;
            }
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes("pong\n"), timeout.Token);
        accepted.Client.Shutdown(SocketShutdown.Send);
        return (await client, line.ToString());
    }

    /// <summary>A test-side UDP server that answers each of two datagrams with "pong: " and the datagram, while <paramref name="run"/> runs against its port.</summary>
    private static async Task<(ChildProcess.Result Result, List<string> Received)> Echo(Func<int, ChildProcess.Result> run)
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        var client = Task.Run(() => run(port));
        var received = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (received.Count < 2 && !client.IsCompleted)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            wait.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                UdpReceiveResult datagram = await server.ReceiveAsync(wait.Token);
                string text = Encoding.ASCII.GetString(datagram.Buffer);
                received.Add(text);
                await server.SendAsync(Encoding.ASCII.GetBytes("pong: " + text), datagram.RemoteEndPoint, timeout.Token);
            }
            catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
            {
                // nothing yet: look at the client again
            }
        }

        return (await client, received);
    }

    private static int FreePort(bool udp = false) => NetRuns.FreePort(udp);

    private static ChildProcess.Result RunInKeep(string backend, string config, string program, string[] args, string[]? options = null) =>
        NetRuns.RunInKeep(backend, config, program, args, options);

    private string Config(string backend, object[] network, Dictionary<string, object>? policyExtras = null) =>
        NetRuns.Config(_dir.Path, backend, network, policyExtras);
}
