using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>The reply writer writes only validated places, and refuses a handler result that would not fit.</summary>
public sealed class ReplyWriterTests
{
    private static (byte[] Block, ParsedRequest.SyscallCall Call) ParsedRead(int capacity = 8)
    {
        var block = TestShim.NewBlock();
        var item = TestShim.SyscallItem(TestShim.Signature("read"), [3, 0, 0, 0, 0, 0], [null, new byte[capacity], null, null, null, null]);
        TestShim.Send(block, item, sequence: 42);
        return (block, (ParsedRequest.SyscallCall)new RequestParser(TestShim.ByNumber).Parse(block));
    }

    [Fact]
    public void A_valid_result_writes_result_size_bytes_and_sequence()
    {
        var (block, call) = ParsedRead();
        var before = (byte[])block.Clone();
        ReplyWriter.WriteSyscallResult(block, call, SyscallResult.Success(3, 1, new byte[] { 7, 8, 9 })).Should().BeNull();

        var (result, sizes) = TestShim.ReadReply(block);
        result.Should().Be(3);
        sizes.Should().Equal(0u, 3u, 0u, 0u, 0u, 0u);
        block.AsSpan(64 + 152, 8).ToArray().Should().Equal(7, 8, 9, 0, 0, 0, 0, 0);
        TestShim.ReplySequence(block).Should().Be(42);

        // Nothing else changed.
        for (int i = 0; i < block.Length; i++)
        {
            bool reply = i is >= 0x28 and < 0x2C || (i - 64) is >= 0x40 and < 0x48 or >= 0x78 and < 0x90 || (i - 64) is >= 152 and < 155;
            if (!reply)
            {
                block[i].Should().Be(before[i], $"byte {i} is not part of the reply");
            }
        }
    }

    [Fact]
    public void Output_beyond_capacity_is_refused_with_EFAULT_and_nothing_written()
    {
        var (block, call) = ParsedRead(capacity: 4);
        string? problem = ReplyWriter.WriteSyscallResult(block, call, SyscallResult.Success(5, 1, new byte[] { 1, 2, 3, 4, 5 }));
        problem.Should().Contain("capacity is 4");
        TestShim.ReadReply(block).Should().BeEquivalentTo((-14L, new uint[6]));
        block.AsSpan(64 + 152, 4).ToArray().Should().OnlyContain(b => b == 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(6)]
    public void Output_for_a_non_output_argument_is_refused(int index)
    {
        var (block, call) = ParsedRead();
        string? problem = ReplyWriter.WriteSyscallResult(block, call, SyscallResult.Success(1, index, new byte[] { 1 }));
        problem.Should().Contain("not an output argument");
        TestShim.ReadReply(block).Result.Should().Be(-14);
    }

    [Fact]
    public void Two_outputs_for_one_argument_are_refused()
    {
        var (block, call) = ParsedRead();
        var result = new SyscallResult(1, [new SyscallOutput(1, new byte[] { 1 }), new SyscallOutput(1, new byte[] { 2 })]);
        ReplyWriter.WriteSyscallResult(block, call, result).Should().Contain("twice");
        TestShim.ReadReply(block).Result.Should().Be(-14);
    }

    [Fact]
    public void A_null_result_is_refused()
    {
        var (block, call) = ParsedRead();
        ReplyWriter.WriteSyscallResult(block, call, null).Should().NotBeNull();
        TestShim.ReadReply(block).Result.Should().Be(-14);
    }

    [Fact]
    public void A_NULL_output_takes_zero_bytes_and_refuses_more()
    {
        var block = TestShim.NewBlock();
        var item = TestShim.SyscallItem(TestShim.Signature("read"), [3, 0, 10, 0, 0, 0], new byte[]?[6], absent: [false, true, false, false, false, false]);
        TestShim.Send(block, item);
        var call = (ParsedRequest.SyscallCall)new RequestParser(TestShim.ByNumber).Parse(block);
        var before = (byte[])block.Clone();

        ReplyWriter.WriteSyscallResult(block, call, SyscallResult.Success(-14, 1, ReadOnlyMemory<byte>.Empty)).Should().BeNull();
        TestShim.ReadReply(block).Should().BeEquivalentTo((-14L, new uint[6]));
        block.AsSpan(64 + 152).ToArray().Should().Equal(before.AsSpan(64 + 152).ToArray());

        ReplyWriter.WriteSyscallResult(block, call, SyscallResult.Success(1, 1, new byte[] { 1 })).Should().Contain("capacity is 0");
    }

    [Fact]
    public void Errors_clear_output_sizes_the_keep_left_there()
    {
        var (block, call) = ParsedRead();
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(64 + 0x78 + 4), 999); // the keep pre-fills an output size
        ReplyWriter.WriteReply(block, call, -5);
        TestShim.ReadReply(block).Should().BeEquivalentTo((-5L, new uint[6]));
    }

    [Fact]
    public void Undeclared_gets_its_result_in_the_item()
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, TestShim.RawSyscallItem(999, 0, new ulong[6], new (uint, uint)[6], []), sequence: 9);
        var parsed = new RequestParser(TestShim.ByNumber).Parse(block);
        ReplyWriter.WriteReply(block, parsed, -38);
        TestShim.ReadReply(block).Result.Should().Be(-38);
        TestShim.ReplySequence(block).Should().Be(9);
    }

    [Fact]
    public void A_violation_without_a_syscall_item_changes_only_the_reply_sequence()
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, TestShim.UnknownItem(1, 64), sequence: 5);
        var before = (byte[])block.Clone();
        var parsed = new RequestParser(TestShim.ByNumber).Parse(block);
        ReplyWriter.WriteReply(block, parsed, -14);
        BinaryPrimitives.WriteUInt32LittleEndian(before.AsSpan(0x28), 5);
        block.Should().Equal(before);
    }

    [Fact]
    public void An_exit_reply_changes_only_the_reply_sequence()
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, TestShim.ExitItem(0), sequence: 6);
        var before = (byte[])block.Clone();
        ReplyWriter.WriteReply(block, new RequestParser(TestShim.ByNumber).Parse(block), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(before.AsSpan(0x28), 6);
        block.Should().Equal(before);
    }
}
