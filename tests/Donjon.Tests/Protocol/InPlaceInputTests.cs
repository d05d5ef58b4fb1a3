using System.Runtime.InteropServices;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>
/// RequestParser.ParseFromBlock with an in-place mask (IInPlaceInputSyscallHandlerSet): the plain bytes of an input
/// buffer or of gathered iovecs are served from the block itself, every other input from the private copy.
/// </summary>
public sealed class InPlaceInputTests
{
    private const int ItemStart = 64;
    private const int FirstBuffer = 152; // the fixed part of a syscall item

    private static (byte[] Block, ParsedRequest.SyscallCall Call) Parse(byte[] item, Func<int, int>? mask, bool fromBlock = true)
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, item);
        var parser = new RequestParser(number => TestShim.ByNumber.GetValueOrDefault(number), mask);
        var parsed = fromBlock ? parser.ParseFromBlock(block) : parser.Parse(block);
        return (block, parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject);
    }

    private static ArraySegment<byte> Segment(ReadOnlyMemory<byte> memory)
    {
        MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment).Should().BeTrue();
        return segment;
    }

    private static byte[] Write(byte[] data) =>
        TestShim.SyscallItem(TestShim.Signature("write"), [1, 0, 0, 0, 0, 0], [null, data, null, null, null, null]);

    [Fact]
    public void A_named_input_buffer_is_the_blocks_own_bytes()
    {
        var (block, call) = Parse(Write("hello"u8.ToArray()), number => number == 1 ? 1 << 1 : 0);

        var input = Segment(call.Request.Input(1));
        input.Array.Should().BeSameAs(block);
        input.Offset.Should().Be(ItemStart + FirstBuffer);
        input.Count.Should().Be(5);
        call.Request.Input(1).ToArray().Should().Equal("hello"u8.ToArray());

        // Not a copy: what the keep changes afterwards is what the handler reads (harmless for bytes only passed on).
        block[ItemStart + FirstBuffer] = (byte)'j';
        call.Request.Input(1).ToArray().Should().Equal("jello"u8.ToArray());
    }

    [Fact]
    public void Without_the_mask_or_through_Parse_the_input_is_a_private_copy()
    {
        foreach (var (mask, fromBlock) in new (Func<int, int>?, bool)[] { (null, true), (_ => 0, true), (_ => 1 << 1, false) })
        {
            var (block, call) = Parse(Write("hello"u8.ToArray()), mask, fromBlock);

            Segment(call.Request.Input(1)).Array.Should().NotBeSameAs(block);
            block[ItemStart + FirstBuffer] = (byte)'j';
            call.Request.Input(1).ToArray().Should().Equal("hello"u8.ToArray(), "the keep's later change does not reach a copy");
        }
    }

    [Fact]
    public void Gathered_iovec_bytes_are_served_in_place_too()
    {
        var item = TestShim.SyscallItem(TestShim.Signature("writev"), [1, 0, 3, 0, 0, 0], [null, "one two three"u8.ToArray(), null, null, null, null]);
        var (block, call) = Parse(item, number => number == 20 ? 1 << 1 : 0);

        var input = Segment(call.Request.Input(1));
        input.Array.Should().BeSameAs(block);
        input.Offset.Should().Be(ItemStart + FirstBuffer);
        call.Request.Input(1).ToArray().Should().Equal("one two three"u8.ToArray());
    }

    [Fact]
    public void A_mask_on_any_other_kind_is_ignored_and_that_input_is_copied_before_it_is_checked()
    {
        // A C string (a path) is checked by the parser and parsed by handlers: never in place, whatever the mask says.
        var open = TestShim.SyscallItem(TestShim.Signature("open"), [0, 0, 0, 0, 0, 0], ["/etc/hosts\0"u8.ToArray(), null, null, null, null, null]);
        var (block, call) = Parse(open, _ => 0b111111);
        Segment(call.Request.Input(0)).Array.Should().NotBeSameAs(block);

        // A fixed-size structure of another set (nanosleep's timespec) is an input buffer, but only a set's mask names it.
        var sleep = TestShim.SyscallItem(TestShim.Signature("nanosleep"), [0, 0, 0, 0, 0, 0], [new byte[16], new byte[16], null, null, null, null]);
        var (sleepBlock, sleepCall) = Parse(sleep, number => number == 1 ? 1 << 1 : 0);
        Segment(sleepCall.Request.Input(0)).Array.Should().NotBeSameAs(sleepBlock);

        // An array (gather) is checked element by element by its handler: copied too.
        var gather = TestShim.SyscallItem(TestShim.Signature("gather"), [0, 0, 0, 0, 0, 0], [new byte[24], null, null, null, null, null]);
        var (gatherBlock, gatherCall) = Parse(gather, _ => 0b111111);
        Segment(gatherCall.Request.Input(0)).Array.Should().NotBeSameAs(gatherBlock);
    }

    [Fact]
    public void An_in_place_input_is_still_checked_against_its_length_argument_and_the_overlap_rule()
    {
        var item = Write("hello"u8.ToArray());
        item[0x10 + (8 * 2)] = 9; // argument 2, the count, now says 9 for a 5-byte buffer
        var block = TestShim.NewBlock();
        TestShim.Send(block, item);
        var parsed = new RequestParser(number => TestShim.ByNumber.GetValueOrDefault(number), _ => 1 << 1).ParseFromBlock(block);

        parsed.Should().BeOfType<ParsedRequest.ProtocolViolation>().Which.Reason.Should().Contain("differs from its length argument 2 (9)");
    }
}
