using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>rlimits inside a keep behave as Linux's for an unprivileged process, capped by the policy, in every keep.</summary>
public sealed class LimitTests
{
    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_program_may_lower_its_limits_and_raise_a_soft_limit_to_the_hard_one_but_not_above(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        string program = SuiteWorkloads.Build("rlimit", Toolchain.Glibc);
        var result = DonjonProcess.Run(["run", "--backend", backend, program]);

        // The repository's plugins.json grants 1024 descriptors.
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().BeEmpty();
        result.Stdout.Should().Be(
            "lower soft: ok; now 512/1024\n" +
            "raise soft to hard: ok; now 1024/1024\n" +
            "raise hard: Operation not permitted; now 1024/1024\n" +
            "lower hard: ok; now 256/256\n" +
            "raise lowered hard: Operation not permitted; now 256/256\n");
    }
}
