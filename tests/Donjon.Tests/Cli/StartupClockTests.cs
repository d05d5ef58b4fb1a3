using System.Text.RegularExpressions;
using Donjon.Host.Cli;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary>The <c>start-up:</c> line: each phase of a run's start in milliseconds, at Debug level only, in both keeps.</summary>
public sealed partial class StartupClockTests
{
    private static readonly string[] Phases =
        ["runtime", "command line", "configuration", "plugins", "backend plugin", "workload read", "backend probes", "image", "keep launch", "workload until exit"];

    [Theory]
    [InlineData("process")]
    [InlineData("vm")]
    public void A_debug_run_ends_with_one_start_up_line_naming_every_phase_in_order(string backend)
    {
        if (backend == "vm")
        {
            Vm.VmPrerequisite.Require();
        }

        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["--log-level", "debug", "run", "--backend", backend, program]);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().StartWith("hello from ").And.NotContain("start-up");
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("start-up:", StringComparison.Ordinal)).ToArray();
        lines.Should().ContainSingle();
        Match line = StartupLine().Match(lines[0]);
        line.Success.Should().BeTrue(lines[0]);
        line.Groups["phase"].Captures.Select(c => c.Value).Should().Equal(Phases);
        int total = int.Parse(line.Groups["total"].Value, System.Globalization.CultureInfo.InvariantCulture);
        double sum = line.Groups["ms"].Captures.Sum(c => double.Parse(c.Value, System.Globalization.CultureInfo.InvariantCulture));
        Math.Abs(total - sum).Should().BeLessThan(Phases.Length, "the total is the sum of the phases (each rounded)");
    }

    [Fact]
    public void Below_debug_there_is_no_start_up_line()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["--log-level", "info", "run", "--backend", "process", program]);
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().NotContain("start-up");
    }

    [Theory]
    [InlineData("1234 (donjon) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 0 0", "10.25 3.00", 2.5, 5247.5)]
    [InlineData("1234 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 0 0", "10.25 3.00", 2.5, 5247.5)]
    [InlineData("1234 (donjon) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 1100 0 0", "10.25 3.00", 2.5, 0.0)]
    public void The_time_before_Main_comes_from_the_process_start_and_the_uptime(string stat, string uptime, double sinceMain, double expected) =>
        StartupClock.BeforeMain(stat, uptime, sinceMain).Should().BeApproximately(expected, 0.001, "uptime - start time - time since Main, never negative");

    [Theory]
    [InlineData("", "10.25 3.00")]
    [InlineData("1234 (donjon S 1 2", "10.25 3.00")]
    [InlineData("1234 (donjon) S 1 2 3", "10.25 3.00")]
    [InlineData("1234 (donjon) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5 0", "10.25 3.00")]
    [InlineData("1234 (donjon) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 0", "")]
    [InlineData("1234 (donjon) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 500 0", "x 3.00")]
    public void A_text_it_cannot_parse_gives_no_figure(string stat, string uptime) =>
        StartupClock.BeforeMain(stat, uptime, 1.0).Should().BeNull();

    [GeneratedRegex(@"^donjon: debug: start-up: (?:(?<phase>[a-z ]+?) (?<ms>\d+(?:\.\d)?) ms, )+total (?<total>\d+) ms$")]
    private static partial Regex StartupLine();
}
