using System.Buffers.Binary;
using static Donjon.Host.Protocol.ProtocolLayout;

namespace Donjon.Host.Protocol;

/// <summary>Creates shared blocks (<c>docs/protocol.md</c> §3): the header the host writes once, at creation.</summary>
internal static class SharedBlock
{
    /// <summary>The smallest block that can carry one syscall item with no data.</summary>
    internal const int MinimumSize = BlockHeaderSize + SyscallFixedSize;

    /// <summary>
    /// Clears <paramref name="block"/> and writes its header: magic, version, size, items offset and items capacity.
    /// Every other field (doorbell, sleeping flags, sequence numbers, request size) starts at zero.
    /// </summary>
    /// <param name="block">The whole block, before the keep maps it.</param>
    /// <exception cref="ArgumentException">The block is smaller than <see cref="MinimumSize"/> or not a multiple of 8 bytes.</exception>
    public static void Initialize(Memory<byte> block) => Initialize(block.Span);

    /// <inheritdoc cref="Initialize(Memory{byte})"/>
    public static void Initialize(Span<byte> block)
    {
        if (block.Length < MinimumSize || block.Length % ItemAlignment != 0)
        {
            throw new ArgumentException(
                $"a shared block must be a multiple of {ItemAlignment} bytes and at least {MinimumSize} bytes; this one is {block.Length} bytes",
                nameof(block));
        }

        block.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block[BlockMagicOffset..], BlockMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(block[BlockVersionMajorOffset..], BlockVersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(block[BlockVersionMinorOffset..], BlockVersionMinor);
        BinaryPrimitives.WriteUInt32LittleEndian(block[BlockSizeOffset..], (uint)block.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(block[BlockItemsOffsetOffset..], BlockItemsStart);
        BinaryPrimitives.WriteUInt32LittleEndian(block[BlockItemsCapacityOffset..], (uint)ItemsCapacity(block.Length));
    }

    /// <summary>The items capacity of a block of <paramref name="blockSize"/> bytes.</summary>
    /// <param name="blockSize">The block's size in bytes, as the host mapped it.</param>
    /// <returns>The bytes available to a request's items.</returns>
    public static int ItemsCapacity(int blockSize) => blockSize - BlockItemsStart;
}
