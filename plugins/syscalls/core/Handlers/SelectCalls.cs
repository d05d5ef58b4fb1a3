using System.Buffers.Binary;
using System.Diagnostics;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>select(nfds, readfds, writefds, exceptfds, timeout)</c> and <c>pselect6(nfds, readfds, writefds, exceptfds,
/// timeout, sigmask)</c> over the keep's descriptors: the three <c>fd_set</c>s become one host <c>poll</c> of the
/// host descriptors (read: <c>POLLIN</c>, write: <c>POLLOUT</c>, except: <c>POLLPRI</c>), waited in slices as
/// <see cref="PollCalls"/> does so that the end of the keep interrupts it.
/// </summary>
/// <remarks>
/// As in Linux: <c>nfds</c> above 1024 (<c>FD_SETSIZE</c>) or negative is <c>EINVAL</c>; a descriptor in a set that is
/// not open is <c>EBADF</c>; the sets are written back with only the ready descriptors; the result is the number of
/// bits set in all three; the time left is written back into the timeout (both calls). Each set is declared a fixed
/// 128-byte (<c>fd_set</c>) in/out buffer, or NULL. <c>pselect6</c>'s sixth argument, a pointer to a
/// <c>{ sigset_t *, size_t }</c> pair, is a <see cref="ArgumentKind.SignalMask"/> of fixed size 16 (protocol 1.4): the
/// shim reads the pair and applies the mask around the call; it never reaches the host.
/// </remarks>
internal static class SelectCalls
{
    /// <summary>The size of an <c>fd_set</c>: 1024 bits.</summary>
    public const int SetSize = 128;

    private const int MaxDescriptors = SetSize * 8;
    private const short PollIn = 0x1, PollPriority = 0x2, PollOut = 0x4, PollError = 0x8, PollHangUp = 0x10;

    /// <summary><c>select</c>, whose timeout is a <c>struct timeval</c> (microseconds).</summary>
    public static ValueTask<SyscallResult> SelectAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        TimeSpan? wait = null;
        if (request.TryInput(4, 16, out ReadOnlyMemory<byte> timeval))
        {
            long seconds = BinaryPrimitives.ReadInt64LittleEndian(timeval.Span);
            long microseconds = BinaryPrimitives.ReadInt64LittleEndian(timeval.Span[8..]);
            if (seconds < 0 || microseconds is < 0 or >= 1_000_000)
            {
                return new(SyscallResult.Error(Errno.EINVAL));
            }

            wait = seconds > TimeSpan.MaxValue.TotalSeconds / 2 ? null : TimeSpan.FromSeconds(seconds) + TimeSpan.FromMicroseconds(microseconds);
        }

        return new(Wait(request, session, wait, timeval.Length == 16 ? Remaining.Timeval : Remaining.None, cancellationToken));
    }

    /// <summary><c>pselect6</c>, whose timeout is a <c>struct timespec</c>.</summary>
    public static ValueTask<SyscallResult> PselectAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        TimeSpan? wait = null;
        bool hasTimeout = request.TryTimespec(4, out Timespec timeout);
        if (hasTimeout)
        {
            if (!timeout.IsValid)
            {
                return new(SyscallResult.Error(Errno.EINVAL));
            }

            Int128 ticks = timeout.TotalNanoseconds / 100;
            wait = ticks > TimeSpan.MaxValue.Ticks ? null : TimeSpan.FromTicks((long)ticks);
        }

        return new(Wait(request, session, wait, hasTimeout ? Remaining.Timespec : Remaining.None, cancellationToken));
    }

    private enum Remaining
    {
        None,
        Timeval,
        Timespec,
    }

    private static SyscallResult Wait(SyscallRequest request, IKeepSession session, TimeSpan? timeout, Remaining remaining, CancellationToken cancellationToken)
    {
        int count = request.Int32(0);
        if (count is < 0 or > MaxDescriptors)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        byte[][] sets = new byte[3][];
        for (int set = 0; set < 3; set++)
        {
            ReadOnlySpan<byte> input = request.Input(set + 1).Span;
            if (input.Length is not (0 or SetSize))
            {
                return SyscallResult.Error(Errno.EFAULT);
            }

            sets[set] = input.ToArray();
        }

        // One pollfd per descriptor that appears in any set.
        var descriptors = new List<int>();
        var pollFds = new List<byte>();
        for (int fd = 0; fd < count; fd++)
        {
            short events = 0;
            events |= IsSet(sets[0], fd) ? PollIn : (short)0;
            events |= IsSet(sets[1], fd) ? PollOut : (short)0;
            events |= IsSet(sets[2], fd) ? PollPriority : (short)0;
            if (events == 0)
            {
                continue;
            }

            if (!DescriptorCalls.TryHost(session, fd, out int host))
            {
                return SyscallResult.Error(Errno.EBADF);
            }

            byte[] element = new byte[LibC.PollFdSize];
            BinaryPrimitives.WriteInt32LittleEndian(element, host);
            BinaryPrimitives.WriteInt16LittleEndian(element.AsSpan(4), events);
            pollFds.AddRange(element);
            descriptors.Add(fd);
        }

        byte[] hostFds = [.. pollFds];
        long started = Stopwatch.GetTimestamp();
        long result;
        while (true)
        {
            TimeSpan left = timeout is { } limit ? limit - Stopwatch.GetElapsedTime(started) : PollCalls.Slice;
            if (left < TimeSpan.Zero)
            {
                left = TimeSpan.Zero;
            }

            TimeSpan slice = left < PollCalls.Slice ? left : PollCalls.Slice;
            if (slice > TimeSpan.Zero && cancellationToken.IsCancellationRequested)
            {
                result = -Errno.EINTR;
                break;
            }

            result = LibC.Poll(hostFds, (int)Math.Ceiling(slice.TotalMilliseconds));
            if (result > 0 || (result < 0 && result != -Errno.EINTR) || (result == 0 && timeout is not null && left <= slice))
            {
                break;
            }
        }

        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        byte[][] ready = [new byte[SetSize], new byte[SetSize], new byte[SetSize]];
        int bits = 0;
        for (int i = 0; i < descriptors.Count; i++)
        {
            short events = BinaryPrimitives.ReadInt16LittleEndian(hostFds.AsSpan((i * LibC.PollFdSize) + 4));
            short revents = BinaryPrimitives.ReadInt16LittleEndian(hostFds.AsSpan((i * LibC.PollFdSize) + 6));
            int fd = descriptors[i];
            bits += Mark(ready[0], fd, (events & PollIn) != 0 && (revents & (PollIn | PollHangUp | PollError)) != 0);
            bits += Mark(ready[1], fd, (events & PollOut) != 0 && (revents & (PollOut | PollError)) != 0);
            bits += Mark(ready[2], fd, (events & PollPriority) != 0 && (revents & PollPriority) != 0);
        }

        var outputs = new List<SyscallOutput>();
        for (int set = 0; set < 3; set++)
        {
            if (sets[set].Length == SetSize)
            {
                outputs.Add(new SyscallOutput(set + 1, ready[set]));
            }
        }

        if (remaining != Remaining.None && timeout is { } total)
        {
            TimeSpan left = total - Stopwatch.GetElapsedTime(started);
            Int128 nanoseconds = left <= TimeSpan.Zero ? 0 : (Int128)left.Ticks * 100;
            Timespec rest = Timespec.FromNanoseconds(nanoseconds);
            byte[] bytes = rest.ToBytes();
            if (remaining == Remaining.Timeval)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), rest.Nanoseconds / 1000);
            }

            outputs.Add(new SyscallOutput(4, bytes));
        }

        return new SyscallResult(bits, outputs);
    }

    private static bool IsSet(byte[] set, int fd) => set.Length == SetSize && (set[fd >> 3] & (1 << (fd & 7))) != 0;

    private static int Mark(byte[] set, int fd, bool ready)
    {
        if (!ready)
        {
            return 0;
        }

        set[fd >> 3] |= (byte)(1 << (fd & 7));
        return 1;
    }
}
