using System.Collections.Concurrent;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Wasm;

/// <summary>
/// Builds the WebAssembly test modules at test time from <c>tests/Donjon.Tests/Workloads/wasm/NAME.c</c> with Debian's
/// clang and wasi-libc (<c>clang --target=wasm32-wasi</c>), each once per test run, and runs them natively with the
/// exec layer's launcher, the same program a keep runs. A missing clang or wasi-libc fails the test with what to install.
/// </summary>
internal static class WasmModules
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new();

    private static readonly Lazy<string> OutputDirectory = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), $"donjon-wasm-modules-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temporary directory is harmless.
            }
        };
        return directory;
    });

    /// <summary>The launcher <c>dotnet build</c> makes (plugins/exec/wasm/bin), with libwasmtime.so beside it.</summary>
    public static string Launcher
    {
        get
        {
            string path = Repository.PathOf("plugins/exec/wasm/bin/donjon-wasm");
            if (!File.Exists(path) || !File.Exists(Path.Combine(Path.GetDirectoryName(path)!, "libwasmtime.so")))
            {
                throw new InvalidOperationException($"the WebAssembly launcher is not built ({path}, with libwasmtime.so beside it); run 'dotnet build' at the repository root");
            }

            return path;
        }
    }

    /// <summary>The source folder of the modules.</summary>
    public static string SourceDirectory => Path.Combine(WorkloadBuilder.SourceDirectory, "wasm");

    /// <summary>Builds <c>NAME.c</c> into <c>NAME.wasm</c> (once per run) and returns its path; checks that the result is a core module.</summary>
    public static string Build(string name) =>
        Built.GetOrAdd(name, key => new Lazy<string>(() => Compile(key), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>A copy of a built module in a folder of its own, for a test that changes it.</summary>
    public static string CopyTo(string name, string directory)
    {
        string copy = Path.Combine(directory, name + ".wasm");
        File.Copy(Build(name), copy, overwrite: true);
        return copy;
    }

    private static string Compile(string name)
    {
        string output = Path.Combine(OutputDirectory.Value, name + ".wasm");
        ToolResult result;
        try
        {
            result = ToolRunner.Run("clang", "--target=wasm32-wasi", "-O2", "-Wall", "-Werror", "-o", output, Path.Combine(SourceDirectory, name + ".c"));
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}; the WebAssembly tests need clang with wasi-libc (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)", e);
        }

        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"clang --target=wasm32-wasi failed for {name}.c (status {result.ExitCode}); install wasi-libc and the wasm32 runtime (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32):\n{result.StandardError}");
        }

        byte[] header = File.ReadAllBytes(output)[..8];
        header.Should().Equal([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00], $"clang --target=wasm32-wasi must make a core module (binary version 1) of {name}.c");
        return output;
    }

    /// <summary>The environment a keep with the repository's policy gives the module: LANG=C.UTF-8, then the <c>--env</c> assignments.</summary>
    public static Dictionary<string, string> PolicyEnvironment(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["LANG"] = "C.UTF-8" };
        foreach ((string key, string value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>
    /// Runs <paramref name="module"/> natively with the launcher, as a keep runs it: <c>argv[0]</c> as typed, the
    /// preopens given as (host directory, guest path, writable), exactly <paramref name="environment"/>.
    /// </summary>
    public static ChildProcess.Result RunNatively(string module, string argv0, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<(string Directory, string Guest, bool Writable)>? preopens = null, byte[]? stdin = null)
    {
        var launcherArguments = new List<string> { "--argv0", argv0 };
        foreach ((string directory, string guest, bool writable) in preopens ?? [])
        {
            launcherArguments.AddRange(["--dir", writable ? "rw" : "ro", directory, guest]);
        }

        launcherArguments.Add("--");
        launcherArguments.Add(module);
        launcherArguments.AddRange(arguments);
        return ChildProcess.Run(Launcher, launcherArguments, environment, stdin);
    }
}
