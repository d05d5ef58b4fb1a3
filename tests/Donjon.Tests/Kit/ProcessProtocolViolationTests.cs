using Donjon.Conformance;
using Donjon.Tests.Support;

namespace Donjon.Tests.Kit;

/// <summary>
/// The process backend passes the conformance suite's protocol-violation checks (<see cref="ProtocolViolationSuite"/>):
/// its plugin folder is copied with <c>donjon-shim</c> replaced by the hostile stand-in shim
/// (<c>asm/process/hostile/hostile.c</c>, built into <c>artifacts/conformance/process-hostile/</c>), and each scenario's
/// malformed request must get the host's reaction that docs/protocol.md names. The same checks run through the package
/// in <see cref="OutOfTreeKitTests"/>.
/// </summary>
public sealed class ProcessProtocolViolationTests : ProtocolViolationSuite, IDisposable
{
    private readonly TempDirectory _dir = new();

    public ProcessProtocolViolationTests()
    {
        string config = ConfigurationWithShim(
            Repository.PathOf("plugins.json"),
            "plugins/backends/process/bin/Donjon.Backends.Process.dll",
            "donjon-shim",
            HostileShim,
            _dir.Path);
        Target = new ConformanceTarget(DonjonProcess.HostAssembly, config, "process");
    }

    /// <summary>The process keep's hostile stand-in shim, as <c>dotnet build</c> of the process plugin leaves it.</summary>
    public static string HostileShim => Repository.PathOf("artifacts/conformance/process-hostile/donjon-shim");

    protected override ConformanceTarget Target { get; }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_normal_shim_is_not_the_hostile_one()
    {
        // The hostile variant is a separate file; the shim the plugin ships still runs the workload.
        File.ReadAllBytes(Repository.PathOf("plugins/backends/process/bin/donjon-shim")).Should().NotEqual(File.ReadAllBytes(HostileShim));
        Directory.GetFiles(Repository.PathOf("plugins/backends/process/bin")).Select(Path.GetFileName).Should().NotContain(name => name!.Contains("hostile"));
        RunResult run = DonjonRun.Donjon(new ConformanceTarget(DonjonProcess.HostAssembly, Repository.PathOf("plugins.json"), "process"),
            ["run", "--backend", "process", ConformanceWorkloads.Build("hello"), "unknown-kind"]);
        run.ExitCode.Should().Be(0, run.Stderr);
        run.StdoutText.Should().Be("hello, keep\n");
    }

    [Fact]
    public void An_unknown_scenario_says_so()
    {
        RunResult run = RunScenario("no-such-scenario");
        AssertEnded(run, 2, "unknown scenario\n");
    }
}
