using Donjon.Tests.Keeps;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary>A syscall no handler set serves is answered ENOSYS and reported at the default log level, in every keep.</summary>
public sealed class UnservedSyscallTests
{
    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Each_unserved_syscall_is_warned_once_and_counted_at_exit(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        string program = SuiteWorkloads.Build("unserved", Toolchain.Glibc);
        var result = DonjonProcess.Run(["run", "--backend", backend, program]);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("sysfs: -1 Function not implemented\nsysfs: -1 Function not implemented\ngetcpu: -1 Function not implemented\n");
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().Equal(
            "donjon: warning: the program called sysfs (139), which no loaded handler set serves; answered ENOSYS",
            "donjon: warning: the program called getcpu (309), which no loaded handler set serves; answered ENOSYS",
            "donjon: warning: unserved syscalls, each answered ENOSYS: sysfs (139) 2 times, getcpu (309) once. Add a handler set that serves them to plugins.json ('donjon plugins' lists what is served)");
    }

    [Fact]
    public void A_program_whose_calls_are_all_served_gets_no_warning()
    {
        string program = SuiteWorkloads.Build("hello", Toolchain.Glibc);
        var result = DonjonProcess.Run(["run", "--backend", "process", program]);
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().BeEmpty();
    }
}
