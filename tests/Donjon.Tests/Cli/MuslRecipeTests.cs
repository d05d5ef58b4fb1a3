using Donjon.Tests.Keeps;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary>The README's musl recipe: <c>samples/musl-static-pie</c> makes a program Donjon runs, and Debian's <c>musl-gcc -static-pie</c> is refused with a pointer to it.</summary>
public sealed class MuslRecipeTests
{
    [Fact]
    public void The_musl_driver_builds_the_sample_as_a_static_pie_that_runs_in_the_process_keep()
    {
        using var folder = new TempDirectory();
        string program = Path.Combine(folder.Path, "hello-musl");
        ToolRunner.RunChecked(SuiteWorkloads.MuslDriver, "-O2", "-o", program, Repository.PathOf("samples/hello.c"));

        // Linked against musl, with no interpreter: what Donjon needs.
        string strings = File.ReadAllText(program);
        strings.Should().NotContain("GLIBC").And.NotContain("ld-musl");
        var inspect = DonjonProcess.Run(["inspect", program]);
        inspect.ExitCode.Should().Be(0, inspect.Stdout + inspect.Stderr);

        var result = DonjonProcess.Run(["run", "--backend", "process", "--env", "LANG=C.UTF-8", program, "one", "two words"]);
        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stdout.Should().Be("Hello from inside a keep!\nargv[1] = one\nargv[2] = two words\nLANG = C.UTF-8\n");
        result.Stderr.Should().BeEmpty();
    }

    [Fact]
    public void The_musl_driver_refuses_options_that_cannot_make_a_static_pie()
    {
        ToolResult result = ToolRunner.Run(SuiteWorkloads.MuslDriver, "-shared", "-o", "/dev/null", Repository.PathOf("samples/hello.c"));
        result.ExitCode.Should().Be(2);
        result.StandardError.Should().Be("musl-static-pie: -shared cannot make a static PIE; leave it out\n");
    }

    [Fact]
    public void A_dynamic_pie_from_musl_gcc_needs_its_interpreter_granted_and_then_runs_as_natively()
    {
        using var folder = new TempDirectory();
        string program = Path.Combine(folder.Path, "hello-musl-gcc");
        ToolRunner.RunChecked("musl-gcc", "-static-pie", "-O2", "-o", program, Repository.PathOf("samples/hello.c"));

        var refused = DonjonProcess.Run(["run", "--backend", "process", program]);
        refused.ExitCode.Should().Be(126);
        refused.Stdout.Should().BeEmpty();
        refused.Stderr.Should().Be(
            $"donjon: {program}: cannot be run: its interpreter /lib/ld-musl-x86_64.so.1 (PT_INTERP) is not granted to the keep: no mount of policy.files holds it; " +
            "run with --libraries system, or add { \"host\": \"/lib/ld-musl-x86_64.so.1\", \"keep\": \"/lib/ld-musl-x86_64.so.1\", \"access\": \"read\" } to policy.files\n");

        var native = ChildProcess.Run(program, ["one"], KeepSuiteTests.NativeEnvironment());
        var keep = DonjonProcess.Run(["run", "--backend", "process", "--libraries", "system", program, "one"]);
        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        keep.Stdout.Should().Be(native.StdoutText, keep.Stderr);
    }
}
