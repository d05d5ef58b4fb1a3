using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Measurement;

/// <summary><c>donjon measure</c> end to end, as a child process, with the repository's plugins.json.</summary>
public sealed class MeasureCommandTests
{
    [Theory]
    [InlineData("sgx", 64, "sgx-mrenclave")]
    [InlineData("sev", 96, "sev-snp-launch-digest")]
    [InlineData("process", 96, "donjon-keep-image")]
    public void Measure_prints_the_backends_value_and_the_workloads_sha256(string backend, int digits, string algorithm)
    {
        string hello = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["measure", "--backend", backend, hello]);

        result.ExitCode.Should().Be(0, result.Stderr);
        Field(result.Stdout, "measurement").Should().MatchRegex($"^[0-9a-f]{{{digits}}}$");
        Field(result.Stdout, "sha256").Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(hello))));
        Field(result.Stdout, "backend").Should().Be(backend);
        Field(result.Stdout, "algorithm").Should().Be(algorithm);
        Field(result.Stdout, "layout seed").Should().Be("0");
        result.Stdout.Should().Contain("workload segment 0");

        DonjonProcess.Run(["measure", "--backend", backend, hello]).Stdout.Should().Be(result.Stdout, "the same binary measures the same");
    }

    [Fact]
    public void The_measurement_does_not_depend_on_how_many_cores_the_host_has()
    {
        string hi = WorkloadBuilder.Build(Workload.AssemblyStaticPieHi);
        var one = DonjonProcess.Run(["measure", "--backend", "process", hi], environment: new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "1" });
        var six = DonjonProcess.Run(["measure", "--backend", "process", hi], environment: new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "6" });

        one.ExitCode.Should().Be(0, one.Stderr);
        six.ExitCode.Should().Be(0, six.Stderr);
        Field(six.Stdout, "measurement").Should().Be(Field(one.Stdout, "measurement"), "the default vCPU count is a constant, not the host's cores");
    }

    [Fact]
    public void Json_output_carries_the_measurement_its_regions_and_notes()
    {
        string hi = WorkloadBuilder.Build(Workload.AssemblyStaticPieHi);
        var result = DonjonProcess.Run(["measure", "--json", "--backend", "sgx", hi]);

        result.ExitCode.Should().Be(0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        root.GetProperty("schemaVersion").GetInt32().Should().Be(1);
        root.GetProperty("backend").GetString().Should().Be("sgx");
        root.GetProperty("algorithm").GetString().Should().Be("sgx-mrenclave");
        root.GetProperty("measurement").GetString().Should().MatchRegex("^[0-9a-f]{64}$");
        root.GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(hi))));
        root.GetProperty("layoutSeed").GetUInt64().Should().Be(0);
        List<JsonElement> regions = root.GetProperty("regions").EnumerateArray().ToList();
        regions[0].GetProperty("name").GetString().Should().Be("TCS");
        regions[0].GetProperty("kind").GetString().Should().Be("tcs");
        regions.Should().Contain(r => r.GetProperty("name").GetString() == "heap" && r.GetProperty("kind").GetString() == "unmeasured");
        root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()).Should().Contain(n => n!.StartsWith("shim: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Json_output_lists_the_policys_pinned_files_and_nothing_else_of_the_policy()
    {
        using var dir = new TempDirectory();
        string pinned = dir.Write("ca.pem", "a certificate\n");
        string digest = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(pinned)));
        string sgx = Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll");
        string core = Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll");
        string files = Repository.PathOf("plugins/syscalls/files/bin/Donjon.Syscalls.Files.dll");
        string net = Repository.PathOf("plugins/syscalls/net/bin/Donjon.Syscalls.Net.dll");
        string config = dir.Write("plugins.json", $$"""
            { "plugins": [ { "path": "{{sgx}}" }, { "path": "{{core}}" }, { "path": "{{files}}" }, { "path": "{{net}}" } ], "backendOrder": ["sgx"],
              "policy": { "files": [ { "path": "{{dir.Path}}", "access": "read" }, { "host": "{{pinned}}", "keep": "/etc/ca.pem", "access": "read", "sha256": "{{digest}}" } ] } }
            """);
        string hi = WorkloadBuilder.Build(Workload.AssemblyStaticPieHi);
        var result = DonjonProcess.Run(["measure", "--json", "--config", config, hi]);

        result.ExitCode.Should().Be(0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement file = document.RootElement.GetProperty("pinnedFiles").EnumerateArray().Should().ContainSingle().Which;
        file.GetProperty("host").GetString().Should().Be(pinned);
        file.GetProperty("keep").GetString().Should().Be("/etc/ca.pem");
        file.GetProperty("sha256").GetString().Should().Be(digest);

        var plain = DonjonProcess.Run(["measure", "--json", "--backend", "sgx", hi]);
        using JsonDocument none = JsonDocument.Parse(plain.Stdout);
        none.RootElement.GetProperty("pinnedFiles").GetArrayLength().Should().Be(0);
        none.RootElement.GetProperty("measurement").GetString().Should().Be(document.RootElement.GetProperty("measurement").GetString(), "the policy is not measured (the same handler sets are loaded)");
    }

    [Fact]
    public void Without_backend_the_first_measuring_backend_of_the_admins_order_is_used()
    {
        var result = DonjonProcess.Run(["measure", WorkloadBuilder.Build(Workload.AssemblyStaticPieHi)]);

        result.ExitCode.Should().Be(0, result.Stderr);
        Field(result.Stdout, "backend").Should().Be("sev", "plugins.json orders sev, sgx, process");
        Field(result.Stdout, "measurement").Should().MatchRegex("^[0-9a-f]{96}$");
    }

    [Fact]
    public void A_missing_file_is_127_a_program_that_cannot_run_is_126_and_an_unknown_backend_is_125()
    {
        var missing = DonjonProcess.Run(["measure", "--backend", "sgx", "/no/such/program"]);
        missing.ExitCode.Should().Be(127);
        missing.Stderr.Should().Contain("no such file");
        missing.Stdout.Should().BeEmpty();

        var dynamic = DonjonProcess.Run(["measure", "--backend", "sgx", WorkloadBuilder.Build(Workload.GlibcDynamicHello)]);
        dynamic.ExitCode.Should().Be(126);
        dynamic.Stderr.Should().Contain("cannot be measured: its interpreter /lib64/ld-linux-x86-64.so.2 (PT_INTERP) is not granted to the keep");

        var unknown = DonjonProcess.Run(["measure", "--backend", "nosuch", WorkloadBuilder.Build(Workload.AssemblyStaticPieHi)]);
        unknown.ExitCode.Should().Be(125);
        unknown.Stderr.Should().Contain("--backend 'nosuch': no such backend");
    }

    [Fact]
    public void Measure_has_help()
    {
        var result = DonjonProcess.Run(["measure", "--help"]);
        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("Usage:").And.Contain("--backend").And.Contain("--json");
    }

    private static string Field(string output, string name)
    {
        Match match = Regex.Match(output, $"^{Regex.Escape(name)}:\\s+(\\S+)$", RegexOptions.Multiline | RegexOptions.CultureInvariant);
        match.Success.Should().BeTrue($"the output has a '{name}:' line:\n{output}");
        return match.Groups[1].Value;
    }
}
