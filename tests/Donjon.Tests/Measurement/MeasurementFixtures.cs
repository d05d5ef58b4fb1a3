using System.Text.RegularExpressions;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Abstractions.Plugins;
using Donjon.Abstractions.Sessions;
using Donjon.Backends.Sdk.Measurement;
using Donjon.Host.Elf;
using Donjon.Host.Measurement;
using Donjon.Syscalls.Core;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Measurement;

/// <summary>
/// The public known-answer vectors in <c>&lt;repository root&gt;/../shared/vectors</c>, read in place, never copied.
/// A local clone (for example a CI check in /tmp) looks beside the repository it was cloned from as well.
/// </summary>
internal static class Vectors
{
    private static readonly Lazy<string> Located = new(Locate);

    public static string Directory => Located.Value;

    private static string Locate()
    {
        string beside = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "vectors"));
        if (System.IO.Directory.Exists(beside))
        {
            return beside;
        }

        string? origin = OriginPath();
        if (origin is not null)
        {
            string besideOrigin = Path.GetFullPath(Path.Combine(origin, "..", "shared", "vectors"));
            if (System.IO.Directory.Exists(besideOrigin))
            {
                return besideOrigin;
            }
        }

        return beside;
    }

    /// <summary>The folder this checkout was cloned from, when its origin is a local path.</summary>
    private static string? OriginPath()
    {
        string config = Path.Combine(Repository.Root, ".git", "config");
        if (!File.Exists(config))
        {
            return null;
        }

        foreach (string line in File.ReadLines(config))
        {
            string trimmed = line.Trim();
            if (trimmed.StartsWith("url = /", StringComparison.Ordinal))
            {
                string url = trimmed["url = ".Length..];
                return url.EndsWith("/.git", StringComparison.Ordinal) ? url[..^5] : url.TrimEnd('/');
            }
        }

        return null;
    }

    public static byte[] Read(string relative)
    {
        string path = Path.Combine(Directory, relative);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"the known-answer vector {path} is missing; the tests read ../shared/vectors beside the repository (see its README)");
        }

        return File.ReadAllBytes(path);
    }

    /// <summary>The first run of <paramref name="digits"/> hex digits after <paramref name="label"/> in the vectors' README.</summary>
    public static string ReadmeHex(string label, int digits)
    {
        string readme = File.ReadAllText(Path.Combine(Directory, "README.md"));
        Match match = Regex.Match(readme, Regex.Escape(label) + @"[^`]*`([0-9a-f]{" + digits + "})`", RegexOptions.CultureInvariant);
        if (!match.Success)
        {
            throw new InvalidOperationException($"the vectors' README has no {digits}-digit value after '{label}'");
        }

        return match.Groups[1].Value;
    }
}

/// <summary>Workloads, shims and images for the measurement tests.</summary>
internal static class MeasurementFixtures
{
    /// <summary>Small limits, so that the SGX layout's heap and mmap EADDs stay few.</summary>
    public static readonly KeepLimits SmallLimits = new(16UL << 20, 1UL << 20, 64);

    /// <summary>A static-PIE standing in for a shim: the raw-assembly <c>hi</c> workload.</summary>
    public static ShimImage Shim => ShimImage.Parse("hi (stand-in shim)", File.ReadAllBytes(WorkloadBuilder.Build(Workloads.Workload.AssemblyStaticPieHi)));

    public static byte[] HelloBytes() => File.ReadAllBytes(WorkloadBuilder.Build(Workloads.Workload.GlibcStaticPieHello));

    public static WorkloadFile Workload(byte[] bytes, string name = "hello")
    {
        ElfReport report = ElfInspector.Inspect(bytes, name);
        report.IsRunnable.Should().BeTrue(report.Verdict.RejectionReason);
        return new WorkloadFile(name, bytes, report);
    }

    public static KeepImage Image(byte[] bytes, KeepLimits? limits = null) =>
        MeasurementImage.Build(Workload(bytes), [new CoreSyscalls()], limits ?? SmallLimits);

    public static TheoryData<string> Kinds => new() { "sgx", "sev", "process" };

    public static LaunchMeasurement Measure(string kind, KeepImage image, ShimImage? shim = null) => kind switch
    {
        "sgx" => SgxEnclaveLayout.Measure(image, shim ?? Shim, []),
        "sev" => SnpGuestLayout.Measure(image, shim ?? Shim, []),
        "process" => KeepImageDigest.Measure(image),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown measurement"),
    };

    public static string Hex(LaunchMeasurement measurement) => Convert.ToHexStringLower(measurement.Digest.Span);

    /// <summary>The program headers of type PT_LOAD that have file bytes.</summary>
    public static IReadOnlyList<ElfProgramHeader> LoadedSegments(byte[] bytes) =>
        ElfInspector.Inspect(bytes, "hello").ProgramHeaders.Where(p => p.TypeValue == ElfConstants.PT_LOAD && p.FileSize > 0).ToList();
}

/// <summary>An <see cref="IPluginContext"/> for a backend built by a test.</summary>
internal sealed record TestPluginContext(string PluginDirectory) : IPluginContext
{
    public ILoggerFactory LoggerFactory => NullLoggerFactory.Instance;
}

/// <summary>A sink that records every page it is fed.</summary>
internal sealed class RecordingSink : IKeepPageSink
{
    public List<(ulong Address, byte[] Contents, MemoryPermissions Permissions, KeepPageKind Kind)> Pages { get; } = [];

    public int Finished { get; private set; }

    public void AddPage(ulong address, ReadOnlySpan<byte> contents, MemoryPermissions permissions, KeepPageKind kind) =>
        Pages.Add((address, contents.ToArray(), permissions, kind));

    public void Finish() => Finished++;
}
