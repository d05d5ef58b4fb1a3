using System.Buffers.Binary;
using System.Diagnostics;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>poll(fds, nfds, timeout)</c> and <c>ppoll(fds, nfds, tmo_p, sigmask, sigsetsize)</c> over the keep's
/// descriptors: each keep descriptor becomes its host descriptor and the host's own <c>poll(2)</c> answers.
/// </summary>
/// <remarks>
/// <para>
/// As in Linux: a negative <c>fd</c> is ignored (its <c>revents</c> is 0); a descriptor that is not open in the keep's
/// table gets <c>POLLNVAL</c> and counts as ready; the result is the number of elements with a non-zero
/// <c>revents</c>; the whole array is written back with only <c>revents</c> changed. <c>nfds</c> above 1024 is
/// refused by the shim with <c>EINVAL</c> (Linux's bound is <c>RLIMIT_NOFILE</c>).
/// </para>
/// <para>
/// The wait is the host's <c>poll</c> in slices of at most <see cref="Slice"/>, so that when the keep ends (the token
/// is cancelled) a blocked call returns <c>EINTR</c> within one slice and never keeps Donjon alive. The timeout is
/// measured on the monotonic clock. <c>ppoll</c> writes the time left back into <c>*tmo_p</c>, as Linux does.
/// </para>
/// <para>
/// <c>ppoll</c>'s <c>sigmask</c> is a <see cref="ArgumentKind.SignalMask"/> (protocol 1.4): the shim checks it (a non-null
/// mask needs <c>sigsetsize</c> 8, otherwise <c>EINVAL</c>) and applies it around the call; it never reaches the host.
/// </para>
/// </remarks>
internal static class PollCalls
{
    /// <summary>The longest single host <c>poll</c>: how late a wait notices that the keep ended.</summary>
    public static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);

    private const short PollInvalid = 0x20; // POLLNVAL

    /// <summary><c>poll(fds, nfds, timeout)</c>: a negative timeout waits for ever.</summary>
    public static ValueTask<SyscallResult> PollAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        int timeout = request.Int32(2);
        TimeSpan? wait = timeout < 0 ? null : TimeSpan.FromMilliseconds(timeout);
        return new(Wait(request, session, wait, remainingIndex: -1, cancellationToken));
    }

    /// <summary><c>ppoll(fds, nfds, tmo_p, sigmask, sigsetsize)</c>: a null <c>tmo_p</c> waits for ever.</summary>
    public static ValueTask<SyscallResult> PpollAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        TimeSpan? wait = null;
        int remainingIndex = -1;
        if (request.TryTimespec(2, out Timespec timeout))
        {
            if (!timeout.IsValid)
            {
                return new(SyscallResult.Error(Errno.EINVAL));
            }

            // Ticks of 100 ns; a timeout beyond TimeSpan's range is as good as for ever.
            Int128 ticks = timeout.TotalNanoseconds / 100;
            wait = ticks > TimeSpan.MaxValue.Ticks ? null : TimeSpan.FromTicks((long)ticks);
            remainingIndex = timeout.TotalNanoseconds > 0 && request.HasOutput(2, Timespec.Size) ? 2 : -1;
        }
        else if (request.Input(2).Length > 0)
        {
            return new(SyscallResult.Error(Errno.EFAULT));
        }

        return new(Wait(request, session, wait, remainingIndex, cancellationToken));
    }

    private static SyscallResult Wait(SyscallRequest request, IKeepSession session, TimeSpan? timeout, int remainingIndex, CancellationToken cancellationToken)
    {
        ulong count = request.Argument(1);
        ReadOnlySpan<byte> keepFds = request.Input(0).Span;
        if ((ulong)keepFds.Length != count * LibC.PollFdSize || request.OutputCapacity(0) != keepFds.Length)
        {
            // The shim sends exactly nfds elements; anything else is a NULL array with a non-zero count.
            return SyscallResult.Error(Errno.EFAULT);
        }

        // The host's copy: keep descriptors become host descriptors; negative and unknown ones become -1, which the
        // host's poll ignores, and unknown ones are answered POLLNVAL below.
        byte[] hostFds = keepFds.ToArray();
        bool[] invalid = new bool[(int)count];
        int invalidCount = 0;
        for (int i = 0; i < (int)count; i++)
        {
            Span<byte> element = hostFds.AsSpan(i * LibC.PollFdSize, LibC.PollFdSize);
            int fd = BinaryPrimitives.ReadInt32LittleEndian(element);
            int host = -1;
            if (fd >= 0 && !DescriptorCalls.TryHost(session, fd, out host))
            {
                invalid[i] = true;
                invalidCount++;
                host = -1;
            }

            BinaryPrimitives.WriteInt32LittleEndian(element, host);
            BinaryPrimitives.WriteInt16LittleEndian(element[6..], 0);
        }

        long started = Stopwatch.GetTimestamp();
        long result;
        while (true)
        {
            TimeSpan left = timeout is { } limit ? limit - Stopwatch.GetElapsedTime(started) : Slice;
            if (left < TimeSpan.Zero || invalidCount > 0)
            {
                left = TimeSpan.Zero; // an invalid descriptor is ready at once, so the call does not wait
            }

            TimeSpan slice = left < Slice ? left : Slice;
            if (slice > TimeSpan.Zero && cancellationToken.IsCancellationRequested)
            {
                result = -Errno.EINTR; // the keep ended: as a signal would, the wait stops
                break;
            }

            result = LibC.Poll(hostFds, (int)Math.Ceiling(slice.TotalMilliseconds));
            if (result > 0 || (result < 0 && result != -Errno.EINTR))
            {
                break;
            }

            if (result == 0 && (invalidCount > 0 || (timeout is not null && left <= slice)))
            {
                break; // the timeout has run out, or an invalid descriptor made the call return at once
            }
        }

        if (result < 0)
        {
            return WithRemaining(result, [], timeout, started, remainingIndex);
        }

        // Write back the keep's own array with the host's revents, and POLLNVAL for the descriptors it does not have.
        byte[] reply = keepFds.ToArray();
        int ready = 0;
        for (int i = 0; i < (int)count; i++)
        {
            short revents = invalid[i] ? PollInvalid : BinaryPrimitives.ReadInt16LittleEndian(hostFds.AsSpan((i * LibC.PollFdSize) + 6));
            BinaryPrimitives.WriteInt16LittleEndian(reply.AsSpan((i * LibC.PollFdSize) + 6), revents);
            if (revents != 0)
            {
                ready++;
            }
        }

        return WithRemaining(ready, [new SyscallOutput(0, reply)], timeout, started, remainingIndex);
    }

    /// <summary>The result, with <c>ppoll</c>'s time left written back into <c>*tmo_p</c> when it has one.</summary>
    private static SyscallResult WithRemaining(long value, List<SyscallOutput> outputs, TimeSpan? timeout, long started, int remainingIndex)
    {
        if (remainingIndex >= 0 && timeout is { } limit)
        {
            TimeSpan left = limit - Stopwatch.GetElapsedTime(started);
            Int128 nanoseconds = left <= TimeSpan.Zero ? 0 : (Int128)left.Ticks * 100;
            outputs.Add(new SyscallOutput(remainingIndex, Timespec.FromNanoseconds(nanoseconds).ToBytes()));
        }

        return new SyscallResult(value, outputs);
    }
}
