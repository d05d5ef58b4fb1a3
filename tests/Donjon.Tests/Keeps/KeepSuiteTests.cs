using System.Security.Cryptography;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// The keep suite: every case runs the same binary natively and in a keep, and asserts identical stdout and exit
/// status. It is parameterized over backends: a new keep joins by adding its name to <see cref="Backends"/>.
/// </summary>
public sealed class KeepSuiteTests
{
    /// <summary>The backends every case runs on.</summary>
    public static readonly string[] Backends = ["process", "vm"];

    private const string TestValue = "a value with spaces = and symbols $HOME";

    public static TheoryData<string, Toolchain> AllToolchains() => Cases(Toolchain.Glibc, Toolchain.Musl, Toolchain.Assembly);

    public static TheoryData<string, Toolchain> CToolchains() => Cases(Toolchain.Glibc, Toolchain.Musl);

    private static TheoryData<string, Toolchain> Cases(params Toolchain[] toolchains)
    {
        var data = new TheoryData<string, Toolchain>();
        foreach (string backend in Backends)
        {
            foreach (Toolchain toolchain in toolchains)
            {
                data.Add(backend, toolchain);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void Hello(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "hello", toolchain).StdoutText.Should().Be("hello, keep\n");

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void Arguments_with_spaces_and_an_environment_variable(string backend, Toolchain toolchain)
    {
        var keep = SameAsNative(backend, "args", toolchain, ["first", "two words", "", "--env", "ünïcødé"]);
        if (toolchain != Toolchain.Assembly)
        {
            keep.StdoutText.Should().Contain("argv[2]=[two words]").And.Contain($"DONJON_TEST_VALUE=[{TestValue}]").And.Contain("HOME=[(unset)]");
        }
        else
        {
            keep.StdoutText.Should().Be("first\ntwo words\n\n--env\nünïcødé\n");
        }
    }

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void Exit_status_7_passes_through(string backend, Toolchain toolchain)
    {
        var keep = SameAsNative(backend, "exit7", toolchain);
        keep.ExitCode.Should().Be(7);
        keep.Stderr.Should().Contain("to stderr");
    }

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void Echo_of_2_MiB_is_byte_exact(string backend, Toolchain toolchain)
    {
        byte[] input = RandomNumberGenerator.GetBytes(2 << 20);
        var keep = SameAsNative(backend, "echo", toolchain, stdin: input);
        keep.Stdout.Should().Equal(input);
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Malloc_and_free_from_1_byte_to_64_MiB(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "malloc", toolchain).StdoutText.Should().Be("allocated 134217727 bytes in all\n");

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void Null_pointer_write_dies_by_SIGSEGV_with_a_fault_report(string backend, Toolchain toolchain)
    {
        var keep = SameAsNative(backend, "nullwrite", toolchain);
        keep.ExitCode.Should().Be(139);
        keep.StdoutText.Should().Be("about to fault\n");
        keep.Stderr.Should().Contain("faulted").And.Contain("signal 11").And.Contain("address 0x0");
        keep.Stderr.Should().Contain(backend == "vm"
            ? "SIGSEGV: #PF page fault: write to an unmapped address (exception vector 14, error code 0x"
            : "SIGSEGV: address not mapped (si_code 1)");
        if (toolchain != Toolchain.Assembly)
        {
            // The faulting store is in main: the report names it, with the offset that nm's address of main gives.
            string program = SuiteWorkloads.Build("nullwrite", toolchain);
            var match = System.Text.RegularExpressions.Regex.Match(keep.Stderr, $@" at main\+0x([0-9a-f]+) in {System.Text.RegularExpressions.Regex.Escape(program)} \(ELF address 0x([0-9a-f]+)\)");
            match.Success.Should().BeTrue(keep.Stderr);
            ulong main = SymbolAddress(program, "main");
            ulong offset = Convert.ToUInt64(match.Groups[1].Value, 16);
            Convert.ToUInt64(match.Groups[2].Value, 16).Should().Be(main + offset);
        }
    }

    private static ulong SymbolAddress(string program, string symbol)
    {
        var nm = ChildProcess.Run("nm", [program], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" });
        string line = nm.StdoutText.Split('\n').Single(l => l.EndsWith(" T " + symbol, StringComparison.Ordinal));
        return Convert.ToUInt64(line[..line.IndexOf(' ')], 16);
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Monotonic_clock_and_a_50_ms_nanosleep(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "clock", toolchain).StdoutText.Should().Be("slept at least 50 ms: yes\nresolution positive: yes\ntime after 2020: yes\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Sendmsg_recvmsg_mmsg_SCM_RIGHTS_and_the_signal_masks_of_ppoll_pselect_and_epoll_pwait(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "msg", toolchain).StdoutText.Should().Be(
            "sendmsg: 13\n" +
            "recvmsg: 13 [one t|wo three] namelen 0 controllen 0 flags 0\n" +
            "sendmsg with SCM_RIGHTS: 1\n" +
            "recvmsg: 1 'F' controllen 24 level 1 type 1 len 20 flags 1073741824 lowest free number 1\n" +
            "write to it: 37\n" +
            "pipe: 37 written through the passed descriptor\n" +
            "SCM_RIGHTS of a closed descriptor: -1 Bad file descriptor\n" +
            "sendmsg again: 1\n" +
            "recvmsg into 16 bytes of control: 1 controllen 0 ctrunc 1\n" +
            "sendmmsg: 3, lengths 1 2 3\n" +
            "recvmmsg: 3: 1 'a' 2 'bb' 3 'ccc'\n" +
            "recvmsg of 10 into 4: 4 '0123' trunc 1\n" +
            "recvmsg MSG_TRUNC: 10\n" +
            "recvmsg of nothing: -1 Resource temporarily unavailable\n" +
            "ppoll unblocking a pending signal: -1 Interrupted system call, handled 1, blocked after 1\n" +
            "pselect unblocking a pending signal: -1 Interrupted system call, handled 2, blocked after 1\n" +
            "epoll_pwait unblocking a pending signal: -1 Interrupted system call, handled 3, blocked after 1\n" +
            "ppoll blocking it: 0, handled on its return 1, after 1\n" +
            "ppoll with sigsetsize 4: -1 Invalid argument\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Posix_timers_ring_their_signals_and_report_their_state(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "posixtimer", toolchain).StdoutText.Should().Be(
            "timer_create monotonic: 0\n" +
            "timer_settime: 0\n" +
            "rang 3 times; interval 0.050000000, value positive and at most the interval: 1\n" +
            "overrun not negative: 1\n" +
            "disarmed: 0.000000000, old interval 0.050000000\n" +
            "timer_delete: 0\n" +
            "timer_settime of a deleted timer: -1 Invalid argument\n" +
            "timer_create realtime, default event: 0\n" +
            "timer_settime TIMER_ABSTIME: 0\n" +
            "SIGALRM rang 1; one-shot now disarmed: 0.000000000\n" +
            "timer_create SIGEV_NONE: 0\n" +
            "SIGEV_NONE armed for 10 s, between 5 and 10 s left: 1\n" +
            "timer_create of clock 99: -1 Invalid argument\n" +
            "timer_create of signal 0: -1 Invalid argument\n" +
            "timer_settime of 1e9 ns: -1 Invalid argument\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Getrandom(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "random", toolchain).StdoutText.Should().Be("got 64 and 64 bytes\ndifferent: yes\n");

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void Writev(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "writev", toolchain).StdoutText.Should().StartWith("one two three\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Recvmsg_into_many_and_partial_iovecs_and_a_large_sendto_are_byte_exact(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "vectors", toolchain, ["--messages"]).StdoutText.Should().Be(
            "send 26 on a stream: 26\nrecvmsg into 3+0+5+100: 26\n  a [abc]\n  c [defgh]\n  d [ijklmnopqrstuvwxyz..]\n  flags 0\n" +
            "send 40 on a stream: 40\nrecvmsg into 32 one-byte iovecs: 32\n  ones [01234567890123456789012345678901]\nrecv the rest: 8\n  rest [23456789]\n" +
            "send a 20-byte datagram: 20\nrecvmsg of it into 4+4: 8\n  x [data]\n  y [gram]\n  MSG_TRUNC 1\n" +
            "sendto of 60000: 60000\nrecv of it: 60000\n  the same bytes 1, fnv 38942b28\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Thread_local_storage_and_errno(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "tls", toolchain).StdoutText.Should().Be("counter=42 label=tls-initial\nwrite(99) = -1, errno = 9 (Bad file descriptor)\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Fstat_of_stdout_when_it_is_a_pipe(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "fstat", toolchain).StdoutText.Should().Be("stdout is a pipe; isatty=0\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Fstat_of_stdout_when_it_is_a_file(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("fstat", toolchain);
        using var dir = new TempDirectory();
        string nativeOut = Path.Combine(dir.Path, "native.txt");
        string keepOut = Path.Combine(dir.Path, "keep.txt");
        var native = ChildProcess.Run("/bin/sh", ["-c", $"'{program}' > '{nativeOut}'"], NativeEnvironment());
        var keep = ChildProcess.Run("/bin/sh", ["-c", $"dotnet '{DonjonProcess.HostAssembly}' run --backend {backend} '{program}' > '{keepOut}'"], ChildProcess.DotnetEnvironment());
        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        File.ReadAllText(keepOut).Should().Be(File.ReadAllText(nativeOut)).And.Be("stdout is a regular file; isatty=0\n");
    }

    [Theory]
    [MemberData(nameof(AllToolchains))]
    public void The_keep_reports_the_workloads_sha256(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("hello", toolchain);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(program)));
        var keep = RunInKeep(backend, program, [], null, ["--log-level", "info"]);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.Stderr.Should().Contain($"sha256 {sha256}");
        keep.StdoutText.Should().Be("hello, keep\n");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Signals_reach_the_workloads_handlers_with_linux_semantics(string backend, Toolchain toolchain)
    {
        var keep = SameAsNative(backend, "signals", toolchain);
        keep.ExitCode.Should().Be(128 + 1, "the second SIGHUP takes the default action after SA_RESETHAND");
        keep.StdoutText.Should().Be(
            "SIGSEGV: signal 11, code 1 (SEGV_MAPERR 1), address 0x10\n" +
            "SIGFPE: signal 8, code 1 (FPE_INTDIV 1)\n" +
            "SIGSEGV blocked after recovery: 0\n" +
            "SIGUSR1: signal 10, code -6 (SI_TKILL -6), count 1, double 5.00\n" +
            "pending while blocked: 1, count 1\n" +
            "after unblock: count 2\n" +
            "SIGUSR2 on the alternate stack: 1\n" +
            "ignored: count 3\n" +
            "SIGHUP handled once: signal 1, count 4\n");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void A_handler_sees_linuxs_frame_and_its_edits_to_registers_and_fpu_state_are_restored(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "sigframe", toolchain).StdoutText.Should().Be(
            "signal 11, si_addr 0x18, handler rsp 16-byte aligned after the return address: 1\n" +
            "uc_flags has FP_XSTATE: 1, fpstate 64-byte aligned: 1, magic1 1, magic2 1, extended = xstate + 4: 1\n" +
            "saved RAX 24, saved RIP at the faulting mov: 1\n" +
            "handler ran: 1; after the return, RAX 4242 and XMM0 6.25\n");

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Sigsuspend_sigwait_and_sigtimedwait_take_the_programs_own_signals(string backend, Toolchain toolchain)
    {
        var keep = SameAsNative(backend, "sigwait", toolchain);
        keep.StdoutText.Should().StartWith("sigsuspend: -1, EINTR 1, handled 10, SIGUSR1 blocked again 1\n")
            .And.Contain("sigwait: 0, signal 12\n")
            .And.EndWith("sigtimedwait with nothing pending: -1, EAGAIN 1, waited at least 25 ms 1\n");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Abort_ends_with_status_134(string backend, Toolchain toolchain)
    {
        var keep = SameAsNative(backend, "abort", toolchain);
        keep.ExitCode.Should().Be(134);
        keep.StdoutText.Should().Be("about to abort\n");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void A_writer_to_a_closed_pipe_dies_of_sigpipe_with_141(string backend, Toolchain toolchain)
    {
        string program = SuiteWorkloads.Build("yes", toolchain);

        // The test host ignores SIGPIPE, as .NET does, and an ignored signal is inherited: the native run gets the
        // default action back through env(1). A keep's shim always starts with every signal at its default.
        var native = ChildProcess.Run("/bin/bash", ["-c", $"set -o pipefail; env --default-signal=PIPE '{program}' | head -1"], NativeEnvironment());
        var keep = ChildProcess.Run(
            "/bin/bash",
            ["-c", $"set -o pipefail; dotnet '{DonjonProcess.HostAssembly}' run --backend {backend} '{program}' | head -1"],
            ChildProcess.DotnetEnvironment());
        native.ExitCode.Should().Be(141);
        keep.ExitCode.Should().Be(141, keep.Stderr);
        keep.StdoutText.Should().Be("y\n").And.Be(native.StdoutText);
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Pthread_once_semaphores_and_timed_waits_on_futexes_served_in_the_keep(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "once", toolchain).StdoutText.Should().Be(
            "pthread_once ran init 1 time(s)\n" +
            "sem_trywait: 0\n" +
            "sem_timedwait: -1, ETIMEDOUT: 1, waited at least 45 ms: 1\n" +
            "pthread_cond_timedwait: ETIMEDOUT 1\n" +
            "sched_yield: 0\n");

    public static TheoryData<string> BackendNames() => [.. Backends];

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Alarm_and_setitimer_ring_SIGALRM_into_pause_sigsuspend_and_a_sleep(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "alarm", toolchain).StdoutText.Should().Be(
            "alarm + pause: rang 1 time(s)\n" +
            "alarm(0) after alarm(30): 30 seconds were left\n" +
            "periodic timer: rang 3 times, then disarmed: 0.000000\n" +
            "nanosleep interrupted by the alarm: -1, EINTR 1, rang 1, remaining more than 5 s: 1\n");

    /// <summary>The backends whose keeps run threads today (docs/protocol.md, "Slots"); the VM keep joins with its scheduler.</summary>
    public static readonly string[] ThreadedBackends = ["process", "vm"];

    public static TheoryData<string, Toolchain> ThreadedCToolchains()
    {
        var data = new TheoryData<string, Toolchain>();
        foreach (string backend in ThreadedBackends)
        {
            data.Add(backend, Toolchain.Glibc);
            data.Add(backend, Toolchain.Musl);
        }

        return data;
    }

    public static TheoryData<string> ThreadedBackendNames() => [.. ThreadedBackends];

    [Theory]
    [MemberData(nameof(ThreadedCToolchains))]
    public void Eight_threads_share_a_mutex_guarded_counter_and_keep_their_own_TLS(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "threads", toolchain, ["8"]).StdoutText.Should().Be(
            "8 threads: counter 160000, thread-local total 160000, distinct thread ids: yes\n");

    [Theory]
    [MemberData(nameof(ThreadedCToolchains))]
    public void Sixty_four_threads_at_once(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "threads", toolchain, ["64"]).StdoutText.Should().Be(
            "64 threads: counter 1280000, thread-local total 1280000, distinct thread ids: yes\n");

    [Theory]
    [MemberData(nameof(ThreadedCToolchains))]
    public void Condition_variable_producers_and_consumers(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "condvar", toolchain).StdoutText.Should().Be(
            "consumed 40000 items, sum 20400020000, expected 20400020000\n");

    [Theory]
    [MemberData(nameof(ThreadedCToolchains))]
    public void A_spinning_thread_is_preempted_timed_waits_end_early_or_run_out_and_pthread_kill_reaches_its_thread(string backend, Toolchain toolchain) =>
        SameAsNative(backend, "preempt", toolchain).StdoutText.Should().Be(
            "main slept beside a spinning thread: yes\n" +
            "timed wait signalled: 0, well before its 10 s deadline: yes\n" +
            "timed wait ran out: yes, after at least 45 ms: yes\n" +
            "pthread_kill reached the handler: signal 10\n");

    [Theory]
    [MemberData(nameof(ThreadedBackendNames))]
    public void Rust_std_spawns_threads_with_a_channel_and_scoped_threads(string backend) =>
        SameAsNative(backend, "spawn", Toolchain.Rust).StdoutText.Should().Be(
            "hello from a thread pool: counter 4000\n" +
            "squares 14, received [0, 10, 20, 30]\n" +
            "names [\"worker-0\", \"worker-1\", \"worker-2\", \"worker-3\"]\n" +
            "scoped sums 10 + 26 = 36\n");

    internal static Dictionary<string, string> NativeEnvironment() => new(StringComparer.Ordinal)
    {
        // What the keep's environment is under the committed plugins.json, plus the test's --env.
        ["LANG"] = "C.UTF-8",
        ["DONJON_TEST_VALUE"] = TestValue,
    };

    internal static ChildProcess.Result RunInKeep(string backend, string program, string[] args, byte[]? stdin, string[]? donjonOptions = null) =>
        ChildProcess.Run(
            "dotnet",
            [DonjonProcess.HostAssembly, "run", "--backend", backend, .. donjonOptions ?? [], "--env", "DONJON_TEST_VALUE=" + TestValue, program, .. args],
            ChildProcess.DotnetEnvironment(),
            stdin);

    /// <summary>Runs the program natively and in the keep; asserts identical stdout and status; returns the keep's run.</summary>
    private static ChildProcess.Result SameAsNative(string backend, string name, Toolchain toolchain, string[]? args = null, byte[]? stdin = null)
    {
        string program = SuiteWorkloads.Build(name, toolchain);
        var native = ChildProcess.Run(program, args ?? [], NativeEnvironment(), stdin);
        var keep = RunInKeep(backend, program, args ?? [], stdin);
        keep.ExitCode.Should().Be(native.ExitCode, $"the keep's stderr was: {keep.Stderr}");
        keep.Stdout.Should().Equal(native.Stdout, $"stdout must match the native run's; the keep's stderr was: {keep.Stderr}");
        return keep;
    }
}
