using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Backends.Sdk.Measurement;

namespace Donjon.Tests.Measurement;

/// <summary>The one loader: pages in ascending address order, zero detection, control pages, and its checks.</summary>
public sealed class KeepPageWalkerTests
{
    private const int Page = 4096;
    private const MemoryPermissions R = MemoryPermissions.Read;
    private const MemoryPermissions Rw = MemoryPermissions.Read | MemoryPermissions.Write;

    [Fact]
    public void Pages_are_fed_once_each_in_ascending_address_order_then_the_sink_is_finished()
    {
        var sink = new RecordingSink();
        byte[] data = Enumerable.Range(0, 3 * Page).Select(i => (byte)(i % 251 + 1)).ToArray();
        KeepPageWalker.Walk(
        [
            KeepRegion.Empty("high", 0x10_0000, 2 * Page, Rw, KeepPageKind.Unmeasured),
            new KeepRegion("middle", 0x8000, 3 * Page, R, KeepPageKind.Measured, 0, data),
            KeepRegion.Empty("low", 0x1000, Page, Rw, KeepPageKind.Zero),
        ], sink);

        sink.Pages.Select(p => p.Address).Should().Equal(0x1000UL, 0x8000UL, 0x9000UL, 0xA000UL, 0x10_0000UL, 0x10_1000UL);
        sink.Finished.Should().Be(1);
        sink.Pages[1].Contents.Should().Equal(data[..Page]);
        sink.Pages[3].Contents.Should().Equal(data[(2 * Page)..]);
    }

    [Fact]
    public void Data_is_placed_at_its_offset_and_the_rest_of_each_page_is_zero()
    {
        var sink = new RecordingSink();
        byte[] data = Enumerable.Repeat((byte)0xAB, Page).ToArray();
        KeepPageWalker.Walk([new KeepRegion("segment", 0x4000, 2 * Page, R, KeepPageKind.Measured, 0x800, data)], sink);

        sink.Pages.Should().HaveCount(2);
        sink.Pages[0].Contents[..0x800].Should().OnlyContain(b => b == 0);
        sink.Pages[0].Contents[0x800..].Should().OnlyContain(b => b == 0xAB);
        sink.Pages[1].Contents[..0x800].Should().OnlyContain(b => b == 0xAB);
        sink.Pages[1].Contents[0x800..].Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void All_zero_measured_pages_become_zero_pages_but_control_pages_keep_their_bytes()
    {
        var sink = new RecordingSink();
        byte[] data = new byte[2 * Page];
        data[Page + 5] = 1;
        IReadOnlyList<MeasuredRegion> report = KeepPageWalker.Walk(
        [
            new KeepRegion("segment", 0x2000, 3 * Page, R, KeepPageKind.Measured, 0, data),
            KeepRegion.Empty("tcs", 0x0, Page, MemoryPermissions.None, KeepPageKind.ThreadControl),
        ], sink);

        sink.Pages.Select(p => p.Kind).Should().Equal(KeepPageKind.ThreadControl, KeepPageKind.Zero, KeepPageKind.Measured, KeepPageKind.Zero);
        sink.Pages[0].Contents.Should().HaveCount(Page, "a control page is always given in full");
        sink.Pages[1].Contents.Should().BeEmpty("a zero page has no contents");
        sink.Pages[2].Contents.Should().HaveCount(Page);
        report.Should().Equal(
            new MeasuredRegion("tcs", 0x0, Page, MemoryPermissions.None, KeepPageKind.ThreadControl),
            new MeasuredRegion("segment", 0x2000, Page, R, KeepPageKind.Zero),
            new MeasuredRegion("segment", 0x3000, Page, R, KeepPageKind.Measured),
            new MeasuredRegion("segment", 0x4000, Page, R, KeepPageKind.Zero));
    }

    [Fact]
    public void The_report_merges_consecutive_pages_of_one_region_and_kind()
    {
        IReadOnlyList<MeasuredRegion> report = KeepPageWalker.Walk(
        [
            KeepRegion.Empty("heap", 0x10_0000, 1000UL * Page, Rw, KeepPageKind.Unmeasured),
            KeepRegion.Empty("stack", 0x10_0000 + (1000UL * Page), 4 * Page, Rw, KeepPageKind.Unmeasured),
        ], new RecordingSink());

        report.Should().Equal(
            new MeasuredRegion("heap", 0x10_0000, 1000UL * Page, Rw, KeepPageKind.Unmeasured),
            new MeasuredRegion("stack", 0x10_0000 + (1000UL * Page), 4 * Page, Rw, KeepPageKind.Unmeasured));
    }

    [Fact]
    public void Bad_layouts_are_refused_with_the_regions_named()
    {
        var sink = new RecordingSink();
        FluentActions.Invoking(() => KeepPageWalker.Walk(
            [KeepRegion.Empty("a", 0x1000, 2 * Page, R, KeepPageKind.Zero), KeepRegion.Empty("b", 0x2000, Page, R, KeepPageKind.Zero)], sink))
            .Should().Throw<ArgumentException>().WithMessage("*'a'*overlaps*'b'*");
        FluentActions.Invoking(() => KeepPageWalker.Walk([KeepRegion.Empty("odd", 0x1010, Page, R, KeepPageKind.Zero)], sink))
            .Should().Throw<ArgumentException>().WithMessage("*'odd'*page-aligned*");
        FluentActions.Invoking(() => KeepPageWalker.Walk([new KeepRegion("full", 0x1000, Page, R, KeepPageKind.Measured, 1, new byte[Page])], sink))
            .Should().Throw<ArgumentException>().WithMessage("*'full'*do not fit*");
        FluentActions.Invoking(() => KeepPageWalker.Walk([new KeepRegion("zero", 0x1000, Page, R, KeepPageKind.Zero, 0, new byte[1])], sink))
            .Should().Throw<ArgumentException>().WithMessage("*'zero'*no data*");
        sink.Pages.Should().BeEmpty("nothing is fed from a layout that is refused");
        sink.Finished.Should().Be(0);
    }
}
