using System.Globalization;
using Donjon.Host.Elf;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Elf;

/// <summary>
/// Inspects real binaries built by gcc at test time (and <c>/bin/ls</c>), and checks each report against what
/// <c>readelf</c> and <c>sha256sum</c> say about the same file.
/// </summary>
public sealed class RealBinaryInspectionTests
{
    [Fact]
    public void GlibcStaticPie_IsRunnableEtDynWithoutInterpreter()
    {
        ElfReport report = ElfInspector.Inspect(WorkloadBuilder.Build(Workload.GlibcStaticPieHello));

        report.Verdict.Should().Be(ElfVerdict.Runnable);
        report.IsRunnable.Should().BeTrue();
        report.IsStaticPie.Should().BeTrue();
        report.Header.Should().NotBeNull();
        report.Header!.Class.Should().Be("ELF64");
        report.Header.DataEncoding.Should().Be("little-endian");
        report.Header.Machine.Should().Be("x86-64");
        report.Header.Type.Should().Be("ET_DYN");
        report.Header.ProgramHeaderEntrySize.Should().Be(56);
        report.Header.ProgramHeaderCount.Should().Be((ushort)report.ProgramHeaders.Count);
        report.InterpreterPath.Should().BeNull();
        report.NeededLibraries.Should().BeEmpty();
        report.IsStackExecutable.Should().BeFalse();
        report.ProgramHeaders.Select(header => header.Type).Should()
            .Contain(["PT_LOAD", "PT_DYNAMIC", "PT_TLS", "PT_GNU_STACK", "PT_GNU_RELRO", "PT_GNU_EH_FRAME"])
            .And.NotContain("PT_INTERP");
        report.ProgramHeaders.Should().Contain(header => header.Type == "PT_LOAD" && header.Flags == "R E");
    }

    [Fact]
    public void AssemblyStaticPie_IsRunnableAndRunsNatively()
    {
        string path = WorkloadBuilder.Build(Workload.AssemblyStaticPieHi);
        ElfReport report = ElfInspector.Inspect(path);

        report.Verdict.Should().Be(ElfVerdict.Runnable);
        report.IsStaticPie.Should().BeTrue();
        report.Header!.Type.Should().Be("ET_DYN");
        report.InterpreterPath.Should().BeNull();
        ToolResult run = ToolRunner.Run(path);
        run.ExitCode.Should().Be(0);
        run.StandardOutput.Should().Be("hi\n");
    }

    [Fact]
    public void GlibcDynamicPie_IsRunnableAndNamesItsInterpreterAndLibraries()
    {
        ElfReport report = ElfInspector.Inspect(WorkloadBuilder.Build(Workload.GlibcDynamicHello));

        report.Header!.Type.Should().Be("ET_DYN");
        report.IsStaticPie.Should().BeFalse();
        report.IsDynamic.Should().BeTrue();
        report.InterpreterPath.Should().Be("/lib64/ld-linux-x86-64.so.2");
        report.NeededLibraries.Should().Contain("libc.so.6");
        report.Verdict.IsRunnable.Should().BeTrue(report.Verdict.RejectionReason);
    }

    [Fact]
    public void GlibcStaticNonPie_IsRunnableAtItsLinkAddress()
    {
        ElfReport report = ElfInspector.Inspect(WorkloadBuilder.Build(Workload.GlibcStaticNonPieHello));

        report.Header!.Type.Should().Be("ET_EXEC");
        report.InterpreterPath.Should().BeNull();
        report.IsStaticPie.Should().BeFalse();
        report.IsFixedAddress.Should().BeTrue();
        report.Verdict.IsRunnable.Should().BeTrue(report.Verdict.RejectionReason);
    }

    [Fact]
    public void Interpreter_OfThisHost_IsAcceptedAsAnInterpreterButNotAsAProgram()
    {
        const string path = "/lib64/ld-linux-x86-64.so.2";
        byte[] bytes = File.ReadAllBytes(path);

        ElfInspector.InspectInterpreter(bytes, path).Verdict.IsRunnable.Should().BeTrue();
        ElfInspector.Inspect(bytes, path).Verdict.Kind.Should().Be(ElfRejectionKind.SharedLibrary);
    }

    [Fact]
    public void SharedLibrary_IsRejectedAsSharedLibrary()
    {
        ElfReport report = ElfInspector.Inspect(WorkloadBuilder.Build(Workload.SharedLibrary));

        report.Header!.Type.Should().Be("ET_DYN");
        report.Header.Entry.Should().Be(0);
        report.IsStaticPie.Should().BeFalse();
        report.Verdict.Kind.Should().Be(ElfRejectionKind.SharedLibrary);
        report.Verdict.RejectionReason.Should().Contain("shared library").And.Contain("e_entry = 0");
    }

    [Fact]
    public void BinLs_NamesTheInterpreterReadelfShows()
    {
        const string path = "/bin/ls";
        File.Exists(path).Should().BeTrue("this test inspects /bin/ls, which every Debian system has");
        string readelfInterpreter = ReadelfProgramHeaders(path).Interpreter
            ?? throw new InvalidOperationException("readelf shows no interpreter for /bin/ls");

        ElfReport report = ElfInspector.Inspect(path);

        report.InterpreterPath.Should().Be(readelfInterpreter);
        report.Verdict.IsRunnable.Should().BeTrue(report.Verdict.RejectionReason);
    }

    [Theory]
    [InlineData(Workload.GlibcStaticPieHello)]
    [InlineData(Workload.GlibcDynamicHello)]
    [InlineData(Workload.GlibcStaticNonPieHello)]
    [InlineData(Workload.SharedLibrary)]
    [InlineData(Workload.AssemblyStaticPieHi)]
    public void Sha256_EqualsWhatSha256sumPrints(Workload workload)
    {
        string path = WorkloadBuilder.Build(workload);
        string expected = ToolRunner.RunChecked("sha256sum", path).Split(' ')[0];

        ElfReport report = ElfInspector.Inspect(path);

        report.Sha256.Should().Be(expected).And.MatchRegex("^[0-9a-f]{64}$");
        report.FileSize.Should().Be(new FileInfo(path).Length);
    }

    [Theory]
    [InlineData(Workload.GlibcStaticPieHello)]
    [InlineData(Workload.GlibcDynamicHello)]
    [InlineData(Workload.GlibcStaticNonPieHello)]
    [InlineData(Workload.SharedLibrary)]
    [InlineData(Workload.AssemblyStaticPieHi)]
    public void ProgramHeaders_MatchWhatReadelfShows(Workload workload)
    {
        string path = WorkloadBuilder.Build(workload);
        ReadelfListing expected = ReadelfProgramHeaders(path);

        ElfReport report = ElfInspector.Inspect(path);

        report.Header!.Entry.Should().Be(expected.Entry);
        report.ProgramHeaders.Select(header => (
                header.Type,
                header.Offset,
                header.VirtualAddress,
                header.FileSize,
                header.MemorySize,
                Flags: header.Flags.Replace(" ", string.Empty, StringComparison.Ordinal),
                header.Alignment))
            .Should().Equal(expected.Headers);
        report.InterpreterPath.Should().Be(expected.Interpreter);
    }

    [Fact]
    public void Inspect_OfAMissingPath_ThrowsFileNotFound()
    {
        string path = Path.Combine(Path.GetTempPath(), $"donjon-missing-{Guid.NewGuid():N}");

        Action inspect = () => ElfInspector.Inspect(path);

        inspect.Should().Throw<FileNotFoundException>().Which.FileName.Should().Be(path);
    }

    [Fact]
    public void Inspect_OfADirectory_IsRejectedAsUnreadable()
    {
        ElfReport report = ElfInspector.Inspect(Path.GetTempPath());

        report.Verdict.Kind.Should().Be(ElfRejectionKind.Unreadable);
        report.Verdict.RejectionReason.Should().Contain("directory");
    }

    [Fact]
    public void Load_ReturnsExactlyTheBytesThatWereInspected()
    {
        string path = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);

        WorkloadFile workload = ElfInspector.Load(path);

        workload.Path.Should().Be(path);
        workload.Contents.ToArray().Should().Equal(File.ReadAllBytes(path));
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(workload.Contents.Span)).Should().Be(workload.Report.Sha256);
        workload.Report.DisplayName.Should().Be(path);
    }

    /// <summary>The entry point, program headers and interpreter, as <c>readelf -hlW</c> prints them.</summary>
    private sealed record ReadelfListing(
        ulong Entry,
        List<(string Type, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize, string Flags, ulong Alignment)> Headers,
        string? Interpreter);

    private static ReadelfListing ReadelfProgramHeaders(string path)
    {
        string[] lines = ToolRunner.RunChecked("readelf", "-hlW", path).Split('\n');
        ulong entry = Hex(lines.Single(line => line.Contains("Entry point address:", StringComparison.Ordinal)).Split(':')[1].Trim());
        var headers = new List<(string, ulong, ulong, ulong, ulong, string, ulong)>();
        string? interpreter = null;
        int start = Array.FindIndex(lines, line => line.TrimStart().StartsWith("Type ", StringComparison.Ordinal)) + 1;
        for (int index = start; index < lines.Length && lines[index].Trim().Length > 0; index++)
        {
            string line = lines[index].Trim();
            if (line.StartsWith("[Requesting program interpreter: ", StringComparison.Ordinal))
            {
                interpreter = line["[Requesting program interpreter: ".Length..].TrimEnd(']');
                continue;
            }

            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string flags = string.Concat(fields[6..^1]);
            headers.Add(("PT_" + fields[0], Hex(fields[1]), Hex(fields[2]), Hex(fields[4]), Hex(fields[5]), flags, Hex(fields[^1])));
        }

        return new ReadelfListing(entry, headers, interpreter);
    }

    private static ulong Hex(string text) =>
        ulong.Parse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
