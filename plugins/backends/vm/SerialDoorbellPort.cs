using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Donjon.Abstractions.Keeps;
using Donjon.Backends.Vm.Interop;
using Donjon.Host.Protocol;

namespace Donjon.Backends.Vm;

/// <summary>
/// The host's side of the VM keep's doorbell (docs/vm.md, "Doorbell"): the futex protocol of docs/protocol.md §3,
/// with COM2 where the futex was. The block's <c>doorbell</c> word is in guest RAM; each side spins briefly on it,
/// then sleeps. The host sleeps in <c>poll</c> on its end of COM2 (a socket QEMU's serial device writes to), and the
/// guest writes one byte there when it rings a sleeping host; the guest sleeps in <c>hlt</c>, and the host writes one
/// byte when it answers a sleeping guest, which raises COM2's receive interrupt. A fast syscall costs no system call
/// and no VM exit on either side; a blocked one leaves the host thread, QEMU and the vCPU asleep.
/// </summary>
internal sealed unsafe class SerialDoorbellPort : ISyscallPort
{
    private const short PollIn = 0x1;
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;
    private const int EIntr = 4;
    private const int EAgain = 11;

    /// <summary>How long the host spins before it sleeps; a proxied call's round trip is a few microseconds.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 µs

    /// <summary>How long one sleep lasts at most, so that a keep that ended, or a lost byte, is noticed.</summary>
    private const int SleepMilliseconds = 100;

    private readonly GuestMemory _memory;
    private readonly int _line;
    private volatile bool _keepEnded;

    /// <param name="memory">The guest RAM with the block's window mapped.</param>
    /// <param name="line">The host's end of COM2 (a socket); owned by the keep, which closes it after the port's last use.</param>
    public SerialDoorbellPort(GuestMemory memory, int line)
    {
        _memory = memory;
        _line = line;
    }

    public Memory<byte> SharedBlock => _memory.Memory;

    // SAFETY: the offsets are fixed header fields inside the mapping, which outlives the port; they are 4-aligned.
    private int* Doorbell => (int*)(_memory.BlockAddress + ProtocolLayout.BlockDoorbellOffset);

    private int* HostSleeping => (int*)(_memory.BlockAddress + ProtocolLayout.BlockHostSleepingOffset);

    private int* ShimSleeping => (int*)(_memory.BlockAddress + ProtocolLayout.BlockShimSleepingOffset);

    /// <summary>Called by the keep once QEMU has exited: a waiting host stops at its next look.</summary>
    public void MarkKeepEnded() => _keepEnded = true;

    public ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken)
    {
        long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
        while (true)
        {
            // The doorbell is untrusted: any value other than "request" means "not yet".
            if (Volatile.Read(ref *Doorbell) == (int)ProtocolLayout.DoorbellRequest)
            {
                return ValueTask.FromResult(true);
            }

            if (_keepEnded)
            {
                return ValueTask.FromResult(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (Stopwatch.GetTimestamp() < spinUntil)
            {
                if (X86Base.IsSupported)
                {
                    X86Base.Pause();
                }

                continue;
            }

            // Announce the sleep, then check again, so that a ring between the check and the sleep is not lost: a
            // guest that rang before our store sees nothing and we see its request; one that rang after sends a byte.
            Interlocked.Exchange(ref *HostSleeping, 1);
            if (Volatile.Read(ref *Doorbell) != (int)ProtocolLayout.DoorbellRequest && !_keepEnded)
            {
                Sleep();
            }

            Interlocked.Exchange(ref *HostSleeping, 0);
            spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
        }
    }

    public void CompleteRequest()
    {
        Interlocked.Exchange(ref *Doorbell, (int)ProtocolLayout.DoorbellReply);
        if (Volatile.Read(ref *ShimSleeping) != 0)
        {
            byte wake = (byte)'W';
            // SAFETY: send(2) reads the one byte of the local.
            // A full socket buffer (a guest that does not drain COM2) or a closed one (QEMU has exited) is not an
            // error here: the guest is either awake already or gone.
            _ = Libc.Send(_line, &wake, 1, MsgDontWait | MsgNoSignal);
        }
    }

    /// <summary>One byte on COM2 whether or not the guest sleeps: its interrupt makes the shim look at the block.</summary>
    public void Kick()
    {
        byte wake = (byte)'K';
        // SAFETY: send(2) reads the one byte of the local. A full or closed line is not an error: see CompleteRequest.
        _ = Libc.Send(_line, &wake, 1, MsgDontWait | MsgNoSignal);
    }

    /// <summary>Blocks until the guest sends a byte on COM2, the line closes, or the sleep times out; drops the bytes.</summary>
    private void Sleep()
    {
        var descriptor = new Libc.PollDescriptor { Descriptor = _line, Events = PollIn };
        // SAFETY: poll(2) reads and writes the one local pollfd; recv(2) writes at most 64 bytes into the 64-byte
        // stack buffer.
        int ready = Libc.Poll(&descriptor, 1, SleepMilliseconds);
        if (ready <= 0)
        {
            return;
        }

        byte* bytes = stackalloc byte[64];
        while (true)
        {
            nint count = Libc.Recv(_line, bytes, 64, MsgDontWait);
            if (count > 0)
            {
                continue;
            }

            if (count == 0)
            {
                _keepEnded = true;     // QEMU closed its end: it has exited
            }
            else
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                if (errno != EAgain)
                {
                    _keepEnded = true;
                }
            }

            return;
        }
    }
}
