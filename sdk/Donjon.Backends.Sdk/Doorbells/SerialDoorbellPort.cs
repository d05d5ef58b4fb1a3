using System.Buffers;
using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Backends.Sdk.Doorbells;

/// <summary>
/// The host's side of one slot's doorbell when the shim cannot wake a host futex (a VM guest; docs/vm.md, "Doorbell"):
/// the futex protocol of docs/protocol.md §3 on the slot's <c>doorbell</c> word in the shared block. The host spins
/// briefly on the word, then sleeps in <c>FUTEX_WAIT</c> on it (<see cref="DoorbellWait"/>); the guest writes one byte
/// on the line when it rings a sleeping slot, and <see cref="SerialDoorbellLine"/>'s reader wakes the sleeping slots.
/// The host writes one byte on the line when it answers a slot whose shim sleeps, which raises the guest's receive
/// interrupt. A fast syscall costs no system call and no VM exit on either side; a blocked one leaves the host's slot
/// thread, the monitor and the vCPU asleep. Made by <see cref="SerialDoorbellLine"/>, one per slot.
/// </summary>
public sealed unsafe class SerialDoorbellPort : ISyscallPort
{
    private readonly MemoryManager<byte> _block;
    private readonly byte* _address;
    private readonly SerialDoorbellLine _line;
    private readonly int _slotOffset;
    private readonly int _slotSize;
    private readonly AdaptiveSpin _spin = new();
    private readonly Func<bool> _hasKeepEnded;

    internal SerialDoorbellPort(MemoryManager<byte> block, byte* address, SerialDoorbellLine line, int slotOffset, int slotSize)
    {
        _block = block;
        _address = address;
        _line = line;
        _slotOffset = slotOffset;
        _slotSize = slotSize;
        _hasKeepEnded = () => _line.KeepEnded;
    }

    /// <inheritdoc />
    public Memory<byte> SharedBlock => _block.Memory.Slice(_slotOffset, _slotSize);

    // SAFETY: the offsets are fixed header fields of the slot, inside the pinned mapping (the line checked that every
    // slot fits), which outlives the port; the slot starts on a page boundary, so they are 4-aligned.
    private int* Doorbell => (int*)(_address + _slotOffset + ProtocolLayout.BlockDoorbellOffset);

    private int* HostSleeping => (int*)(_address + _slotOffset + ProtocolLayout.BlockHostSleepingOffset);

    private int* ShimSleeping => (int*)(_address + _slotOffset + ProtocolLayout.BlockShimSleepingOffset);

    /// <summary>Whether this slot's host side said it sleeps (or is about to): the line's reader then wakes it.</summary>
    public bool IsHostSleeping => DoorbellWait.SaysAsleep(Volatile.Read(ref *HostSleeping));

    /// <inheritdoc />
    public ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(DoorbellWait.ForRequest(Doorbell, HostSleeping, _spin, _hasKeepEnded, cancellationToken));

    /// <inheritdoc />
    public void CompleteRequest()
    {
        Interlocked.Exchange(ref *Doorbell, (int)ProtocolLayout.DoorbellReply);
        if (DoorbellWait.SaysAsleep(Volatile.Read(ref *ShimSleeping)))
        {
            _line.Send((byte)'W');
        }
    }

    /// <summary>Ends this slot's <c>FUTEX_WAIT</c>, if it is in one (the guest rang, or the keep ended).</summary>
    public void Wake() => DoorbellWait.Wake(Doorbell);
}
