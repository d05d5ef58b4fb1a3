using Donjon.Tests.Support;

namespace Donjon.Tests.Wasm;

/// <summary>
/// The WebAssembly suite (issue "WASI modules run on Wasmtime inside any keep"): each case is one module with its
/// arguments, environment, mount and stdin. The native run is the launcher started directly; a keep run is
/// <c>donjon run</c> of the same module with the same inputs, and must match it byte for byte.
/// </summary>
/// <param name="Name">The case's name (the test's data row).</param>
/// <param name="Module">The module source's name, <c>tests/Donjon.Tests/Workloads/wasm/NAME.c</c>.</param>
/// <param name="Arguments">The module's arguments after <c>argv[0]</c>.</param>
/// <param name="Environment">The <c>--env</c> assignments, on top of the policy's LANG=C.UTF-8.</param>
/// <param name="Mount">Whether /data is a mount of a fresh folder holding input.txt, and whether it is writable; null for none.</param>
/// <param name="Stdin">The bytes for stdin, or null for an empty one.</param>
internal sealed record WasmCase(string Name, string Module, string[] Arguments, Dictionary<string, string> Environment, bool? Mount, byte[]? Stdin)
{
    /// <summary>What input.txt holds in a mounted /data.</summary>
    public const string InputText = "the first line of input.txt\n";

    /// <summary>The bytes of the stdin case: 3 MiB of a fixed pseudo-random sequence (more than one pipe's worth).</summary>
    public static byte[] StdinBytes()
    {
        var bytes = new byte[3 << 20];
        new Random(20261202).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Every case of the suite, by name.</summary>
    public static IReadOnlyDictionary<string, WasmCase> All { get; } = new[]
    {
        new WasmCase("hello", "hello", ["one", "two words"], new() { ["GREETING"] = "hi from the policy" }, null, null),
        new WasmCase("exit3", "exit3", [], [], null, null),
        new WasmCase("files", "files", ["write"], [], Mount: true, null),
        new WasmCase("outside-preopens", "files", ["read-only"], [], Mount: false, null),
        new WasmCase("trap-unreachable", "trap", ["unreachable"], [], null, null),
        new WasmCase("trap-out-of-bounds", "trap", ["out-of-bounds"], [], null, null),
        new WasmCase("trap-stack-overflow", "trap", ["stack-overflow"], [], null, null),
        new WasmCase("compute", "compute", ["2"], [], null, null),
        new WasmCase("stdin", "stdin", [], [], null, StdinBytes()),
    }.ToDictionary(c => c.Name);

    /// <summary>The case names, for a theory.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (string name in All.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    /// <summary>A fresh /data folder for a case that mounts one (null otherwise).</summary>
    public TempDirectory? PrepareData()
    {
        if (Mount is null)
        {
            return null;
        }

        var data = new TempDirectory();
        data.Write("input.txt", InputText);
        return data;
    }

    /// <summary>Runs the case natively with the launcher; <paramref name="data"/> is the folder from <see cref="PrepareData"/>.</summary>
    public ChildProcess.Result RunNatively(TempDirectory? data) => WasmModules.RunNatively(
        WasmModules.Build(Module),
        Module + ".wasm",
        Arguments,
        WasmModules.PolicyEnvironment(Environment),
        data is null ? null : [(data.Path, "/data", Mount == true)],
        Stdin ?? []);
}
