using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Elf;
using Donjon.Host.Images;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Elf;

/// <summary>
/// Builds keep images from real static-PIE binaries and synthetic files, and checks the layout, the segments (by
/// reading the mapped memory back) and the initial stack (by parsing it the way <c>_start</c> does).
/// </summary>
public sealed class KeepImageBuilderTests
{
    private const ulong PageSize = 4096;
    private const ulong AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9;
    private const ulong AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17;
    private const ulong AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_SYSINFO_EHDR = 33;

    private static readonly string[] Arguments = ["./hello", "first argument", "ünïcödé", ""];
    private static readonly string[] Environment = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY="];

    [Fact]
    public void TheSameSeed_GivesAnIdenticalImage()
    {
        KeepImage first = Build(Workload.GlibcStaticPieHello, seed: 42);
        KeepImage second = Build(Workload.GlibcStaticPieHello, seed: 42);

        second.Layout.Should().Be(first.Layout);
        second.Layout.Seed.Should().Be(42);
        second.EntryPoint.Should().Be(first.EntryPoint);
        second.ProgramHeaders.Should().Be(first.ProgramHeaders);
        second.Tls.Should().Be(first.Tls);
        Describe(second.Segments).Should().Equal(Describe(first.Segments));
        second.Stack.Base.Should().Be(first.Stack.Base);
        second.Stack.InitialPointer.Should().Be(first.Stack.InitialPointer);
        second.Stack.Contents.ToArray().Should().Equal(first.Stack.Contents.ToArray(), "AT_RANDOM is drawn from the seed too");
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentLoadBases()
    {
        List<ulong> loadBases = Enumerable.Range(1, 16)
            .Select(seed => Build(Workload.GlibcStaticPieHello, seed: (ulong)seed).Layout.LoadBase)
            .ToList();

        loadBases[0].Should().NotBe(loadBases[1]);
        loadBases.Distinct().Should().HaveCount(loadBases.Count);
    }

    [Fact]
    public void WithoutASeed_TwoBuildsDiffer()
    {
        KeepImage first = Build(Workload.GlibcStaticPieHello, seed: null);
        KeepImage second = Build(Workload.GlibcStaticPieHello, seed: null);

        second.Layout.Seed.Should().NotBe(first.Layout.Seed);
        second.Layout.LoadBase.Should().NotBe(first.Layout.LoadBase);
        RandomBytes(second).Should().NotEqual(RandomBytes(first));
    }

    [Fact]
    public void TheRecordedSeed_ReproducesTheLayout()
    {
        KeepImage unseeded = Build(Workload.GlibcStaticPieHello, seed: null);

        KeepImage replayed = Build(Workload.GlibcStaticPieHello, seed: unseeded.Layout.Seed);

        replayed.Layout.Should().Be(unseeded.Layout);
        replayed.Stack.Base.Should().Be(unseeded.Stack.Base);
    }

    [Theory]
    [InlineData(Workload.GlibcStaticPieHello)]
    [InlineData(Workload.AssemblyStaticPieHi)]
    public void TheLayout_IsPageAlignedOrderedAndInsideUserSpace(Workload workload)
    {
        for (ulong seed = 0; seed < 64; seed++)
        {
            KeepImage image = Build(workload, seed);
            AddressSpaceLayout layout = image.Layout;
            StackImage stack = image.Stack;

            new[] { layout.LoadBase, layout.ImageEnd, layout.HeapBase, layout.HeapMaxSize, layout.MmapBase, layout.MmapEnd, stack.Base, stack.Size }
                .Should().OnlyContain(value => value % PageSize == 0, $"everything is page-aligned (seed {seed})");
            layout.LoadBase.Should().BeInRange(0x5555_0000_0000, 0x7000_0000_0000);
            layout.ImageEnd.Should().BeGreaterThan(layout.LoadBase);
            layout.HeapBase.Should().BeGreaterThanOrEqualTo(layout.ImageEnd);
            (layout.HeapBase + layout.HeapMaxSize).Should().BeLessThanOrEqualTo(layout.MmapBase);
            layout.MmapBase.Should().BeLessThan(layout.MmapEnd);
            layout.MmapEnd.Should().BeLessThanOrEqualTo(stack.Base);
            (stack.Base + stack.Size).Should().BeLessThanOrEqualTo(AddressSpaceLayoutPlanner.StackCeiling, "the kernel's own placements for the process shim lie above");
            stack.Size.Should().Be(KeepLimits.Default.StackSize);
            layout.HeapMaxSize.Should().Be(KeepLimits.Default.MemorySize);
            (layout.MmapEnd - layout.MmapBase).Should().Be(KeepLimits.Default.MemorySize);
        }
    }

    [Theory]
    [InlineData(Workload.GlibcStaticPieHello)]
    [InlineData(Workload.AssemblyStaticPieHi)]
    public void TheSegments_ArePageAlignedDisjointInsideTheImageAndHoldTheFile(Workload workload)
    {
        (byte[] file, ElfReport report) = Inspected(workload);
        KeepImage image = Build(workload, seed: 7);
        ulong loadBase = image.Layout.LoadBase;

        image.Segments.Should().NotBeEmpty();
        AssertDisjointAndAligned(image);
        foreach (SegmentMapping segment in image.Segments)
        {
            segment.Address.Should().BeGreaterThanOrEqualTo(loadBase);
            (segment.Address + segment.Size).Should().BeLessThanOrEqualTo(image.Layout.ImageEnd);
        }

        foreach (ElfProgramHeader load in report.ProgramHeaders.Where(header => header.Type == "PT_LOAD" && header.MemorySize > 0))
        {
            ulong address = loadBase + load.VirtualAddress;
            ReadMemory(image, address, (int)load.FileSize).Should().Equal(file.AsSpan((int)load.Offset, (int)load.FileSize).ToArray(),
                $"PT_LOAD {load.Index} holds its file bytes");
            ReadMemory(image, address + load.FileSize, (int)(load.MemorySize - load.FileSize)).Should().NotContain(value => value != 0,
                $"PT_LOAD {load.Index}'s bss is zero");
            Permissions(image, address).Should().HaveFlag(Expected(load), $"PT_LOAD {load.Index} keeps its permissions");
        }
    }

    [Fact]
    public void TheEntryPoint_IsInAnExecutableSegment()
    {
        (_, ElfReport report) = Inspected(Workload.GlibcStaticPieHello);
        KeepImage image = Build(Workload.GlibcStaticPieHello, seed: 3);

        image.EntryPoint.Should().Be(image.Layout.LoadBase + report.Header!.Entry);
        Permissions(image, image.EntryPoint).Should().HaveFlag(MemoryPermissions.Execute);
    }

    [Fact]
    public void TheProgramHeaderAddress_PointsAtTheProgramHeaderTableInTheMappedData()
    {
        (byte[] file, ElfReport report) = Inspected(Workload.GlibcStaticPieHello);
        KeepImage image = Build(Workload.GlibcStaticPieHello, seed: 5);
        int tableSize = report.Header!.ProgramHeaderCount * 56;

        image.ProgramHeaders.EntrySize.Should().Be(56);
        image.ProgramHeaders.Count.Should().Be(report.Header.ProgramHeaderCount);
        ReadMemory(image, image.ProgramHeaders.Address, tableSize).Should()
            .Equal(file.AsSpan((int)report.Header.ProgramHeaderOffset, tableSize).ToArray());
    }

    [Fact]
    public void TheTlsTemplate_IsWherePtTlsSaysAndHoldsItsBytes()
    {
        (byte[] file, ElfReport report) = Inspected(Workload.GlibcStaticPieHello);
        ElfProgramHeader tls = report.ProgramHeaders.Single(header => header.Type == "PT_TLS");
        KeepImage image = Build(Workload.GlibcStaticPieHello, seed: 9);

        image.Tls.Should().Be(new TlsTemplate(image.Layout.LoadBase + tls.VirtualAddress, tls.FileSize, tls.MemorySize, tls.Alignment));
        ReadMemory(image, image.Tls!.Address, (int)tls.FileSize).Should().Equal(file.AsSpan((int)tls.Offset, (int)tls.FileSize).ToArray());
        Build(Workload.AssemblyStaticPieHi, seed: 9).Tls.Should().BeNull("the assembly program has no PT_TLS");
    }

    [Fact]
    public void TheStack_ReadsBackAsArgvEnvpAndAuxv()
    {
        KeepImage image = Build(Workload.GlibcStaticPieHello, seed: 11, userId: 1234, groupId: 5678);
        StackImage stack = image.Stack;

        stack.InitialPointer.Should().Match(pointer => pointer % 16 == 0, "rsp is 16-byte aligned at entry");
        (stack.InitialPointer + (ulong)stack.Contents.Length).Should().Be(stack.Base + stack.Size, "contents run to the top of the stack");
        stack.InitialPointer.Should().BeGreaterThan(stack.Base);
        stack.IsExecutable.Should().BeFalse();

        InitialStack parsed = InitialStackReader.Read(stack);
        parsed.Arguments.Should().Equal(Arguments);
        parsed.Environment.Should().Equal(Environment);
        parsed.AuxiliaryVector.Select(entry => entry.Tag).Should().NotContain(AT_SYSINFO_EHDR).And.OnlyHaveUniqueItems();
        parsed.Value(AT_PHDR).Should().Be(image.ProgramHeaders.Address);
        parsed.Value(AT_PHENT).Should().Be(56);
        parsed.Value(AT_PHNUM).Should().Be((ulong)image.ProgramHeaders.Count);
        parsed.Value(AT_ENTRY).Should().Be(image.EntryPoint);
        parsed.Value(AT_PAGESZ).Should().Be(4096);
        parsed.Value(AT_BASE).Should().Be(0);
        parsed.Value(AT_FLAGS).Should().Be(0);
        parsed.Value(AT_SECURE).Should().Be(0);
        parsed.Value(AT_CLKTCK).Should().Be(100);
        parsed.Value(AT_HWCAP2).Should().Be(0);
        parsed.Value(AT_HWCAP).Should().NotBe(0, "CPUID leaf 1 EDX has at least FPU and SSE2 on x86-64");
        parsed.Value(AT_UID).Should().Be(1234);
        parsed.Value(AT_EUID).Should().Be(1234);
        parsed.Value(AT_GID).Should().Be(5678);
        parsed.Value(AT_EGID).Should().Be(5678);
        InitialStackReader.CString(stack, parsed.Value(AT_PLATFORM)).Should().Be("x86_64");
        InitialStackReader.CString(stack, parsed.Value(AT_EXECFN)).Should().Be("./hello-static-pie");
        InitialStackReader.Bytes(stack, parsed.Value(AT_RANDOM), 16).ToArray().Should().NotEqual(new byte[16]);
        parsed.Value(AT_RANDOM).Should().BeGreaterThanOrEqualTo(parsed.AuxiliaryVectorEnd, "the random bytes lie above the vectors");
    }

    [Fact]
    public void NoArgumentsAndNoEnvironment_StillMakeAValidStack()
    {
        KeepImage image = Build(Workload.AssemblyStaticPieHi, seed: 1, arguments: [], environment: []);

        InitialStack parsed = InitialStackReader.Read(image.Stack);
        parsed.Arguments.Should().BeEmpty();
        parsed.Environment.Should().BeEmpty();
        parsed.Value(AT_ENTRY).Should().Be(image.EntryPoint);
        image.Stack.InitialPointer.Should().Match(pointer => pointer % 16 == 0);
    }

    [Fact]
    public void TheIdentity_IsTheAbsolutePathHashAndSize()
    {
        string path = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        (byte[] file, ElfReport report) = Inspected(Workload.GlibcStaticPieHello);
        byte[] configuration = [1, 2, 3, 4];

        KeepImage image = KeepImageBuilder.Build(Request(Workload.GlibcStaticPieHello, seed: 1) with { WorkloadPath = path, Configuration = configuration });

        image.Workload.Should().Be(new WorkloadIdentity(Path.GetFullPath(path), report.Sha256, file.Length));
        image.Configuration.ToArray().Should().Equal(configuration);
    }

    [Fact]
    public void SegmentsSharingAPage_AreSplitSoNoRecordsOverlap()
    {
        // Code [0x1000, 0x1800) and data [0x1800, 0x2800) share the page at 0x1000; so do the data's bss and a
        // read-only segment starting at 0x2a00.
        var elf = new SyntheticElf();
        elf.Segments[1] = new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R | SyntheticElf.PF_X, 0x1000, 0x1000, 0x800, 0x800, 0x1000);
        elf.Segments[2] = new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R | SyntheticElf.PF_W, 0x1800, 0x1800, 0x100, 0x1000, 0x1000);
        elf.Segments.Insert(3, new SyntheticSegment(SyntheticElf.PT_LOAD, SyntheticElf.PF_R, 0x2a00, 0x2a00, 0x80, 0x2000, 0x1000));
        byte[] file = elf.Build();
        ElfReport report = ElfInspector.Inspect(file, "shared pages");
        report.Verdict.Should().Be(ElfVerdict.Runnable);

        KeepImage image = KeepImageBuilder.Build(Request(report, file, seed: 2));
        ulong loadBase = image.Layout.LoadBase;

        AssertDisjointAndAligned(image);
        image.Segments.Select(segment => (segment.Address - loadBase, segment.Size, segment.Permissions)).Should().Equal(
            (0x0UL, PageSize, MemoryPermissions.Read),
            (0x1000UL, PageSize, MemoryPermissions.Read | MemoryPermissions.Write | MemoryPermissions.Execute),
            (0x2000UL, PageSize, MemoryPermissions.Read | MemoryPermissions.Write),
            (0x3000UL, 2 * PageSize, MemoryPermissions.Read));
        foreach (ElfProgramHeader load in report.ProgramHeaders.Where(header => header.Type == "PT_LOAD"))
        {
            ulong address = loadBase + load.VirtualAddress;
            ReadMemory(image, address, (int)load.FileSize).Should().Equal(file.AsSpan((int)load.Offset, (int)load.FileSize).ToArray());
            ReadMemory(image, address + load.FileSize, (int)(load.MemorySize - load.FileSize)).Should().NotContain(value => value != 0);
        }
    }

    [Fact]
    public void AnExecutableStackRequest_IsCarried()
    {
        var elf = new SyntheticElf();
        elf.Segments[3] = new SyntheticSegment(SyntheticElf.PT_GNU_STACK, SyntheticElf.PF_R | SyntheticElf.PF_W | SyntheticElf.PF_X, 0, 0, 0, 0, 0x10);
        byte[] file = elf.Build();

        KeepImage image = KeepImageBuilder.Build(Request(ElfInspector.Inspect(file, "exec stack"), file, seed: 1));

        image.Stack.IsExecutable.Should().BeTrue();
    }

    [Fact]
    public void ARejectedReport_CannotBeBuilt()
    {
        (byte[] file, _) = Inspected(Workload.GlibcDynamicHello);
        ElfReport report = ElfInspector.Inspect(file, "dynamic");

        Action build = () => KeepImageBuilder.Build(Request(report, file, seed: 1));

        build.Should().Throw<ArgumentException>().WithMessage("*was not accepted*");
    }

    [Fact]
    public void BytesOtherThanTheInspectedOnes_CannotBeBuilt()
    {
        (byte[] file, ElfReport report) = Inspected(Workload.GlibcStaticPieHello);
        byte[] changed = (byte[])file.Clone();
        changed[^1] ^= 1;

        Action build = () => KeepImageBuilder.Build(Request(report, changed, seed: 1));

        build.Should().Throw<ArgumentException>().WithMessage("*SHA-256*");
    }

    [Fact]
    public void TheImage_DoesNotChangeWhenTheCallersBufferDoes()
    {
        (byte[] original, ElfReport report) = Inspected(Workload.GlibcStaticPieHello);
        byte[] buffer = (byte[])original.Clone();
        KeepImage image = KeepImageBuilder.Build(Request(report, buffer, seed: 1));

        Array.Clear(buffer);

        ReadMemory(image, image.ProgramHeaders.Address, 56).Should().Equal(original.AsSpan((int)report.Header!.ProgramHeaderOffset, 56).ToArray());
    }

    [Fact]
    public void ArgumentsLargerThanAQuarterOfTheStack_AreRefused()
    {
        string huge = new('x', 3 << 20);

        Action build = () => Build(Workload.GlibcStaticPieHello, seed: 1, arguments: ["./hello", huge]);

        build.Should().Throw<KeepImageException>().WithMessage("*arguments and environment*stackSize*");
    }

    [Fact]
    public void AnArgumentWithANul_IsRefused()
    {
        Action build = () => Build(Workload.GlibcStaticPieHello, seed: 1, arguments: ["./hello", "a\0b"]);

        build.Should().Throw<KeepImageException>().WithMessage("argument 1 contains a NUL*");
    }

    [Fact]
    public void AMemoryLimitTooLargeForTheAddressSpace_IsRefused()
    {
        KeepImageRequest request = Request(Workload.GlibcStaticPieHello, seed: 1) with { Limits = KeepLimits.Default with { MemorySize = 1UL << 46 } };

        Action build = () => KeepImageBuilder.Build(request);

        build.Should().Throw<KeepImageException>().WithMessage("*limits.memorySize*");
    }

    [Fact]
    public void ANonPageMultipleStackSize_IsRoundedUpToPages()
    {
        KeepImageRequest request = Request(Workload.AssemblyStaticPieHi, seed: 1) with { Limits = KeepLimits.Default with { StackSize = 100_000 } };

        KeepImage image = KeepImageBuilder.Build(request);

        image.Stack.Size.Should().Be(102_400);
        (image.Stack.Base % PageSize).Should().Be(0);
    }

    [Fact]
    public void AnImageLargerThanTheMemoryLimit_IsRefusedWithItsNumbers()
    {
        KeepImage fits = KeepImageBuilder.Build(Request(Workload.AssemblyStaticPieHi, seed: 1));
        ulong segments = fits.Segments.Aggregate(0UL, (sum, segment) => sum + segment.Size);
        ulong needed = segments + fits.Stack.Size;

        // Exactly the image's size is allowed; a byte less is not.
        KeepImageRequest exact = Request(Workload.AssemblyStaticPieHi, seed: 1) with { Limits = KeepLimits.Default with { MemorySize = needed } };
        KeepImageBuilder.Build(exact).Stack.Size.Should().Be(fits.Stack.Size);

        KeepImageRequest tight = exact with { Limits = exact.Limits with { MemorySize = needed - 1 } };
        FluentActions.Invoking(() => KeepImageBuilder.Build(tight)).Should().Throw<KeepImageException>().WithMessage(
            $"the image needs {needed} bytes (segments {segments}, stack {fits.Stack.Size}) but limits.memorySize is {needed - 1}; raise limits.memorySize in plugins.json or *");
    }

    private static KeepImage Build(
        Workload workload, ulong? seed, uint userId = 1000, uint groupId = 1000, string[]? arguments = null, string[]? environment = null) =>
        KeepImageBuilder.Build(Request(workload, seed, userId, groupId, arguments, environment));

    [Fact]
    public void A_dynamic_program_enters_its_interpreter_with_AT_BASE_and_the_programs_AT_ENTRY_and_AT_PHDR()
    {
        (byte[] file, ElfReport report) = Inspected(Workload.GlibcDynamicHello);
        const string interpreterPath = "/lib64/ld-linux-x86-64.so.2";
        byte[] interpreterBytes = File.ReadAllBytes(interpreterPath);
        ElfReport interpreterReport = ElfInspector.InspectInterpreter(interpreterBytes, interpreterPath);
        var interpreter = new InterpreterFile(interpreterPath, interpreterPath, interpreterReport, interpreterBytes);

        KeepImage image = KeepImageBuilder.Build(Request(report, file, seed: 7) with { Interpreter = interpreter });
        KeepImage again = KeepImageBuilder.Build(Request(report, file, seed: 7) with { Interpreter = interpreter });
        InitialStack stack = InitialStackReader.Read(image.Stack);

        ulong interpreterBase = stack.Value(AT_BASE);
        interpreterBase.Should().NotBe(0).And.Be(InitialStackReader.Read(again.Stack).Value(AT_BASE), "a seed fixes the interpreter's base too");
        (interpreterBase % PageSize).Should().Be(0);
        image.EntryPoint.Should().Be(interpreterBase + interpreterReport.Header!.Entry);
        stack.Value(AT_ENTRY).Should().Be(image.Layout.LoadBase + report.Header!.Entry);
        stack.Value(AT_PHDR).Should().Be(image.ProgramHeaders.Address);
        stack.Value(AT_PHNUM).Should().Be((ulong)report.Header.ProgramHeaderCount);
        stack.Value(AT_SECURE).Should().Be(0);
        stack.AuxiliaryVector.Select(entry => entry.Tag).Should().Contain([AT_HWCAP, AT_HWCAP2, AT_PAGESZ, AT_CLKTCK, AT_EXECFN, AT_RANDOM]).And.NotContain(AT_SYSINFO_EHDR);
        interpreterBase.Should().BeGreaterThanOrEqualTo(image.Layout.HeapBase + image.Layout.HeapMaxSize).And.BeLessThan(image.Layout.MmapBase);
        image.Interpreter!.Sha256.Should().Be(interpreterReport.Sha256);
        image.Segments.Should().Contain(segment => segment.Address == interpreterBase, "the interpreter's first segment is loaded at its base");
        AssertDisjointAndAligned(image);
    }

    [Fact]
    public void A_static_non_PIE_is_loaded_at_its_link_addresses()
    {
        (byte[] file, ElfReport report) = Inspected(Workload.GlibcStaticNonPieHello);

        KeepImage image = KeepImageBuilder.Build(Request(report, file, seed: 3));

        image.Layout.LoadBase.Should().Be(0);
        image.EntryPoint.Should().Be(report.Header!.Entry);
        image.Segments[0].Address.Should().Be(report.ProgramHeaders.First(p => p.Type == "PT_LOAD").VirtualAddress & ~(PageSize - 1));
        image.Layout.HeapBase.Should().BeGreaterThanOrEqualTo(image.Layout.ImageEnd);
        InitialStackReader.Read(image.Stack).Value(AT_BASE).Should().Be(0);
        AssertDisjointAndAligned(image);
    }

    private static KeepImageRequest Request(
        Workload workload, ulong? seed, uint userId = 1000, uint groupId = 1000, string[]? arguments = null, string[]? environment = null)
    {
        (byte[] file, ElfReport report) = Inspected(workload);
        return Request(report, file, seed, userId, groupId, arguments, environment, "./" + Path.GetFileName(WorkloadBuilder.Build(workload)));
    }

    private static KeepImageRequest Request(
        ElfReport report, byte[] file, ulong? seed, uint userId = 1000, uint groupId = 1000,
        string[]? arguments = null, string[]? environment = null, string path = "./synthetic") =>
        new(report, file, path, arguments ?? Arguments, environment ?? Environment, userId, groupId, KeepLimits.Default, seed, ReadOnlyMemory<byte>.Empty);

    private static (byte[] File, ElfReport Report) Inspected(Workload workload)
    {
        WorkloadFile loaded = ElfInspector.Load(WorkloadBuilder.Build(workload));
        return (loaded.Contents.ToArray(), loaded.Report);
    }

    private static List<string> Describe(IReadOnlyList<SegmentMapping> segments) =>
        segments.Select(segment =>
            $"{segment.Address:x} {segment.Size:x} {segment.Permissions} {segment.DataOffset:x} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(segment.Data.Span))}")
        .ToList();

    private static byte[] RandomBytes(KeepImage image)
    {
        InitialStack parsed = InitialStackReader.Read(image.Stack);
        return InitialStackReader.Bytes(image.Stack, parsed.Value(AT_RANDOM), 16).ToArray();
    }

    private static void AssertDisjointAndAligned(KeepImage image)
    {
        ulong previousEnd = 0;
        foreach (SegmentMapping segment in image.Segments)
        {
            (segment.Address % PageSize).Should().Be(0);
            (segment.Size % PageSize).Should().Be(0);
            segment.Size.Should().BeGreaterThan(0);
            segment.Address.Should().BeGreaterThanOrEqualTo(previousEnd, "records are in address order and never overlap");
            (segment.DataOffset + (ulong)segment.Data.Length).Should().BeLessThanOrEqualTo(segment.Size, "data fits in its region");
            previousEnd = segment.Address + segment.Size;
        }
    }

    /// <summary>Reads the workload's memory as the shim would map it: each record's data at its offset, zero elsewhere.</summary>
    private static byte[] ReadMemory(KeepImage image, ulong address, int size)
    {
        byte[] memory = new byte[size];
        ulong end = address + (ulong)size;
        ulong covered = 0;
        foreach (SegmentMapping segment in image.Segments.Where(candidate => candidate.Address < end && address < candidate.Address + candidate.Size))
        {
            ulong from = Math.Max(address, segment.Address);
            ulong to = Math.Min(end, segment.Address + segment.Size);
            covered += to - from;
            ulong dataStart = segment.Address + segment.DataOffset;
            ulong dataEnd = dataStart + (ulong)segment.Data.Length;
            ulong copyFrom = Math.Max(from, dataStart);
            ulong copyTo = Math.Min(to, dataEnd);
            if (copyFrom < copyTo)
            {
                segment.Data.Span.Slice((int)(copyFrom - dataStart), (int)(copyTo - copyFrom)).CopyTo(memory.AsSpan((int)(copyFrom - address)));
            }
        }

        covered.Should().Be((ulong)size, $"every byte of [0x{address:x}, 0x{end:x}) is mapped exactly once");
        return memory;
    }

    private static MemoryPermissions Permissions(KeepImage image, ulong address) =>
        image.Segments.Single(segment => address >= segment.Address && address < segment.Address + segment.Size).Permissions;

    private static MemoryPermissions Expected(ElfProgramHeader load) =>
        (load.IsReadable ? MemoryPermissions.Read : MemoryPermissions.None)
        | (load.IsWritable ? MemoryPermissions.Write : MemoryPermissions.None)
        | (load.IsExecutable ? MemoryPermissions.Execute : MemoryPermissions.None);
}
