using System.Runtime.InteropServices;
using System.Buffers;
using Donjon.Backends.Sdk.Interop;

namespace Donjon.Backends.Sdk.Doorbells;

/// <summary>
/// A doorbell line for a keep whose shim cannot wake a host futex (a VM guest): one byte stream for every slot of the
/// block, such as a serial port the virtual machine monitor connects to a socket (the VM keep's COM2, docs/vm.md,
/// "Doorbell"). One reader thread owns the host's end: it sleeps in <c>poll</c>, drains the bytes the guest sends, and
/// wakes every slot whose host side sleeps (each looks at its own doorbell word; a byte says only "look"). Sending a
/// byte (a reply to a sleeping slot, or a kick) needs no lock: each is one non-blocking <c>send</c>.
/// </summary>
/// <remarks>
/// The line's peer closing its end (the monitor has exited) ends the keep for every slot. The descriptor must be a
/// socket (<c>send</c>/<c>recv</c>); it stays the caller's, to close after <see cref="Join"/>.
/// </remarks>
public sealed unsafe class SerialDoorbellLine
{
    private const short PollIn = 0x1;
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;
    private const int EIntr = 4;
    private const int EAgain = 11;

    /// <summary>How long one poll lasts at most, so that an ended keep is noticed.</summary>
    private const int PollMilliseconds = 100;

    private readonly int _line;
    private readonly SerialDoorbellPort[] _ports;
    private readonly Thread _reader;
    private readonly MemoryHandle _pinned;
    private volatile bool _keepEnded;

    /// <summary>Makes the line and one port per slot; the reader starts with <see cref="Start"/>.</summary>
    /// <param name="block">
    /// The shared block, a mapping that never moves (<see cref="Memory.GuestRamFile"/>'s window, or
    /// <see cref="Memory.SharedMemory"/>), at least <paramref name="slotCount"/> × <paramref name="slotSize"/> bytes.
    /// </param>
    /// <param name="line">The host's end of the line (a connected socket); the caller closes it after <see cref="Join"/>.</param>
    /// <param name="slotCount">The block's slots, 1 or more.</param>
    /// <param name="slotSize">Each slot's size in bytes, a multiple of the page size.</param>
    /// <exception cref="ArgumentOutOfRangeException">The slots do not fit in the block, or a size is not positive or not page-aligned.</exception>
    public SerialDoorbellLine(MemoryManager<byte> block, int line, int slotCount, int slotSize)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentOutOfRangeException.ThrowIfNegative(line);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, Environment.SystemPageSize);
        if (slotSize % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slotSize), $"the slot size {slotSize} is not a multiple of the page size");
        }

        if ((long)slotCount * slotSize > block.Memory.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(slotCount), $"{slotCount} slots of {slotSize} bytes do not fit in a block of {block.Memory.Length} bytes");
        }

        // SAFETY: the block never moves (its contract above); the handle is kept for the line's life.
        _pinned = block.Pin();
        _line = line;
        _ports = new SerialDoorbellPort[slotCount];
        for (int slot = 0; slot < slotCount; slot++)
        {
            _ports[slot] = new SerialDoorbellPort(block, (byte*)_pinned.Pointer, this, slot * slotSize, slotSize);
        }

        _reader = new Thread(Read) { IsBackground = true, Name = "donjon vm doorbell" };
    }

    /// <summary>The slots' ports, slot 0 first.</summary>
    public IReadOnlyList<SerialDoorbellPort> Ports => _ports;

    /// <summary>Whether the keep has ended (or the peer closed its end of the line): every waiting slot stops at its next look.</summary>
    public bool KeepEnded => _keepEnded;

    /// <summary>Starts the reader; once the peer has the other end.</summary>
    public void Start() => _reader.Start();

    /// <summary>Called by the keep once it has ended (its monitor exited): the reader stops, and every waiting slot at once.</summary>
    public void MarkKeepEnded()
    {
        _keepEnded = true;
        foreach (SerialDoorbellPort port in _ports)
        {
            port.Wake();
        }
    }

    /// <summary>Waits (at most 2 s) for the reader to stop; after <see cref="MarkKeepEnded"/>.</summary>
    public void Join()
    {
        if (_reader.ThreadState != ThreadState.Unstarted)
        {
            _reader.Join(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>One byte to the guest: its interrupt makes the shim look at every slot and at the forwarded signals.</summary>
    /// <param name="value">The byte; the guest reads it only as "look".</param>
    public void Send(byte value)
    {
        // SAFETY: send(2) reads the one byte of the local.
        // A full socket buffer (a guest that does not drain its line) or a closed one (the monitor has exited) is not an error
        // here: the guest is either about to look at the block anyway, or gone.
        _ = Libc.Send(_line, &value, 1, MsgDontWait | MsgNoSignal);
    }

    private void Read()
    {
        byte* bytes = stackalloc byte[64];
        while (!_keepEnded)
        {
            var descriptor = new Libc.PollDescriptor { Descriptor = _line, Events = PollIn };
            // SAFETY: poll(2) reads and writes the one local pollfd; recv(2) writes at most 64 bytes into the 64-byte
            // stack buffer.
            int ready = Libc.Poll(&descriptor, 1, PollMilliseconds);
            if (ready <= 0)
            {
                continue;
            }

            bool received = false;
            while (true)
            {
                nint count = Libc.Recv(_line, bytes, 64, MsgDontWait);
                if (count > 0)
                {
                    received = true;
                    continue;
                }

                if (count == 0)
                {
                    MarkKeepEnded();     // the peer closed its end: the monitor has exited
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
                        MarkKeepEnded();
                    }
                }

                break;
            }

            if (received)
            {
                // The byte says only that some slot rang: each sleeping slot looks at its own doorbell.
                foreach (SerialDoorbellPort port in _ports)
                {
                    if (port.IsHostSleeping)
                    {
                        port.Wake();
                    }
                }
            }
        }
    }
}
