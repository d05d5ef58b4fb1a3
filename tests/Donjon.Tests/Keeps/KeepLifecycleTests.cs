using System.Diagnostics;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>No keep process survives Donjon, on any path: normal exit, Ctrl-C, SIGTERM, SIGKILL of the host.</summary>
public sealed class KeepLifecycleTests
{
    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Normal_exit_leaves_no_keep_process(string backend)
    {
        string program = SuiteWorkloads.Build("hello", Toolchain.Glibc);
        using var donjon = StartDonjon(backend, program, []);
        donjon.WaitForExit(60_000).Should().BeTrue();
        donjon.ExitCode.Should().Be(0);
        KeepProcessesOf(donjon.Id).Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_keep_process_leads_its_own_session_and_nothing_of_its_group_is_left_after_the_run(string backend)
    {
        string program = SuiteWorkloads.Build("sleep", Toolchain.Glibc);
        using var donjon = StartDonjon(backend, program, ["1"]);
        try
        {
            (donjon.StandardOutput.ReadLine() ?? string.Empty).Should().Be("sleeping");
            int keep = KeepProcessesOf(donjon.Id).Should().ContainSingle("one process (the shim, or QEMU) is the keep").Subject;
            (int group, int session) = GroupAndSession(keep);
            session.Should().Be(keep, "the keep's process is spawned with POSIX_SPAWN_SETSID: it leads its own session");
            group.Should().Be(keep, "and its own process group, which Donjon kills as a whole");
            GroupAndSession(donjon.Id).Session.Should().NotBe(keep);

            donjon.WaitForExit(60_000).Should().BeTrue();
            donjon.ExitCode.Should().Be(0);
            ProcessesInGroup(keep).Should().BeEmpty("nothing of the keep's process group outlives the run");
        }
        finally
        {
            if (!donjon.HasExited)
            {
                donjon.Kill(entireProcessTree: true);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sigkill_of_the_host_kills_the_keep_even_while_the_workload_computes(string backend) =>
        KillHostAndCheck(backend, "spin", [], signal: 9, expectedStatus: null);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sigkill_of_the_host_kills_the_keep_while_a_syscall_blocks(string backend) =>
        KillHostAndCheck(backend, "sleep", ["30"], signal: 9, expectedStatus: null);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sigkill_of_the_host_kills_the_keep_while_its_threads_sleep_wait_and_spin(string backend) =>
        KillHostAndCheck(backend, "blockers", [], signal: 9, expectedStatus: null);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sigterm_stops_a_keep_whose_threads_block(string backend) =>
        KillHostAndCheck(backend, "blockers", [], signal: 15, expectedStatus: 143);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sigterm_stops_the_keep_and_donjon_exits(string backend) =>
        KillHostAndCheck(backend, "sleep", ["30"], signal: 15, expectedStatus: 143);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Ctrl_c_stops_the_keep_and_donjon_exits_130(string backend) =>
        KillHostAndCheck(backend, "spin", [], signal: 2, expectedStatus: 130);

    private static void KillHostAndCheck(string backend, string workload, string[] args, int signal, int? expectedStatus)
    {
        string program = SuiteWorkloads.Build(workload, Toolchain.Glibc);
        using var donjon = StartDonjon(backend, program, args);
        string firstLine = donjon.StandardOutput.ReadLine() ?? string.Empty;
        firstLine.Should().BeOneOf("sleeping", "spinning");
        List<int> keep = KeepProcessesOf(donjon.Id);
        keep.Should().NotBeEmpty("a keep process runs the workload");

        Kill(donjon.Id, signal);
        donjon.WaitForExit(20_000).Should().BeTrue("Donjon must end after signal {0}", signal);
        if (expectedStatus is not null)
        {
            donjon.ExitCode.Should().Be(expectedStatus.Value);
        }

        var deadline = Stopwatch.StartNew();
        while (keep.Any(IsAlive) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(50);
        }

        keep.Where(IsAlive).Should().BeEmpty("no keep process may outlive Donjon");
    }

    private static Process StartDonjon(string backend, string program, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[DonjonProcess.HostAssembly, "run", "--backend", backend, program, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The processes below <paramref name="root"/> (children, grandchildren...).</summary>
    internal static List<int> KeepProcessesOf(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out int parent))
        {
            foreach ((int pid, int ppid) in parents)
            {
                if (ppid == parent && !found.Contains(pid))
                {
                    found.Add(pid);
                    frontier.Enqueue(pid);
                }
            }
        }

        return found;
    }

    /// <summary>The process group and session of <paramref name="pid"/>, from /proc/PID/stat (fields 5 and 6).</summary>
    private static (int Group, int Session) GroupAndSession(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Every live process whose process group is <paramref name="group"/>.</summary>
    private static List<int> ProcessesInGroup(int group)
    {
        var found = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int pid))
            {
                try
                {
                    if (GroupAndSession(pid).Group == group && IsAlive(pid))
                    {
                        found.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // The process ended while it was being read.
                }
            }
        }

        return found;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Kill(int pid, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }
}
