using System.Buffers.Binary;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

public sealed class SharedBlockTests
{
    [Fact]
    public void Initialize_writes_the_header_of_section_3()
    {
        var block = new byte[ProtocolLayout.BlockDefaultSize];
        block.AsSpan().Fill(0xAA);
        SharedBlock.Initialize(block.AsMemory());

        BinaryPrimitives.ReadUInt32LittleEndian(block).Should().Be(0x424E4A44);
        "DJNB"u8.ToArray().Should().Equal(block.AsSpan(0, 4).ToArray());
        BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(4)).Should().Be(1);
        BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(6)).Should().Be(1, "block 1.1: the signals words");
        BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(8)).Should().Be(2 * 1024 * 1024 + 4096);
        BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(0x0C)).Should().Be(64);
        BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(0x10)).Should().Be(2 * 1024 * 1024 + 4096 - 64);
        block.AsSpan(0x14).ToArray().Should().OnlyContain(b => b == 0, "doorbell, flags, sequences, reserved bytes and items start at zero");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(215)]
    [InlineData(220)]
    public void Initialize_refuses_a_block_too_small_or_unaligned(int size)
    {
        var act = () => SharedBlock.Initialize(new byte[size].AsMemory());
        act.Should().Throw<ArgumentException>().WithMessage("*multiple of 8*");
    }
}
