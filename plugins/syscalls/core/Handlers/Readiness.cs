using System.Buffers.Binary;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// Waits, before a blocking read or write, until the host descriptor is ready, in a way the call's token can
/// interrupt: a signal Donjon forwards to the workload (which then gets <c>EINTR</c>, or a restart under
/// <c>SA_RESTART</c>), or the keep's end. A plain blocking <c>read</c> could not be interrupted, and would hold its
/// host thread until data came.
/// </summary>
/// <remarks>
/// A descriptor that is ready at once (a regular file always is) costs one <c>poll</c> with no timeout; a
/// non-blocking one that is not ready is left to answer <c>EAGAIN</c> (one <c>fcntl</c> more). Otherwise the
/// wait is one <c>poll</c> on the descriptor and on an eventfd that the token's cancellation writes to, so it costs no
/// CPU however long it lasts. Two keep threads reading one pipe can both see it readable; the loser then blocks in
/// <c>read</c> as it would natively (docs/protocol-2.0-draft.md §15, question 5).
/// </remarks>
internal static class Readiness
{
    private const short PollIn = 0x1;
    private const short PollOut = 0x4;

    /// <summary>Waits until <paramref name="host"/> is readable (or hung up, or in error).</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    public static void WaitReadable(int host, CancellationToken cancellationToken) => Wait(host, PollIn, cancellationToken);

    /// <summary>Waits until <paramref name="host"/> is writable (or hung up, or in error).</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    public static void WaitWritable(int host, CancellationToken cancellationToken) => Wait(host, PollOut, cancellationToken);

    private static void Wait(int host, short events, CancellationToken cancellationToken)
    {
        Span<byte> one = stackalloc byte[LibC.PollFdSize];
        Describe(one, host, events);
        if (LibC.Poll(one, 0) != 0 || !cancellationToken.CanBeCanceled)
        {
            return;                     // ready, an error the read itself will report, or nothing can interrupt it
        }

        long flags = LibC.GetFlags(host);
        if (flags < 0 || (flags & LibC.NonBlocking) != 0)
        {
            return;                     // a non-blocking descriptor answers EAGAIN at once: nothing to wait for
        }

        long wake = LibC.EventFd(LibC.EventFdCloseOnExec | LibC.EventFdNonBlocking);
        if (wake < 0)
        {
            return;                     // no eventfd: the call blocks as a plain read would
        }

        try
        {
            using CancellationTokenRegistration registration = cancellationToken.Register(static state =>
            {
                Span<byte> eight = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(eight, 1);
                _ = LibC.Write((int)(long)state!, eight);
            }, wake);

            Span<byte> two = stackalloc byte[2 * LibC.PollFdSize];
            while (true)
            {
                Describe(two, host, events);
                Describe(two[LibC.PollFdSize..], (int)wake, PollIn);
                long ready = LibC.Poll(two, -1);
                cancellationToken.ThrowIfCancellationRequested();
                if (ready != -Errno.EINTR)
                {
                    return;             // the descriptor is ready, or poll failed and the call will say why
                }
            }
        }
        finally
        {
            LibC.Close((int)wake);
        }
    }

    private static void Describe(Span<byte> pollfd, int descriptor, short events)
    {
        BinaryPrimitives.WriteInt32LittleEndian(pollfd, descriptor);
        BinaryPrimitives.WriteInt16LittleEndian(pollfd[4..], events);
        BinaryPrimitives.WriteInt16LittleEndian(pollfd[6..], 0);
    }
}
