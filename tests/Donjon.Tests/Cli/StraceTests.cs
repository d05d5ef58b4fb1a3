using System.Text.RegularExpressions;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary><c>run --strace</c>: one strace-style line per syscall the host serves, with where it was served; <c>--strace=summary</c>: a table at exit.</summary>
public sealed partial class StraceTests
{
    [GeneratedRegex(@"^\[slot (\d+)\] (\w+)\((.*)\) = (.+?) <([\w.-]+)>$")]
    private static partial Regex TraceLine();

    [Fact]
    public void Each_proxied_call_is_one_line_with_its_arguments_result_and_server_and_the_shims_own_calls_are_not_shown()
    {
        string program = SuiteWorkloads.Build("strace", Toolchain.Assembly);
        var result = DonjonProcess.Run(["run", "--backend", "process", "--strace", program], stdin: "abc\n"u8.ToArray());

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hi\n");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.StartsWith("[slot", StringComparison.Ordinal)).ToList();
        var fields = lines.Select(line =>
        {
            Match match = TraceLine().Match(line);
            match.Success.Should().BeTrue(line);
            return (Slot: match.Groups[1].Value, Name: match.Groups[2].Value, Arguments: match.Groups[3].Value, Result: match.Groups[4].Value, Server: match.Groups[5].Value);
        }).ToList();

        // brk and exit_group are the shim's own: not shown.
        fields.Should().Equal(
            ("0", "write", "1, \"hi\\n\", 3", "3", "core"),
            ("0", "read", "0, \"abc\\n\", 16", "4", "core"),
            ("0", "close", "99", "-1 EBADF (Bad file descriptor)", "core"),
            ("0", "sysfs", "...", "-1 ENOSYS (Function not implemented)", "unserved"));
        result.Stderr.Should().Contain("donjon: warning: the program called sysfs (139), which no loaded handler set serves; answered ENOSYS");
    }

    [Fact]
    public void The_summary_is_a_table_of_calls_and_errors_per_syscall_at_exit()
    {
        string program = SuiteWorkloads.Build("strace", Toolchain.Assembly);
        var result = DonjonProcess.Run(["run", "--backend", "process", "--strace=summary", program], stdin: "abc\n"u8.ToArray());

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hi\n");
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith("donjon:", StringComparison.Ordinal)).ToArray();
        lines.Should().HaveCount(8, result.Stderr);
        lines[0].Should().Be("% time     seconds  usecs/call     calls    errors syscall (served by)");
        lines[1].Should().Be("------ ----------- ----------- --------- --------- ----------------");
        lines[6].Should().Be(lines[1]);

        // Each row: % time, seconds, usecs/call, calls, errors (blank when none), the syscall and its server.
        var rows = lines[2..6].Select(line => (Calls: line[31..40].Trim(), Errors: line[41..50].Trim(), Name: line[51..])).OrderBy(row => row.Name, StringComparer.Ordinal).ToList();
        rows.Should().Equal(
            ("1", "1", "close (core)"),
            ("1", "", "read (core)"),
            ("1", "1", "sysfs (unserved)"),
            ("1", "", "write (core)"));
        lines[7].Should().MatchRegex(@"^100\.00 +\d+\.\d{6} +\d+ +4 +2 total$");
    }

    [Theory]
    [InlineData("--strace=full", "donjon: --strace takes no value, or '=summary' (--strace=summary), got 'full'")]
    [InlineData("--strace=", "donjon: --strace takes no value, or '=summary' (--strace=summary), got ''")]
    public void A_bad_value_names_the_option_and_its_forms(string option, string message)
    {
        var result = DonjonProcess.Run(["run", option, Repository.PathOf("samples/bin/hello")]);
        result.ExitCode.Should().Be(125);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().Be(message + "\nTry 'donjon run --help'.\n");
    }
}
