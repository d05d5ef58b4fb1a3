using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>
/// The blocking open of a FIFO, as Linux does it (an open for reading waits for a writer, one for writing waits for a
/// reader; <c>O_RDWR</c> and <c>O_NONBLOCK</c> never wait), in a way that a signal forwarded to the calling thread and
/// the keep's end both interrupt, so a waiting open stalls no other keep thread and never outlives its keep.
/// </summary>
/// <remarks>
/// <para>
/// The first open is made with <c>O_NONBLOCK</c> (see <see cref="OpenCalls"/>); <see cref="Settle"/> then takes over.
/// Anything but a FIFO has that flag cleared again, so <c>F_GETFL</c> shows what the keep asked for. A FIFO is opened
/// again, without <c>O_NONBLOCK</c>, through the host's own <c>/proc/self/fd/N</c> of the first descriptor (the same
/// inode, whatever happens to its path meanwhile), and that open is the one that waits.
/// </para>
/// <para>
/// The wait is a real blocking open on the handler's host thread. When the call's token is cancelled, its callback
/// opens the same FIFO once more, <c>O_RDWR | O_NONBLOCK</c> (which never waits and counts as a reader and a writer),
/// so the waiting open returns; the handler then closes both and reports the interruption (<c>EINTR</c>, or a
/// restart under <c>SA_RESTART</c>, as the executor decides for <c>open</c>). A side effect a program could see: other
/// openers waiting on the same FIFO at that moment (another process, or another keep thread) are released too, and
/// the end they opened sees its partner close at once (<c>read</c> returns 0, <c>write</c> <c>EPIPE</c>).
/// </para>
/// </remarks>
internal static class Fifo
{
    private const int StatModeOffset = 24;
    private const int FileTypeMask = 0xF000;
    private const int FifoType = 0x1000;
    private const int GetStatusFlags = 3;
    private const int SetStatusFlags = 4;

    /// <summary>
    /// Finishes an open that <see cref="OpenCalls"/> made with <c>O_NONBLOCK</c> added: waits as Linux would when it
    /// is a FIFO, else clears the flag again.
    /// </summary>
    /// <param name="hostOpen">How the first open was made (host flags, mode): here for an <c>O_PATH</c> open of the same path.</param>
    /// <param name="opened">The first open's host descriptor, or minus errno.</param>
    /// <param name="flags">The keep's flags (without the added <c>O_NONBLOCK</c>).</param>
    /// <param name="cancellationToken">Interrupts the wait.</param>
    /// <returns>The host descriptor the keep gets, or minus errno.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled while the open waited.</exception>
    public static long Settle(Func<int, int, long> hostOpen, long opened, int flags, CancellationToken cancellationToken)
    {
        int access = flags & Resolver.AccessModeMask;
        if (opened == -Errno.ENXIO && access == Resolver.OpenWriteOnly)
        {
            // No reader yet: Linux's answer for a non-blocking writer. If it is a FIFO, wait for one.
            long path = hostOpen(Resolver.OpenPath | (flags & Resolver.OpenNoFollow), 0);
            if (path < 0)
            {
                return opened;
            }

            try
            {
                return IsFifo((int)path) ? Wait((int)path, flags, cancellationToken) : opened;
            }
            finally
            {
                Kernel.Close((int)path);
            }
        }

        if (opened < 0)
        {
            return opened;
        }

        int host = (int)opened;
        if (access == Resolver.OpenReadOnly && IsFifo(host))
        {
            // The non-blocking reader did not wait for a writer; the blocking one, opened through it, does.
            try
            {
                return Wait(host, flags, cancellationToken);
            }
            finally
            {
                Kernel.Close(host);
            }
        }

        long status = Kernel.Call(72, host, GetStatusFlags);
        long cleared = status < 0 ? status : Kernel.Call(72, host, SetStatusFlags, status & ~(long)Resolver.OpenNonBlocking);
        if (cleared < 0)
        {
            Kernel.Close(host);
            return cleared;
        }

        return host;
    }

    /// <summary>Whether a host descriptor (an <c>O_PATH</c> one too) is a FIFO.</summary>
    private static bool IsFifo(int host)
    {
        Span<byte> stat = stackalloc byte[Kernel.StatSize];
        return Kernel.FStat(host, stat) == 0 &&
            (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(stat[StatModeOffset..]) & FileTypeMask) == FifoType;
    }

    /// <summary>Opens the FIFO that <paramref name="through"/> is a descriptor of, blocking until its other end opens or the token is cancelled.</summary>
    private static long Wait(int through, int flags, CancellationToken cancellationToken)
    {
        byte[] path = Resolver.ProcPath(through);

        // O_CREAT, O_EXCL and O_TRUNC did their work (or had none) in the first open; O_NOFOLLOW would refuse the magic link.
        int reopen = (flags & ~(Resolver.OpenCreate | Resolver.OpenExclusive | Resolver.OpenTruncate | Resolver.OpenNoFollow | Resolver.OpenNonBlocking)) |
            Resolver.OpenCloseOnExec | Resolver.OpenNoControllingTerminal;
        if (!cancellationToken.CanBeCanceled)
        {
            return Kernel.OpenAt(Kernel.CurrentDirectory, path, reopen, 0);
        }

        var partner = new Partner(path, flags & Resolver.AccessModeMask);
        long opened;
        using (cancellationToken.Register(static state => ((Partner)state!).Arrive(), partner))
        {
            opened = Kernel.OpenAt(Kernel.CurrentDirectory, path, reopen, 0);
        }

        partner.Leave();
        if (cancellationToken.IsCancellationRequested)
        {
            if (opened >= 0)
            {
                Kernel.Close((int)opened);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        return opened;
    }

    /// <summary>The other end the token's cancellation opens, so the waiting open returns; closed once it has.</summary>
    private sealed class Partner(byte[] path, int waiting)
    {
        private readonly Lock _lock = new();
        private long _descriptor = -1;
        private bool _done;

        /// <summary>Opens the FIFO for reading and writing without waiting (it counts as both ends), or else as the end the waiting open needs.</summary>
        public void Arrive()
        {
            lock (_lock)
            {
                if (_done || _descriptor >= 0)
                {
                    return;
                }

                const int flags = Resolver.OpenNonBlocking | Resolver.OpenCloseOnExec | Resolver.OpenNoControllingTerminal;
                _descriptor = Kernel.OpenAt(Kernel.CurrentDirectory, path, Resolver.OpenReadWrite | flags, 0);
                if (_descriptor < 0)
                {
                    // A FIFO the host may not both read and write: a reader releases a waiting writer, and a writer (which a
                    // waiting reader lets open without O_NONBLOCK's ENXIO) a waiting reader.
                    int end = waiting == Resolver.OpenWriteOnly ? Resolver.OpenReadOnly : Resolver.OpenWriteOnly;
                    _descriptor = Kernel.OpenAt(Kernel.CurrentDirectory, path, end | flags, 0);
                }
            }
        }

        /// <summary>Closes the partner, if it came; later arrivals do nothing.</summary>
        public void Leave()
        {
            lock (_lock)
            {
                _done = true;
                if (_descriptor >= 0)
                {
                    Kernel.Close((int)_descriptor);
                    _descriptor = -1;
                }
            }
        }
    }
}
