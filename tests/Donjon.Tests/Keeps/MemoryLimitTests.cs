using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// <c>limits.memorySize</c> counts everything the workload may have mapped at once, its image included: a program
/// whose image alone is larger is refused before launch, in every keep.
/// </summary>
public sealed class MemoryLimitTests
{
    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_3_GiB_bss_is_refused_before_launch_under_the_default_1_GiB_limit(string backend)
    {
        // bigbss.S declares `.skip 3 << 30` in .bss and runs natively (the kernel does not count bss against much).
        string program = SuiteWorkloads.Build("bigbss", Toolchain.Assembly);
        var native = Support.ChildProcess.Run(program, [], new Dictionary<string, string>());
        native.ExitCode.Should().Be(0, "natively the program touches its bss and exits 0");

        var keep = KeepSuiteTests.RunInKeep(backend, program, [], null, ["--log-level", "info"]);
        keep.ExitCode.Should().Be(126, keep.Stderr);
        keep.Stderr.Should().MatchRegex(
            $@"donjon: {System.Text.RegularExpressions.Regex.Escape(program)}: cannot be run: the image needs (\d+) bytes \(segments (\d+), stack 8388608\) but limits\.memorySize is 1073741824; raise limits\.memorySize in plugins\.json or ");
        keep.Stderr.Should().NotContain(" sha256 ", "the image is refused before the keep is launched");
    }
}
