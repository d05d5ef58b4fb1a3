using System.Globalization;
using System.Text.RegularExpressions;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// Syscall-site patching in the process keep (asm/process/patch.S, patch.c; docs/process.md): a
/// <c>mov eax, imm32; syscall</c> site that trapped once is rewritten to enter the shim directly. These tests run a
/// loop of <c>getppid</c> natively and in both keeps, read the shim's counters (the shim-private
/// <c>DJ_NR_PATCH_STATS</c> call) to see that the site was patched and its calls took the direct entry, turn patching
/// off with <c>DONJON_PROCESS_PATCH=0</c>, and jump into the direct entry with crafted registers and stack.
/// </summary>
public sealed partial class SyscallPatchingTests : IDisposable
{
    private const int Calls = 100_000;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, Toolchain> LoopCases()
    {
        var data = new TheoryData<string, Toolchain>();
        foreach (string backend in KeepSuiteTests.Backends)
        {
            data.Add(backend, Toolchain.Glibc);
            data.Add(backend, Toolchain.Musl);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LoopCases))]
    public void A_loop_of_100000_getppid_calls_answers_as_natively(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("getppid", toolchain);
        string[] args = [Calls.ToString(CultureInfo.InvariantCulture)];
        var native = ChildProcess.Run(program, args, KeepSuiteTests.NativeEnvironment());
        var keep = KeepSuiteTests.RunInKeep(backend, program, args, null);
        native.StdoutText.Should().Be($"{Calls} getppid calls, all equal to the first: yes\n");
        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
    }

    [Theory]
    [InlineData(Toolchain.Glibc)]
    [InlineData(Toolchain.Musl)]
    public void In_the_process_keep_the_loops_site_is_patched_and_its_calls_take_the_direct_entry(Toolchain toolchain)
    {
        Stats stats = RunWithStats(toolchain, patch: null);
        stats.Enabled.Should().Be(1);
        stats.Patched.Should().BeGreaterThanOrEqualTo(1, "the getppid site, `mov eax, 110; syscall`, qualifies");
        stats.Direct.Should().BeGreaterThanOrEqualTo(Calls, "every call after the first takes the direct entry");
        stats.Traps.Should().BeLessThan(1000, "only the first call of each site (and the unpatchable ones) trap");
    }

    [Theory]
    [InlineData(Toolchain.Glibc)]
    [InlineData(Toolchain.Musl)]
    public void With_DONJON_PROCESS_PATCH_0_every_call_takes_the_trap_and_answers_the_same(Toolchain toolchain)
    {
        Stats stats = RunWithStats(toolchain, patch: "0");
        stats.Enabled.Should().Be(0);
        stats.Patched.Should().Be(0);
        stats.Direct.Should().Be(0);
        stats.Traps.Should().BeGreaterThan(Calls, "each of the loop's calls traps");
    }

    [Fact]
    public void Natively_the_stats_call_is_not_a_system_call()
    {
        string program = SuiteWorkloads.Build("getppid", Toolchain.Glibc);
        var native = ChildProcess.Run(program, ["10", "stats"], KeepSuiteTests.NativeEnvironment());
        native.Stderr.Should().Contain("patch stats: none (-38)");
    }

    [Fact]
    public void The_VM_keep_does_not_patch_and_answers_the_stats_call_ENOSYS()
    {
        string program = SuiteWorkloads.Build("getppid", Toolchain.Glibc);
        var keep = KeepSuiteTests.RunInKeep("vm", program, ["1000", "stats"], null);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be("1000 getppid calls, all equal to the first: yes\n");
        keep.Stderr.Should().Contain("patch stats: none (-38)");
    }

    [Fact]
    public void A_dynamically_linked_python3_has_its_shared_librarys_sites_patched()
    {
        const string python = "/usr/bin/python3";
        File.Exists(python).Should().BeTrue($"this test runs Debian's {python}: install python3-minimal (bash .ci/run installs it)");
        const string script =
            "import os, ctypes\n" +
            "same = sum(os.getppid() == os.getppid() for i in range(10000))\n" +
            "stats = (ctypes.c_uint64 * 5)()\n" +
            "result = ctypes.CDLL(None).syscall(0x3D0A0001, stats)\n" +
            "print(same, result, ' '.join(str(v) for v in stats))\n";
        var keep = KeepSuiteTests.RunInKeep("process", python, ["-S", "-c", script], null, ["--libraries", "system"]);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        string[] fields = keep.StdoutText.Trim().Split(' ');
        fields[0].Should().Be("10000", "every pair of getppid calls agreed");
        fields[1].Should().Be("0", "the shim answers the stats call (libc's syscall(), a bare `syscall` site, traps)");
        long patched = long.Parse(fields[3], CultureInfo.InvariantCulture), direct = long.Parse(fields[6], CultureInfo.InvariantCulture);
        patched.Should().BeGreaterThanOrEqualTo(1, "libc.so's getppid site, in the mmap range, is within reach of a stub region");
        direct.Should().BeGreaterThanOrEqualTo(20_000, "the loop's calls took the direct entry");
    }

    [Fact]
    public void A_jump_into_the_direct_entry_with_crafted_registers_and_stack_gets_only_what_a_trapped_syscall_gets()
    {
        string secret = _dir.Write("secret.txt", "the admin's secret 51c9\n");
        string marker = Path.Combine(_dir.Path, "escaped.txt");
        string program = BuildPatchEntryWorkload();
        var keep = KeepSuiteTests.RunInKeep("process", program, [secret, marker], null);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        string stdout = keep.StdoutText;
        stdout.Should().Contain("patched\n", "the workload's own site was patched, and it found the entry from it");
        stdout.Should().Contain("same entry-openat\n").And.Contain("same entry-execve\n").And.Contain("same entry-crafted-stack\n")
            .And.Contain("same entry-fake-slot\n").And.Contain("same entry-shim-slot\n").And.Contain("same stub-trap-openat\n")
            .And.Contain("same stub-trap-execve\n");
        stdout.Should().Contain("dynamic patched\n", "its own `mov edx, imm32; syscall` site, the number in eax, was patched")
            .And.Contain("same dynamic-patched\n").And.Contain("same dynamic-getppid\n").And.Contain("same dynamic-entry-openat\n")
            .And.Contain("same dynamic-entry-execve\n").And.Contain("same dynamic-entry-x32\n").And.Contain("same dynamic-entry-private\n")
            .And.Contain("same dynamic-entry-high-bits\n").And.Contain("same dynamic-stub-trap-execve\n").And.Contain("same dynamic-entry-crafted-stack\n");
        stdout.Should().NotContain("DIFF").And.EndWith("0 differences\n");
        stdout.Should().NotContain("51c9").And.NotContain("secret readable");
        File.Exists(marker).Should().BeFalse("no program may run");
        keep.Stderr.Should().NotContain("seccomp", "nothing reached the filter's kill").And.NotContain("internal fault");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0")]
    public void Under_strace_every_call_of_a_patched_site_is_shown_as_the_trapped_ones_are(string? patch)
    {
        // gettid is served by the shim itself: only the shim's trace hooks (in dj_sigsys and in the direct entry)
        // can report it, so a patched site's later calls are seen only if the direct entry reports them too.
        string source = Path.Combine(_dir.Path, "gettid.c");
        File.WriteAllText(source, "#define _GNU_SOURCE\n#include <stdio.h>\n#include <unistd.h>\n" +
            "int main(void) { long same = 0; pid_t first = gettid(); for (int i = 0; i < 20; i++) same += gettid() == first; printf(\"%ld\\n\", same); return 0; }\n");
        string program = Path.Combine(_dir.Path, "gettid");
        ToolRunner.RunChecked("gcc", "-O2", "-static-pie", "-o", program, source);
        Dictionary<string, string> environment = ChildProcess.DotnetEnvironment();
        if (patch is not null)
        {
            environment["DONJON_PROCESS_PATCH"] = patch;
        }

        var keep = ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", "process", "--strace", program], environment);

        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be("20\n");
        keep.Stderr.Split('\n').Count(line => GettidLine().IsMatch(line)).Should().Be(21, "the first call and the loop's 20, each one line: {0}", keep.Stderr);
    }

    private const int GenericCalls = 10_000;

    private static readonly string GenericOutput =
        "main thread loops: 0 bad answers\n" +
        "three threads' loops: 0 bad answers\n" +
        $"futex ping-pong: {GenericCalls / 50 + 100} rounds, token 0\n" +
        "loops under a 0.5 ms timer: 0 bad answers, signals handled: yes\n" +
        "SA_RESTART wait: woken, handler ran: yes\n" +
        "plain wait: Interrupted system call, handler ran: yes\n" +
        "clone through syscall(): a thread that made 1000 equal calls and ended by syscall(SYS_exit)\n" +
        "exit_group through syscall()\n";

    [Theory]
    [MemberData(nameof(LoopCases))]
    public void Generic_syscall_wrapper_calls_from_threads_and_under_signals_answer_as_natively(string backend, Toolchain toolchain)
    {
        // libc's syscall() (glibc: `mov r9, [rsp + 8]; syscall`; musl: compiled C) is a dynamic site: the number is
        // in eax at run time. getppid, gettid, futex wake and wait, a futex ping-pong between threads, a timer's
        // signals during the loops, an interrupted wait with SA_RESTART and without, clone and exit through
        // syscall() (glibc), then exit_group through it.
        string program = SuiteWorkloads.Build("gsyscall", toolchain);
        string[] args = [GenericCalls.ToString(CultureInfo.InvariantCulture)];
        var native = ChildProcess.Run(program, args, KeepSuiteTests.NativeEnvironment());
        native.ExitCode.Should().Be(3, native.Stderr);
        native.StdoutText.Should().Be(GenericOutput);
        var keep = KeepSuiteTests.RunInKeep(backend, program, args, null);
        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
    }

    [Theory]
    [InlineData(Toolchain.Glibc, null)]
    [InlineData(Toolchain.Musl, null)]
    [InlineData(Toolchain.Glibc, "0")]
    [InlineData(Toolchain.Musl, "0")]
    public void In_the_process_keep_the_generic_syscall_site_is_patched_and_its_calls_take_the_direct_entry(Toolchain toolchain, string? patch)
    {
        string program = SuiteWorkloads.Build("gsyscall", toolchain);
        Dictionary<string, string> environment = ChildProcess.DotnetEnvironment();
        if (patch is not null)
        {
            environment["DONJON_PROCESS_PATCH"] = patch;
        }

        var keep = ChildProcess.Run(
            "dotnet",
            [DonjonProcess.HostAssembly, "run", "--backend", "process", program, GenericCalls.ToString(CultureInfo.InvariantCulture), "stats"],
            environment);
        keep.ExitCode.Should().Be(3, keep.Stderr);
        keep.StdoutText.Should().Be(GenericOutput, keep.Stderr);
        Match match = WideStatsLine().Match(keep.Stderr);
        match.Success.Should().BeTrue("the shim answers the wide stats call in the process keep; stderr: {0}", keep.Stderr);
        long enabled = Parse(match, "enabled"), dynamic = Parse(match, "dynamic"), direct = Parse(match, "direct"), traps = Parse(match, "traps");
        if (patch is null)
        {
            enabled.Should().Be(1);
            dynamic.Should().BeGreaterThanOrEqualTo(1, "libc's syscall() is a dynamic site the rule accepts");
            direct.Should().BeGreaterThanOrEqualTo(6 * GenericCalls, "the main thread's two loops of three syscall() calls took the direct entry");
            traps.Should().BeLessThan(GenericCalls, "only first calls, the excluded numbers and signal returns trap");
        }
        else
        {
            enabled.Should().Be(0);
            dynamic.Should().Be(0);
            direct.Should().Be(0);
            traps.Should().BeGreaterThan(6 * GenericCalls, "every call traps");
        }
    }

    private Stats RunWithStats(Toolchain toolchain, string? patch)
    {
        string program = SuiteWorkloads.Build("getppid", toolchain);
        Dictionary<string, string> environment = ChildProcess.DotnetEnvironment();
        if (patch is not null)
        {
            environment["DONJON_PROCESS_PATCH"] = patch;
        }

        var keep = ChildProcess.Run(
            "dotnet",
            [DonjonProcess.HostAssembly, "run", "--backend", "process", program, Calls.ToString(CultureInfo.InvariantCulture), "stats"],
            environment);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be($"{Calls} getppid calls, all equal to the first: yes\n");
        Match match = StatsLine().Match(keep.Stderr);
        match.Success.Should().BeTrue("the shim answers the stats call in the process keep; stderr: {0}", keep.Stderr);
        return new Stats(
            Parse(match, "enabled"), Parse(match, "patched"), Parse(match, "traps"), Parse(match, "direct"));
    }

    private static long Parse(Match match, string group) => long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    private static string BuildPatchEntryWorkload()
    {
        string output = Path.Combine(Path.GetTempPath(), $"donjon-patchentry-{Environment.ProcessId}-{Guid.NewGuid():N}");
        ToolRunner.RunChecked("gcc", "-O2", "-static-pie", "-Wall", "-o", output, Path.Combine(WorkloadBuilder.SourceDirectory, "escape", "patchentry.c"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }

    [GeneratedRegex(@"^\[slot 0\] gettid\(\) = \d+ <shim>$")]
    private static partial Regex GettidLine();

    [GeneratedRegex(@"patch stats: enabled=(?<enabled>\d+) patched=(?<patched>\d+) refused=(?<refused>\d+) traps=(?<traps>\d+) direct=(?<direct>\d+)")]
    private static partial Regex StatsLine();

    [GeneratedRegex(@"patch stats: enabled=(?<enabled>\d+) patched=(?<patched>\d+) refused=(?<refused>\d+) traps=(?<traps>\d+) direct=(?<direct>\d+) dynamic=(?<dynamic>\d+)")]
    private static partial Regex WideStatsLine();

    private sealed record Stats(long Enabled, long Patched, long Traps, long Direct);
}
