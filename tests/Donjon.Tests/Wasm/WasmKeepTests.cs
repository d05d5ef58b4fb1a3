using Donjon.Tests.Keeps;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;

namespace Donjon.Tests.Wasm;

/// <summary>
/// Every WebAssembly case in every keep: <c>donjon run</c> of the module (by its bare name, from its folder, with the
/// case's <c>--env</c> and <c>--mount</c>) must give the stdout bytes and the exit status of the same module run
/// natively by the same launcher, and leave the same files behind.
/// </summary>
public sealed class WasmKeepTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string backend in KeepSuiteTests.Backends)
        {
            foreach (string name in WasmCase.All.Keys)
            {
                data.Add(backend, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_module_in_a_keep_prints_and_exits_as_the_native_launcher(string backend, string name)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        WasmCase wasm = WasmCase.All[name];
        using TempDirectory? nativeData = wasm.PrepareData();
        ChildProcess.Result native = wasm.RunNatively(nativeData);

        using var folder = new TempDirectory();
        WasmModules.CopyTo(wasm.Module, folder.Path);
        using TempDirectory? keepData = wasm.PrepareData();
        var arguments = new List<string> { "run", "--backend", backend };
        foreach ((string key, string value) in wasm.Environment)
        {
            arguments.AddRange(["--env", $"{key}={value}"]);
        }

        if (keepData is not null)
        {
            arguments.AddRange(["--mount", $"{keepData.Path}:/data{(wasm.Mount == true ? ":rw" : "")}"]);
        }

        arguments.Add(wasm.Module + ".wasm");
        arguments.AddRange(wasm.Arguments);
        ChildProcess.Result keep = ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, .. arguments], ChildProcess.DotnetEnvironment(), wasm.Stdin ?? [], TimeSpan.FromMinutes(5), folder.Path);

        keep.ExitCode.Should().Be(native.ExitCode, $"the keep's stderr: {keep.Stderr}");
        keep.StdoutText.Should().Be(native.StdoutText);
        keep.Stdout.Should().Equal(native.Stdout);
        if (name.StartsWith("trap-", StringComparison.Ordinal))
        {
            keep.Stderr.Should().Contain(native.Stderr.TrimEnd('\n'), "the trap's line names the trap and the function in the keep too");
        }

        if (nativeData is not null && keepData is not null)
        {
            Directory.GetFiles(keepData.Path).Select(Path.GetFileName).Order().Should().Equal(Directory.GetFiles(nativeData.Path).Select(Path.GetFileName).Order());
            foreach (string file in Directory.GetFiles(nativeData.Path))
            {
                File.ReadAllBytes(Path.Combine(keepData.Path, Path.GetFileName(file))).Should().Equal(File.ReadAllBytes(file));
            }
        }
    }
}
