using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Donjon.Host.Configuration;
using Donjon.Host.Files;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary>
/// Paths the user controls cannot change the admin's configuration or hang Donjon: a <c>plugins.json</c> in the working
/// directory is ignored, and a FIFO, socket or device where Donjon expects a regular file is refused at once.
/// </summary>
public sealed class UntrustedPathTests : IDisposable
{
    /// <summary>Each run must end well within this; a regression that blocks fails instead of hanging the suite.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The repository's plugins.json, with absolute plugin paths, that passes DONJON_TEST_VALUE through.</summary>
    private string WriteLeakyConfiguration(string folder)
    {
        JsonNode config = JsonNode.Parse(File.ReadAllText(Repository.PathOf("plugins.json")))!;
        foreach (JsonNode? plugin in config["plugins"]!.AsArray())
        {
            plugin!["path"] = Repository.PathOf(plugin["path"]!.GetValue<string>());
        }

        config.AsObject().Remove("$schema");
        config["policy"]!["environment"]!["passThrough"] = new JsonArray("DONJON_TEST_VALUE");
        string path = Path.Combine(folder, "plugins.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static string MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit(10_000).Should().BeTrue();
        mkfifo.ExitCode.Should().Be(0);
        return path;
    }

    [Fact]
    public void A_plugins_json_in_the_working_directory_does_not_replace_the_admins()
    {
        WriteLeakyConfiguration(_dir.Path);
        string program = SuiteWorkloads.Build("args", Toolchain.Glibc);
        var environment = new Dictionary<string, string> { ["DONJON_TEST_VALUE"] = "leaked" };

        var ignored = DonjonProcess.Run(["--log-level", "info", "run", "--backend", "process", program], _dir.Path, environment, timeout: Deadline);
        ignored.ExitCode.Should().Be(0, ignored.Stderr);
        ignored.Stdout.Should().Contain("DONJON_TEST_VALUE=[(unset)]", "the working directory's plugins.json passes the variable through, and must be ignored");
        ignored.Stderr.Should().Contain($"Configuration in force: {Repository.PathOf("plugins.json")} (from the nearest plugins.json above the donjon program)");

        // Named explicitly, the same file is used: the test above could fail.
        var named = DonjonProcess.Run(["run", "--config", "plugins.json", "--backend", "process", program], _dir.Path, environment, timeout: Deadline);
        named.ExitCode.Should().Be(0, named.Stderr);
        named.Stdout.Should().Contain("DONJON_TEST_VALUE=[leaked]");
    }

    [Fact]
    public void A_broken_plugins_json_in_the_working_directory_is_not_read()
    {
        _dir.Write("plugins.json", """{ "plugins": [ { "path": "no-such-plugin.dll" } ], "backendOrder": [] }""");
        string program = SuiteWorkloads.Build("hello", Toolchain.Glibc);
        var result = DonjonProcess.Run(["run", "--backend", "process", program], _dir.Path, timeout: Deadline);
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hello, keep\n");
        result.Stderr.Should().NotContain("no-such-plugin");
    }

    [Fact]
    public void Platform_info_names_the_configuration_in_force_in_text_and_json()
    {
        _dir.Write("plugins.json", """{ "plugins": [], "backendOrder": [] }""");
        string repositoryConfig = Repository.PathOf("plugins.json");

        var text = DonjonProcess.Run(["platform", "info"], _dir.Path, timeout: Deadline);
        text.ExitCode.Should().Be(0, text.Stderr);
        text.Stdout.Should().StartWith($"configuration: {repositoryConfig}\n  from the nearest plugins.json above the donjon program\n");

        var json = DonjonProcess.Run(["platform", "info", "--json"], _dir.Path, timeout: Deadline);
        json.ExitCode.Should().Be(0, json.Stderr);
        JsonNode document = JsonNode.Parse(json.Stdout)!;
        document["configuration"]!.GetValue<string>().Should().Be(repositoryConfig);
        document["configurationSource"]!.GetValue<string>().Should().Be("program");

        string mine = WriteLeakyConfiguration(_dir.Path);
        var fromVariable = DonjonProcess.Run(["platform", "info", "--json"], _dir.Path, new Dictionary<string, string> { ["DONJON_CONFIG"] = mine }, timeout: Deadline);
        fromVariable.ExitCode.Should().Be(0, fromVariable.Stderr);
        JsonNode chosen = JsonNode.Parse(fromVariable.Stdout)!;
        chosen["configuration"]!.GetValue<string>().Should().Be(mine);
        chosen["configurationSource"]!.GetValue<string>().Should().Be("environment");
    }

    [Fact]
    public void The_search_order_is_option_variable_program_folder_then_etc_and_never_the_current_directory()
    {
        string program = Path.Combine(_dir.Path, "opt", "donjon", "bin");
        Directory.CreateDirectory(program);
        string system = Path.Combine(_dir.Path, "etc-donjon-plugins.json");

        ConfigurationLocator.Locate("given.json", "from-env.json", program, system)
            .Should().Be(new ConfigurationLocation(Path.GetFullPath("given.json"), ConfigurationSource.Option));
        ConfigurationLocator.Locate(null, "from-env.json", program, system)
            .Should().Be(new ConfigurationLocation(Path.GetFullPath("from-env.json"), ConfigurationSource.EnvironmentVariable));

        // Nothing above the program: the system's file (the current directory is not an input of the search).
        ConfigurationLocator.Locate(null, null, program, system).Should().Be(new ConfigurationLocation(system, ConfigurationSource.System));

        string nearest = _dir.Write("opt/plugins.json", "{}");
        ConfigurationLocator.Locate(null, null, program, system).Should().Be(new ConfigurationLocation(nearest, ConfigurationSource.BesideProgram));
        string nearer = _dir.Write("opt/donjon/plugins.json", "{}");
        ConfigurationLocator.Locate(null, "", program, system).Should().Be(new ConfigurationLocation(nearer, ConfigurationSource.BesideProgram));
    }

    [Theory]
    [InlineData("run")]
    [InlineData("inspect")]
    [InlineData("measure")]
    public void A_fifo_named_as_the_workload_is_refused_at_once(string command)
    {
        string fifo = MakeFifo(Path.Combine(_dir.Path, "fifo"));
        var result = DonjonProcess.Run([command, fifo], timeout: Deadline);
        result.ExitCode.Should().Be(126, result.Stderr);
        result.Stderr.Should().Contain($"donjon: {fifo}: is a FIFO, not a regular file. Give the path of a static-PIE x86-64 executable.");
    }

    [Fact]
    public void A_socket_or_a_device_named_as_the_workload_is_refused()
    {
        string socketPath = Path.Combine(_dir.Path, "socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));

        var onSocket = DonjonProcess.Run(["run", socketPath], timeout: Deadline);
        onSocket.ExitCode.Should().Be(126, onSocket.Stderr);
        onSocket.Stderr.Should().Contain($"donjon: {socketPath}: is a socket, not a regular file.");

        var onDevice = DonjonProcess.Run(["run", "/dev/zero"], timeout: Deadline);
        onDevice.ExitCode.Should().Be(126, onDevice.Stderr);
        onDevice.Stderr.Should().Contain("donjon: /dev/zero: is a character device, not a regular file.");
    }

    [Fact]
    public void A_fifo_named_as_the_configuration_is_refused_with_125()
    {
        string fifo = MakeFifo(Path.Combine(_dir.Path, "plugins.json"));
        var result = DonjonProcess.Run(["plugins", "--config", fifo], timeout: Deadline);
        result.ExitCode.Should().Be(125, result.Stderr);
        result.Stderr.Should().Contain($"{fifo}: (file): the configuration file is a FIFO, not a regular file");
        result.Stderr.Should().Contain("Point --config or DONJON_CONFIG at a regular JSON file");
    }

    [Fact]
    public void A_fifo_named_as_a_plugin_is_refused_with_125_naming_the_entry()
    {
        string fifo = MakeFifo(Path.Combine(_dir.Path, "Plugin.dll"));
        string config = _dir.Write("config.json", """{ "plugins": [ { "path": "Plugin.dll" } ], "backendOrder": [] }""");
        var result = DonjonProcess.Run(["plugins", "--config", config], timeout: Deadline);
        result.ExitCode.Should().Be(125, result.Stderr);
        result.Stderr.Should().Contain($"$.plugins[0].path: plugin assembly 'Plugin.dll' (resolved to {fifo}) is a FIFO, not a regular file");
    }

    [Fact]
    public async Task Reading_a_fifo_fails_at_once_with_what_it_is()
    {
        string fifo = MakeFifo(Path.Combine(_dir.Path, "fifo"));
        Task<byte[]> read = Task.Run(() => RegularFile.ReadAll(fifo, 1024));
        (await FluentActions.Awaiting(() => read.WaitAsync(TimeSpan.FromSeconds(5))).Should().ThrowAsync<NotARegularFileException>())
            .Which.Problem.Should().Be("is a FIFO, not a regular file");
        RegularFile.KindOf(fifo).Should().Be(FileKind.Fifo);
        RegularFile.KindOf(Path.Combine(_dir.Path, "missing")).Should().BeNull();

        string file = _dir.Write("file", "contents");
        RegularFile.ReadAll(file, 1024).Should().Equal("contents"u8.ToArray());
        FluentActions.Invoking(() => RegularFile.ReadAll(file, 3)).Should().Throw<FileTooLargeException>().Which.Size.Should().Be(8);
    }
}
