using System.Text.Json;
using Donjon.Tests.Support;

namespace Donjon.Tests.Cli;

/// <summary>The donjon command end to end, as a child process: exit statuses and messages.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Version_prints_the_version()
    {
        var result = DonjonProcess.Run(["--version"]);
        result.ExitCode.Should().Be(0);
        result.Stdout.Trim().Should().MatchRegex(@"^\d+\.\d+\.\d+");
    }

    [Theory]
    [InlineData("run")]
    [InlineData("inspect")]
    [InlineData("plugins")]
    [InlineData("platform")]
    [InlineData("platform info")]
    public void Every_command_has_help(string command)
    {
        var result = DonjonProcess.Run([.. command.Split(' '), "--help"]);
        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("Usage:");
    }

    [Fact]
    public void Unknown_option_is_a_usage_error()
    {
        var result = DonjonProcess.Run(["platform", "info", "--frobnicate"]);
        result.ExitCode.Should().Be(125);
        result.Stderr.Should().Contain("--frobnicate");
        result.Stdout.Should().BeEmpty();
    }

    [Theory]
    [InlineData("run --bakend vm ./hello", "donjon: unknown option '--bakend' for 'donjon run'; did you mean '--backend'?\nTry 'donjon run --help'.\n")]
    [InlineData("run --log-levl info ./hello", "donjon: unknown option '--log-levl' for 'donjon run'; did you mean '--log-level'?\nTry 'donjon run --help'.\n")]
    [InlineData("run --verbose ./hello", "donjon: unknown option '--verbose' for 'donjon run'. Its options: --backend, --env, --mount, --libraries, --manifest, --tmp, --publish, --allow-connect, --seed, --strace, --help, --config, --log-level, --log-timestamps\nTry 'donjon run --help'.\n")]
    [InlineData("rnu ./hello", "donjon: unknown command 'rnu'; did you mean 'run'?\nTry 'donjon --help'.\n")]
    [InlineData("inspekt ./hello", "donjon: unknown command 'inspekt'; did you mean 'inspect'?\nTry 'donjon --help'.\n")]
    [InlineData("frobnicate", "donjon: unknown command 'frobnicate'. The commands: run, inspect, plugins, measure, platform\nTry 'donjon --help'.\n")]
    [InlineData("platform inf", "donjon: unknown command 'inf' for 'donjon platform'; did you mean 'info'?\nTry 'donjon platform --help'.\n")]
    [InlineData("platform info --jsn", "donjon: unknown option '--jsn' for 'donjon platform info'; did you mean '--json'?\nTry 'donjon platform info --help'.\n")]
    [InlineData("run --seed abc ./hello", "donjon: --seed expects a non-negative integer (0 to 18446744073709551615), got 'abc'\nTry 'donjon run --help'.\n")]
    [InlineData("run --seed -1 ./hello", "donjon: --seed expects a non-negative integer (0 to 18446744073709551615), got '-1'\nTry 'donjon run --help'.\n")]
    [InlineData("inspect", "donjon: 'donjon inspect' needs its <elf> argument: The binary (an ELF program or a WebAssembly module) to inspect\nTry 'donjon inspect --help'.\n")]
    public void A_usage_error_names_the_token_that_made_it(string line, string expected)
    {
        var result = DonjonProcess.Run(line.Split(' '));
        result.ExitCode.Should().Be(125);
        result.Stderr.Should().Be(expected);
        result.Stdout.Should().BeEmpty();
    }

    [Fact]
    public void Donjon_without_a_command_prints_the_short_usage()
    {
        var result = DonjonProcess.Run([]);
        result.ExitCode.Should().Be(125);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().StartWith("Usage: donjon <command> [options]\n\nCommands:\n  run       Run a program inside a keep.\n");
        result.Stderr.Should().Contain("\n  platform  Facts about this machine.\n").And.EndWith("Run 'donjon <command> --help' for a command's options.\n");
        result.Stderr.Should().NotContain("Required command");
    }

    [Fact]
    public void Options_after_the_program_path_are_the_programs()
    {
        string program = Workloads.WorkloadBuilder.Build(Workloads.Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["run", "--seed=7", program, "--verbose", "--bakend"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Contain("argv[1] = --verbose\n").And.Contain("argv[2] = --bakend\n");
    }

    [Fact]
    public void Platform_info_shows_the_hardware_backends_unavailable_with_remedies()
    {
        var result = DonjonProcess.Run(["platform", "info"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        bool sgxHardware = File.Exists("/dev/sgx_enclave");
        bool sevHardware = File.Exists("/dev/sev");
        if (!sgxHardware)
        {
            result.Stdout.Should().Contain("\nsgx: unavailable").And.MatchRegex(@"\n  sgx +unavailable  process, confidential: \d+ checks? failed\n");
        }

        if (!sevHardware)
        {
            result.Stdout.Should().Contain("\nsev: unavailable").And.MatchRegex(@"\n  sev +unavailable  virtual machine, confidential: \d+ checks? failed\n");
        }

        result.Stdout.Should().Contain("remedy: ");
        result.Stdout.Should().Contain("[FAILED]");
    }

    [Fact]
    public void Platform_info_starts_with_a_summary_and_the_backend_run_uses_then_the_available_trees()
    {
        var json = DonjonProcess.Run(["platform", "info", "--json"]);
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        var backends = doc.RootElement.GetProperty("backends").EnumerateArray()
            .Select(b => (Name: b.GetProperty("name").GetString()!, Available: b.GetProperty("available").GetBoolean())).ToList();
        string? runUses = doc.RootElement.GetProperty("runUses").GetString();
        runUses.Should().Be(backends.FirstOrDefault(b => b.Available).Name);

        var result = DonjonProcess.Run(["platform", "info"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        string[] lines = result.Stdout.Split('\n');
        int summary = Array.IndexOf(lines, "backends:");
        summary.Should().Be(3, result.Stdout);
        for (int i = 0; i < backends.Count; i++)
        {
            lines[summary + 1 + i].Should().MatchRegex($@"^  {backends[i].Name} +{(backends[i].Available ? "available " : "unavailable")}  ");
        }

        lines[summary + 1 + backends.Count].Should().Be(runUses is null
            ? "run uses: none (no backend can run here; see the remedies below)"
            : $"run uses: {runUses} (the first available in backendOrder; or run --backend NAME)");

        // The trees: the available backends first, in the admin's order.
        var treeOrder = lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^[a-z0-9-]+: (available|unavailable) \(")).Select(l => l[..l.IndexOf(':')]).ToList();
        treeOrder.Should().Equal(backends.Where(b => b.Available).Concat(backends.Where(b => !b.Available)).Select(b => b.Name));
    }

    [Fact]
    public void Platform_info_gives_each_remedy_once_and_wraps_at_80_columns_when_redirected()
    {
        var json = DonjonProcess.Run(["platform", "info", "--json"]);
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        var remedies = new List<string>();
        void Collect(JsonElement probe)
        {
            if (probe.GetProperty("remedy").GetString() is { } remedy)
            {
                remedies.Add(remedy);
            }

            foreach (JsonElement child in probe.GetProperty("children").EnumerateArray())
            {
                Collect(child);
            }
        }

        foreach (JsonElement backend in doc.RootElement.GetProperty("backends").EnumerateArray())
        {
            Collect(backend.GetProperty("platform"));
            Collect(backend.GetProperty("configuration"));
        }

        var result = DonjonProcess.Run(["platform", "info"]);
        result.Stdout.Split('\n').Should().OnlyContain(l => l.Length <= 80);
        result.Stdout.Should().NotContain("\u001b").And.NotContain("✔").And.NotContain("✘");
        string flat = System.Text.RegularExpressions.Regex.Replace(result.Stdout.Replace("│", " ").Replace("├─", " ").Replace("└─", " "), @"\s+", " ");
        remedies.Should().HaveCountGreaterThan(remedies.Distinct().Count(), "this machine's probes repeat a remedy (the SGX/SEV trees do without their hardware)");
        foreach (string remedy in remedies.Distinct())
        {
            string normalised = System.Text.RegularExpressions.Regex.Replace(remedy, @"\s+", " ");
            System.Text.RegularExpressions.Regex.Count(flat, System.Text.RegularExpressions.Regex.Escape("remedy: " + normalised)).Should().Be(1, normalised);
        }

        flat.Should().Contain("remedy: as for '");
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", false)]
    public void Platform_info_on_a_terminal_uses_marks_and_colour_unless_NO_COLOR_is_set(string? noColor, bool fancy)
    {
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key is not ("NO_COLOR" or "DONJON_CONFIG" or "DONJON_LOG_LEVEL"))
            .ToDictionary(e => (string)e.Key, e => (string)e.Value!);
        if (noColor is not null)
        {
            environment["NO_COLOR"] = noColor;
        }

        var result = ChildProcess.Run("script", ["-qec", $"dotnet {DonjonProcess.HostAssembly} platform info", "/dev/null"], environment);
        result.ExitCode.Should().Be(0, result.Stderr);
        if (fancy)
        {
            result.StdoutText.Should().Contain("\u001b[32m✔\u001b[0m").And.NotContain("[ok]");
        }
        else
        {
            result.StdoutText.Should().Contain("[ok]").And.NotContain("✔").And.NotContain("\u001b[3");
        }
    }

    [Fact]
    public void Platform_info_json_has_the_documented_shape()
    {
        var result = DonjonProcess.Run(["platform", "info", "--json"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        JsonElement root = doc.RootElement;
        root.GetProperty("schemaVersion").GetInt32().Should().Be(1);
        root.GetProperty("contractVersion").GetString().Should().Be("1.0");
        root.GetProperty("runUses").ValueKind.Should().BeOneOf(JsonValueKind.String, JsonValueKind.Null);
        var backends = root.GetProperty("backends").EnumerateArray().ToList();
        backends.Select(b => b.GetProperty("name").GetString()).Should().Contain(["sgx", "sev"]);
        foreach (JsonElement backend in backends)
        {
            backend.GetProperty("available").ValueKind.Should().BeOneOf(JsonValueKind.True, JsonValueKind.False);
            backend.GetProperty("shape").GetString().Should().BeOneOf("process", "virtual-machine");
            backend.GetProperty("confidential").ValueKind.Should().BeOneOf(JsonValueKind.True, JsonValueKind.False);
            AssertProbe(backend.GetProperty("platform"));
            AssertProbe(backend.GetProperty("configuration"));
        }

        JsonElement sgx = backends.Single(b => b.GetProperty("name").GetString() == "sgx");
        if (!File.Exists("/dev/sgx_enclave"))
        {
            sgx.GetProperty("available").GetBoolean().Should().BeFalse();
            sgx.GetProperty("platform").GetProperty("outcome").GetString().Should().Be("failed");
        }
    }

    private static void AssertProbe(JsonElement probe)
    {
        probe.GetProperty("name").GetString().Should().NotBeNullOrWhiteSpace();
        string outcome = probe.GetProperty("outcome").GetString()!;
        outcome.Should().BeOneOf("passed", "failed", "info");
        probe.GetProperty("detail").ValueKind.Should().Be(JsonValueKind.String);
        JsonElement remedy = probe.GetProperty("remedy");
        if (outcome == "failed")
        {
            remedy.GetString().Should().NotBeNullOrWhiteSpace();
        }

        foreach (JsonElement child in probe.GetProperty("children").EnumerateArray())
        {
            AssertProbe(child);
        }
    }

    [Fact]
    public void Plugins_lists_each_plugin_with_versions_and_what_it_provides()
    {
        var result = DonjonProcess.Run(["plugins", "--json"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        var plugins = doc.RootElement.GetProperty("plugins").EnumerateArray().ToList();
        plugins.Should().Contain(p => p.GetProperty("assembly").GetString() == "Donjon.Backends.Sgx");
        foreach (JsonElement plugin in plugins)
        {
            File.Exists(plugin.GetProperty("path").GetString()).Should().BeTrue();
            plugin.GetProperty("contractVersion").GetString().Should().Be("1.0");
        }

        JsonElement core = plugins.SelectMany(p => p.GetProperty("syscallSets").EnumerateArray()).Single(s => s.GetProperty("name").GetString() == "core");
        core.GetProperty("syscalls").EnumerateArray().Should().Contain(s => s.GetProperty("name").GetString() == "write" && s.GetProperty("number").GetInt32() == 1);

        var text = DonjonProcess.Run(["plugins"]);
        text.ExitCode.Should().Be(0);
        text.Stdout.Should().Contain("backend: sgx").And.Contain("syscall set: core").And.Contain("built against contract: 1.0");
    }

    [Fact]
    public void Run_of_a_dynamic_binary_without_its_interpreter_granted_exits_126_naming_the_grant()
    {
        var result = DonjonProcess.Run(["run", "/bin/ls"]);
        result.ExitCode.Should().Be(126);
        result.Stderr.Should().Contain("/lib64/ld-linux-x86-64.so.2 (PT_INTERP) is not granted to the keep").And.Contain("--libraries system");
        result.Stdout.Should().BeEmpty();
    }

    [Fact]
    public void Run_of_a_text_file_exits_126_saying_it_is_not_elf()
    {
        string text = _dir.Write("notes.txt", "hello, I am text\n");
        var result = DonjonProcess.Run(["run", text]);
        result.ExitCode.Should().Be(126);
        result.Stderr.Should().Contain("not an ELF file");
    }

    [Fact]
    public void Run_of_a_missing_path_exits_127()
    {
        var result = DonjonProcess.Run(["run", "/no/such/program", "arg"]);
        result.ExitCode.Should().Be(127);
        result.Stderr.Should().Contain("/no/such/program").And.Contain("no such file");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Run_of_a_bare_name_finds_it_on_PATH_and_passes_the_name_as_argv0()
    {
        string program = Workloads.WorkloadBuilder.Build(Workloads.Workload.GlibcStaticPieHello);
        string first = Directory.CreateDirectory(System.IO.Path.Combine(_dir.Path, "first")).FullName;
        string second = Directory.CreateDirectory(System.IO.Path.Combine(_dir.Path, "second")).FullName;
        // A file that is not executable is passed over, as a shell does; the next folder's program runs.
        File.WriteAllText(System.IO.Path.Combine(first, "donjon-hello"), "not a program");
        File.Copy(program, System.IO.Path.Combine(second, "donjon-hello"));
        File.SetUnixFileMode(System.IO.Path.Combine(second, "donjon-hello"), UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var result = DonjonProcess.Run(["run", "--backend", "process", "donjon-hello", "one"], environment: new Dictionary<string, string> { ["PATH"] = $"{first}:{second}:/usr/bin:/bin" });
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hello from donjon-hello\nargv[1] = one\n");
    }

    [Fact]
    public void Run_of_a_bare_name_not_on_PATH_exits_127_saying_where_it_looked()
    {
        var result = DonjonProcess.Run(["run", "no-such-program"], environment: new Dictionary<string, string> { ["PATH"] = $"{_dir.Path}:/no/such/folder" });
        result.ExitCode.Should().Be(127);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().Be(
            $"donjon: no-such-program: not found on PATH (looked in {_dir.Path}, /no/such/folder). Give its path to run a file that is not on PATH, for example ./no-such-program.\n");
    }

    [Fact]
    public void A_name_with_a_slash_is_a_path_and_is_not_looked_up_on_PATH()
    {
        var result = DonjonProcess.Run(["run", "./ls"], workingDirectory: _dir.Path);
        result.ExitCode.Should().Be(127);
        result.Stderr.Should().StartWith("donjon: ./ls: no such file.");
    }

    [Fact]
    public void Run_of_a_directory_exits_126()
    {
        var result = DonjonProcess.Run(["run", _dir.Path]);
        result.ExitCode.Should().Be(126);
        result.Stderr.Should().Contain("is a directory");
    }

    [Fact]
    public void Run_with_a_config_that_has_a_syntax_error_exits_125_naming_the_line()
    {
        string config = _dir.Write("plugins.json", "{\n  \"plugins\": [],\n  \"backendOrder\": [\n}\n");
        var result = DonjonProcess.Run(["run", "--config", config, "/bin/ls"]);
        result.ExitCode.Should().Be(125);
        result.Stderr.Should().Contain(config).And.Contain("line 4, column");
    }

    [Fact]
    public void Config_is_also_taken_from_DONJON_CONFIG()
    {
        string config = _dir.Write("plugins.json", "{ \"plugins\": [], \"backendOrder\": [], \"extra\": 1 }");
        var result = DonjonProcess.Run(["plugins"], environment: new Dictionary<string, string> { ["DONJON_CONFIG"] = config });
        result.ExitCode.Should().Be(125);
        result.Stderr.Should().Contain("$.extra: unknown key 'extra'");
    }

    [Fact]
    public void Run_with_an_unknown_backend_is_a_usage_error()
    {
        var result = DonjonProcess.Run(["run", "--backend", "warp-drive", "/bin/ls"]);
        result.ExitCode.Should().Be(125);
        result.Stderr.Should().Contain("'warp-drive'").And.Contain("sgx");
    }

    [Fact]
    public void Run_on_an_unavailable_hardware_backend_lists_why()
    {
        if (File.Exists("/dev/sgx_enclave"))
        {
            return;
        }

        string program = Workloads.WorkloadBuilder.Build(Workloads.Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["run", "--backend", "sgx", program]);
        result.ExitCode.Should().Be(125);
        result.Stderr.Should().Contain("backend 'sgx' is unavailable").And.Contain("remedy:");
    }

    [Fact]
    public void Inspect_prints_the_same_sha256_as_sha256sum()
    {
        string program = Workloads.WorkloadBuilder.Build(Workloads.Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["inspect", program]);
        result.ExitCode.Should().Be(0, result.Stderr);
        string expected = Sha256Sum(program);
        result.Stdout.Should().Contain($"sha256:         {expected}");
        result.Stdout.Should().Contain("ET_DYN").And.Contain("PT_GNU_STACK").And.Contain("PT_TLS").And.Contain("verdict:        runnable");

        var json = DonjonProcess.Run(["inspect", "--json", program]);
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        doc.RootElement.GetProperty("sha256").GetString().Should().Be(expected);
        doc.RootElement.GetProperty("runnable").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public void Inspect_of_a_dynamic_binary_names_its_interpreter_and_libraries()
    {
        var result = DonjonProcess.Run(["inspect", "/bin/ls"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Contain("/lib64/ld-linux-x86-64.so.2").And.Contain("libc.so.6").And.Contain("runnable");
    }

    private static string Sha256Sum(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("sha256sum", [path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output.Split(' ')[0];
    }
}
