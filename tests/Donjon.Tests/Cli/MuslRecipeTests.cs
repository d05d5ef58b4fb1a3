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
    public void A_dynamic_pie_from_musl_gcc_is_refused_with_a_pointer_to_the_driver()
    {
        using var folder = new TempDirectory();
        string program = Path.Combine(folder.Path, "hello-musl-gcc");
        ToolRunner.RunChecked("musl-gcc", "-static-pie", "-O2", "-o", program, Repository.PathOf("samples/hello.c"));

        var result = DonjonProcess.Run(["run", "--backend", "process", program]);
        result.ExitCode.Should().Be(126);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().Be(
            $"donjon: {program}: cannot be run: dynamically linked: PT_INTERP (program header 1) names the interpreter /lib/ld-musl-x86_64.so.1; " +
            "Donjon runs static-PIE executables only, which need no interpreter: this is a musl program, and Debian's `musl-gcc -static-pie` makes a dynamic PIE like it; " +
            "rebuild it with the musl driver in Donjon's repository, `samples/musl-static-pie` (used as gcc is: `samples/musl-static-pie -O2 -o app app.c`; see the README, \"musl programs\")\n");
    }
}
