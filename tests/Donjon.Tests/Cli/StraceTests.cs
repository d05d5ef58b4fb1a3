using System.Text.RegularExpressions;
using Donjon.Tests.Keeps;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary><c>run --strace</c>: one strace-style line per syscall of the keep, with where it was served (a handler set, or the shim itself); <c>--strace=summary</c>: a table at exit.</summary>
public sealed partial class StraceTests
{
    [GeneratedRegex(@"^\[slot (\d+)\] (\w+)\((.*)\) = (.+?) <([\w.-]+)>$")]
    private static partial Regex TraceLine();

    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Each_call_is_one_line_with_its_arguments_result_and_server_the_shims_own_calls_marked_shim(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        string program = SuiteWorkloads.Build("strace", Toolchain.Assembly);
        var result = DonjonProcess.Run(["run", "--backend", backend, "--strace", program], stdin: "abc\n"u8.ToArray());

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hi\n");
        var fields = TraceFields(result.Stderr);

        // Addresses are the keep's own (a random layout): each is checked for its form, then blanked for the comparison.
        fields.Should().HaveCount(7, result.Stderr);
        fields[2].Result.Should().MatchRegex("^0x[0-9a-f]+000$", "brk(NULL) gives the page-aligned heap start");
        fields[3].Result.Should().MatchRegex("^0x[0-9a-f]+000$", "an anonymous mmap gives a page-aligned address");
        fields[4].Arguments.Should().MatchRegex("^ARCH_GET_FS, 0x[0-9a-f]+$");
        fields[2] = fields[2] with { Result = "ADDRESS" };
        fields[3] = fields[3] with { Result = "ADDRESS" };
        fields[4] = fields[4] with { Arguments = "ARCH_GET_FS, ADDRESS" };

        // exit_group is the shim's too, but never returns: like strace's "= ?", it has no line.
        fields.Should().Equal(
            ("0", "write", "1, \"hi\\n\", 3", "3", "core"),
            ("0", "read", "0, \"abc\\n\", 16", "4", "core"),
            ("0", "brk", "NULL", "ADDRESS", "shim"),
            ("0", "mmap", "NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0", "ADDRESS", "shim"),
            ("0", "arch_prctl", "ARCH_GET_FS, ADDRESS", "0", "shim"),
            ("0", "close", "99", "-1 EBADF (Bad file descriptor)", "core"),
            ("0", "sysfs", "...", "-1 ENOSYS (Function not implemented)", "unserved"));
        result.Stderr.Should().Contain("donjon: warning: the program called sysfs (139), which no loaded handler set serves; answered ENOSYS");
    }

    [Fact]
    public void Without_strace_the_shim_reports_nothing_and_the_program_runs_the_same()
    {
        string program = SuiteWorkloads.Build("strace", Toolchain.Assembly);
        var result = DonjonProcess.Run(["run", "--backend", "process", program], stdin: "abc\n"u8.ToArray());

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hi\n");
        result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().NotContain(line => line.StartsWith("[slot", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_summary_is_a_table_of_calls_and_errors_per_syscall_at_exit_with_the_shims_own_calls(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        string program = SuiteWorkloads.Build("strace", Toolchain.Assembly);
        var result = DonjonProcess.Run(["run", "--backend", backend, "--strace=summary", program], stdin: "abc\n"u8.ToArray());

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("hi\n");
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith("donjon:", StringComparison.Ordinal)).ToArray();
        lines.Should().HaveCount(11, result.Stderr);
        lines[0].Should().Be("% time     seconds  usecs/call     calls    errors syscall (served by)");
        lines[1].Should().Be("------ ----------- ----------- --------- --------- ----------------");
        lines[9].Should().Be(lines[1]);

        // Each row: % time, seconds, usecs/call, calls, errors (blank when none), the syscall and its server.
        var rows = lines[2..9].Select(line => (Calls: line[31..40].Trim(), Errors: line[41..50].Trim(), Name: line[51..])).OrderBy(row => row.Name, StringComparer.Ordinal).ToList();
        rows.Should().Equal(
            ("1", "", "arch_prctl (shim)"),
            ("1", "", "brk (shim)"),
            ("1", "1", "close (core)"),
            ("1", "", "mmap (shim)"),
            ("1", "", "read (core)"),
            ("1", "1", "sysfs (unserved)"),
            ("1", "", "write (core)"));
        lines[10].Should().MatchRegex(@"^100\.00 +\d+\.\d{6} +\d+ +7 +2 total$");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_thread_start_is_traced_as_the_shims_clone_with_the_new_threads_id_and_the_program_runs_the_same(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        foreach (Toolchain toolchain in new[] { Toolchain.Glibc, Toolchain.Musl })
        {
            string program = SuiteWorkloads.Build("threads", toolchain);
            var plain = DonjonProcess.Run(["run", "--backend", backend, program, "3"]);
            var traced = DonjonProcess.Run(["run", "--backend", backend, "--strace", program, "3"]);

            traced.ExitCode.Should().Be(plain.ExitCode, traced.Stderr);
            traced.Stdout.Should().Be(plain.Stdout);
            string clone = toolchain == Toolchain.Glibc ? "clone3" : "clone";
            var starts = TraceFields(traced.Stderr).Where(f => f.Name == clone).ToList();
            starts.Should().HaveCount(3, $"{toolchain} starts each of the 3 workers with {clone}: {traced.Stderr}");
            starts.Should().OnlyContain(f => f.Server == "shim" && int.Parse(f.Result, System.Globalization.CultureInfo.InvariantCulture) > 1, "the parent gets the new thread's id");
            starts.Select(f => f.Result).Should().OnlyHaveUniqueItems();
        }
    }

    private static List<(string Slot, string Name, string Arguments, string Result, string Server)> TraceFields(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.StartsWith("[slot", StringComparison.Ordinal)).Select(line =>
        {
            Match match = TraceLine().Match(line);
            match.Success.Should().BeTrue(line);
            return (Slot: match.Groups[1].Value, Name: match.Groups[2].Value, Arguments: match.Groups[3].Value, Result: match.Groups[4].Value, Server: match.Groups[5].Value);
        }).ToList();

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
