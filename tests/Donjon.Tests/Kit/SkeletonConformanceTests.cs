using Donjon.Conformance;
using Donjon.Tests.Support;

namespace Donjon.Tests.Kit;

/// <summary>
/// The in-tree skeleton backend passes the parts of the conformance suite that apply to a backend that does not launch
/// (<see cref="BackendConformanceSuite"/>): it loads under its name, <c>donjon plugins --check</c> finds no problem, a
/// launch is refused with status 125 and a remedy, and no process is left.
/// </summary>
public sealed class SkeletonConformanceTests : BackendConformanceSuite, IDisposable
{
    private readonly TempDirectory _dir = new();

    public SkeletonConformanceTests()
    {
        string[] plugins =
        [
            Repository.PathOf("plugins/backends/skeleton/bin/Donjon.Backends.Skeleton.dll"),
            Repository.PathOf("plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll"),
        ];
        string list = string.Join(", ", plugins.Select(p => $"{{ \"path\": \"{p}\" }}"));
        string config = _dir.Write("plugins.json", $"{{ \"plugins\": [ {list} ], \"backendOrder\": [\"skeleton\"] }}");
        Target = new ConformanceTarget(DonjonProcess.HostAssembly, config, "skeleton");
    }

    protected override ConformanceTarget Target { get; }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_refusal_names_the_remedy()
    {
        RunResult run = DonjonRun.Donjon(Target, ["run", "--backend", "skeleton", ConformanceWorkloads.Build("hello")]);
        run.ExitCode.Should().Be(125);
        run.Stderr.Should().Contain("implement LaunchAsync (docs/writing-a-backend.md), or choose backend 'process'");
    }
}
