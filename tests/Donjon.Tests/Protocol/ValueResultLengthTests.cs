using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>
/// Configuration page 1.3: value-result lengths (kind 10, <c>socklen_t *</c>) and the output buffers they size, as
/// <c>accept</c> and <c>recvfrom</c> declare them: load-time rules, the host's per-request checks, and the reply.
/// </summary>
public sealed class ValueResultLengthTests
{
    private static readonly SyscallSignature Accept = new(43, "accept", [SyscallArgument.Value, SyscallArgument.OutputSizedBy(2, 128), SyscallArgument.ValueResultLength()]);

    // The length after the buffer it sizes would be the usual order; here it comes first, to check the parser's second pass.
    private static readonly SyscallSignature Reversed = new(45, "recvfrom", [SyscallArgument.Value, SyscallArgument.Output(2), SyscallArgument.Value, SyscallArgument.ValueResultLength(8), SyscallArgument.OutputSizedBy(3, 64), SyscallArgument.Value]);

    private static readonly Dictionary<int, SyscallSignature> Signatures = new() { [43] = Accept, [45] = Reversed };

    private static byte[] Length(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static (byte[] Block, ParsedRequest Parsed) Parse(SyscallSignature signature, byte[]?[] payloads, bool[]? absent = null)
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, TestShim.SyscallItem(signature, new ulong[6], payloads, absent: absent));
        return (block, new RequestParser(Signatures).Parse(block));
    }

    private static void ShouldViolate(ParsedRequest parsed, string because) =>
        parsed.Should().BeOfType<ParsedRequest.ProtocolViolation>().Which.Reason.Should().Contain(because);

    [Fact]
    public void A_buffer_sized_by_a_value_result_length_has_its_value_as_capacity_and_the_length_is_input_and_output()
    {
        var (_, parsed) = Parse(Accept, [null, new byte[16], Length(16)]);
        var call = parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.OutputCapacity(1).Should().Be(16);
        call.Request.OutputCapacity(2).Should().Be(4);
        BinaryPrimitives.ReadInt32LittleEndian(call.Request.Input(2).Span).Should().Be(16);
    }

    [Fact]
    public void The_capacity_is_the_smaller_of_the_value_and_the_declared_maximum()
    {
        Parse(Accept, [null, new byte[128], Length(1000)]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>();
        ShouldViolate(Parse(Accept, [null, new byte[129], Length(1000)]).Parsed, "differs from min(value-result length (argument 2: 1000), maximum 128) = 128");
        ShouldViolate(Parse(Accept, [null, new byte[16], Length(8)]).Parsed, "= 8");
    }

    [Fact]
    public void A_negative_length_a_missing_length_and_a_wrong_width_are_violations()
    {
        ShouldViolate(Parse(Accept, [null, Array.Empty<byte>(), Length(-1)]).Parsed, "negative value-result length");
        ShouldViolate(Parse(Accept, [null, new byte[16], null], absent: [false, false, true]).Parsed, "has a NULL value-result length");
        ShouldViolate(Parse(Accept, [null, new byte[3], new byte[3]]).Parsed, "differs from its width 4");
    }

    [Fact]
    public void A_null_buffer_with_a_length_is_accepted_and_an_eight_byte_length_may_come_first()
    {
        Parse(Accept, [null, null, Length(16)], absent: [false, true, false]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>();
        var eight = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(eight, 40);
        var call = Parse(Reversed, [null, new byte[10], null, eight, new byte[40]]).Parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.OutputCapacity(4).Should().Be(40);
        call.Request.OutputCapacity(3).Should().Be(8);
    }

    [Fact]
    public void The_reply_writes_the_address_and_the_full_length()
    {
        var (block, parsed) = Parse(Accept, [null, new byte[8], Length(8)]);
        var call = (ParsedRequest.SyscallCall)parsed;
        var result = new SyscallResult(5, [new SyscallOutput(1, new byte[] { 2, 0, 0x1F, 0x90, 127, 0, 0, 1 }), new SyscallOutput(2, Length(16))]);
        ReplyWriter.WriteSyscallResult(block, call, result).Should().BeNull();
        var (value, sizes) = TestShim.ReadReply(block);
        value.Should().Be(5);
        sizes[1].Should().Be(8);
        sizes[2].Should().Be(4);
        var (offset, _) = TestShim.Buffer(block, 2);
        BinaryPrimitives.ReadInt32LittleEndian(block.AsSpan(TestShim.ItemsOffset + (int)offset)).Should().Be(16, "the full length goes back even when it exceeds the capacity, as Linux's accept reports it");

        var tooMuch = new SyscallResult(0, [new SyscallOutput(2, new byte[5])]);
        ReplyWriter.WriteSyscallResult(block, call, tooMuch).Should().Contain("capacity is 4");
    }

    [Theory]
    [InlineData(3, "a width (its fixed size) of 4 or 8")]
    [InlineData(16, "a width (its fixed size) of 4 or 8")]
    public void A_value_result_length_has_a_width_of_four_or_eight(int width, string because) =>
        SignatureValidator.Problem(new SyscallSignature(43, "accept", [SyscallArgument.Value, SyscallArgument.OutputSizedBy(2, 128), new SyscallArgument(ArgumentKind.ValueResultLength, -1, width)]))
            .Should().Contain(because);

    [Fact]
    public void Only_an_output_buffer_with_a_maximum_may_be_sized_by_a_value_result_length()
    {
        SignatureValidator.Problem(Accept).Should().BeNull();
        SignatureValidator.Problem(new SyscallSignature(43, "accept", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.OutputBuffer, 2), SyscallArgument.ValueResultLength()]))
            .Should().Contain("needs a maximum size");
        SignatureValidator.Problem(new SyscallSignature(49, "bind", [SyscallArgument.Value, SyscallArgument.Input(2), SyscallArgument.ValueResultLength()]))
            .Should().Contain("only an OutputBuffer may be sized by a value-result length");
        SignatureValidator.Problem(new SyscallSignature(43, "accept", [SyscallArgument.Value, SyscallArgument.Value, new SyscallArgument(ArgumentKind.ValueResultLength, 1, 4)]))
            .Should().Contain("takes no length argument");
    }

    [Fact]
    public void The_configuration_page_carries_kind_ten_and_a_minor_version_of_at_least_three()
    {
        byte[] page = ConfigurationPageBuilder.Build([new DeclaredSyscall("net", Accept)]);
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(6)).Should().BeGreaterThanOrEqualTo(3, "value-result lengths came with 1.3");
        int entry = 128 + (43 * 32);
        page[entry + 4 + 4].Should().Be(2, "argument 1 is an output buffer");
        page[entry + 4 + 5].Should().Be(2, "whose length argument is argument 2");
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(entry + 4 + 6)).Should().Be(128);
        page[entry + 4 + 8].Should().Be(10, "argument 2 is a value-result length");
        BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(entry + 4 + 10)).Should().Be(4);
    }
}
