using System.Buffers.Binary;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Backends.Sdk.Measurement;

namespace Donjon.Tests.Measurement;

/// <summary>The layouts of docs/measurement.md: the layout page, the shim, the SGX enclave and the SEV-SNP guest.</summary>
public sealed class LayoutTests
{
    private const ulong Page = 4096;

    [Fact]
    public void The_layout_page_records_the_image_values_that_do_not_depend_on_runtime_inputs()
    {
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());
        byte[] page = KeepLayoutPage.Build(image, 0x4000);
        ReadOnlySpan<byte> p = page;

        page.Should().HaveCount(4096);
        BinaryPrimitives.ReadUInt32LittleEndian(p).Should().Be(0x4C4E4A44u, "DJNL");
        BinaryPrimitives.ReadUInt16LittleEndian(p[4..]).Should().Be(1);
        BinaryPrimitives.ReadUInt32LittleEndian(p[8..]).Should().Be(128u);
        BinaryPrimitives.ReadUInt32LittleEndian(p[0x0C..]).Should().Be((uint)image.Segments.Count);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x10..]).Should().Be(image.EntryPoint);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x18..]).Should().Be(image.Layout.LoadBase);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x28..]).Should().Be(image.Layout.HeapBase);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x40..]).Should().Be(image.Layout.MmapEnd);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x48..]).Should().Be(image.Stack.Base);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x58..]).Should().Be(image.ProgramHeaders.Address);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x68..]).Should().Be(0x4000UL);
        BinaryPrimitives.ReadUInt64LittleEndian(p[0x70..]).Should().Be((ulong)image.Configuration.Length);
        for (int i = 0; i < image.Segments.Count; i++)
        {
            ReadOnlySpan<byte> entry = p.Slice(128 + (i * 24), 24);
            BinaryPrimitives.ReadUInt64LittleEndian(entry).Should().Be(image.Segments[i].Address);
            BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]).Should().Be(image.Segments[i].Size);
            BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]).Should().Be((uint)image.Segments[i].Permissions);
        }

        p[(128 + (image.Segments.Count * 24))..].ToArray().Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void A_shim_is_read_from_its_loadable_segments()
    {
        string path = Workloads.WorkloadBuilder.Build(Workloads.Workload.AssemblyStaticPieHi);
        byte[] file = File.ReadAllBytes(path);
        ShimImage shim = ShimImage.Parse(path, file);
        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(0x18));

        shim.EntryOffset.Should().Be(entry, "a static PIE is linked at 0");
        shim.Sha256.Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)));
        List<KeepRegion> regions = shim.Regions(0x10_0000, "shim").ToList();
        regions.Should().NotBeEmpty();
        regions.Should().OnlyContain(r => r.Address >= 0x10_0000 && r.Address % Page == 0 && r.Kind == KeepPageKind.Measured);
        regions.Should().Contain(r => r.Permissions.HasFlag(MemoryPermissions.Execute)
            && r.Address <= 0x10_0000 + entry && 0x10_0000 + entry < r.Address + r.Size, "the entry point lies in an executable page");
    }

    [Fact]
    public void A_guest_kernel_shim_is_placed_by_its_physical_addresses()
    {
        // Like the VM keep's shim: a 32-bit entry at 1 MiB linked where it loads, the rest linked in the upper half.
        byte[] file = KernelLikeElf(out ulong entry);

        FluentActions.Invoking(() => ShimImage.Parse("kernel", file)).Should().Throw<InvalidOperationException>()
            .WithMessage("*span*", "by virtual address its segments are terabytes apart");
        ShimImage shim = ShimImage.Parse("kernel", file, ShimPlacement.PhysicalAddresses);

        shim.LinkBase.Should().Be(0x10_0000UL);
        shim.EntryOffset.Should().Be(entry - 0x10_0000);
        shim.Span.Should().Be(0x4000UL);
        shim.Regions(0x10_0000, "shim").Select(r => (r.Address, r.Size, r.Permissions)).Should().Equal(
            (0x10_0000UL, Page, MemoryPermissions.Read | MemoryPermissions.Execute),
            (0x10_2000UL, 2 * Page, MemoryPermissions.Read | MemoryPermissions.Write));
        SnpGuestLayout.Regions(MeasurementFixtures.Image(MeasurementFixtures.HelloBytes()), shim)
            .Where(r => r.Name == "shim").Min(r => r.Address).Should().Be(0x10_0000UL);
    }

    [Fact]
    public void The_sev_layout_refuses_a_shim_linked_to_load_elsewhere()
    {
        byte[] file = KernelLikeElf(out _, physicalBase: 0x20_0000);
        ShimImage shim = ShimImage.Parse("elsewhere", file, ShimPlacement.PhysicalAddresses);
        FluentActions.Invoking(() => SnpGuestLayout.Regions(MeasurementFixtures.Image(MeasurementFixtures.HelloBytes()), shim))
            .Should().Throw<ArgumentException>().WithMessage("*linked to load at GPA 0x200000*");
    }

    [Fact]
    public void Files_that_are_not_shims_are_refused_with_the_reason()
    {
        FluentActions.Invoking(() => ShimImage.Parse("text", "not an ELF file at all, just text........................................"u8.ToArray()))
            .Should().Throw<InvalidOperationException>().WithMessage("*text*not an ELF file*");
        byte[] truncated = File.ReadAllBytes(Workloads.WorkloadBuilder.Build(Workloads.Workload.AssemblyStaticPieHi))[..100];
        FluentActions.Invoking(() => ShimImage.Parse("truncated", truncated)).Should().Throw<InvalidOperationException>().WithMessage("*truncated*");
    }

    [Fact]
    public void The_sgx_enclave_has_its_control_pages_shim_and_workload_measured_and_its_memory_added_unmeasured()
    {
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());
        ShimImage shim = MeasurementFixtures.Shim;
        LaunchMeasurement measurement = SgxEnclaveLayout.Measure(image, shim, ["a note"]);

        measurement.Algorithm.Should().Be("sgx-mrenclave");
        measurement.Digest.Length.Should().Be(32);
        measurement.Notes.Should().StartWith("a note");
        List<MeasuredRegion> regions = measurement.Regions.ToList();
        regions.Select(r => r.Address).Should().BeInAscendingOrder();
        regions.Should().OnlyContain(r => r.Address >= SgxEnclaveLayout.EnclaveBase && r.Address + r.Size <= SgxEnclaveLayout.EnclaveBase + SgxEnclaveLayout.EnclaveSize);
        regions[0].Should().Be(new MeasuredRegion("TCS", 0x4000_0000_0000, Page, MemoryPermissions.None, KeepPageKind.ThreadControl));
        regions[1].Should().Be(new MeasuredRegion("SSA", 0x4000_0000_1000, 2 * Page, MemoryPermissions.Read | MemoryPermissions.Write, KeepPageKind.Zero));
        regions[2].Name.Should().Be("layout page");
        regions[3].Name.Should().Be("configuration");
        regions[3].Address.Should().Be(0x4000_0000_4000);
        regions.Where(r => r.Name == "shim").Should().OnlyContain(r => r.Address >= 0x4000_0010_0000);
        regions.Where(r => r.Name.StartsWith("workload segment", StringComparison.Ordinal))
            .Should().OnlyContain(r => r.Kind == KeepPageKind.Measured || r.Kind == KeepPageKind.Zero);
        foreach (string name in new[] { "heap", "mmap", "stack" })
        {
            regions.Should().ContainSingle(r => r.Name == name).Which.Kind.Should().Be(KeepPageKind.Unmeasured);
        }

        regions.Single(r => r.Name == "heap").Should().Be(new MeasuredRegion("heap", image.Layout.HeapBase, image.Layout.HeapMaxSize,
            MemoryPermissions.Read | MemoryPermissions.Write, KeepPageKind.Unmeasured));
        regions.Single(r => r.Name == "stack").Address.Should().Be(image.Stack.Base);
        regions.Select(r => r.Name).Should().EndWith("stack");

        byte[] tcs = SgxEnclaveLayout.ThreadControlPage(shim);
        BinaryPrimitives.ReadUInt64LittleEndian(tcs.AsSpan(0x10)).Should().Be(0x1000UL, "OSSA");
        BinaryPrimitives.ReadUInt32LittleEndian(tcs.AsSpan(0x1C)).Should().Be(2u, "NSSA");
        BinaryPrimitives.ReadUInt64LittleEndian(tcs.AsSpan(0x20)).Should().Be(0x10_0000 + shim.EntryOffset, "OENTRY");
    }

    [Fact]
    public void The_sev_guest_lays_out_its_pages_at_fixed_gpas_and_ends_with_the_boot_vcpu_vmsa()
    {
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());
        ShimImage shim = MeasurementFixtures.Shim;
        LaunchMeasurement measurement = SnpGuestLayout.Measure(image, shim, []);

        measurement.Algorithm.Should().Be("sev-snp-launch-digest");
        measurement.Digest.Length.Should().Be(48);
        List<MeasuredRegion> regions = measurement.Regions.ToList();
        regions.Select(r => r.Address).Should().BeInAscendingOrder();
        regions[0].Should().Be(new MeasuredRegion("layout page", 0x1000, Page, MemoryPermissions.Read, KeepPageKind.Measured));
        regions[1].Address.Should().Be(0x2000UL);
        regions[2].Should().Be(new MeasuredRegion("boot scratch", 0x8_0000, 0x2_0000, MemoryPermissions.Read | MemoryPermissions.Write, KeepPageKind.Zero));
        regions.Where(r => r.Name == "shim").Should().OnlyContain(r => r.Address >= 0x10_0000 && r.Address < 0x100_0000);
        for (int i = 0; i < image.Segments.Count; i++)
        {
            SegmentMapping segment = image.Segments[i];
            regions.Where(r => r.Name == $"workload segment {i}").Min(r => r.Address).Should().Be(0x100_0000 + (segment.Address - image.Layout.LoadBase));
        }

        regions.Should().NotContain(r => r.Name == "heap" || r.Name == "mmap" || r.Name == "stack", "the guest accepts that memory at run time");
        regions[^1].Should().Be(new MeasuredRegion("VMSA (boot vCPU)", 0xFFFF_FFFF_F000, Page, MemoryPermissions.None, KeepPageKind.VcpuState));
    }

    [Fact]
    public void The_boot_vcpu_starts_the_shim_in_32_bit_protected_mode_with_snp_active()
    {
        byte[] vmsa = SnpVmsa.BootVcpu(entry: 0x10_5290, layoutPage: 0x1000);
        ReadOnlySpan<byte> v = vmsa;

        vmsa.Should().HaveCount(4096);
        BinaryPrimitives.ReadUInt16LittleEndian(v[0x10..]).Should().Be(0x08, "CS selector");
        BinaryPrimitives.ReadUInt16LittleEndian(v[0x12..]).Should().Be(0xC9B, "CS: 32-bit flat code");
        BinaryPrimitives.ReadUInt32LittleEndian(v[0x14..]).Should().Be(uint.MaxValue, "CS limit");
        BinaryPrimitives.ReadUInt16LittleEndian(v[0x22..]).Should().Be(0xC93, "SS: flat data");
        BinaryPrimitives.ReadUInt64LittleEndian(v[0xD0..]).Should().Be(0x1000UL, "EFER.SVME");
        BinaryPrimitives.ReadUInt64LittleEndian(v[0x158..]).Should().Be(0x11UL, "CR0: PE | ET, no paging");
        BinaryPrimitives.ReadUInt64LittleEndian(v[0x178..]).Should().Be(0x10_5290UL, "RIP");
        BinaryPrimitives.ReadUInt64LittleEndian(v[0x318..]).Should().Be(0x1000UL, "RBX: the layout page");
        BinaryPrimitives.ReadUInt64LittleEndian(v[0x3B0..]).Should().Be(1UL, "SEV_FEATURES.SNPActive");
        BinaryPrimitives.ReadUInt64LittleEndian(v[0x3E8..]).Should().Be(1UL, "XCR0");
        v[0x670..].ToArray().Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void An_image_outside_the_enclave_is_refused()
    {
        KeepImage image = MeasurementFixtures.Image(MeasurementFixtures.HelloBytes());
        KeepImage low = image with { Segments = [.. image.Segments.Select(s => s with { Address = s.Address - image.Layout.LoadBase + 0x1000_0000 })] };
        FluentActions.Invoking(() => SgxEnclaveLayout.Regions(low, MeasurementFixtures.Shim))
            .Should().Throw<ArgumentException>().WithMessage("*workload segment 0*outside*enclave*");
    }

    /// <summary>
    /// A minimal ELF64 ET_EXEC with two PT_LOADs: 16 bytes of R X code at <paramref name="physicalBase"/> (virtual =
    /// physical), and 8 bytes of RW data plus bss (two pages) two pages above it, linked in the upper half.
    /// </summary>
    private static byte[] KernelLikeElf(out ulong entry, ulong physicalBase = 0x10_0000)
    {
        byte[] file = new byte[0x3000];
        Span<byte> f = file;
        f[0] = 0x7F; f[1] = (byte)'E'; f[2] = (byte)'L'; f[3] = (byte)'F'; f[4] = 2; f[5] = 1; f[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(f[0x10..], 2);      // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(f[0x12..], 62);     // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(f[0x14..], 1);
        entry = physicalBase + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(f[0x18..], entry);
        BinaryPrimitives.WriteUInt64LittleEndian(f[0x20..], 64);     // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(f[0x34..], 64);     // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(f[0x36..], 56);     // e_phentsize
        BinaryPrimitives.WriteUInt16LittleEndian(f[0x38..], 2);      // e_phnum
        void Load(int index, uint flags, ulong offset, ulong virtualAddress, ulong physicalAddress, ulong fileSize, ulong memorySize)
        {
            Span<byte> header = file.AsSpan(64 + (index * 56), 56);
            BinaryPrimitives.WriteUInt32LittleEndian(header, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], flags);
            BinaryPrimitives.WriteUInt64LittleEndian(header[0x08..], offset);
            BinaryPrimitives.WriteUInt64LittleEndian(header[0x10..], virtualAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(header[0x18..], physicalAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(header[0x20..], fileSize);
            BinaryPrimitives.WriteUInt64LittleEndian(header[0x28..], memorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(header[0x30..], 0x1000);
        }

        Load(0, 5, 0x1000, physicalBase, physicalBase, 16, 16);
        Load(1, 6, 0x2000, 0xFFFF_FFFF_8000_0000 + physicalBase + 0x2000, physicalBase + 0x2000, 8, 0x2000);
        file.AsSpan(0x1000, 16).Fill(0x90);
        file.AsSpan(0x2000, 8).Fill(0x11);
        return file;
    }
}
