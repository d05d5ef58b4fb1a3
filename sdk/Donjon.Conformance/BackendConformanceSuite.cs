using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Donjon.Conformance;

/// <summary>
/// The checks every backend passes, whether or not it can launch a keep on this machine: it loads under its name,
/// <c>donjon plugins --check</c> finds no problem, and a launch either runs the workload or refuses with a remedy,
/// leaving no process behind. Derive a class in a test project and return the target from <see cref="Target"/>; a
/// backend that runs keeps derives from <see cref="KeepConformanceSuite"/>, which adds the keep suite.
/// </summary>
public abstract class BackendConformanceSuite
{
    /// <summary>The <c>donjon</c>, configuration and backend under test.</summary>
    protected abstract ConformanceTarget Target { get; }

    /// <summary>The configuration loads and lists the backend under its name.</summary>
    [Fact]
    public void The_backend_loads_under_its_name()
    {
        RunResult plugins = DonjonRun.Donjon(Target, ["plugins", "--json"]);
        Assert.True(plugins.ExitCode == 0, $"donjon plugins --json exited {plugins.ExitCode}: {plugins.Stderr}");
        using JsonDocument document = JsonDocument.Parse(plugins.Stdout);
        var names = document.RootElement.GetProperty("plugins").EnumerateArray()
            .SelectMany(p => p.GetProperty("backends").EnumerateArray().Select(b => b.GetString())).ToList();
        Assert.Contains(Target.Backend, names);
    }

    /// <summary><c>donjon plugins --check</c> finds no problem: probes answer in time, never throw, and every failed
    /// check gives a remedy; every signature is valid.</summary>
    [Fact]
    public void Plugins_check_finds_no_problem()
    {
        RunResult check = DonjonRun.Donjon(Target, ["plugins", "--check"]);
        Assert.True(check.ExitCode == 0, $"donjon plugins --check exited {check.ExitCode}:\n{check.StdoutText}{check.Stderr}");
        Assert.Contains($"backend '{Target.Backend}'", check.StdoutText, StringComparison.Ordinal);
    }

    /// <summary>A launch runs the workload (stdout and status as natively) or refuses: status 125 and a message that
    /// names the backend and says what to do.</summary>
    [Fact]
    public void A_launch_runs_the_workload_or_refuses_with_a_remedy()
    {
        string hello = ConformanceWorkloads.Build("hello");
        RunResult keep = DonjonRun.Donjon(Target, ["run", "--backend", Target.Backend, hello]);
        if (keep.ExitCode == 0)
        {
            Assert.Equal("hello, keep\n", keep.StdoutText);
            return;
        }

        Assert.True(keep.ExitCode == 125, $"a refused launch exits 125, not {keep.ExitCode}: {keep.Stderr}");
        Assert.Contains($"'{Target.Backend}'", keep.Stderr, StringComparison.Ordinal);
        Assert.True(keep.Stderr.Trim().Length > 0 && keep.StdoutText.Length == 0, $"a refusal is explained on stderr only; stderr: {keep.Stderr}");
    }

    /// <summary>No process that Donjon started for the keep outlives a run that ended by itself.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public async Task No_process_outlives_a_run()
    {
        string hello = ConformanceWorkloads.Build("hello");
        using Process donjon = DonjonRun.Start(Target, ["run", "--backend", Target.Backend, hello]);
        donjon.StandardInput.Close();
        Task<string> stdout = donjon.StandardOutput.ReadToEndAsync();
        Task<string> stderr = donjon.StandardError.ReadToEndAsync();
        var seen = new HashSet<int>();
        while (!donjon.HasExited)
        {
            seen.UnionWith(ProcessTree.DescendantsOf(donjon.Id));
            Thread.Sleep(5);
        }

        await donjon.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        AssertAllGone(seen, "after the run ended");
    }

    /// <summary>Waits up to 10 s for every process of <paramref name="processes"/> to be gone, then asserts it.</summary>
    /// <param name="processes">Process ids.</param>
    /// <param name="when">When, for the message.</param>
    protected static void AssertAllGone(IEnumerable<int> processes, string when) => ProcessTree.AssertAllGone(processes, when);
}
