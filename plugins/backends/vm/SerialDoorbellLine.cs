using System.Runtime.InteropServices;
using Donjon.Backends.Vm.Interop;

namespace Donjon.Backends.Vm;

/// <summary>
/// The VM keep's doorbell line, COM2 (docs/vm.md, "Doorbell"): one serial line for every slot of the block. The host's
/// end is a socket that QEMU's serial device writes to. One reader thread owns it: it sleeps in <c>poll</c>, drains
/// the bytes the guest sends, and wakes every slot whose host side sleeps (each looks at its own doorbell word; a byte
/// says only "look"). Sending a byte (a reply to a sleeping slot, or a kick) needs no lock: each is one
/// non-blocking <c>send</c>.
/// </summary>
internal sealed unsafe class SerialDoorbellLine
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
    private volatile bool _keepEnded;

    /// <param name="memory">The guest RAM with the block's window mapped.</param>
    /// <param name="line">The host's end of COM2 (a socket); owned by the keep, which closes it after the reader ends.</param>
    /// <param name="slotCount">The block's slots.</param>
    /// <param name="slotSize">Each slot's size.</param>
    public SerialDoorbellLine(GuestMemory memory, int line, int slotCount, int slotSize)
    {
        _line = line;
        _ports = new SerialDoorbellPort[slotCount];
        for (int slot = 0; slot < slotCount; slot++)
        {
            _ports[slot] = new SerialDoorbellPort(memory, this, slot * slotSize, slotSize);
        }

        _reader = new Thread(Read) { IsBackground = true, Name = "donjon vm doorbell" };
    }

    /// <summary>The slots' ports, slot 0 first.</summary>
    public IReadOnlyList<SerialDoorbellPort> Ports => _ports;

    /// <summary>Whether QEMU has exited (or its end of the line closed): every waiting slot stops at its next look.</summary>
    public bool KeepEnded => _keepEnded;

    /// <summary>Starts the reader; once QEMU has the other end.</summary>
    public void Start() => _reader.Start();

    /// <summary>Called by the keep once QEMU has exited: the reader stops, and every waiting slot at once.</summary>
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
    public void Send(byte value)
    {
        // SAFETY: send(2) reads the one byte of the local.
        // A full socket buffer (a guest that does not drain COM2) or a closed one (QEMU has exited) is not an error
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
                    MarkKeepEnded();     // QEMU closed its end: it has exited
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
