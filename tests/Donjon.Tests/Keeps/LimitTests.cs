using System.Text;
using System.Text.Json;
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

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_policys_thread_limit_makes_one_more_pthread_create_fail_with_EAGAIN(string backend)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        // limits.threads = 4: the main thread and 3 more; the fourth pthread_create gets EAGAIN, and the keep goes on.
        string program = SuiteWorkloads.Build("threadlimit", Toolchain.Glibc);
        string config = Path.Combine(Path.GetTempPath(), $"donjon-threads-{Guid.NewGuid():N}.json");
        var document = new
        {
            plugins = new[]
            {
                new { path = Repository.PathOf($"plugins/backends/{backend}/bin/Donjon.Backends.{char.ToUpperInvariant(backend[0])}{backend[1..]}.dll") },
                new { path = Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll") },
            },
            backendOrder = new[] { backend },
            policy = new { limits = new { threads = 4 } },
        };
        File.WriteAllText(config, JsonSerializer.Serialize(document), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        try
        {
            var result = DonjonProcess.Run(["run", "--config", config, "--backend", backend, program]);
            result.ExitCode.Should().Be(0, result.Stderr);
            result.Stdout.Should().Be("created 3 threads, then: Resource temporarily unavailable\njoined 3\n");
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void The_vm_keep_measures_limits_cpus_runs_one_vcpu_and_says_so()
    {
        VmPrerequisite.Require();

        // limits.cpus = 2 reaches the VM backend through the configuration page; the keep runs its threads on one
        // vCPU (docs/vm.md, "Why one vCPU"), says so at debug level, and the threads still compute correctly.
        string program = SuiteWorkloads.Build("threads", Toolchain.Glibc);
        string config = Path.Combine(Path.GetTempPath(), $"donjon-cpus-{Guid.NewGuid():N}.json");
        var document = new
        {
            plugins = new[]
            {
                new { path = Repository.PathOf("plugins/backends/vm/bin/Donjon.Backends.Vm.dll") },
                new { path = Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll") },
            },
            backendOrder = new[] { "vm" },
            policy = new { limits = new { cpus = 2 } },
        };
        File.WriteAllText(config, JsonSerializer.Serialize(document), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        try
        {
            var result = DonjonProcess.Run(["--log-level", "debug", "run", "--config", config, "--backend", "vm", program, "4"]);
            result.ExitCode.Should().Be(0, result.Stderr);
            result.Stdout.Should().Be("4 threads: counter 80000, thread-local total 80000, distinct thread ids: yes\n");
            result.Stderr.Should().Contain("policy.limits.cpus is 2; the VM keep runs its threads on one vCPU");
        }
        finally
        {
            File.Delete(config);
        }
    }
}
