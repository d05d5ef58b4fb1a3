using Donjon.Tests.Support;

namespace Donjon.Tests.Cli;

/// <summary><c>donjon plugins --check</c>: every plugin's signatures and probes, and exit 1 on a problem.</summary>
public sealed class PluginsCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string ConfigWith(params string[] plugins)
    {
        string list = string.Join(", ", plugins.Select(p => $"{{ \"path\": \"{p}\" }}"));
        return _dir.Write("plugins.json", $"{{ \"plugins\": [ {list} ], \"backendOrder\": [] }}");
    }

    [Fact]
    public void The_repository_configuration_and_the_skeleton_backend_pass()
    {
        string config = ConfigWith(
            Repository.PathOf("plugins/backends/process/bin/Donjon.Backends.Process.dll"),
            Repository.PathOf("plugins/backends/sgx/bin/Donjon.Backends.Sgx.dll"),
            Repository.PathOf("plugins/backends/skeleton/bin/Donjon.Backends.Skeleton.dll"),
            Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll"));
        var result = DonjonProcess.Run(["plugins", "--check", "--config", config]);

        result.ExitCode.Should().Be(0, result.Stdout + result.Stderr);
        result.Stdout.Should().Contain("ok       backend 'skeleton': ProbeConfiguration() answered in")
            .And.Contain("(not satisfied on this machine)", "the skeleton's launch check always fails, with a remedy")
            .And.Contain("ok       syscall set 'core'")
            .And.Contain("4 plugins checked, 0 problems")
            .And.NotContain("PROBLEM");
    }

    [Fact]
    public void A_probe_that_throws_and_a_failed_check_without_a_remedy_are_problems()
    {
        string config = ConfigWith(Repository.FixturePlugin("BadProbes"));
        var result = DonjonProcess.Run(["plugins", "--check", "--config", config]);

        result.ExitCode.Should().Be(1, result.Stdout + result.Stderr);
        result.Stdout.Should().Contain("PROBLEM  backend 'bad-probes': ProbePlatform() threw InvalidOperationException: the fixture's probe throws")
            .And.Contain("PROBLEM  backend 'bad-probes': ProbeConfiguration(): the failed check 'configuration / device' gives no remedy")
            .And.Contain("1 plugins checked, 2 problems");
    }

    [Fact]
    public void A_plugin_with_an_invalid_signature_is_refused_before_the_check()
    {
        var result = DonjonProcess.Run(["plugins", "--check", "--config", ConfigWith(Repository.FixturePlugin("ShadowsBrk"))]);
        result.ExitCode.Should().Be(125, result.Stderr);
        result.Stderr.Should().Contain("syscall 12 (brk)");
    }
}
