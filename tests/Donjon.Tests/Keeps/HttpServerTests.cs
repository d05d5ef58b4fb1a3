using System.Net.Sockets;
using System.Text;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// The project's own HTTP/1.1 servers (<c>Workloads/suite/http.c</c>: one epoll-based, one thread-per-connection) in
/// both keeps under a listen grant: 50 loopback clients on persistent connections make 1,000 requests in all, 20
/// each (every second connection pipelines its requests two at a time), and every answer is checked byte for byte
/// against the one the protocol in <c>http.c</c> defines, computed here. The same server run natively with the same
/// clients is the reference: the same stdout and exit status.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HttpServerTests : IDisposable
{
    private const int Connections = 50;
    private const int RequestsPerConnection = 20;
    private const int Requests = Connections * RequestsPerConnection;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, Toolchain> CToolchains() => KeepSuiteTests.CToolchains();

    [Theory]
    [MemberData(nameof(CToolchains))]
    public Task An_epoll_http_server_answers_1000_requests_50_connections_at_a_time_byte_exact_as_natively(string backend, Toolchain toolchain) =>
        ServeAsNatively(backend, toolchain, "epoll");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public Task A_thread_per_connection_http_server_answers_1000_requests_50_connections_at_a_time_byte_exact_as_natively(string backend, Toolchain toolchain) =>
        ServeAsNatively(backend, toolchain, "threads");

    [Fact]
    public async Task The_http_server_answers_a_bad_request_and_an_unknown_method_as_it_documents()
    {
        string program = SuiteWorkloads.Build("http", Toolchain.Glibc);
        int port = NetRuns.FreePort();
        var server = Task.Run(() => ChildProcess.Run(program, ["epoll", $"{port}", "3"], KeepSuiteTests.NativeEnvironment()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using (TcpClient client = await NetRuns.ConnectWithRetry(port, server))
        {
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("DELETE / HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n"), timeout.Token);
            await ExpectAsync(stream, Answer(405, "Method Not Allowed", "method not allowed\n", closing: false, allow: true), "405", timeout.Token);
            await ExpectAsync(stream, Answer(200, "OK", "hello from the keep\n", closing: true), "HTTP/1.0", timeout.Token);
            (await stream.ReadAsync(new byte[1], timeout.Token)).Should().Be(0, "an HTTP/1.0 request closes its connection");
        }

        using (TcpClient client = await NetRuns.ConnectWithRetry(port, server))
        {
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), timeout.Token);
            await ExpectAsync(stream, Answer(400, "Bad Request", "bad request\n", closing: true), "a request with a body", timeout.Token);
        }

        var result = await server;
        result.ExitCode.Should().Be(0, result.Stderr);
        result.StdoutText.Should().Be("listening\nserved 3 requests on 2 connections\n");
    }

    private async Task ServeAsNatively(string backend, Toolchain toolchain, string shape)
    {
        string program = SuiteWorkloads.Build("http", toolchain);
        int nativePort = NetRuns.FreePort();
        var native = await Serve(() => ChildProcess.Run(program, [shape, $"{nativePort}", $"{Requests}"], KeepSuiteTests.NativeEnvironment()), nativePort);

        int port = NetRuns.FreePort();
        string config = NetRuns.Config(_dir.Path, backend, [new { direction = "listen", host = "127.0.0.1", port }]);
        var keep = await Serve(() => NetRuns.RunInKeep(backend, config, program, [shape, $"{port}", $"{Requests}"]), port);

        string expected = $"listening\nserved {Requests} requests on {Connections} connections\n";
        native.ExitCode.Should().Be(0, native.Stderr);
        native.StdoutText.Should().Be(expected);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(expected, keep.Stderr);
        keep.Stderr.Should().NotContain("denied").And.NotContain("no loaded handler set serves");
    }

    /// <summary>Runs the server while <see cref="Connections"/> clients make their requests; returns the server's run.</summary>
    private static async Task<ChildProcess.Result> Serve(Func<ChildProcess.Result> run, int port)
    {
        var server = Task.Run(run);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var clients = Enumerable.Range(0, Connections).Select(c => Task.Run(() => Client(c, port, server, timeout.Token))).ToArray();
        try
        {
            await Task.WhenAll(clients);
        }
        catch (Exception failure) when (failure is SocketException or IOException or OperationCanceledException && server.IsCompleted)
        {
            var result = await server;
            throw new InvalidOperationException($"the server ended (status {result.ExitCode}) before its clients were served: {failure.Message}\nstdout:\n{result.StdoutText}\nstderr:\n{result.Stderr}", failure);
        }

        return await server;
    }

    private static async Task Client(int connection, int port, Task server, CancellationToken cancel)
    {
        using TcpClient client = await NetRuns.ConnectWithRetry(port, server);
        client.NoDelay = true;
        NetworkStream stream = client.GetStream();
        int step = connection % 2 == 0 ? 2 : 1;
        for (int first = 0; first < RequestsPerConnection; first += step)
        {
            var batch = Enumerable.Range(first, step).Select(i => Plan(connection, i)).ToArray();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(string.Concat(batch.Select(r => r.Request))), cancel);
            foreach (var (request, answer) in batch)
            {
                await ExpectAsync(stream, answer, $"connection {connection}, {request.Split('\r')[0]}", cancel);
            }
        }

        (await stream.ReadAsync(new byte[1], cancel)).Should().Be(0, $"connection {connection} asked to close: the server closes it after its last answer");
    }

    private static async Task ExpectAsync(NetworkStream stream, byte[] expected, string what, CancellationToken cancel)
    {
        var got = new byte[expected.Length];
        await stream.ReadExactlyAsync(got, cancel);
        if (!got.AsSpan().SequenceEqual(expected))
        {
            Encoding.ASCII.GetString(got).Should().Be(Encoding.ASCII.GetString(expected), $"the answer to {what} is byte-exact");
        }
    }

    /// <summary>The <paramref name="index"/>th request of <paramref name="connection"/> and the answer http.c documents for it.</summary>
    private static (string Request, byte[] Answer) Plan(int connection, int index)
    {
        bool last = index == RequestsPerConnection - 1;
        string close = last ? "Connection: close\r\n" : string.Empty;
        string Get(string method, string target) => $"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: donjon-tests\r\n{close}\r\n";
        switch (index % 5)
        {
            case 0:
                return (Get("GET", "/"), Answer(200, "OK", "hello from the keep\n", last));
            case 1:
                int small = ((connection * 131) + (index * 17)) % 3000;
                return (Get("GET", $"/bytes/{small}"), Answer(200, "OK", Pattern(small), last));
            case 2 when connection % 2 == 1:
                return (Get("DELETE", $"/bytes/{index}"), Answer(405, "Method Not Allowed", "method not allowed\n", last, allow: true));
            case 2:
                return (Get("GET", $"/missing/{connection}"), Answer(404, "Not Found", "not found\n", last));
            case 3:
                int headed = (connection * 7) + index;
                return (Get("HEAD", $"/bytes/{headed}"), Answer(200, "OK", Pattern(headed), last, headOnly: true));
            default:
                int large = (connection * 1000) + index;
                return (Get("GET", $"/bytes/{large}"), Answer(200, "OK", Pattern(large), last));
        }
    }

    private static string Pattern(int length) => string.Create(length, 0, (span, _) =>
    {
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = (char)('a' + (i % 26));
        }
    });

    private static byte[] Answer(int code, string reason, string body, bool closing, bool allow = false, bool headOnly = false) =>
        Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {code} {reason}\r\nServer: donjon-suite\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n" +
            (allow ? "Allow: GET, HEAD\r\n" : string.Empty) + (closing ? "Connection: close\r\n" : string.Empty) + "\r\n" +
            (headOnly ? string.Empty : body));
}
