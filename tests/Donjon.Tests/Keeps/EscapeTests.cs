using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// The process keep's escape suite: a hostile workload (<c>Workloads/escape/escape.c</c>) is told, from outside,
/// where the shim's code and the shared block are, as if it had found them, and tries to use them. Each attempt
/// must end the keep with nothing done on the host, and no locally served call may tell the shim's location.
/// </summary>
/// <remarks>
/// The VM keep is not in this suite: its shim lives in the upper half, and its block in supervisor-only guest
/// memory, neither reachable from the workload's ring 3 (docs/design.md, "Threat model").
/// </remarks>
public sealed class EscapeTests : IDisposable
{
    private const int SeccompKillStatus = 128 + 31;

    private static readonly Lazy<string> Workload = new(BuildWorkload, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Probing_with_every_pointer_taking_call_tells_nothing_of_where_the_shim_is()
    {
        Attempt attempt = Run("probe");
        attempt.ExitCode.Should().Be(0, attempt.Stderr);
        attempt.Stdout.Should().NotContain("DIFF").And.Contain("0 differences");
        attempt.Stdout.Split('\n').Count(line => line.StartsWith("same ", StringComparison.Ordinal)).Should().Be(4 * 17, "every probe ran on text, rodata, bss and the block");
    }

    [Fact]
    public void The_workload_runs_with_nothing_of_the_kernel_mapped_but_vsyscall()
    {
        Attempt attempt = Run("probe");
        attempt.ExitCode.Should().Be(0, attempt.Stderr);
        attempt.Maps.Should().NotContain("[vdso]").And.NotContain("[vvar").And.NotContain("[stack]").And.NotContain("[heap]");
        foreach (string line in attempt.Maps.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            bool known = line.EndsWith("donjon-shim", StringComparison.Ordinal) || line.Contains("donjon-block", StringComparison.Ordinal) ||
                         line.EndsWith("[vsyscall]", StringComparison.Ordinal) || line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 5;
            known.Should().BeTrue("every mapping is the shim's, the block's, an anonymous one (image, heap, .bss) or vsyscall: {0}", line);
        }
    }

    [Fact]
    public void A_jump_into_the_shim_cannot_open_a_host_file()
    {
        string secret = _dir.Write("secret.txt", "the admin's secret 7d3a\n");
        Attempt attempt = Run("openat", secret);
        attempt.ShouldHaveBeenKilledByTheFilter();
        attempt.Stdout.Should().NotContain("7d3a");
    }

    [Fact]
    public void A_jump_into_the_shim_cannot_connect_to_a_loopback_listener()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Attempt attempt = Run("connect", port.ToString(CultureInfo.InvariantCulture));
        attempt.ShouldHaveBeenKilledByTheFilter();
        Thread.Sleep(200);
        listener.Pending().Should().BeFalse("no connection may reach the listener");
    }

    [Fact]
    public void A_jump_into_the_shim_cannot_kill_donjon()
    {
        Attempt attempt = Run("kill");
        attempt.ShouldHaveBeenKilledByTheFilter();
        attempt.ExitCode.Should().NotBe(128 + 9, "Donjon must survive and report the keep's end itself");
    }

    [Fact]
    public void A_jump_into_the_shim_cannot_fork_a_process_that_outlives_donjon()
    {
        Attempt attempt = Run("fork");
        attempt.ShouldHaveBeenKilledByTheFilter();
        var deadline = Stopwatch.StartNew();
        while (ProcessesInSession(attempt.ShimPid).Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(50);
        }

        ProcessesInSession(attempt.ShimPid).Should().BeEmpty("nothing of the keep may outlive Donjon");
    }

    [Fact]
    public void A_jump_into_the_shim_cannot_execve_a_program()
    {
        string marker = Path.Combine(_dir.Path, "escaped.txt");
        Attempt attempt = Run("execve", marker);
        attempt.ShouldHaveBeenKilledByTheFilter();
        File.Exists(marker).Should().BeFalse("no program may run");
    }

    [Fact]
    public void A_jump_into_the_shim_cannot_ptrace_donjon()
    {
        Attempt attempt = Run("ptrace");
        attempt.ShouldHaveBeenKilledByTheFilter();
    }

    [Fact]
    public void Malformed_and_racing_requests_written_into_the_block_neither_crash_the_host_nor_forge_its_verdict()
    {
        Attempt attempt = Run("forge");
        attempt.Stdout.Should().Contain("answered 2000 of 2000 malformed requests");
        attempt.ExitCode.Should().Be(0, "the process exited 0: a FAULT item written into the block is only the keep's claim; stderr: {0}", Tail(attempt.Stderr));
        attempt.Stderr.Should().NotContain("faulted in the keep").And.NotContain("Unhandled exception");
        attempt.Stderr.Length.Should().BeLessThan(64 * 1024, "protocol violations are logged with a rate limit");
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];

    private static string BuildWorkload()
    {
        string output = Path.Combine(Path.GetTempPath(), $"donjon-escape-{Environment.ProcessId}-{Guid.NewGuid():N}");
        ToolRunner.RunChecked("gcc", "-O2", "-static-pie", "-mno-red-zone", "-Wall", "-o", output, Path.Combine(WorkloadBuilder.SourceDirectory, "escape", "escape.c"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }

    private sealed record Attempt(int ExitCode, string Stdout, string Stderr, int ShimPid, string Maps)
    {
        public void ShouldHaveBeenKilledByTheFilter()
        {
            ExitCode.Should().Be(SeccompKillStatus, "the seccomp filter kills a shim-text call outside its allowed set; stdout: {0}; stderr: {1}", Stdout, Stderr);
            Stderr.Should().Contain("seccomp");
            Stdout.Should().NotContain(" gave ", "the call must not have returned to the workload");
        }
    }

    /// <summary>Starts the workload in the process keep, tells it where the shim is, and waits for the end.</summary>
    private static Attempt Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        foreach (string arg in (string[])[DonjonProcess.HostAssembly, "run", "--backend", "process", Workload.Value, .. arguments])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("DONJON_CONFIG");
        using var donjon = Process.Start(start)!;
        var stderr = new StringBuilder();
        donjon.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.Append(e.Data).Append('\n');
                }
            }
        };
        donjon.BeginErrorReadLine();
        try
        {
            string? ready = donjon.StandardOutput.ReadLine();
            ready.Should().Be("ready", "the workload starts by saying so; stderr: {0}", stderr);
            int shim = KeepLifecycleTests.KeepProcessesOf(donjon.Id).Single(pid => Comm(pid) == "donjon-shim");
            string maps = File.ReadAllText($"/proc/{shim}/maps");
            donjon.StandardInput.WriteLine(Locate(shim, donjon.Id));
            donjon.StandardInput.Close();
            Task<string> stdout = donjon.StandardOutput.ReadToEndAsync();
            donjon.WaitForExit(60_000).Should().BeTrue("Donjon must end");
            donjon.WaitForExit();
            lock (stderr)
            {
                return new Attempt(donjon.ExitCode, stdout.Result, stderr.ToString(), shim, maps);
            }
        }
        finally
        {
            if (!donjon.HasExited)
            {
                donjon.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>"gadget block text rodata bss donjon-pid": what the workload would have found by probing.</summary>
    private static string Locate(int shim, int donjon)
    {
        string shimPath = ResolveExe(shim);
        byte[] file = File.ReadAllBytes(shimPath);
        ulong? gadget = null, text = null, rodata = null, bss = null, block = null;
        foreach (string line in File.ReadAllLines($"/proc/{shim}/maps"))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] range = fields[0].Split('-');
            ulong from = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong to = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long offset = long.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            bool isShim = fields.Length > 5 && fields[5] == shimPath;
            if (isShim && fields[1] == "r-xp")
            {
                text = from;
                int at = file.AsSpan((int)offset, (int)(to - from)).IndexOf((ReadOnlySpan<byte>)[0x0F, 0x05, 0xC3]);
                at.Should().BeGreaterThanOrEqualTo(0, "the shim's text has a `syscall; ret`");
                gadget = from + (ulong)at;
            }
            else if (isShim && fields[1] == "r--p")
            {
                rodata ??= from;
            }
            else if (isShim && fields[1] == "rw-p")
            {
                bss = to;       // the anonymous .bss follows the file-backed data page
            }
            else if (line.Contains("donjon-block", StringComparison.Ordinal))
            {
                block = from;
            }
        }

        // The first .bss pages after the data page are the alternate stack's guard and the stack itself.
        (gadget is null || text is null || rodata is null || bss is null || block is null).Should().BeFalse("the shim's maps show its text, rodata, data and block");
        return string.Create(CultureInfo.InvariantCulture, $"{gadget:x} {block:x} {text:x} {rodata:x} {bss + 0x2000:x} {donjon}");
    }

    private static string ResolveExe(int pid) => new FileInfo($"/proc/{pid}/exe").LinkTarget ?? throw new InvalidOperationException("no exe link");

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Live processes whose session is <paramref name="session"/> (the shim leads its own).</summary>
    private static List<int> ProcessesInSession(int session)
    {
        var found = new List<int>();
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
                if (fields[0] != "Z" && int.Parse(fields[3], CultureInfo.InvariantCulture) == session)
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return found;
    }
}
