using Donjon.Host.Cli;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;
using Microsoft.Extensions.Logging;

namespace Donjon.Tests.Cli;

/// <summary>Donjon's log lines: "donjon: LEVEL: message" on stderr, no event id, timestamps and colour only when asked for and allowed.</summary>
public sealed class LogFormatTests
{
    [Fact]
    public void Log_lines_are_single_lines_on_stderr_without_event_ids_or_colour_when_redirected()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["--log-level", "info", "run", "--backend", "process", program]);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().StartWith("hello from ").And.NotContain("donjon:");
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().Contain("donjon: info: Using backend process");
        lines.Should().Contain(l => l.StartsWith("donjon: info: Configuration in force: ", StringComparison.Ordinal));
        lines.Should().OnlyContain(l => l.StartsWith("donjon: info: ", StringComparison.Ordinal));
        result.Stderr.Should().NotContain("\u001b").And.NotContain("[0]").And.NotContain("donjon.keep");
    }

    [Fact]
    public void Log_timestamps_prefix_each_line_with_its_UTC_time()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["run", "--log-level", "info", "--log-timestamps", "--backend", "process", program]);

        result.ExitCode.Should().Be(0, result.Stderr);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().NotBeEmpty();
        lines.Should().OnlyContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z donjon: info: "));
    }

    [Fact]
    public void The_level_is_coloured_only_when_colour_is_allowed()
    {
        DonjonConsoleFormatter.Format(LogLevel.Warning, "it broke", null, null, useColor: false).Should().Be("donjon: warning: it broke\n");
        DonjonConsoleFormatter.Format(LogLevel.Warning, "it broke", null, null, useColor: true).Should().Be("donjon: \u001b[33mwarning\u001b[0m: it broke\n");
        DonjonConsoleFormatter.Format(LogLevel.Error, "two\nlines", null, new DateTimeOffset(2026, 1, 2, 3, 4, 5, 6, TimeSpan.Zero), useColor: false)
            .Should().Be("2026-01-02T03:04:05.006Z donjon: error: two lines\n");
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", false)]
    public void On_a_terminal_the_level_is_coloured_unless_NO_COLOR_is_set(string? noColor, bool coloured)
    {
        // script(1) (util-linux) gives donjon a pseudo-terminal as stdout and stderr.
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key is not ("NO_COLOR" or "DONJON_CONFIG" or "DONJON_LOG_LEVEL"))
            .ToDictionary(e => (string)e.Key, e => (string)e.Value!);
        if (noColor is not null)
        {
            environment["NO_COLOR"] = noColor;
        }

        string command = $"dotnet {DonjonProcess.HostAssembly} --log-level info plugins";
        var result = ChildProcess.Run("script", ["-qec", command, "/dev/null"], environment);
        result.ExitCode.Should().Be(0, result.Stderr);
        if (coloured)
        {
            result.StdoutText.Should().Contain("donjon: \u001b[32minfo\u001b[0m: Configuration in force: ");
        }
        else
        {
            result.StdoutText.Should().Contain("donjon: info: Configuration in force: ").And.NotContain("\u001b[32m");
        }
    }
}
