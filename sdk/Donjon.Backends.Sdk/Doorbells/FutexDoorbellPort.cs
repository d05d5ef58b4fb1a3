using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Interop;
using Donjon.Backends.Sdk.Memory;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Backends.Sdk.Doorbells;

/// <summary>
/// The host's side of one slot's doorbell (docs/protocol.md §3, "Doorbell"): the slot's <c>doorbell</c> word is a
/// futex shared with the shim. Each side spins briefly, then sleeps in <c>FUTEX_WAIT</c>, so a fast syscall costs no
/// system call and a blocked one burns no core.
/// </summary>
public sealed unsafe class FutexDoorbellPort : ISyscallPort
{
    private const long SysFutex = 202;
    private const int FutexWake = 1;

    private readonly SharedMemory _block;
    private readonly int _slotOffset;
    private readonly int _slotSize;
    private readonly AdaptiveSpin _spin = new();
    private readonly Func<bool> _hasKeepEnded;
    private volatile bool _keepEnded;

    /// <param name="block">The whole shared block.</param>
    /// <param name="slotOffset">Where this port's slot starts in the block (a multiple of the page size).</param>
    /// <param name="slotSize">The slot's size in bytes.</param>
    public FutexDoorbellPort(SharedMemory block, int slotOffset, int slotSize)
    {
        _block = block;
        _slotOffset = slotOffset;
        _slotSize = slotSize;
        _hasKeepEnded = () => _keepEnded;
    }

    /// <inheritdoc />
    public Memory<byte> SharedBlock => _block.Memory.Slice(_slotOffset, _slotSize);

    // SAFETY: the offsets are fixed header fields of the slot, inside the mapping, which outlives the port; the slot
    // starts on a page boundary, so they are 4-aligned.
    private int* Doorbell => (int*)(_block.Address + _slotOffset + ProtocolLayout.BlockDoorbellOffset);

    private int* HostSleeping => (int*)(_block.Address + _slotOffset + ProtocolLayout.BlockHostSleepingOffset);

    private int* ShimSleeping => (int*)(_block.Address + _slotOffset + ProtocolLayout.BlockShimSleepingOffset);

    /// <summary>Called by the keep once the shim has exited: wakes a waiting host for good.</summary>
    public void MarkKeepEnded()
    {
        _keepEnded = true;
        DoorbellWait.Wake(Doorbell);
    }

    /// <inheritdoc />
    public ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(DoorbellWait.ForRequest(Doorbell, HostSleeping, ShimSleeping, _spin, _hasKeepEnded, cancellationToken));

    /// <inheritdoc />
    public void CompleteRequest()
    {
        Interlocked.Exchange(ref *Doorbell, (int)ProtocolLayout.DoorbellReply);
        if (DoorbellWait.SaysAsleep(Volatile.Read(ref *ShimSleeping)))
        {
            Libc.Syscall(SysFutex, (nint)Doorbell, FutexWake, 1, 0, 0, 0);
        }
    }
}
