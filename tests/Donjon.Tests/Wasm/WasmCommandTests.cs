using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Wasm;

/// <summary><c>donjon inspect</c>, <c>run</c> and <c>measure</c> of WebAssembly files, end to end as a child process.</summary>
public sealed class WasmCommandTests
{
    /// <summary>The 8-byte preamble of a component (component model: version 0x0d, layer 1).</summary>
    private static readonly byte[] ComponentPreamble = [0x00, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00];

    [Fact]
    public void Inspect_recognises_a_command_module_by_magic_and_version()
    {
        string hello = WasmModules.Build("hello");
        var text = DonjonProcess.Run(["inspect", hello]);
        var json = DonjonProcess.Run(["inspect", "--json", hello]);

        text.ExitCode.Should().Be(0, text.Stderr);
        text.Stdout.Should().Contain("WebAssembly module (binary version 1)").And.Contain("exports:        _start").And.Contain("verdict:        runnable");
        json.ExitCode.Should().Be(0, json.Stderr);
        using JsonDocument document = JsonDocument.Parse(json.Stdout);
        JsonElement root = document.RootElement;
        root.GetProperty("format").GetString().Should().Be("wasm");
        root.GetProperty("kind").GetString().Should().Be("module");
        root.GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(hello))));
        root.GetProperty("runnable").GetBoolean().Should().BeTrue();
        root.GetProperty("imports").EnumerateArray().Should().NotBeEmpty()
            .And.OnlyContain(i => i.GetProperty("module").GetString() == "wasi_snapshot_preview1" && i.GetProperty("kind").GetString() == "function");
    }

    [Fact]
    public void A_component_is_126_with_the_reason_for_inspect_run_and_measure()
    {
        using var directory = new TempDirectory();
        string component = Path.Combine(directory.Path, "app.wasm");
        File.WriteAllBytes(component, [.. ComponentPreamble, 0x00, 0x00]);

        var inspect = DonjonProcess.Run(["inspect", component]);
        var run = DonjonProcess.Run(["run", component]);
        var measure = DonjonProcess.Run(["measure", "--backend", "process", component]);

        inspect.ExitCode.Should().Be(126);
        inspect.Stdout.Should().Contain("WebAssembly component");
        run.ExitCode.Should().Be(126);
        run.Stderr.Should().Contain($"{component}: cannot be run: a WebAssembly component").And.Contain("wasm32-wasi");
        run.Stdout.Should().BeEmpty();
        measure.ExitCode.Should().Be(126);
        measure.Stderr.Should().Contain("cannot be measured: a WebAssembly component");
    }

    [Fact]
    public void A_module_with_an_import_that_is_not_wasi_preview1_is_126_naming_the_import()
    {
        using var directory = new TempDirectory();
        string source = directory.Write("foreign.c", "extern int host_clock_of_another_world(int);\nint main(void) { return host_clock_of_another_world(3); }\n");
        string module = Path.Combine(directory.Path, "foreign.wasm");
        ToolRunner.RunChecked("clang", "--target=wasm32-wasi", "-O2", "-Wl,--allow-undefined", "-o", module, source);

        var run = DonjonProcess.Run(["run", module]);
        var native = WasmModules.RunNatively(module, "foreign.wasm", [], new Dictionary<string, string>());

        run.ExitCode.Should().Be(126);
        run.Stderr.Should().Contain("cannot be run: it imports function env::host_clock_of_another_world, which is not WASI preview 1");
        native.ExitCode.Should().Be(126, "the launcher refuses it too, before linking");
        native.Stderr.Should().Contain("env::host_clock_of_another_world");
    }

    [Fact]
    public void A_reactor_module_is_126_since_only_commands_run()
    {
        using var directory = new TempDirectory();
        string source = directory.Write("reactor.c", "__attribute__((export_name(\"add\"))) int add(int a, int b) { return a + b; }\n");
        string module = Path.Combine(directory.Path, "reactor.wasm");
        ToolRunner.RunChecked("clang", "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-o", module, source);

        var run = DonjonProcess.Run(["run", module]);

        run.ExitCode.Should().Be(126);
        run.Stderr.Should().Contain("cannot be run: a reactor module (it exports _initialize, not _start)");
    }

    [Fact]
    public void Without_an_exec_layer_in_the_configuration_a_module_is_126_saying_what_to_add()
    {
        using var directory = new TempDirectory();
        string config = WriteConfiguration(directory, exec: null);

        var run = DonjonProcess.Run(["run", "--config", config, WasmModules.Build("hello")]);

        run.ExitCode.Should().Be(126);
        run.Stderr.Should().Contain("names no exec layer for it; add \"exec\": { \"wasm\": \"plugins/exec/wasm/bin/donjon-wasm\" }");
    }

    [Fact]
    public void Measure_binds_the_modules_sha256_and_changes_with_one_byte_of_the_module()
    {
        // The measured configuration is the exec layer's keep image with the module's digest in its configuration page.
        // A static-PIE program stands in for the launcher here, so that the binding is measured on every branch: the
        // real launcher is a dynamic program (docs/wasm.md, "Status").
        using var directory = new TempDirectory();
        string standIn = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        string config = WriteConfiguration(directory, exec: standIn);
        string original = WasmModules.CopyTo("hello", directory.Path);
        string changed = Path.Combine(directory.Path, "hello-changed.wasm");
        byte[] bytes = File.ReadAllBytes(original);
        bytes[^1] ^= 0x01;      // the last byte: a character of the last custom section's contents
        File.WriteAllBytes(changed, bytes);

        JsonElement first = Measure(config, original);
        JsonElement again = Measure(config, original);
        JsonElement other = Measure(config, changed);

        first.GetProperty("module").GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(original))));
        first.GetProperty("module").GetProperty("boundAt").GetString().Should().Be("configuration page offset 0x20");
        other.GetProperty("module").GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        first.GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(standIn))), "the measured workload is the exec layer");
        again.GetProperty("measurement").GetString().Should().Be(first.GetProperty("measurement").GetString(), "the same module measures the same");
        other.GetProperty("measurement").GetString().Should().NotBe(first.GetProperty("measurement").GetString(), "one byte of the module changes the measurement");

        // And a program's own measurement has no module (its page's digest is zero).
        var program = DonjonProcess.Run(["measure", "--json", "--backend", "process", "--config", config, standIn]);
        program.ExitCode.Should().Be(0, program.Stderr);
        using JsonDocument document = JsonDocument.Parse(program.Stdout);
        document.RootElement.GetProperty("module").ValueKind.Should().Be(JsonValueKind.Null);
        document.RootElement.GetProperty("measurement").GetString().Should().NotBe(first.GetProperty("measurement").GetString());
    }

    [Theory]
    [InlineData("process")]
    [InlineData("sgx")]
    public void Measure_of_a_module_measures_the_real_exec_layer_with_the_module_bound(string backend)
    {
        using var directory = new TempDirectory();
        string original = WasmModules.CopyTo("exit3", directory.Path);
        string changed = Path.Combine(directory.Path, "exit3-changed.wasm");
        byte[] bytes = File.ReadAllBytes(original);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(changed, bytes);

        JsonElement first = Measure(null, original, backend);
        JsonElement other = Measure(null, changed, backend);
        var text = DonjonProcess.Run(["measure", "--backend", backend, original]);

        first.GetProperty("file").GetString().Should().Be(WasmModules.Launcher);
        first.GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(WasmModules.Launcher))));
        first.GetProperty("module").GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(original))));
        other.GetProperty("measurement").GetString().Should().NotBe(first.GetProperty("measurement").GetString());
        text.ExitCode.Should().Be(0, text.Stderr);
        text.Stdout.Should().Contain($"module sha256: {first.GetProperty("module").GetProperty("sha256").GetString()} (in the measured configuration page)\n")
            .And.Contain($"measurement: {first.GetProperty("measurement").GetString()}\n");
    }

    private static JsonElement Measure(string? config, string module, string backend = "process")
    {
        var result = DonjonProcess.Run(["measure", "--json", "--backend", backend, .. (config is null ? Array.Empty<string>() : ["--config", config]), module]);
        result.ExitCode.Should().Be(0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    /// <summary>The repository's plugins.json in <paramref name="directory"/>, its paths made absolute, with <c>exec.wasm</c> set to <paramref name="exec"/> (or no <c>exec</c>).</summary>
    internal static string WriteConfiguration(TempDirectory directory, string? exec)
    {
        JsonNode document = JsonNode.Parse(File.ReadAllText(Repository.PathOf("plugins.json")))!;
        document.AsObject().Remove("$schema");
        foreach (JsonNode? plugin in document["plugins"]!.AsArray())
        {
            plugin!["path"] = Repository.PathOf(plugin["path"]!.GetValue<string>());
        }

        document.AsObject().Remove("exec");
        if (exec is not null)
        {
            document["exec"] = new JsonObject { ["wasm"] = exec };
        }

        return directory.Write("plugins.json", document.ToJsonString());
    }
}
