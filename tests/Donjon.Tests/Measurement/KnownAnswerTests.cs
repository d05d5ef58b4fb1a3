using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Backends.Sdk.Measurement;

namespace Donjon.Tests.Measurement;

/// <summary>
/// The measurement sinks against public known answers (<c>../shared/vectors</c>): an SGX enclave whose SIGSTRUCT
/// carries its MRENCLAVE, and one SEV-SNP PAGE_INFO step from virtee/sev-snp-measure.
/// </summary>
public sealed class KnownAnswerTests
{
    private const string ExpectedMrenclave = "b999536238fcf4e9d360ef6cd3e0c20ef8a684c7b93f74a9c4a4c6d517d61fc0";
    private const string ExpectedSnpDigest = "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74";
    private const int Page = 4096;
    private const MemoryPermissions Rwx = MemoryPermissions.Read | MemoryPermissions.Write | MemoryPermissions.Execute;

    [Fact]
    public void The_readme_states_the_values_these_tests_expect()
    {
        Vectors.ReadmeHex("Expected MRENCLAVE:", 64).Should().Be(ExpectedMrenclave);
        Vectors.ReadmeHex("VMPL permissions 0) gives:", 96).Should().Be(ExpectedSnpDigest);
    }

    [Fact]
    public void Sgx_encl_bin_gives_the_MRENCLAVE_stored_in_its_SIGSTRUCT()
    {
        byte[] enclave = Vectors.Read("sgx/encl.bin");
        byte[] sigstruct = Vectors.Read("sgx/encl.ss");
        enclave.Length.Should().Be(6 * Page);
        sigstruct.Length.Should().Be(1808);

        using var sink = new SgxMeasurementSink(enclaveBase: 0, enclaveSize: 32768, ssaFrameSize: 1);
        for (int page = 0; page < 6; page++)
        {
            sink.AddPage((ulong)(page * Page), enclave.AsSpan(page * Page, Page),
                page == 0 ? MemoryPermissions.None : Rwx,
                page == 0 ? KeepPageKind.ThreadControl : KeepPageKind.Measured);
        }

        sink.Finish();
        byte[] mrenclave = sink.Mrenclave.ToArray();
        mrenclave.Should().Equal(sigstruct[960..992], "ENCLAVEHASH is at offset 960 of SIGSTRUCT");
        Convert.ToHexStringLower(mrenclave).Should().Be(ExpectedMrenclave);
    }

    [Fact]
    public void Sgx_encl_bin_fed_by_the_page_walker_gives_the_same_MRENCLAVE()
    {
        byte[] enclave = Vectors.Read("sgx/encl.bin");
        using var sink = new SgxMeasurementSink(0, 32768, 1);

        // In reverse order: the walker sorts. Zero pages of the REG region become Zero pages, which SGX measures as zeros.
        IReadOnlyList<MeasuredRegion> report = KeepPageWalker.Walk(
        [
            new KeepRegion("regular", Page, 5 * Page, Rwx, KeepPageKind.Measured, 0, enclave.AsMemory(Page)),
            new KeepRegion("TCS", 0, Page, MemoryPermissions.None, KeepPageKind.ThreadControl, 0, enclave.AsMemory(0, Page)),
        ], sink);

        Convert.ToHexStringLower(sink.Mrenclave.Span).Should().Be(ExpectedMrenclave);
        report[0].Should().Be(new MeasuredRegion("TCS", 0, Page, MemoryPermissions.None, KeepPageKind.ThreadControl));
        report.Skip(1).Sum(r => (long)r.Size).Should().Be(5 * Page);
    }

    [Fact]
    public void Sgx_measurement_depends_on_every_record_field()
    {
        byte[] enclave = Vectors.Read("sgx/encl.bin");
        string Measure(ulong size, uint ssaFrameSize, ulong regularFlagsPermissions, int skipExtendOfPage)
        {
            using var sink = new SgxMeasurementSink(0, size, ssaFrameSize);
            for (int page = 0; page < 6; page++)
            {
                KeepPageKind kind = page == 0 ? KeepPageKind.ThreadControl : page == skipExtendOfPage ? KeepPageKind.Unmeasured : KeepPageKind.Measured;
                sink.AddPage((ulong)(page * Page), enclave.AsSpan(page * Page, Page), page == 0 ? MemoryPermissions.None : (MemoryPermissions)regularFlagsPermissions, kind);
            }

            sink.Finish();
            return Convert.ToHexStringLower(sink.Mrenclave.Span);
        }

        string[] values =
        [
            Measure(32768, 1, 7, -1),
            Measure(65536, 1, 7, -1),
            Measure(32768, 2, 7, -1),
            Measure(32768, 1, 5, -1),
            Measure(32768, 1, 7, 3),
        ];
        values[0].Should().Be(ExpectedMrenclave);
        values.Distinct().Should().HaveCount(values.Length, "SIZE, SSAFRAMESIZE, SECINFO.FLAGS and EEXTEND are all measured");
    }

    [Fact]
    public void Snp_one_normal_page_at_0xFFFFF000_gives_the_readme_digest()
    {
        byte[] page = Vectors.Read("sev-snp/ovmf_AmdSev_suffix.bin");
        page.Length.Should().Be(Page);

        var chain = new SnpPageInfoChain(new byte[48]);
        chain.AddPage(0xFFFF_F000, page, MemoryPermissions.Read | MemoryPermissions.Execute, KeepPageKind.Measured);
        chain.Finish();

        Convert.ToHexStringLower(chain.Digest.Span).Should().Be(ExpectedSnpDigest);
    }

    [Fact]
    public void Snp_the_page_walker_feeds_the_same_step()
    {
        byte[] page = Vectors.Read("sev-snp/ovmf_AmdSev_suffix.bin");
        var chain = new SnpPageInfoChain();
        KeepPageWalker.Walk([KeepRegion.Of("ovmf suffix", 0xFFFF_F000, MemoryPermissions.Read, KeepPageKind.Measured, page)], chain);
        Convert.ToHexStringLower(chain.Digest.Span).Should().Be(ExpectedSnpDigest);
    }

    [Theory]
    [InlineData(KeepPageKind.Zero, 0x03)]
    [InlineData(KeepPageKind.Unmeasured, 0x04)]
    [InlineData(KeepPageKind.VcpuState, 0x02)]
    [InlineData(KeepPageKind.Measured, 0x01)]
    public void Snp_page_info_records_follow_the_abi_layout(KeepPageKind kind, byte pageType)
    {
        // An independent, by-hand PAGE_INFO: DIGEST_CUR | CONTENTS | LENGTH 0x70 | PAGE_TYPE | IMI 0 | VMPL3..1 0 | 0 | GPA.
        byte[] start = System.Security.Cryptography.SHA384.HashData("start"u8);
        byte[] page = new byte[Page];
        page[17] = 0x5A;
        const ulong Gpa = 0x1234_5000;
        byte[] record = new byte[0x70];
        start.CopyTo(record, 0);
        if (pageType is 0x01 or 0x02)
        {
            System.Security.Cryptography.SHA384.HashData(page).CopyTo(record, 48);
        }

        record[0x60] = 0x70;
        record[0x62] = pageType;
        BitConverter.GetBytes(Gpa).CopyTo(record, 0x68);

        var chain = new SnpPageInfoChain(start);
        chain.AddPage(Gpa, page, MemoryPermissions.Read, kind);
        chain.Digest.ToArray().Should().Equal(System.Security.Cryptography.SHA384.HashData(record));
    }

    [Fact]
    public void Sinks_refuse_pages_their_hardware_does_not_have()
    {
        using var sgx = new SgxMeasurementSink(0, 32768, 1);
        FluentActions.Invoking(() => sgx.AddPage(0, new byte[Page], MemoryPermissions.None, KeepPageKind.VcpuState)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => sgx.AddPage(32768, [], MemoryPermissions.Read, KeepPageKind.Measured)).Should().Throw<ArgumentException>("the page lies outside SECS.SIZE");
        var snp = new SnpPageInfoChain();
        FluentActions.Invoking(() => snp.AddPage(0, new byte[Page], MemoryPermissions.None, KeepPageKind.ThreadControl)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => snp.AddPage(0x10, [], MemoryPermissions.None, KeepPageKind.Zero)).Should().Throw<ArgumentException>("GPAs are page-aligned");
        FluentActions.Invoking(() => new SgxMeasurementSink(0, 3 * Page, 1)).Should().Throw<ArgumentException>("SECS.SIZE is a power of two");
    }
}
