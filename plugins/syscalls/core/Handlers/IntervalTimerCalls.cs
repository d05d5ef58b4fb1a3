using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// The keep's real-time interval timer: <c>alarm</c>, <c>setitimer</c> and <c>getitimer</c> with
/// <c>ITIMER_REAL</c>. It counts on the host's monotonic clock, and at expiry sends the workload <c>SIGALRM</c>
/// through the session (<see cref="IKeepSignalSender"/>), which then arrives as a signal Donjon forwards does: it wakes
/// a <c>pause</c>, interrupts a blocked call, and runs the workload's handler.
/// </summary>
/// <remarks>
/// One timer per keep, as per process in Linux; <c>alarm</c> and <c>setitimer</c> share it. <c>ITIMER_VIRTUAL</c> and
/// <c>ITIMER_PROF</c> count the process's CPU time, which the host does not see: they are <c>EINVAL</c>. A session that
/// cannot send signals (a backend without <c>IInterruptibleKeep</c>) gets <c>ENOSYS</c>, so that a program learns at
/// once that its alarm would never ring. Thread-safe: each timer's state is guarded by its own lock.
/// </remarks>
internal sealed class IntervalTimerCalls
{
    /// <summary>The size of <c>struct itimerval</c>: two <c>struct timeval</c>.</summary>
    public const int IntervalSize = 32;

    private const int ItimerReal = 0;
    private const int ItimerVirtual = 1;
    private const int ItimerProf = 2;
    private const int Sigalrm = 14;
    private const long MicrosecondsPerSecond = 1_000_000;

    /// <summary>The longest period a timer accepts; longer values are clamped (Linux's own limit is about 2^63 ns).</summary>
    private static readonly long MaxMicroseconds = (long)TimeSpan.FromDays(365 * 100).TotalMicroseconds;

    /// <summary>The longest wait one host timer takes; a longer one is re-armed when it ends early.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(40);

    private readonly ConditionalWeakTable<IKeepSession, KeepTimer> _timers = [];
    private readonly TimeProvider _clock;

    public IntervalTimerCalls(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary><c>alarm(seconds)</c>: arms (or, with 0, disarms) the timer; returns the seconds that were left, rounded up.</summary>
    public SyscallResult Alarm(SyscallRequest request, IKeepSession session)
    {
        if (session is not IKeepSignalSender sender)
        {
            return SyscallResult.Error(Errno.ENOSYS);
        }

        long seconds = (long)(uint)request.Argument(0);
        (long previousValue, _) = Timer(session, sender).Set(seconds * MicrosecondsPerSecond, 0);
        long left = (previousValue + MicrosecondsPerSecond - 1) / MicrosecondsPerSecond;
        return SyscallResult.Success(previousValue > 0 && left == 0 ? 1 : left);
    }

    /// <summary><c>setitimer(which, new, old)</c>.</summary>
    public SyscallResult SetInterval(SyscallRequest request, IKeepSession session)
    {
        int which = request.Int32(0);
        if (which is ItimerVirtual or ItimerProf || which != ItimerReal)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (session is not IKeepSignalSender sender)
        {
            return SyscallResult.Error(Errno.ENOSYS);
        }

        ReadOnlySpan<byte> untrustedNew = request.Input(1).Span;
        if (untrustedNew.Length != IntervalSize)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        if (!TryMicroseconds(untrustedNew, out long interval) || !TryMicroseconds(untrustedNew[16..], out long value))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        (long oldValue, long oldInterval) = Timer(session, sender).Set(value, interval);
        return request.OutputCapacity(2) >= IntervalSize
            ? request.Output(0, 2, Encode(oldInterval, oldValue))
            : SyscallResult.Success(0);
    }

    /// <summary><c>getitimer(which, value)</c>.</summary>
    public SyscallResult GetInterval(SyscallRequest request, IKeepSession session)
    {
        int which = request.Int32(0);
        if (which != ItimerReal)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (request.OutputCapacity(1) < IntervalSize)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        (long value, long interval) = session is IKeepSignalSender sender ? Timer(session, sender).Get() : (0, 0);
        return request.Output(0, 1, Encode(interval, value));
    }

    private KeepTimer Timer(IKeepSession session, IKeepSignalSender sender) =>
        _timers.GetValue(session, _ => new KeepTimer(_clock, sender));

    /// <summary>A <c>struct timeval</c> as microseconds: <c>EINVAL</c> for a negative part or microseconds of 10^6 or more.</summary>
    private static bool TryMicroseconds(ReadOnlySpan<byte> untrustedTimeval, out long microseconds)
    {
        long seconds = BinaryPrimitives.ReadInt64LittleEndian(untrustedTimeval);
        long micros = BinaryPrimitives.ReadInt64LittleEndian(untrustedTimeval[8..]);
        microseconds = 0;
        if (seconds < 0 || micros < 0 || micros >= MicrosecondsPerSecond)
        {
            return false;
        }

        microseconds = seconds >= MaxMicroseconds / MicrosecondsPerSecond ? MaxMicroseconds : (seconds * MicrosecondsPerSecond) + micros;
        return true;
    }

    private static byte[] Encode(long interval, long value)
    {
        var bytes = new byte[IntervalSize];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, interval / MicrosecondsPerSecond);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), interval % MicrosecondsPerSecond);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(16), value / MicrosecondsPerSecond);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(24), value % MicrosecondsPerSecond);
        return bytes;
    }

    /// <summary>One keep's ITIMER_REAL: its deadline and period, and the host timer that rings it.</summary>
    private sealed class KeepTimer(TimeProvider clock, IKeepSignalSender sender)
    {
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private long _deadline;         // clock timestamp; 0 when disarmed
        private long _intervalMicroseconds;

        /// <summary>Arms the timer for <paramref name="value"/> µs (0 disarms), then every <paramref name="interval"/> µs; returns what was left before.</summary>
        public (long Value, long Interval) Set(long value, long interval)
        {
            lock (_lock)
            {
                var before = Remaining();
                _timer?.Dispose();
                _timer = null;
                _deadline = 0;
                _intervalMicroseconds = interval;
                if (value > 0)
                {
                    _deadline = clock.GetTimestamp() + (long)(value / 1e6 * clock.TimestampFrequency);
                    _timer = clock.CreateTimer(Ring, null, Wait(value), Timeout.InfiniteTimeSpan);
                }
                else
                {
                    _intervalMicroseconds = 0;
                }

                return before;
            }
        }

        public (long Value, long Interval) Get()
        {
            lock (_lock)
            {
                return Remaining();
            }
        }

        private (long Value, long Interval) Remaining()
        {
            if (_deadline == 0)
            {
                return (0, 0);
            }

            long left = (long)((_deadline - clock.GetTimestamp()) * 1e6 / clock.TimestampFrequency);
            return (Math.Max(left, 1), _intervalMicroseconds);
        }

        /// <summary>A host timer's wait for <paramref name="microseconds"/>, at most <see cref="LongestWait"/>.</summary>
        private static TimeSpan Wait(long microseconds) =>
            TimeSpan.FromMicroseconds(Math.Min(microseconds, (long)LongestWait.TotalMicroseconds));

        /// <summary>The host timer ended: ring when the deadline has come (then re-arm a periodic timer), else wait on.</summary>
        private void Ring(object? state)
        {
            lock (_lock)
            {
                if (_deadline == 0 || _timer is null)
                {
                    return;             // disarmed meanwhile
                }

                long early = (long)((_deadline - clock.GetTimestamp()) * 1e6 / clock.TimestampFrequency);
                if (early > 1000)
                {
                    _timer.Change(Wait(early), Timeout.InfiniteTimeSpan);   // a wait longer than one host timer
                    return;
                }

                if (_intervalMicroseconds > 0)
                {
                    _deadline += (long)(_intervalMicroseconds / 1e6 * clock.TimestampFrequency);
                    long next = Math.Max(0, (long)((_deadline - clock.GetTimestamp()) * 1e6 / clock.TimestampFrequency));
                    _timer.Change(Wait(next), Timeout.InfiniteTimeSpan);
                }
                else
                {
                    _deadline = 0;
                }
            }

            _ = sender.Send(Sigalrm);
        }
    }
}
