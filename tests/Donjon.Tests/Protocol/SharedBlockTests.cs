using System.Buffers.Binary;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

public sealed class SharedBlockTests
{
    [Fact]
    public void Initialize_writes_every_slot_header_of_section_3()
    {
        const int slotSize = 1024 * 1024 + 4096;
        var block = new byte[SharedBlock.Size(slotSize, 3)];
        block.AsSpan().Fill(0xAA);
        SharedBlock.Initialize(block.AsMemory(), slotSize, 3);

        for (int slot = 0; slot < 3; slot++)
        {
            var header = block.AsSpan(slot * slotSize);
            "DJNB"u8.ToArray().Should().Equal(header[..4].ToArray());
            BinaryPrimitives.ReadUInt16LittleEndian(header[4..]).Should().Be(2, "block 2.0: an array of slots");
            BinaryPrimitives.ReadUInt16LittleEndian(header[6..]).Should().Be(1, "2.1: the sleeping words say where each side runs");
            BinaryPrimitives.ReadUInt32LittleEndian(header[8..]).Should().Be(slotSize);
            BinaryPrimitives.ReadUInt32LittleEndian(header[0x0C..]).Should().Be(64);
            BinaryPrimitives.ReadUInt32LittleEndian(header[0x10..]).Should().Be(slotSize - 64);
            header.Slice(0x14, 0x2C - 0x14).ToArray().Should().OnlyContain(b => b == 0, "doorbell, flags and sequences start at zero");
            BinaryPrimitives.ReadUInt32LittleEndian(header[0x2C..]).Should().Be(3, "every slot names the slot count");
            header.Slice(0x30, slotSize - 0x30).ToArray().Should().OnlyContain(b => b == 0, "signal words and items start at zero");
        }
    }

    [Fact]
    public void InitializeZeroed_of_a_zero_block_writes_what_Initialize_writes()
    {
        const int slotSize = 1024 * 1024 + 4096;
        var cleared = new byte[SharedBlock.Size(slotSize, 4)];
        cleared.AsSpan().Fill(0x5C);
        SharedBlock.Initialize(cleared.AsMemory(), slotSize, 4);
        var zeroed = new byte[cleared.Length];
        SharedBlock.InitializeZeroed(zeroed.AsMemory(), slotSize, 4);
        zeroed.AsSpan().SequenceEqual(cleared).Should().BeTrue("only the headers differ from zero, and they are the same");

        var act = () => SharedBlock.InitializeZeroed(new byte[cleared.Length - 4096].AsMemory(), slotSize, 4);
        act.Should().Throw<ArgumentException>().WithMessage("*4 slots*");
    }

    [Theory]
    [InlineData(4096 * 17 - 8, 1)]
    [InlineData(4096, 1)]
    [InlineData(1024 * 1024 + 4096, 0)]
    [InlineData(1024 * 1024 + 4096, 1025)]
    public void Size_refuses_slots_the_shim_would_refuse(int slotSize, int slotCount)
    {
        var act = () => SharedBlock.Size(slotSize, slotCount);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void The_configuration_page_names_the_slot_count()
    {
        var page = ConfigurationPageBuilder.Build([], maxThreads: 8);
        SharedBlock.ReadMaxThreads(page).Should().Be(8);
        SharedBlock.ReadMaxThreads(ConfigurationPageBuilder.Build([])).Should().Be(ProtocolLayout.DefaultMaxThreads);
        SharedBlock.ReadMaxThreads(new byte[16]).Should().Be(1, "a page too short to hold the field allows one thread");
    }

    [Fact]
    public void The_configuration_page_names_the_cpus()
    {
        var page = ConfigurationPageBuilder.Build([], cpus: 8);
        SharedBlock.ReadCpus(page).Should().Be(8);
        SharedBlock.ReadCpus(ConfigurationPageBuilder.Build([])).Should().Be(1);
        SharedBlock.ReadCpus(new byte[16]).Should().Be(1, "a page too short to hold the field gives one vCPU");
        page[6] = 3;
        SharedBlock.ReadCpus(page).Should().Be(1, "a page before 1.4 has no cpus field");
        FluentActions.Invoking(() => ConfigurationPageBuilder.Build([], cpus: 9)).Should().Throw<ArgumentOutOfRangeException>();
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
