using System.Diagnostics;
using Donjon.Syscalls.Net.Interop;

namespace Donjon.Syscalls.Net;

/// <summary>
/// How a handler blocks: a host <c>poll</c> on the keep's host descriptor together with an eventfd that the call's
/// cancellation token signals, so a thread blocked in <c>accept</c>, <c>recv</c>, <c>connect</c> or <c>epoll_wait</c>
/// is released at once when a signal interrupts it or the keep ends, and stalls no other slot (each slot has its own
/// host thread). The blocking host call itself is then made only when it cannot block.
/// </summary>
internal static class Waiting
{
    /// <summary>The wait's outcome: ready, timed out (<c>-EAGAIN</c>) or cancelled (<c>-EINTR</c>).</summary>
    public const int Ready = 0;

    /// <summary>
    /// Waits until <paramref name="hostDescriptor"/> has one of <paramref name="events"/>, for at most
    /// <paramref name="timeout"/> (<see langword="null"/>: for ever).
    /// </summary>
    /// <returns><see cref="Ready"/>, <c>-EAGAIN</c> when the time ran out, <c>-EINTR</c> when cancelled, or minus errno.</returns>
    public static long For(int hostDescriptor, short events, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return -Errno.EINTR;
        }

        long wake = cancellationToken.CanBeCanceled ? Kernel.EventFd(0, Kernel.NonBlock | Kernel.CloseOnExec) : -1;
        if (wake < -1)
        {
            return wake; // no eventfd: EMFILE/ENOMEM on the host, said to the keep as it is
        }

        int wakeFd = (int)wake;
        try
        {
            // Dispose waits for a running callback, so the eventfd is never written after it is closed (and reused).
            using CancellationTokenRegistration registration = wakeFd >= 0
                ? cancellationToken.Register(static state => Kernel.Signal((int)state!), wakeFd)
                : default;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                int slice = -1;
                if (timeout is TimeSpan limit)
                {
                    TimeSpan left = limit - clock.Elapsed;
                    if (left <= TimeSpan.Zero)
                    {
                        return -Errno.EAGAIN;
                    }

                    slice = (int)Math.Min(int.MaxValue, Math.Ceiling(left.TotalMilliseconds));
                }

                long result = Kernel.PollTwo(hostDescriptor, events, wakeFd, slice);
                if (result < 0)
                {
                    return result;
                }

                if ((result & 2) != 0 || cancellationToken.IsCancellationRequested)
                {
                    return -Errno.EINTR;
                }

                if ((result & 1) != 0)
                {
                    return Ready;
                }
            }
        }
        finally
        {
            if (wakeFd >= 0)
            {
                Kernel.Close(wakeFd);
            }
        }
    }

    /// <summary>A socket timeout option (<c>SO_RCVTIMEO</c>, <c>SO_SNDTIMEO</c>) of a host socket; <see langword="null"/> for none.</summary>
    public static TimeSpan? SocketTimeout(int hostDescriptor, int option)
    {
        Span<byte> value = stackalloc byte[16];
        int length = 16;
        if (Kernel.GetOption(hostDescriptor, 1, option, value, ref length) < 0 || length < 16)
        {
            return null;
        }

        long seconds = BitConverter.ToInt64(value);
        long microseconds = BitConverter.ToInt64(value[8..]);
        return seconds == 0 && microseconds == 0 ? null : TimeSpan.FromSeconds(seconds) + TimeSpan.FromMicroseconds(microseconds);
    }

    /// <summary>Whether a host descriptor is in non-blocking mode (<c>O_NONBLOCK</c>).</summary>
    public static bool IsNonBlocking(int hostDescriptor) => Kernel.Fcntl(hostDescriptor, 3) is long flags && flags >= 0 && (flags & Kernel.NonBlock) != 0;
}
