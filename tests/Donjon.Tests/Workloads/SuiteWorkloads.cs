using System.Collections.Concurrent;
using Donjon.Host.Elf;

namespace Donjon.Tests.Workloads;

/// <summary>The toolchains every keep-suite program is built with.</summary>
public enum Toolchain
{
    /// <summary>glibc, <c>gcc -static-pie</c>.</summary>
    Glibc,

    /// <summary>musl, through the compiler driver the repository ships (<c>samples/musl-static-pie</c>, with its
    /// specs file): rcrt1.o and <c>-static -pie --no-dynamic-linker -z text</c>. Debian's <c>musl-gcc -static-pie</c>
    /// would silently produce a dynamic PIE.</summary>
    Musl,

    /// <summary>A raw <c>_start</c> program in Intel-syntax assembly, <c>gcc -nostdlib -static-pie</c>.</summary>
    Assembly,

    /// <summary>
    /// Rust with its <c>std</c> (on glibc): <c>rustc -C target-feature=+crt-static -C relocation-model=pie -O</c>, which
    /// gives a static PIE. The program is <c>suite/NAME.rs</c>.
    /// </summary>
    Rust,
}

/// <summary>
/// Builds the keep-suite programs (<c>Workloads/suite/NAME.c</c> and <c>NAME.S</c>) once per test run, and checks
/// that each is what it claims to be: a static PIE, with no interpreter.
/// </summary>
public static class SuiteWorkloads
{
    /// <summary>The musl compiler driver the README gives users: the suite builds its musl programs with it too.</summary>
    public static string MuslDriver => Support.Repository.PathOf("samples/musl-static-pie");

    private static readonly ConcurrentDictionary<(string, Toolchain), Lazy<string>> Built = new();

    private static readonly Lazy<string> OutputDirectory = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), $"donjon-suite-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return directory;
    });

    /// <summary>Whether <paramref name="name"/> has a source for <paramref name="toolchain"/>.</summary>
    public static bool Exists(string name, Toolchain toolchain) =>
        File.Exists(Path.Combine(WorkloadBuilder.SourceDirectory, "suite", name + Extension(toolchain)));

    private static string Extension(Toolchain toolchain) => toolchain switch
    {
        Toolchain.Assembly => ".S",
        Toolchain.Rust => ".rs",
        _ => ".c",
    };

    /// <summary>Builds (once) and returns the path of <paramref name="name"/> for <paramref name="toolchain"/>.</summary>
    public static string Build(string name, Toolchain toolchain) =>
        Built.GetOrAdd((name, toolchain), key => new Lazy<string>(() => Compile(key.Item1, key.Item2), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static string Compile(string name, Toolchain toolchain)
    {
        string suite = Path.Combine(WorkloadBuilder.SourceDirectory, "suite");
        string output = Path.Combine(OutputDirectory.Value, $"{name}-{toolchain.ToString().ToLowerInvariant()}");
        string[] arguments = toolchain switch
        {
            Toolchain.Glibc => ["-O2", "-static-pie", "-o", output, Path.Combine(suite, name + ".c")],
            Toolchain.Musl => ["-O2", "-o", output, Path.Combine(suite, name + ".c")],
            Toolchain.Assembly => ["-nostdlib", "-static-pie", "-o", output, Path.Combine(suite, name + ".S")],
            Toolchain.Rust => ["-C", "target-feature=+crt-static", "-C", "relocation-model=pie", "-O", "-o", output, Path.Combine(suite, name + ".rs")],
            _ => throw new ArgumentOutOfRangeException(nameof(toolchain)),
        };
        if (toolchain == Toolchain.Musl && !File.Exists("/usr/lib/x86_64-linux-musl/rcrt1.o"))
        {
            throw new InvalidOperationException("musl is not installed (no /usr/lib/x86_64-linux-musl/rcrt1.o): apt-get install musl-tools");
        }

        if (toolchain == Toolchain.Rust)
        {
            RequireRustc();
        }

        string compiler = toolchain switch
        {
            Toolchain.Rust => "rustc",
            Toolchain.Musl => MuslDriver,
            _ => "gcc",
        };
        ToolRunner.RunChecked(compiler, arguments);

        // Every workload is checked to be what the test claims: a runnable static PIE.
        ElfReport report = ElfInspector.Inspect(output);
        if (!report.IsStaticPie || !report.IsRunnable || report.InterpreterPath is not null || report.Header?.Type != "ET_DYN")
        {
            throw new InvalidOperationException($"{output} ({toolchain}) is not a runnable static PIE: {report.Verdict.RejectionReason ?? report.Header?.Type}");
        }

        return output;
    }

    /// <summary>Fails the test, saying what to install, when no <c>rustc</c> is on PATH; nothing is skipped.</summary>
    private static void RequireRustc()
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, "rustc")));
        if (!found)
        {
            string ci = Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: the Rust case may not be left out)" : string.Empty;
            throw new InvalidOperationException(
                $"The keep suite's Rust case needs rustc and none was found on PATH{ci}. Install it: " +
                "sudo apt-get install -y --no-install-recommends rustc (bash .ci/run does), or rustup.");
        }
    }
}
