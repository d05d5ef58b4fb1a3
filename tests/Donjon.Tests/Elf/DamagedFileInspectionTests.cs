using System.Buffers.Binary;
using System.Text;
using Donjon.Host.Elf;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Elf;

/// <summary>
/// Inspects hand-made and deliberately damaged files: each must be rejected with the right kind and a reason that
/// names what is wrong and where.
/// </summary>
public sealed class DamagedFileInspectionTests
{
    private const int ElfMachineOffset = 18;

    [Fact]
    public void TheDefaultSyntheticFile_IsRunnable()
    {
        // The baseline every other synthetic case damages in exactly one way.
        ElfReport report = Inspect(new SyntheticElf());

        report.Verdict.Should().Be(ElfVerdict.Runnable);
        report.IsStaticPie.Should().BeTrue();
    }

    [Fact]
    public void AnEmptyFile_IsNotElf()
    {
        ElfReport report = ElfInspector.Inspect(ReadOnlyMemory<byte>.Empty, "empty");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.NotElf);
        report.Verdict.RejectionReason.Should().Contain("empty").And.Contain("7f 45 4c 46");
        report.Header.Should().BeNull();
        report.Sha256.Should().Be("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    [Fact]
    public void AnEmptyFileOnDisk_IsNotElf()
    {
        string path = Path.GetTempFileName();
        try
        {
            ElfInspector.Inspect(path).Verdict.Kind.Should().Be(ElfRejectionKind.NotElf);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("hello, world\n")]
    [InlineData("#!/bin/sh\necho hi\n")]
    [InlineData("MZ\u0090\0")]
    public void ATextFile_IsNotElf(string text)
    {
        ElfReport report = ElfInspector.Inspect(Encoding.UTF8.GetBytes(text), "text");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.NotElf);
        report.Verdict.RejectionReason.Should().StartWith("not an ELF file").And.Contain("e_ident[EI_MAG0..EI_MAG3]");
    }

    [Fact]
    public void AScript_IsCalledAScript()
    {
        ElfInspector.Inspect("#!/bin/sh\n"u8.ToArray(), "script").Verdict.RejectionReason.Should().Contain("script");
    }

    [Fact]
    public void A32BitFile_IsRejectedAs32Bit()
    {
        var elf = new SyntheticElf { Class = 1, Machine = 3 };
        ElfReport report = Inspect(elf);

        report.Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedClass);
        report.Verdict.RejectionReason.Should().Contain("32-bit").And.Contain("Intel 80386").And.Contain("EI_CLASS");
        report.Header!.Class.Should().Be("ELF32");
        report.Header.Machine.Should().Be("Intel 80386");
        report.ProgramHeaders.Should().HaveCount(elf.Segments.Count, "32-bit program headers are still listed in the report");
        report.ProgramHeaders[1].Flags.Should().Be("R E");
    }

    [Fact]
    public void AStaticPieMarked32Bit_IsRejectedAs32Bit()
    {
        byte[] file = StaticPieBytes();
        file[4] = 1;

        ElfInspector.Inspect(file, "patched").Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedClass);
    }

    [Fact]
    public void ABigEndianFile_IsRejectedAsBigEndian()
    {
        ElfReport report = Inspect(new SyntheticElf { Data = 2, Machine = 21 });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedByteOrder);
        report.Verdict.RejectionReason.Should().Contain("big-endian").And.Contain("PPC64").And.Contain("EI_DATA");
        report.Header!.DataEncoding.Should().Be("big-endian");
        report.ProgramHeaders.Should().HaveCount(4);
    }

    [Fact]
    public void AStaticPieMarkedBigEndian_IsRejectedAsBigEndian()
    {
        byte[] file = StaticPieBytes();
        file[5] = 2;

        ElfInspector.Inspect(file, "patched").Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedByteOrder);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    public void AnInvalidClassOrEncoding_IsCorrupted(byte value)
    {
        byte[] classFile = StaticPieBytes();
        classFile[4] = value;
        byte[] dataFile = StaticPieBytes();
        dataFile[5] = value;

        ElfInspector.Inspect(classFile, "class").Verdict.RejectionReason.Should().Contain("EI_CLASS");
        ElfInspector.Inspect(dataFile, "data").Verdict.RejectionReason.Should().Contain("EI_DATA");
    }

    [Fact]
    public void AnAArch64Binary_IsRejectedNamingItsMachine()
    {
        byte[] file = StaticPieBytes();
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(ElfMachineOffset), 183);

        ElfReport report = ElfInspector.Inspect(file, "patched");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedMachine);
        report.Verdict.RejectionReason.Should().Contain("AArch64").And.Contain("183").And.Contain("e_machine").And.Contain("x86-64");
        report.Header!.Machine.Should().Be("AArch64");
    }

    [Theory]
    [InlineData(0x9999, "39321")]
    [InlineData(2, "SPARC")]
    public void AnyOtherMachine_IsRejectedNamingItsNumber(ushort machine, string expected)
    {
        ElfReport report = Inspect(new SyntheticElf { Machine = machine });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedMachine);
        report.Verdict.RejectionReason.Should().Contain(expected);
    }

    [Theory]
    [InlineData(1, "ET_REL")]
    [InlineData(4, "ET_CORE")]
    [InlineData(0, "ET_NONE")]
    [InlineData(0xfe00, "0xfe00")]
    public void ANonExecutableType_IsRejected(ushort type, string expected)
    {
        ElfReport report = Inspect(new SyntheticElf { Type = type });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.UnsupportedFileType);
        report.Verdict.RejectionReason.Should().Contain(expected);
    }

    [Fact]
    public void AnEtExecFile_LinkedBelowMmapMinAddr_IsRefusedWithTheReason()
    {
        ElfReport report = Inspect(new SyntheticElf { Type = 2 });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.OverlapsKeepRegions);
        report.Verdict.RejectionReason.Should().Contain("e_type = ET_EXEC").And.Contain("PT_LOAD (program header 0) at [0x0, 0x200)")
            .And.Contain("starts below 0x10000 (Linux's vm.mmap_min_addr)");
    }

    [Fact]
    public void AnEtExecFile_AtItsUsualAddress_IsRunnable()
    {
        var elf = new SyntheticElf { Type = 2, Entry = 0x401000 };
        for (int i = 0; i < 3; i++)
        {
            SyntheticSegment segment = elf.Segments[i];
            elf.Segments[i] = segment with { VirtualAddress = segment.VirtualAddress + 0x400000 };
        }

        ElfReport report = Inspect(elf);

        report.Verdict.IsRunnable.Should().BeTrue(report.Verdict.RejectionReason);
        report.IsFixedAddress.Should().BeTrue();
    }

    [Fact]
    public void AnEtExecFile_ReachingDonjonsPieces_IsRefusedWithTheReason()
    {
        var elf = new SyntheticElf { Type = 2, Entry = 0x7000_0000_1000 };
        for (int i = 0; i < 3; i++)
        {
            SyntheticSegment segment = elf.Segments[i];
            elf.Segments[i] = segment with { VirtualAddress = segment.VirtualAddress + 0x7000_0000_0000 };
        }

        ElfReport report = Inspect(elf);

        report.Verdict.Kind.Should().Be(ElfRejectionKind.OverlapsKeepRegions);
        report.Verdict.RejectionReason.Should().Contain("reaches [0x700000000000, 0x7ffffffff000), where Donjon places the keep's stack, its mmap region, the interpreter");
    }

    [Fact]
    public void AWrongProgramHeaderEntrySize_IsCorrupted()
    {
        ElfReport report = Inspect(new SyntheticElf { ProgramHeaderEntrySizeOverride = 64 });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.CorruptedHeader);
        report.Verdict.RejectionReason.Should().Contain("e_phentsize is 64").And.Contain("56");
        report.ProgramHeaders.Should().BeEmpty("a table with the wrong entry size is not read");
    }

    [Fact]
    public void NoProgramHeaders_IsCorrupted()
    {
        var elf = new SyntheticElf();
        elf.Segments.Clear();

        Inspect(elf).Verdict.RejectionReason.Should().Contain("e_phnum is 0");
    }

    [Fact]
    public void AProgramHeaderTableBeyondTheFile_IsTruncated()
    {
        ElfReport report = Inspect(new SyntheticElf { ProgramHeaderOffset = 0x10_0000 }, truncateTo: 0x2010);

        report.Verdict.Kind.Should().Be(ElfRejectionKind.Truncated);
        report.Verdict.RejectionReason.Should().Contain("e_phoff = 0x100000").And.Contain("truncated");
    }

    [Fact]
    public void OverlappingSegments_AreRejected()
    {
        var elf = new SyntheticElf();
        elf.Segments[2] = new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R | SyntheticElf.PF_W, 0x2010, 0x1010, 0x10, 0x800, 0x1000);

        ElfReport report = Inspect(elf);

        report.Verdict.Kind.Should().Be(ElfRejectionKind.OverlappingSegments);
        report.Verdict.RejectionReason.Should().Contain("overlaps").And.Contain("program header 1").And.Contain("0x1010");
    }

    [Fact]
    public void SegmentsSharingOnlyAPage_AreAccepted()
    {
        var elf = new SyntheticElf();
        elf.Segments[1] = new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R | SyntheticElf.PF_X, 0x1000, 0x1000, 0x800, 0x800, 0x1000);
        elf.Segments[2] = new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R | SyntheticElf.PF_W, 0x1800, 0x1800, 0x100, 0x1000, 0x1000);

        Inspect(elf).Verdict.Should().Be(ElfVerdict.Runnable);
    }

    [Fact]
    public void AnEmptyLoadSegment_IsAccepted()
    {
        // `gcc -nostdlib -static-pie` makes such a PT_LOAD (p_memsz = 0) for an empty .eh_frame.
        var elf = new SyntheticElf();
        elf.Segments.Insert(2, new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R, 0x2000, 0x2000, 0, 0, 0x1000));

        Inspect(elf).Verdict.Should().Be(ElfVerdict.Runnable);
    }

    [Fact]
    public void LoadSegmentsOutOfOrder_AreCorrupted()
    {
        var elf = new SyntheticElf();
        (elf.Segments[1], elf.Segments[2]) = (elf.Segments[2], elf.Segments[1]);

        Inspect(elf).Verdict.RejectionReason.Should().Contain("ascending p_vaddr order");
    }

    [Fact]
    public void ASegmentOffsetBeyondTheEndOfTheFile_IsRejected()
    {
        byte[] file = new SyntheticElf().Build();
        WriteProgramHeaderField(file, index: 2, fieldOffset: 8, 0x10_2000); // p_offset

        ElfReport report = ElfInspector.Inspect(file, "patched");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.SegmentOutsideFile);
        report.Verdict.RejectionReason.Should().Contain("program header 2").And.Contain("p_offset = 0x102000").And.Contain("beyond the end of the file");
    }

    [Fact]
    public void AFileSizeLargerThanTheMemorySize_IsCorrupted()
    {
        byte[] file = new SyntheticElf().Build();
        WriteProgramHeaderField(file, index: 2, fieldOffset: 40, 0x8); // p_memsz < p_filesz (0x10)

        ElfInspector.Inspect(file, "patched").Verdict.RejectionReason.Should().Contain("p_filesz = 0x10, larger than p_memsz = 0x8");
    }

    [Fact]
    public void OffsetAndAddressNotCongruent_IsCorrupted()
    {
        byte[] file = new SyntheticElf().Build();
        WriteProgramHeaderField(file, index: 2, fieldOffset: 16, 0x2008); // p_vaddr

        ElfInspector.Inspect(file, "patched").Verdict.RejectionReason.Should().Contain("not congruent");
    }

    [Fact]
    public void ASegmentBeyondTheImageWindow_IsCorrupted()
    {
        byte[] file = new SyntheticElf().Build();
        WriteProgramHeaderField(file, index: 2, fieldOffset: 40, ulong.MaxValue - 0x1000); // p_memsz, would overflow

        ElfReport report = ElfInspector.Inspect(file, "patched");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.CorruptedHeader);
        report.Verdict.RejectionReason.Should().Contain("p_memsz");
    }

    [Fact]
    public void NoLoadSegment_IsCorrupted()
    {
        var elf = new SyntheticElf();
        elf.Segments.RemoveAll(segment => segment.Type == SyntheticElf.PT_LOAD);

        Inspect(elf).Verdict.RejectionReason.Should().Contain("no PT_LOAD");
    }

    [Fact]
    public void AnEntryInADataSegment_IsRejected()
    {
        ElfReport report = Inspect(new SyntheticElf { Entry = 0x2000 });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.EntryOutsideExecutableSegment);
        report.Verdict.RejectionReason.Should().Contain("e_entry = 0x2000").And.Contain("not executable").And.Contain("[0x1000, 0x1020)");
    }

    [Theory]
    [InlineData(0x9000UL)]
    [InlineData(0x1020UL)]
    [InlineData(ulong.MaxValue)]
    public void AnEntryOutsideEverySegment_IsRejected(ulong entry)
    {
        ElfReport report = Inspect(new SyntheticElf { Entry = entry });

        report.Verdict.Kind.Should().Be(ElfRejectionKind.EntryOutsideExecutableSegment);
        report.Verdict.RejectionReason.Should().Contain("lies in no PT_LOAD segment");
    }

    [Fact]
    public void AnEntryOfZero_IsASharedLibrary()
    {
        Inspect(new SyntheticElf { Entry = 0 }).Verdict.Kind.Should().Be(ElfRejectionKind.SharedLibrary);
    }

    [Fact]
    public void AnInterpreter_IsNamedAndEscapedInTheReason()
    {
        byte[] interpreter = "/lib/ld-musl-x86_64.so.1\u001b[31m\0"u8.ToArray();
        var elf = new SyntheticElf();
        elf.Segments.Insert(0, new SyntheticSegment(SyntheticElf.PT_INTERP, SyntheticElf.PF_R, 0x2100, 0x2100, (ulong)interpreter.Length, (ulong)interpreter.Length, 1));
        elf.Patches.Add((0x2100, interpreter));

        ElfReport report = Inspect(elf);

        report.Verdict.Kind.Should().Be(ElfRejectionKind.DynamicallyLinked);
        report.InterpreterPath.Should().Be("/lib/ld-musl-x86_64.so.1\\x1b[31m");
        report.Verdict.RejectionReason.Should().Contain("/lib/ld-musl-x86_64.so.1").And.NotContain("\u001b");
    }

    [Fact]
    public void TwoTlsSegments_AreCorrupted()
    {
        var elf = new SyntheticElf();
        elf.Segments.Add(new SyntheticSegment(SyntheticElf.PT_TLS, SyntheticElf.PF_R, 0x2000, 0x2000, 0x8, 0x10, 8));
        elf.Segments.Add(new SyntheticSegment(SyntheticElf.PT_TLS, SyntheticElf.PF_R, 0x2000, 0x2000, 0x8, 0x10, 8));

        Inspect(elf).Verdict.RejectionReason.Should().Contain("2 PT_TLS");
    }

    [Fact]
    public void AProgramHeaderTableOutsideEveryLoadSegment_IsCorrupted()
    {
        // The first PT_LOAD no longer covers the headers at offset 64, and there is no PT_PHDR: AT_PHDR would dangle.
        var elf = new SyntheticElf();
        elf.Segments.RemoveAt(0);

        Inspect(elf).Verdict.RejectionReason.Should().Contain("AT_PHDR");
    }

    [Fact]
    public void ATruncatedSectionHeaderTable_IsTruncated()
    {
        byte[] file = new SyntheticElf().Build();
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(40), 0x1800); // e_shoff
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(58), 64);     // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(60), 100);    // e_shnum: 6400 bytes, past the end

        ElfReport report = ElfInspector.Inspect(file, "patched");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.Truncated);
        report.Verdict.RejectionReason.Should().Contain("section header table").And.Contain("e_shoff = 0x1800");
    }

    [Fact]
    public void AHeaderCutShort_IsTruncated()
    {
        byte[] file = StaticPieBytes()[..40];

        ElfReport report = ElfInspector.Inspect(file, "cut");

        report.Verdict.Kind.Should().Be(ElfRejectionKind.Truncated);
        report.Verdict.RejectionReason.Should().Contain("64-byte ELF header");
    }

    internal static byte[] StaticPieBytes() => File.ReadAllBytes(WorkloadBuilder.Build(Workload.GlibcStaticPieHello));

    private static ElfReport Inspect(SyntheticElf elf, int? truncateTo = null)
    {
        byte[] file = elf.Build();
        return ElfInspector.Inspect(truncateTo is { } length ? file[..length] : file, "synthetic");
    }

    private static void WriteProgramHeaderField(byte[] file, int index, int fieldOffset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(64 + (index * 56) + fieldOffset), value);
}
