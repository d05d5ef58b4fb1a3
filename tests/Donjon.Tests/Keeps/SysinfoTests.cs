using System.Text;
using System.Text.Json;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// <c>sysinfo</c> in both keeps, glibc and musl: the memory it reports is the keep's (the policy's limit, in bytes),
/// not the host's, and the other fields hold their relations. No host value is compared.
/// </summary>
public sealed class SysinfoTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, Toolchain> CToolchains() => KeepSuiteTests.CToolchains();

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Sysinfo_reports_the_policys_memory_limit_as_totalram_in_bytes(string backend, Toolchain toolchain)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        const long limit = 200L << 20;
        string program = SuiteWorkloads.Build("sysinfo", toolchain);
        var native = ChildProcess.Run(program, [limit.ToString(System.Globalization.CultureInfo.InvariantCulture)], KeepSuiteTests.NativeEnvironment());
        native.StdoutText.Should().Contain("totalram is the limit: 0\n", "natively it is the host's RAM, which is more");

        var keep = ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", Config(backend, limit), program,
            limit.ToString(System.Globalization.CultureInfo.InvariantCulture)], ChildProcess.DotnetEnvironment());

        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(
            "mem_unit: 1\ntotalram is the limit: 1\nfreeram at most totalram: 1\nfreeram above 0: 1\nswap: 0 0\n" +
            "shared, buffers, high: 0 0 0\nuptime above 0: 1\nprocs above 0: 1\n");
    }

    private string Config(string backend, long memory)
    {
        var document = new
        {
            plugins = new[]
            {
                $"plugins/backends/{backend}/bin/Donjon.Backends.{char.ToUpperInvariant(backend[0])}{backend[1..]}.dll",
                "plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll",
            }.Select(p => new { path = Repository.PathOf(p) }).ToArray(),
            backendOrder = new[] { backend },
            policy = new { limits = new { memorySize = memory } },
        };
        string path = Path.Combine(_dir.Path, $"plugins-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(document), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }
}
