using System.Diagnostics;
using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Doorbells;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Backends.Vm.Interop;

namespace Donjon.Backends.Vm;

/// <summary>
/// The host's side of one slot's doorbell in the VM keep (docs/vm.md, "Doorbell"): the futex protocol of
/// docs/protocol.md §3 on the slot's <c>doorbell</c> word in guest RAM. The host spins briefly on the word, then sleeps
/// in <c>FUTEX_WAIT</c> on it; nobody in the guest can wake a host futex, so the guest writes one byte on COM2 when it
/// rings a sleeping slot, and <see cref="SerialDoorbellLine"/>'s reader, which owns the line, wakes the sleeping slots.
/// The guest sleeps in its scheduler; the host writes one byte on COM2 when it answers a slot whose shim sleeps, which
/// raises COM2's receive interrupt. A fast syscall costs no system call and no VM exit on either side; a blocked one
/// leaves the host's slot thread, QEMU and the vCPU asleep.
/// </summary>
internal sealed unsafe class SerialDoorbellPort : ISyscallPort
{
    private const long SysFutex = 202;
    private const int FutexWait = 0;
    private const int FutexWake = 1;

    private readonly GuestMemory _memory;
    private readonly SerialDoorbellLine _line;
    private readonly int _slotOffset;
    private readonly int _slotSize;
    private readonly AdaptiveSpin _spin = new();

    /// <param name="memory">The guest RAM with the block's window mapped.</param>
    /// <param name="line">The doorbell line, shared by every slot.</param>
    /// <param name="slotOffset">Where this port's slot starts in the block (a multiple of the page size).</param>
    /// <param name="slotSize">The slot's size in bytes.</param>
    public SerialDoorbellPort(GuestMemory memory, SerialDoorbellLine line, int slotOffset, int slotSize)
    {
        _memory = memory;
        _line = line;
        _slotOffset = slotOffset;
        _slotSize = slotSize;
    }

    public Memory<byte> SharedBlock => _memory.Memory.Slice(_slotOffset, _slotSize);

    // SAFETY: the offsets are fixed header fields of the slot, inside the mapping, which outlives the port; the slot
    // starts on a page boundary, so they are 4-aligned.
    private int* Doorbell => (int*)(_memory.BlockAddress + _slotOffset + ProtocolLayout.BlockDoorbellOffset);

    private int* HostSleeping => (int*)(_memory.BlockAddress + _slotOffset + ProtocolLayout.BlockHostSleepingOffset);

    private int* ShimSleeping => (int*)(_memory.BlockAddress + _slotOffset + ProtocolLayout.BlockShimSleepingOffset);

    /// <summary>Whether this slot's host side said it sleeps (or is about to): the line's reader then wakes it.</summary>
    public bool IsHostSleeping => Volatile.Read(ref *HostSleeping) != 0;

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

            if (_line.KeepEnded)
            {
                return ValueTask.FromResult(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            // Announce the sleep, then check again, so that a ring between the check and the sleep is not lost: a
            // guest that rang before our store is seen now (or makes FUTEX_WAIT return at once, the word having
            // changed); one that rang after sends a byte, and the line's reader wakes us.
            // 2: asleep, and no CPU to spare (the guest should park at once rather than spin); 1: asleep.
            Interlocked.Exchange(ref *HostSleeping, AdaptiveSpin.SpinningUseful ? 1 : 2);
            seen = Volatile.Read(ref *Doorbell);
            if (seen != (int)ProtocolLayout.DoorbellRequest && !_line.KeepEnded)
            {
                // SAFETY: futex(2) on the slot's 4-aligned doorbell word in the shared mapping; the timeout is a local.
                // Not the private variant: the word is in a shared mapping of the guest RAM file.
                Libc.Syscall(SysFutex, (nint)Doorbell, FutexWait, seen, (nint)timeout, 0, 0);
            }

            Interlocked.Exchange(ref *HostSleeping, 0);
        }
    }

    public void CompleteRequest()
    {
        Interlocked.Exchange(ref *Doorbell, (int)ProtocolLayout.DoorbellReply);
        if (Volatile.Read(ref *ShimSleeping) != 0)
        {
            _line.Send((byte)'W');
        }
    }

    /// <summary>Ends this slot's <c>FUTEX_WAIT</c>, if it is in one (the guest rang, or the keep ended).</summary>
    public void Wake() => Libc.Syscall(SysFutex, (nint)Doorbell, FutexWake, int.MaxValue, 0, 0, 0);
}
