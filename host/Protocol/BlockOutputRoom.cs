using Donjon.Abstractions.Syscalls;

namespace Donjon.Host.Protocol;

/// <summary>
/// One call's output room (<see cref="ISyscallOutputRoom"/>): for each output argument, its buffer in the shared block as
/// the parser placed and checked it (<see cref="SyscallReplyLayout"/>), from the host's own layout and never from fields
/// the keep could change afterwards.
/// </summary>
internal sealed class BlockOutputRoom : ISyscallOutputRoom
{
    private readonly Memory<byte> _block;
    private readonly SyscallReplyLayout _layout;

    /// <summary>Creates the room of the call laid out by <paramref name="layout"/> in <paramref name="block"/>.</summary>
    /// <param name="block">The slot's whole shared block, the one the request was parsed from.</param>
    /// <param name="layout">The call's checked reply layout.</param>
    /// <exception cref="InvalidOperationException">The block is smaller than the request the layout was made from.</exception>
    public BlockOutputRoom(Memory<byte> block, SyscallReplyLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (block.Length < layout.End)
        {
            throw new InvalidOperationException($"the shared block ({block.Length} bytes) is smaller than the request the call was parsed from ({layout.End} bytes)");
        }

        _block = block;
        _layout = layout;
    }

    /// <inheritdoc/>
    public Memory<byte> For(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, SyscallRequest.MaxArguments);
        if (!_layout.IsOutput(index))
        {
            return Memory<byte>.Empty;
        }

        int offset = _layout.OutputOffset(index);
        int capacity = _layout.OutputCapacity(index);

        // The parser placed every output inside the request, so this holds; it is checked again rather than trusted.
        return capacity > 0 && offset >= 0 && (long)offset + capacity <= _layout.End ? _block.Slice(offset, capacity) : Memory<byte>.Empty;
    }
}
