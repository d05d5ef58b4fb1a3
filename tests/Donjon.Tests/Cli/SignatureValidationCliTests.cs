using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Cli;

/// <summary>
/// A handler set whose declarations the shims cannot carry out is refused when its plugin loads: the real
/// <c>donjon run</c> exits 125 naming the plugin, the syscall and the problem, before any keep starts.
/// </summary>
public sealed class SignatureValidationCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A configuration with the real process backend and core set, and one fixture plugin.</summary>
    private string ConfigWith(string fixture)
    {
        string[] plugins =
        [
            Repository.PathOf("plugins/backends/process/bin/Donjon.Backends.Process.dll"),
            Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll"),
            Repository.FixturePlugin(fixture),
        ];
        string list = string.Join(", ", plugins.Select(p => $"{{ \"path\": \"{p}\" }}"));
        return _dir.Write("plugins.json", $"{{ \"plugins\": [ {list} ], \"backendOrder\": [\"process\"] }}");
    }

    [Fact]
    public void A_set_that_declares_brk_is_refused_at_start_up()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["run", "--config", ConfigWith("ShadowsBrk"), program]);

        result.ExitCode.Should().Be(125, result.Stderr);
        result.Stdout.Should().BeEmpty("the workload never ran");
        result.Stderr.Should().Contain("$.plugins[2].path")
            .And.Contain(Repository.FixturePlugin("ShadowsBrk"))
            .And.Contain("syscall 12 (brk)")
            .And.Contain("the shims serve brk (syscall 12) themselves")
            .And.NotContain("Unhandled exception");
    }

    [Fact]
    public void A_buffer_with_neither_length_nor_size_is_refused_at_start_up()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["run", "--config", ConfigWith("MalformedSignature"), program]);

        result.ExitCode.Should().Be(125, result.Stderr);
        result.Stdout.Should().BeEmpty("the workload never ran");
        result.Stderr.Should().Contain(Repository.FixturePlugin("MalformedSignature"))
            .And.Contain("handler set 'vague'")
            .And.Contain("syscall 17 (pread64)")
            .And.Contain("argument 1 (OutputBuffer): a buffer needs a length argument or a fixed size, and has neither")
            .And.NotContain("Unhandled exception");
    }

    [Fact]
    public void A_selected_argument_with_a_repeated_choice_is_refused_at_start_up()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        var result = DonjonProcess.Run(["run", "--config", ConfigWith("MalformedSelection"), program]);

        result.ExitCode.Should().Be(125, result.Stderr);
        result.Stdout.Should().BeEmpty("the workload never ran");
        result.Stderr.Should().Contain(Repository.FixturePlugin("MalformedSelection"))
            .And.Contain("handler set 'twice-chosen'")
            .And.Contain("syscall 72 (fcntl)")
            .And.Contain("argument 2 (Selected): the choice for selector value 6 is given twice")
            .And.NotContain("Unhandled exception");
    }
}
