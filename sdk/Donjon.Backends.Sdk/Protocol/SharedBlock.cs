using System.Buffers.Binary;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Backends.Sdk.Protocol;

/// <summary>
/// Creates shared blocks (<c>docs/protocol.md</c> §3): an array of equal slots, one per keep thread, each with the
/// header the host writes once, at creation. Slot <c>k</c> starts at <c>k × slot size</c>, and each slot on its own
/// has the shape of a 1.0 block, so the request parser and the reply writer work on one slot's memory unchanged.
/// </summary>
public static class SharedBlock
{
    /// <summary>The smallest slot that can carry one syscall item with no data.</summary>
    public const int MinimumSize = BlockHeaderSize + SyscallFixedSize;

    /// <summary>The size of a block of <paramref name="slotCount"/> slots of <paramref name="slotSize"/> bytes, checked.</summary>
    /// <param name="slotSize">Each slot's size in bytes: a multiple of the page size, at least <see cref="BlockMinSlotSize"/>.</param>
    /// <param name="slotCount">How many slots, 1 to <see cref="MaxThreads"/>.</param>
    /// <returns>The block's size in bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range, or the block would exceed 2 GiB.</exception>
    public static int Size(int slotSize, int slotCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, BlockMinSlotSize);
        if (slotSize % PageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slotSize), slotSize, $"a slot's size must be a multiple of {PageSize} bytes");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotCount, MaxThreads);
        long size = (long)slotSize * slotCount;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, int.MaxValue, nameof(slotCount));
        return (int)size;
    }

    /// <summary>
    /// Clears <paramref name="block"/> and writes every slot's header: magic, version, slot size, items offset, items
    /// capacity and slot count. Every other field (doorbell, sleeping flags, sequence numbers, request size, signal
    /// words) starts at zero.
    /// </summary>
    /// <param name="block">The whole block, before the keep maps it: exactly <paramref name="slotCount"/> × <paramref name="slotSize"/> bytes.</param>
    /// <param name="slotSize">Each slot's size in bytes (<see cref="Size"/>).</param>
    /// <param name="slotCount">How many slots.</param>
    /// <exception cref="ArgumentException">The block's length is not <paramref name="slotCount"/> × <paramref name="slotSize"/>.</exception>
    public static void Initialize(Memory<byte> block, int slotSize, int slotCount) => Initialize(block.Span, slotSize, slotCount);

    /// <inheritdoc cref="Initialize(Memory{byte}, int, int)"/>
    public static void Initialize(Span<byte> block, int slotSize, int slotCount) => WriteSlotHeaders(block, slotSize, slotCount, clear: true);

    /// <summary>
    /// Writes every slot's header into a block that is all zeros already, as a new memfd or a new guest RAM file is
    /// (its pages read as zero until written), and touches nothing else: only the headers' pages are made, so the slots
    /// the keep never uses cost neither memory nor the time of clearing them (what <see cref="Initialize(Memory{byte}, int, int)"/>
    /// spends on a block of many slots). Every other field starts at zero because the block does.
    /// </summary>
    /// <param name="block">The whole block, never written since it was made: exactly <paramref name="slotCount"/> × <paramref name="slotSize"/> bytes.</param>
    /// <param name="slotSize">Each slot's size in bytes (<see cref="Size"/>).</param>
    /// <param name="slotCount">How many slots.</param>
    /// <exception cref="ArgumentException">The block's length is not <paramref name="slotCount"/> × <paramref name="slotSize"/>.</exception>
    public static void InitializeZeroed(Memory<byte> block, int slotSize, int slotCount) => WriteSlotHeaders(block.Span, slotSize, slotCount, clear: false);

    /// <summary>Checks the block's length, clears it when asked, and writes every slot's header.</summary>
    private static void WriteSlotHeaders(Span<byte> block, int slotSize, int slotCount, bool clear)
    {
        int size = Size(slotSize, slotCount);
        if (block.Length != size)
        {
            throw new ArgumentException($"a block of {slotCount} slots of {slotSize} bytes is {size} bytes; this one is {block.Length} bytes", nameof(block));
        }

        if (clear)
        {
            block.Clear();
        }

        for (int slot = 0; slot < slotCount; slot++)
        {
            WriteHeader(block.Slice(slot * slotSize, BlockHeaderSize), slotSize, slotCount);
        }
    }

    /// <summary>One slot's header, as the host writes it at creation.</summary>
    private static void WriteHeader(Span<byte> header, int slotSize, int slotCount)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header[BlockMagicOffset..], BlockMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[BlockVersionMajorOffset..], BlockVersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(header[BlockVersionMinorOffset..], BlockVersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BlockSlotSizeOffset..], (uint)slotSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BlockItemsOffsetOffset..], BlockItemsStart);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BlockItemsCapacityOffset..], (uint)ItemsCapacity(slotSize));
        BinaryPrimitives.WriteUInt32LittleEndian(header[BlockSlotCountOffset..], (uint)slotCount);
    }

    /// <summary>
    /// Clears <paramref name="block"/> and writes the header of a block that is one slot of its whole length (what a
    /// test port or a single-threaded keep needs): the shape checks are only those the host relies on.
    /// </summary>
    /// <param name="block">The block: a multiple of 8 bytes and at least <see cref="MinimumSize"/>.</param>
    /// <exception cref="ArgumentException">The block is smaller than <see cref="MinimumSize"/> or not a multiple of 8 bytes.</exception>
    public static void Initialize(Memory<byte> block)
    {
        var span = block.Span;
        if (span.Length < MinimumSize || span.Length % ItemAlignment != 0)
        {
            throw new ArgumentException(
                $"a shared block must be a multiple of {ItemAlignment} bytes and at least {MinimumSize} bytes; this one is {span.Length} bytes",
                nameof(block));
        }

        span.Clear();
        WriteHeader(span, span.Length, 1);
    }

    /// <summary>The items capacity of a slot of <paramref name="slotSize"/> bytes.</summary>
    /// <param name="slotSize">The slot's size in bytes.</param>
    /// <returns>The bytes available to a request's items.</returns>
    public static int ItemsCapacity(int slotSize) => slotSize - BlockItemsStart;

    /// <summary>
    /// The max-threads field of a configuration page the host built (<c>KeepImage.Configuration</c>): the number of
    /// slots a backend gives the keep's shared block. A page too short to hold the field gives 1.
    /// </summary>
    /// <param name="configurationPage">The page.</param>
    /// <returns>1 to <see cref="MaxThreads"/>.</returns>
    public static int ReadMaxThreads(ReadOnlySpan<byte> configurationPage)
    {
        if (configurationPage.Length < ConfigMaxThreadsOffset + 4)
        {
            return 1;
        }

        uint value = BinaryPrimitives.ReadUInt32LittleEndian(configurationPage[ConfigMaxThreadsOffset..]);
        return (int)Math.Clamp(value, 1u, (uint)MaxThreads);
    }

    /// <summary>
    /// The cpus field of a configuration page the host built (<c>KeepImage.Configuration</c>): the vCPUs the policy
    /// grants the keep. A page before 1.4, or one too short to hold the field, gives 1.
    /// </summary>
    /// <param name="configurationPage">The page.</param>
    /// <returns>1 to <see cref="MaxCpus"/>.</returns>
    public static int ReadCpus(ReadOnlySpan<byte> configurationPage)
    {
        if (configurationPage.Length < ConfigCpusOffset + 4
            || BinaryPrimitives.ReadUInt16LittleEndian(configurationPage[ConfigVersionMinorOffset..]) < 4)
        {
            return 1;
        }

        uint value = BinaryPrimitives.ReadUInt32LittleEndian(configurationPage[ConfigCpusOffset..]);
        return (int)Math.Clamp(value, 1u, (uint)MaxCpus);
    }
}
