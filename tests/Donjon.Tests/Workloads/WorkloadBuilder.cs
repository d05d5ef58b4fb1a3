using System.Collections.Concurrent;

namespace Donjon.Tests.Workloads;

/// <summary>The test workloads that <see cref="WorkloadBuilder"/> can build, each from a source in this folder.</summary>
public enum Workload
{
    /// <summary><c>hello.c</c> linked by glibc's <c>gcc -static-pie</c>: the kind of binary Donjon runs.</summary>
    GlibcStaticPieHello,

    /// <summary><c>hello.c</c> linked dynamically (a PIE with <c>PT_INTERP</c>), which Donjon rejects.</summary>
    GlibcDynamicHello,

    /// <summary><c>hello.c</c> linked <c>gcc -static -no-pie</c> (<c>ET_EXEC</c>), which Donjon rejects for now.</summary>
    GlibcStaticNonPieHello,

    /// <summary><c>library.c</c> linked <c>gcc -shared</c>: a shared library, which Donjon rejects.</summary>
    SharedLibrary,

    /// <summary><c>hi.S</c>, a raw Intel-syntax <c>_start</c> program linked <c>gcc -nostdlib -static-pie</c>; prints "hi".</summary>
    AssemblyStaticPieHi,
}

/// <summary>
/// Builds the C and assembly test workloads with gcc at test time, each at most once per test run, into a
/// temporary directory removed when the run ends. Sources live next to this file in <c>tests/Donjon.Tests/Workloads/</c>
/// and are found by walking up from the test assembly's folder. A missing gcc fails the test with a clear message.
/// </summary>
public static class WorkloadBuilder
{
    private static readonly ConcurrentDictionary<Workload, Lazy<string>> Built = new();

    private static readonly Lazy<string> OutputDirectory = new(CreateOutputDirectory);

    private static readonly Lazy<string> SourceDirectoryValue = new(FindSourceDirectory);

    /// <summary>The folder that holds the workload sources.</summary>
    public static string SourceDirectory => SourceDirectoryValue.Value;

    /// <summary>Builds <paramref name="workload"/> (once per test run) and returns the path of the binary.</summary>
    /// <exception cref="InvalidOperationException">gcc is missing or the build fails; the message has gcc's output.</exception>
    public static string Build(Workload workload) =>
        Built.GetOrAdd(workload, key => new Lazy<string>(() => Compile(key), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static string Compile(Workload workload)
    {
        (string source, string output, string[] flags) = workload switch
        {
            Workload.GlibcStaticPieHello => ("hello.c", "hello-static-pie", new[] { "-O2", "-static-pie" }),
            Workload.GlibcDynamicHello => ("hello.c", "hello-dynamic", new[] { "-O2", "-pie", "-fPIE" }),
            Workload.GlibcStaticNonPieHello => ("hello.c", "hello-static-non-pie", new[] { "-O2", "-static", "-no-pie", "-fno-PIE" }),
            Workload.SharedLibrary => ("library.c", "liblibrary.so", new[] { "-O2", "-shared", "-fPIC" }),
            Workload.AssemblyStaticPieHi => ("hi.S", "hi-static-pie", new[] { "-nostdlib", "-static-pie" }),
            _ => throw new ArgumentOutOfRangeException(nameof(workload), workload, "no recipe for this workload"),
        };

        string outputPath = Path.Combine(OutputDirectory.Value, output);
        string[] arguments = [.. flags, "-o", outputPath, Path.Combine(SourceDirectory, source)];
        ToolRunner.RunChecked("gcc", arguments);
        if (!File.Exists(outputPath))
        {
            throw new InvalidOperationException($"gcc {string.Join(' ', arguments)} succeeded but wrote no {outputPath}");
        }

        return outputPath;
    }

    private static string CreateOutputDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"donjon-workloads-{Environment.ProcessId}-{Guid.NewGuid():N}");
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
    }

    private static string FindSourceDirectory()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "Donjon.Tests", "Workloads");
            if (File.Exists(Path.Combine(candidate, "hello.c")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"cannot find the workload sources (tests/Donjon.Tests/Workloads/hello.c) above {AppContext.BaseDirectory}; run the tests from a checkout of the repository");
    }
}
