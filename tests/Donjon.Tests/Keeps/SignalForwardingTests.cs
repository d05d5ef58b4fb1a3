using System.Diagnostics;
using System.Globalization;
using System.Text;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// Signals sent to Donjon reach the workload first, as a container's init forwards them: its handler runs (whether it
/// computes, sleeps in a host call or waits in <c>pause</c>) and its own exit status passes through; a signal it
/// ignores interrupts nothing; a second Ctrl-C stops the keep.
/// </summary>
public sealed class SignalForwardingTests
{
    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (string backend in KeepSuiteTests.Backends)
        {
            data.Add(backend, 2, "spin");
            data.Add(backend, 15, "sleep");
            data.Add(backend, 10, "pause");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_forwarded_signal_reaches_the_workloads_handler_and_its_status_passes_through(string backend, int signal, string mode)
    {
        using var donjon = Start(backend, mode, out StringBuilder stderr);
        Thread.Sleep(300);
        Kill(donjon.Id, 28);    // SIGWINCH, which the workload ignores: it must interrupt nothing
        Thread.Sleep(700);
        donjon.HasExited.Should().BeFalse("an ignored signal changes nothing; stderr: {0}", stderr);
        Kill(donjon.Id, signal);
        donjon.WaitForExit(20_000).Should().BeTrue("the workload ends once its handler ran");
        string stdout = donjon.StandardOutput.ReadToEnd();
        donjon.ExitCode.Should().Be(42, "the workload's own status passes through; stderr: {0}", stderr);
        string expected = mode switch
        {
            "spin" => $"computing, saw signal {signal}\n",
            "sleep" => $"nanosleep: -1, EINTR 1, signal {signal}\n",
            _ => $"pause returned, signal {signal}\n",
        };
        stdout.Should().Be(expected);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_blocked_read_is_interrupted_with_EINTR(string backend)
    {
        using var donjon = Start(backend, "read", out StringBuilder stderr, stdinOpen: true);
        Thread.Sleep(500);
        Kill(donjon.Id, 10);
        donjon.WaitForExit(20_000).Should().BeTrue("the read returns EINTR once the handler ran; stderr: {0}", stderr);
        donjon.ExitCode.Should().Be(42, "stderr: {0}", stderr);
        donjon.StandardOutput.ReadToEnd().Should().Be("read: -1, EINTR 1, signal 10\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Under_SA_RESTART_a_blocked_read_goes_on_after_the_handler(string backend)
    {
        using var donjon = Start(backend, "restart", out StringBuilder stderr, stdinOpen: true);
        Thread.Sleep(500);
        Kill(donjon.Id, 10);
        Thread.Sleep(700);
        donjon.HasExited.Should().BeFalse("the read restarted and waits for stdin again; stderr: {0}", stderr);
        donjon.StandardInput.Write("five\n");
        donjon.StandardInput.Flush();
        donjon.WaitForExit(20_000).Should().BeTrue("the restarted read returns the line; stderr: {0}", stderr);
        donjon.ExitCode.Should().Be(42, "stderr: {0}", stderr);
        donjon.StandardOutput.ReadToEnd().Should().Be("read: 5, EINTR 0, signal 10\n", "the handler ran, then the read went on");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_second_ctrl_c_stops_a_workload_that_ignores_the_first(string backend)
    {
        using var donjon = Start(backend, "ignore", out StringBuilder stderr);
        Thread.Sleep(300);
        Kill(donjon.Id, 2);
        Thread.Sleep(1000);
        donjon.HasExited.Should().BeFalse("the workload ignores SIGINT; stderr: {0}", stderr);
        Kill(donjon.Id, 2);
        donjon.WaitForExit(20_000).Should().BeTrue("a second Ctrl-C stops the keep");
        donjon.WaitForExit();
        string stdoutText = donjon.StandardOutput.ReadToEnd();
        lock (stderr)
        {
            donjon.ExitCode.Should().Be(130, "the second Ctrl-C stops the keep; stdout: {0}; stderr: {1}", stdoutText, stderr.ToString());
        }

        lock (stderr)
        {
            stderr.ToString().Should().Contain("interrupted by signal 2");
        }

        stdoutText.Should().BeEmpty("the sleep was not interrupted by the ignored signal");
    }

    private static Process Start(string backend, string mode, out StringBuilder stderr, bool stdinOpen = false)
    {
        string program = SuiteWorkloads.Build("onint", Toolchain.Glibc);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdinOpen, UseShellExecute = false };
        foreach (string arg in (string[])[DonjonProcess.HostAssembly, "run", "--backend", backend, program, mode])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("DONJON_CONFIG");
        var process = Process.Start(start)!;
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Append(e.Data).Append('\n');
                }
            }
        };
        process.BeginErrorReadLine();
        stderr = errors;
        string? first = process.StandardOutput.ReadLine();
        first.Should().Be("ready", "the workload starts; stderr: {0}", errors);
        return process;
    }

    private static void Kill(int pid, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }
}
