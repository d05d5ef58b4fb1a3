using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>
/// Configuration page 1.4: message records (kinds 11 and 12, <c>sendmsg</c>/<c>recvmsg</c> and the <c>mmsghdr</c> arrays),
/// opaque pointers (13) and signal masks (14): load-time rules, the host's per-request checks of every nested size and
/// count, and the reply's all-or-nothing rule for records.
/// </summary>
public sealed class MessageKindTests
{
    private static readonly SyscallSignature SendMsg = TestShim.Signature("sendmsg");
    private static readonly SyscallSignature RecvMsg = TestShim.Signature("recvmsg");
    private static readonly SyscallSignature SendMmsg = TestShim.Signature("sendmmsg");
    private static readonly SyscallSignature EpollPwait = TestShim.Signature("epoll_pwait");

    private static (byte[] Block, ParsedRequest Parsed) Parse(SyscallSignature signature, ulong[] values, byte[]?[] payloads)
    {
        var block = TestShim.NewBlock(16384);
        TestShim.Send(block, TestShim.SyscallItem(signature, values, payloads));
        return (block, new RequestParser(TestShim.ByNumber).Parse(block));
    }

    private static void ShouldViolate(ParsedRequest parsed, string because) =>
        parsed.Should().BeOfType<ParsedRequest.ProtocolViolation>().Which.Reason.Should().Contain(because);

    private static byte[] With(byte[] records, int offset, uint value)
    {
        var copy = (byte[])records.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    [Fact]
    public void A_sendmsg_record_reaches_the_handler_whole()
    {
        byte[] records = TestShim.MessageRecords(([2, 0, 0x1F, 0x90, 127, 0, 0, 1], null, "hello"u8.ToArray()));
        var call = Parse(SendMsg, [3, 0, 0x4000, 0, 0, 0], [null, records]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(1).ToArray().Should().Equal(records);
        call.Request.Argument(2).Should().Be(0x4000);
        records.Length.Should().Be(32 + 8 + 8);
    }

    [Fact]
    public void A_receive_record_carries_its_header_and_zeros_where_the_output_goes()
    {
        byte[] records = TestShim.MessageRecords((new byte[16], new byte[24], new byte[100]));
        byte[] sent = (byte[])records.Clone();
        sent.AsSpan(32).Fill(0xAA); // whatever the slot held before: never copied in
        var call = Parse(RecvMsg, [3, 0, 0, 0, 0, 0], [null, sent]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(1).ToArray().Should().Equal(records);
        call.Request.OutputCapacity(1).Should().Be(records.Length);
    }

    [Fact]
    public void Every_nested_size_and_count_is_bounded()
    {
        byte[] one = TestShim.MessageRecords((new byte[8], null, new byte[8]));
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 0, 129)]).Parsed, "has a name of 129");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 4, 65537)]).Parsed, "control of 65537");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 0x14, 1025)]).Parsed, "1025 iovecs");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 8, 4000)]).Parsed, "runs past its buffer");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 8, 0)]).Parsed, "message buffer of 48 bytes holds 1 records of 40 bytes");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 0x10, 2)]).Parsed, "presence bits 2");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 0x10, 4)]).Parsed, "presence bits 4");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, With(one, 0x18, 7)]).Parsed, "non-zero msg_len");
        ShouldViolate(Parse(SendMsg, new ulong[6], [null, one[..20]]).Parsed, "no room for its 32-byte header");
    }

    [Fact]
    public void An_mmsghdr_array_has_exactly_its_count_of_records_and_at_most_64()
    {
        byte[] two = TestShim.MessageRecords((null, null, "a"u8.ToArray()), (null, null, "bb"u8.ToArray()));
        Parse(SendMmsg, [3, 0, 2, 0, 0, 0], [null, two]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>();
        ShouldViolate(Parse(SendMmsg, [3, 0, 1, 0, 0, 0], [null, two]).Parsed, "holds 1 records");
        ShouldViolate(Parse(SendMmsg, [3, 0, 3, 0, 0, 0], [null, two]).Parsed, "message 2 has no room");
        ShouldViolate(Parse(SendMmsg, [3, 0, 65, 0, 0, 0], [null, two]).Parsed, "more than 64");
    }

    [Fact]
    public void Records_come_back_whole_or_not_at_all()
    {
        byte[] records = TestShim.MessageRecords((null, null, new byte[16]));
        var (block, parsed) = Parse(RecvMsg, [3, 0, 0, 0, 0, 0], [null, records]);
        var call = (ParsedRequest.SyscallCall)parsed;
        ReplyWriter.WriteSyscallResult(block, call, new SyscallResult(5, [new SyscallOutput(1, new byte[records.Length - 8])]))
            .Should().Contain("not 0 or all 48");
        TestShim.ReadReply(block).Result.Should().Be(-14);
        ReplyWriter.WriteSyscallResult(block, call, new SyscallResult(5, [new SyscallOutput(1, new byte[records.Length])])).Should().BeNull();
        TestShim.ReadReply(block).OutputSizes[1].Should().Be((uint)records.Length);
    }

    [Fact]
    public void A_signal_mask_and_an_opaque_pointer_cross_as_0_or_1_and_never_with_a_buffer()
    {
        var call = Parse(EpollPwait, [4, 0, 2, 100, 1, 8], [null, new byte[24]]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Argument(4).Should().Be(1);
        call.Request.Input(4).Length.Should().Be(0);

        var item = TestShim.SyscallItem(EpollPwait, [4, 0, 2, 100, 1, 8], [null, new byte[24]]);
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(0x10 + (8 * 4)), 2);
        var block = TestShim.NewBlock();
        TestShim.Send(block, item);
        ShouldViolate(new RequestParser(TestShim.ByNumber).Parse(block), "sent as 0 or 1 with no buffer, but has value 2");

        item = TestShim.SyscallItem(EpollPwait, [4, 0, 2, 100, 1, 8], [null, new byte[24]]);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + (8 * 4)), 152);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + (8 * 4) + 4), 8);
        TestShim.Send(block, item);
        ShouldViolate(new RequestParser(TestShim.ByNumber).Parse(block), "buffer {152, 8}");
    }

    [Theory]
    [InlineData(ArgumentKind.SendMessage, -1, 56, "a message takes no fixed size")]
    [InlineData(ArgumentKind.Opaque, 0, 0, "an opaque pointer takes neither")]
    [InlineData(ArgumentKind.Opaque, -1, 8, "an opaque pointer takes neither")]
    [InlineData(ArgumentKind.SignalMask, -1, 0, "a signal mask needs either a length argument")]
    [InlineData(ArgumentKind.SignalMask, -1, 8, "the fixed size 16 of pselect6's")]
    [InlineData(ArgumentKind.SignalMask, 0, 16, "a signal mask needs either")]
    public void Load_time_rules_refuse_a_bad_declaration(ArgumentKind kind, int length, int size, string because)
    {
        var signature = new SyscallSignature(5, "future", [SyscallArgument.Value, new SyscallArgument(kind, length, size)]);
        SignatureValidator.Problem(signature).Should().Contain(because);
    }

    [Fact]
    public void One_message_and_one_signal_mask_per_syscall()
    {
        SignatureValidator.Problem(new SyscallSignature(5, "two", [SyscallArgument.SendMessage(), SyscallArgument.ReceiveMessage()]))
            .Should().Contain("more than one message argument");
        SignatureValidator.Problem(new SyscallSignature(5, "two", [SyscallArgument.SignalMask(2), SyscallArgument.SignalMaskPair, SyscallArgument.Value]))
            .Should().Contain("more than one SignalMask");
        foreach (var signature in TestShim.Signatures)
        {
            SignatureValidator.Problem(signature).Should().BeNull(signature.Name);
        }
    }
}
