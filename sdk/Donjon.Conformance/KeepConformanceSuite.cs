using System.Diagnostics;
using System.Security.Cryptography;
using Xunit;

namespace Donjon.Conformance;

/// <summary>
/// The keep suite, for a backend that runs keeps: every case runs the same static-PIE program natively and in a keep
/// and asserts the same stdout and exit status (stdio, memory, faults, threads, signals, hostile arguments), plus the
/// lifecycle checks: no keep process survives a run, or a SIGKILL of Donjon while the workload blocks in the host.
/// </summary>
public abstract class KeepConformanceSuite : BackendConformanceSuite
{
    /// <summary>stdio: a line to stdout.</summary>
    [Fact]
    public void Stdio_hello() => Assert.Equal("hello, keep\n", SameAsNative("hello").StdoutText);

    /// <summary>stdio: stderr and a non-zero exit status pass through.</summary>
    [Fact]
    public void Stdio_exit_status_and_stderr()
    {
        RunResult keep = SameAsNative("exit7");
        Assert.Equal(7, keep.ExitCode);
        Assert.Contains("to stderr", keep.Stderr, StringComparison.Ordinal);
    }

    /// <summary>stdio: 1 MiB of stdin comes back byte for byte.</summary>
    [Fact]
    public void Stdio_echo_of_1_MiB()
    {
        byte[] input = RandomNumberGenerator.GetBytes(1 << 20);
        Assert.Equal(input, SameAsNative("echo", stdin: input).Stdout);
    }

    /// <summary>memory: malloc and free from 1 byte to 64 MiB.</summary>
    [Fact]
    public void Memory_malloc_and_free() => SameAsNative("malloc");

    /// <summary>faults: a write through a null pointer dies by SIGSEGV (status 139), as natively.</summary>
    [Fact]
    public void Faults_null_write_is_sigsegv() => Assert.Equal(139, SameAsNative("nullwrite").ExitCode);

    /// <summary>faults: abort() dies by SIGABRT (status 134), as natively.</summary>
    [Fact]
    public void Faults_abort_is_sigabrt() => Assert.Equal(134, SameAsNative("abort").ExitCode);

    /// <summary>threads: 8 threads count under a mutex with thread-local totals.</summary>
    [Fact]
    public void Threads_count_under_a_mutex() => SameAsNative("threads", ["8"]);

    /// <summary>threads: a producer and consumers on a condition variable.</summary>
    [Fact]
    public void Threads_condition_variable() => SameAsNative("condvar");

    /// <summary>signals: handlers for SIGSEGV, SIGFPE, raised and masked signals, SA_RESETHAND.</summary>
    [Fact]
    public void Signals_handlers_masks_and_default_actions() => SameAsNative("signals");

    /// <summary>hostile arguments: bad pointers give EFAULT and an undeclared number ENOSYS, as natively.</summary>
    [Fact]
    public void Hostile_arguments_are_errors_not_crashes() =>
        Assert.EndsWith("still running\n", SameAsNative("hostile").StdoutText, StringComparison.Ordinal);

    /// <summary>lifecycle: SIGKILL of Donjon while the workload sleeps in the host leaves no keep process.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public async Task Sigkill_of_donjon_leaves_no_keep_process()
    {
        string sleep = ConformanceWorkloads.Build("sleep");
        using Process donjon = DonjonRun.Start(Target, ["run", "--backend", Target.Backend, sleep, "30"]);
        donjon.StandardInput.Close();
        Task<string> stderr = donjon.StandardError.ReadToEndAsync();
        string? first = await donjon.StandardOutput.ReadLineAsync();
        Assert.True(first == "sleeping", $"the workload did not start: {first}; {(donjon.HasExited ? await stderr : "")}");
        IReadOnlyList<int> keep = ProcessTree.DescendantsOf(donjon.Id);
        Assert.NotEmpty(keep);
        donjon.Kill(entireProcessTree: false);
        await donjon.WaitForExitAsync();
        AssertAllGone(keep, "after SIGKILL of Donjon");
    }

    /// <summary>Runs workload <paramref name="name"/> natively and in the keep; asserts the same status and stdout.</summary>
    /// <param name="name">One of <see cref="ConformanceWorkloads.Names"/>.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="stdin">Its stdin, or null for an empty one.</param>
    /// <returns>The keep's run.</returns>
    protected RunResult SameAsNative(string name, string[]? arguments = null, byte[]? stdin = null)
    {
        string program = ConformanceWorkloads.Build(name);
        RunResult native = DonjonRun.Native(program, arguments ?? [], stdin);
        RunResult keep = DonjonRun.Donjon(Target, ["run", "--backend", Target.Backend, program, .. arguments ?? []], stdin);
        Assert.True(native.ExitCode == keep.ExitCode, $"{name}: the keep exited {keep.ExitCode}, natively {native.ExitCode}; the keep's stderr: {keep.Stderr}");
        Assert.True(native.Stdout.AsSpan().SequenceEqual(keep.Stdout), $"{name}: stdout differs from the native run's.\nkeep: {Clip(keep.StdoutText)}\nnative: {Clip(native.StdoutText)}\nthe keep's stderr: {keep.Stderr}");
        return keep;
    }

    private static string Clip(string text) => text.Length <= 2000 ? text : text[..2000] + "...";
}
