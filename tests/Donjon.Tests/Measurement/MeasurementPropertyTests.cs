using System.Buffers.Binary;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Abstractions.Sessions;
using Donjon.Backends.Sdk.Measurement;
using Donjon.Host.Elf;
using Donjon.Host.Images;
using Donjon.Host.Measurement;
using Donjon.Host.Protocol;
using Donjon.Syscalls.Core;

namespace Donjon.Tests.Measurement;

/// <summary>
/// What every measurement (sgx, sev, and the process keep's keep-image digest) must do for a real glibc static PIE:
/// be reproducible, change with any loaded byte, the configuration or the layout, and ignore what is not loaded or
/// only given at run time.
/// </summary>
public sealed class MeasurementPropertyTests
{
    public static TheoryData<string> Kinds => MeasurementFixtures.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Measuring_the_same_binary_twice_gives_the_same_value(string kind)
    {
        byte[] bytes = MeasurementFixtures.HelloBytes();
        LaunchMeasurement first = MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(bytes));
        LaunchMeasurement second = MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(bytes.ToArray()));

        MeasurementFixtures.Hex(second).Should().Be(MeasurementFixtures.Hex(first));
        second.Regions.Should().Equal(first.Regions);
        first.Digest.Length.Should().Be(kind == "sgx" ? 32 : 48);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Flipping_one_byte_of_any_loaded_segment_changes_it(string kind)
    {
        byte[] bytes = MeasurementFixtures.HelloBytes();
        string original = MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(bytes)));
        IReadOnlyList<ElfProgramHeader> loads = MeasurementFixtures.LoadedSegments(bytes);
        loads.Should().HaveCountGreaterThan(1);

        var seen = new HashSet<string> { original };
        foreach (ElfProgramHeader load in loads)
        {
            // The last byte of the segment's file bytes: never the ELF or program headers at the file's start.
            byte[] changed = bytes.ToArray();
            changed[load.Offset + load.FileSize - 1] ^= 0x01;
            string value = MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(changed)));
            seen.Add(value).Should().BeTrue($"flipping the last file byte of PT_LOAD #{load.Index} changes the {kind} measurement");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Elf_padding_outside_the_loaded_segments_does_not_change_it(string kind)
    {
        byte[] bytes = MeasurementFixtures.HelloBytes();
        string original = MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(bytes)));

        // Bytes appended after the end of the file.
        byte[] appended = [.. bytes, .. Enumerable.Repeat((byte)0xAA, 4096)];
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(appended))).Should().Be(original);

        // A byte inside the file that no PT_LOAD loads and no header describes (a non-allocated section).
        long offset = UnloadedOffset(bytes);
        byte[] flipped = bytes.ToArray();
        flipped[offset] ^= 0xFF;
        ElfInspector.Inspect(flipped, "flipped").Sha256.Should().NotBe(ElfInspector.Inspect(bytes, "hello").Sha256);
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(flipped))).Should().Be(original);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Runtime_inputs_do_not_change_it_but_the_layout_seed_does(string kind)
    {
        byte[] bytes = MeasurementFixtures.HelloBytes();
        WorkloadFile workload = MeasurementFixtures.Workload(bytes);
        byte[] configuration = ConfigurationPageBuilder.BuildTable([new CoreSyscalls()], MeasurementFixtures.SmallLimits.Threads, MeasurementFixtures.SmallLimits.Cpus).ConfigurationPage.ToArray();
        KeepImage Build(string[] arguments, string[] environment, uint user, ulong seed) => KeepImageBuilder.Build(new KeepImageRequest(
            workload.Report, bytes, "hello", arguments, environment, user, user, MeasurementFixtures.SmallLimits, seed, configuration));

        string reference = MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, MeasurementFixtures.Image(bytes)));
        KeepImage other = Build(["./hello", "many", "arguments"], ["SECRET=1", "LANG=C"], 1000, MeasurementImage.Seed);
        other.Stack.Contents.Length.Should().NotBe(MeasurementFixtures.Image(bytes).Stack.Contents.Length);
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, other)).Should().Be(reference, "argv, the environment and the ids are runtime inputs");
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, Build(["hello"], [], 0, 1))).Should().NotBe(reference, "the layout is measured");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_configuration_page_and_the_limits_are_measured(string kind)
    {
        byte[] bytes = MeasurementFixtures.HelloBytes();
        KeepImage image = MeasurementFixtures.Image(bytes);
        string reference = MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, image));

        byte[] configuration = image.Configuration.ToArray();
        configuration[^1] ^= 0x01;
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, image with { Configuration = configuration })).Should().NotBe(reference);

        KeepImage larger = MeasurementFixtures.Image(bytes, MeasurementFixtures.SmallLimits with { MemorySize = 32UL << 20 });
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, larger)).Should().NotBe(reference, "the heap's size is in the layout page");

        int otherCpus = MeasurementFixtures.SmallLimits.Cpus == 1 ? 2 : 1;
        KeepImage cpus = MeasurementFixtures.Image(bytes, MeasurementFixtures.SmallLimits with { Cpus = otherCpus });
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, cpus)).Should().NotBe(reference, "limits.cpus is in the configuration page");
    }

    [Theory]
    [InlineData("sgx")]
    [InlineData("sev")]
    public void Every_byte_of_the_shim_is_measured(string kind)
    {
        byte[] shimFile = File.ReadAllBytes(Workloads.WorkloadBuilder.Build(Workloads.Workload.AssemblyStaticPieHi));
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());
        string reference = MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, image, ShimImage.Parse("shim", shimFile)));

        // The entry point's first instruction byte.
        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(shimFile.AsSpan(0x18));
        byte[] changed = shimFile.ToArray();
        changed[FileOffsetOf(changed, entry)] ^= 0x01;
        MeasurementFixtures.Hex(MeasurementFixtures.Measure(kind, image, ShimImage.Parse("shim", changed))).Should().NotBe(reference);
    }

    [Fact]
    public void The_sgx_measurement_with_the_default_one_gib_memory_limit_is_quick()
    {
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes(), KeepLimits.Default);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LaunchMeasurement measurement = SgxEnclaveLayout.Measure(image, MeasurementFixtures.Shim, []);
        clock.Stop();

        measurement.Regions.Single(r => r.Name == "heap").Size.Should().Be(1UL << 30);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "heap and mmap pages are added without EEXTEND");
    }

    /// <summary>A file offset that no PT_LOAD's file bytes, the ELF header, the program headers or the section headers cover.</summary>
    private static long UnloadedOffset(byte[] bytes)
    {
        ElfReport report = ElfInspector.Inspect(bytes, "hello");
        ElfFileHeader header = report.Header!;
        var covered = new List<(ulong Start, ulong End)>
        {
            (0, 64),
            (header.ProgramHeaderOffset, header.ProgramHeaderOffset + ((ulong)header.ProgramHeaderEntrySize * header.ProgramHeaderCount)),
            (header.SectionHeaderOffset, header.SectionHeaderOffset + ((ulong)header.SectionHeaderEntrySize * header.SectionHeaderCount)),
        };
        covered.AddRange(report.ProgramHeaders.Where(p => p.TypeValue == ElfConstants.PT_LOAD).Select(p => (p.Offset, p.Offset + p.FileSize)));
        for (long offset = bytes.Length - 1; offset > 64; offset--)
        {
            if (!covered.Any(c => (ulong)offset >= c.Start && (ulong)offset < c.End))
            {
                return offset;
            }
        }

        throw new InvalidOperationException("the binary has no byte outside its loaded segments and headers");
    }

    /// <summary>The file offset of the byte a PT_LOAD puts at virtual address <paramref name="address"/>.</summary>
    private static long FileOffsetOf(byte[] elf, ulong address)
    {
        ElfReport report = ElfInspector.Inspect(elf, "shim");
        ElfProgramHeader load = report.ProgramHeaders.Single(p => p.TypeValue == ElfConstants.PT_LOAD && address >= p.VirtualAddress && address < p.VirtualAddress + p.FileSize);
        return (long)(load.Offset + (address - load.VirtualAddress));
    }
}
