using System.Diagnostics;
using System.Globalization;
using Donjon.Tests.Keeps;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Vm;

/// <summary>
/// What only the VM keep has to prove (docs/vm.md): a blocked syscall leaves QEMU and the host idle, guest RAM leaves
/// nothing behind, every exception is reported with its vector, instruction and address, and the memory syscalls the
/// guest kernel handles itself behave as Linux's. The keep suite (<see cref="KeepSuiteTests"/>) and the lifecycle
/// tests cover the rest for backend "vm" as for every backend.
/// </summary>
public sealed class VmKeepTests
{
    private const string Backend = "vm";

    /// <summary>Clock ticks per second in /proc/&lt;pid&gt;/stat (USER_HZ, 100 on every Linux x86-64 build).</summary>
    private const int TicksPerSecond = 100;

    /// <summary>Where this run's VM workloads are built; removed when the test run ends.</summary>
    private static readonly Lazy<string> OutputDirectory = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), $"donjon-vm-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return directory;
    });

    [Fact]
    public void A_workload_sleeping_2_s_leaves_QEMU_and_the_host_nearly_idle()
    {
        VmPrerequisite.Require();
        string program = SuiteWorkloads.Build("sleep", Toolchain.Glibc);
        using Process donjon = StartDonjon(program, ["5"]);
        donjon.StandardOutput.ReadLine().Should().Be("sleeping");
        int qemu = QemuOf(donjon.Id);

        // Let the start-up settle (the guest halts after its spin; .NET finishes its start-up work, which on a loaded
        // machine runs late), then measure 1.5 s of the sleep. Settling ends at the first 250 ms window in which the
        // host used under a tenth of a core, or after 2 s: a host that spins never settles, and the measurement
        // below still catches it.
        Thread.Sleep(300);
        for (int window250 = 0; window250 < 8; window250++)
        {
            long settleBefore = CpuTicks(donjon.Id);
            Thread.Sleep(250);
            if (CpuTicks(donjon.Id) - settleBefore <= TicksPerSecond / 40)
            {
                break;
            }
        }

        long donjonBefore = CpuTicks(donjon.Id);
        long qemuBefore = CpuTicks(qemu);
        var window = Stopwatch.StartNew();
        Thread.Sleep(1500);
        long donjonTicks = CpuTicks(donjon.Id) - donjonBefore;
        long qemuTicks = CpuTicks(qemu) - qemuBefore;
        window.Stop();

        donjon.WaitForExit(30_000).Should().BeTrue();
        donjon.ExitCode.Should().Be(0);
        donjon.StandardOutput.ReadToEnd().Should().Be("woke\n");

        // "Nearly idle": under a tenth of one core each (a spinning side would use ten times that).
        long limit = (long)(window.Elapsed.TotalSeconds * TicksPerSecond / 10);
        qemuTicks.Should().BeLessThanOrEqualTo(limit, "a vCPU halted in the doorbell wait costs QEMU nothing");
        donjonTicks.Should().BeLessThanOrEqualTo(limit, "the host waits for the doorbell in poll(), not in a spin");
    }

    [Fact]
    public void Guest_RAM_is_a_memfd_so_nothing_is_left_in_dev_shm()
    {
        VmPrerequisite.Require();
        HashSet<string> before = ShmEntries();
        string program = SuiteWorkloads.Build("sleep", Toolchain.Glibc);
        using (Process donjon = StartDonjon(program, ["1"]))
        {
            donjon.StandardOutput.ReadLine().Should().Be("sleeping");
            int qemu = QemuOf(donjon.Id);
            string ram = new FileInfo($"/proc/{qemu}/fd/3").LinkTarget ?? string.Empty;
            ram.Should().StartWith("/memfd:donjon-vm-ram", "QEMU maps guest RAM from the memfd Donjon gave it as descriptor 3");
            ShmEntries().Except(before).Should().BeEmpty("the keep creates nothing in /dev/shm while it runs");
            donjon.WaitForExit(30_000).Should().BeTrue();
            donjon.ExitCode.Should().Be(0);
        }

        ShmEntries().Except(before).Should().BeEmpty("nothing is left in /dev/shm after the keep");
    }

    [Theory]
    [InlineData("ud", 4, 6, 0, "SIGILL: #UD invalid opcode")]     // ud2: #UD, SIGILL; address = RIP
    [InlineData("bp", 5, 3, 1, "SIGTRAP: #BP breakpoint")]     // int3: #BP, a trap: RIP is past the one-byte instruction
    [InlineData("de", 8, 0, 0, "SIGFPE: #DE divide error")]     // div by zero: #DE, SIGFPE
    [InlineData("pf", 11, 14, 0, "SIGSEGV: #PF page fault: write to an unmapped address")]   // store to 0x12340: #PF, SIGSEGV, address = CR2
    [InlineData("gp", 11, 13, 0, "SIGSEGV: #GP general protection")]   // hlt in ring 3: #GP, SIGSEGV
    public void Exceptions_are_reported_with_vector_instruction_and_address(string fault, int signal, int vector, int ripAfter, string named)
    {
        VmPrerequisite.Require();
        string program = BuildAssembly("fault");
        ChildProcess.Result native = ChildProcess.Run(program, [fault], KeepSuiteTests.NativeEnvironment());
        ChildProcess.Result keep = KeepSuiteTests.RunInKeep(Backend, program, [fault], null);

        native.ExitCode.Should().Be(128 + signal);
        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        ulong at = ulong.Parse(keep.StdoutText.Trim()["fault at 0x".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        ulong rip = at + (ulong)ripAfter;
        ulong address = fault switch
        {
            "pf" => 0x12340,
            "gp" => 0,
            _ => rip,
        };
        keep.Stderr.Should().Contain($"{named} (exception vector {vector},")
            .And.Contain($"signal {signal},")
            .And.Contain(string.Create(CultureInfo.InvariantCulture, $"instruction 0x{rip:x}"))
            .And.Contain(string.Create(CultureInfo.InvariantCulture, $"address 0x{address:x}"));
    }

    [Fact]
    public void Memory_syscalls_handled_in_the_guest_behave_as_natively()
    {
        VmPrerequisite.Require();
        string program = BuildC("memory");
        ChildProcess.Result native = ChildProcess.Run(program, [], KeepSuiteTests.NativeEnvironment());
        ChildProcess.Result keep = KeepSuiteTests.RunInKeep(Backend, program, [], null);
        native.ExitCode.Should().Be(0, native.Stderr);
        native.StdoutText.Should().NotContain(": NO");
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText);
    }

    [Fact]
    public void The_probe_names_the_accelerator_and_passes()
    {
        VmPrerequisite.Require();
        DonjonProcess.Result info = DonjonProcess.Run(["platform", "info"]);
        int at = info.Stdout.IndexOf("\nvm: ", StringComparison.Ordinal);
        at.Should().BeGreaterThanOrEqualTo(0, info.Stdout);
        string section = info.Stdout[(at + 1)..];
        section.Should().StartWith("vm: available", info.Stdout);
        section.Should().MatchRegex(@"\[info\] accelerator: (kvm|tcg)");
        section.Should().MatchRegex(@"speaks\s+([│ ]+)?protocol 2\."); // the line may be wrapped
    }

    private static Process StartDonjon(string program, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[DonjonProcess.HostAssembly, "run", "--backend", Backend, program, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>QEMU's pid: the child of Donjon that donjon-vm-exec became.</summary>
    private static int QemuOf(int donjon)
    {
        int[] found = KeepLifecycleTests.KeepProcessesOf(donjon)
            .Where(pid => File.ReadAllText($"/proc/{pid}/comm").StartsWith("qemu-system", StringComparison.Ordinal))
            .ToArray();
        found.Should().ContainSingle("one QEMU runs the keep");
        return found[0];
    }

    /// <summary>utime + stime of a process, in clock ticks.</summary>
    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static HashSet<string> ShmEntries() => Directory.EnumerateFileSystemEntries("/dev/shm").ToHashSet(StringComparer.Ordinal);

    private static string BuildAssembly(string name) => Build(name, "S", ["-nostdlib", "-static-pie"]);

    private static string BuildC(string name) => Build(name, "c", ["-O2", "-static-pie"]);

    private static string Build(string name, string extension, string[] flags)
    {
        string source = Repository.PathOf($"tests/Donjon.Tests/Vm/Workloads/{name}.{extension}");
        string output = Path.Combine(OutputDirectory.Value, name);
        lock (OutputDirectory)
        {
            if (!File.Exists(output))
            {
                ToolRunner.RunChecked("gcc", [.. flags, "-o", output, source]);
            }
        }

        return output;
    }
}
