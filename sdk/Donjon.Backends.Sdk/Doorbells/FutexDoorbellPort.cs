using System.Diagnostics;
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
    private const int FutexWait = 0;
    private const int FutexWake = 1;

    private readonly SharedMemory _block;
    private readonly int _slotOffset;
    private readonly int _slotSize;
    private readonly AdaptiveSpin _spin = new();
    private volatile bool _keepEnded;

    /// <param name="block">The whole shared block.</param>
    /// <param name="slotOffset">Where this port's slot starts in the block (a multiple of the page size).</param>
    /// <param name="slotSize">The slot's size in bytes.</param>
    public FutexDoorbellPort(SharedMemory block, int slotOffset, int slotSize)
    {
        _block = block;
        _slotOffset = slotOffset;
        _slotSize = slotSize;
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
        Libc.Syscall(SysFutex, (nint)Doorbell, FutexWake, int.MaxValue, 0, 0, 0);
    }

    /// <inheritdoc />
    public ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        long* timeout = stackalloc long[2] { 0, 100_000_000 }; // 100 ms: notice a keep that ended
        // The doorbell is untrusted: any value other than "request" means "not yet". A request caught spinning leaves
        // the window as it is (AdaptiveSpin).
        if (_spin.Spin(Doorbell, (int)ProtocolLayout.DoorbellRequest, started))
        {
            return ValueTask.FromResult(true);
        }

        while (true)
        {
            int seen = Volatile.Read(ref *Doorbell);
            if (seen == (int)ProtocolLayout.DoorbellRequest)
            {
                _spin.AfterSleep(started, Stopwatch.GetTimestamp());
                return ValueTask.FromResult(true);
            }

            if (_keepEnded)
            {
                return ValueTask.FromResult(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            // Announce the sleep, then check again, so that a ring between the check and the wait is not lost.
            // 2: asleep, and no CPU to spare (docs/protocol.md §3, "Adaptive windows"); 1: asleep.
            Interlocked.Exchange(ref *HostSleeping, AdaptiveSpin.SpinningUseful ? 1 : 2);
            seen = Volatile.Read(ref *Doorbell);
            if (seen != (int)ProtocolLayout.DoorbellRequest && !_keepEnded)
            {
                Libc.Syscall(SysFutex, (nint)Doorbell, FutexWait, seen, (nint)timeout, 0, 0);
            }

            Interlocked.Exchange(ref *HostSleeping, 0);
        }
    }

    /// <inheritdoc />
    public void CompleteRequest()
    {
        Interlocked.Exchange(ref *Doorbell, (int)ProtocolLayout.DoorbellReply);
        if (Volatile.Read(ref *ShimSleeping) != 0)
        {
            Libc.Syscall(SysFutex, (nint)Doorbell, FutexWake, 1, 0, 0, 0);
        }
    }
}
