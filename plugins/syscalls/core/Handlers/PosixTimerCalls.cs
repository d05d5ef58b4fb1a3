using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// POSIX per-process timers: <c>timer_create</c>, <c>timer_settime</c>, <c>timer_gettime</c>, <c>timer_getoverrun</c> and
/// <c>timer_delete</c> on <c>CLOCK_REALTIME</c>, <c>CLOCK_MONOTONIC</c> and <c>CLOCK_BOOTTIME</c>, with <c>SIGEV_SIGNAL</c>
/// or <c>SIGEV_NONE</c>. A timer counts on the host's monotonic clock (an absolute <c>CLOCK_REALTIME</c> time is turned into
/// a wait when it is set) and at expiry sends its signal through the session (<see cref="IKeepSignalSender"/>), as
/// <see cref="IntervalTimerCalls"/> rings <c>SIGALRM</c>.
/// </summary>
/// <remarks>
/// What differs from Linux, and why: the signal arrives as one Donjon forwards does, with <c>si_code</c> <c>SI_USER</c>,
/// not <c>SI_TIMER</c>, and without <c>si_value</c>/<c>si_timerid</c>/<c>si_overrun</c> (the forwarded-signal word carries
/// only which signals are pending; a verifier of the keep sees that the host can raise nothing more). So
/// <c>SIGEV_THREAD_ID</c> — and with it glibc's <c>SIGEV_THREAD</c>, whose helper thread needs <c>si_value</c> — is
/// <c>EINVAL</c>. <c>timer_getoverrun</c> counts the periods a late host timer collapsed into its last signal. At most
/// <see cref="MaxTimers"/> timers per keep (then <c>EAGAIN</c>, as Linux's <c>RLIMIT_SIGPENDING</c>). Thread-safe.
/// </remarks>
internal sealed class PosixTimerCalls
{
    /// <summary>The size of <c>struct itimerspec</c>: two <c>struct timespec</c>.</summary>
    public const int SpecSize = 32;

    /// <summary>The size of <c>struct sigevent</c>.</summary>
    public const int SigeventSize = 64;

    /// <summary>The most timers one keep may have at once.</summary>
    public const int MaxTimers = 1024;

    private const int ClockRealtime = 0;
    private const int ClockMonotonic = 1;
    private const int ClockBoottime = 7;
    private const int SigevSignal = 0;
    private const int SigevNone = 1;
    private const int Sigalrm = 14;
    private const int TimerAbsolute = 1;

    /// <summary>The longest wait one host timer takes; a longer one is re-armed when it ends early.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(40);

    /// <summary>The longest value or interval kept: 100 years (longer ones are clamped).</summary>
    private static readonly Int128 MaxNanoseconds = (Int128)TimeSpan.FromDays(365 * 100).Ticks * 100;

    private readonly ConditionalWeakTable<IKeepSession, KeepTimers> _timers = [];
    private readonly TimeProvider _clock;

    public PosixTimerCalls(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary><c>timer_create(clockid, sevp, timerid)</c>: a NULL <c>sevp</c> is <c>SIGEV_SIGNAL</c> with <c>SIGALRM</c>.</summary>
    public SyscallResult Create(SyscallRequest request, IKeepSession session)
    {
        int clock = request.Int32(0);
        if (clock is not (ClockRealtime or ClockMonotonic or ClockBoottime))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int signal = Sigalrm;
        int notify = SigevSignal;
        ReadOnlySpan<byte> untrustedEvent = request.Input(1).Span;
        if (untrustedEvent.Length == SigeventSize)
        {
            signal = BinaryPrimitives.ReadInt32LittleEndian(untrustedEvent[8..]);
            notify = BinaryPrimitives.ReadInt32LittleEndian(untrustedEvent[12..]);
        }
        else if (untrustedEvent.Length != 0)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        if (notify is not (SigevSignal or SigevNone) || (notify == SigevSignal && signal is < 1 or > 64))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (request.OutputCapacity(2) < 4)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        if (session is not IKeepSignalSender sender)
        {
            return SyscallResult.Error(Errno.ENOSYS);
        }

        int id = Timers(session).Add(new PosixTimer(_clock, sender, clock == ClockRealtime, notify == SigevSignal ? signal : 0));
        if (id < 0)
        {
            return SyscallResult.Error(Errno.EAGAIN);
        }

        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, id);
        return request.Output(0, 2, bytes);
    }

    /// <summary><c>timer_settime(timerid, flags, new_value, old_value)</c>: <c>TIMER_ABSTIME</c> sets an absolute time on the timer's clock.</summary>
    public SyscallResult Set(SyscallRequest request, IKeepSession session)
    {
        if (!TryTimer(request, session, out PosixTimer timer))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        ReadOnlySpan<byte> untrustedSpec = request.Input(2).Span;
        if (untrustedSpec.Length != SpecSize)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        Timespec interval = Timespec.Read(untrustedSpec);
        Timespec value = Timespec.Read(untrustedSpec[16..]);
        if (!interval.IsValid || !value.IsValid)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        Int128 wait = value.TotalNanoseconds;
        if ((request.Int32(1) & TimerAbsolute) != 0 && wait != 0)
        {
            if (LibC.ClockGetTime(timer.Realtime ? ClockRealtime : ClockMonotonic, out Timespec now) != 0)
            {
                return SyscallResult.Error(Errno.EINVAL);
            }

            wait = Int128.Max(1, wait - now.TotalNanoseconds); // a time already past expires at once
        }

        (Int128 oldValue, Int128 oldInterval) = timer.Set(Int128.Min(wait, MaxNanoseconds), Int128.Min(interval.TotalNanoseconds, MaxNanoseconds));
        return request.OutputCapacity(3) >= SpecSize ? request.Output(0, 3, Encode(oldInterval, oldValue)) : SyscallResult.Success(0);
    }

    /// <summary><c>timer_gettime(timerid, curr_value)</c>: the time left (0 when disarmed) and the interval.</summary>
    public SyscallResult Get(SyscallRequest request, IKeepSession session)
    {
        if (!TryTimer(request, session, out PosixTimer timer))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (request.OutputCapacity(1) < SpecSize)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        (Int128 value, Int128 interval) = timer.Get();
        return request.Output(0, 1, Encode(interval, value));
    }

    /// <summary><c>timer_getoverrun(timerid)</c>.</summary>
    public SyscallResult Overrun(SyscallRequest request, IKeepSession session) =>
        TryTimer(request, session, out PosixTimer timer) ? SyscallResult.Success(timer.Overrun) : SyscallResult.Error(Errno.EINVAL);

    /// <summary><c>timer_delete(timerid)</c>: disarmed, and its id free again.</summary>
    public SyscallResult Delete(SyscallRequest request, IKeepSession session)
    {
        if (!TryTimer(request, session, out PosixTimer timer) || !Timers(session).Remove(request.Int32(0), timer))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        timer.Dispose();
        return SyscallResult.Success(0);
    }

    private bool TryTimer(SyscallRequest request, IKeepSession session, out PosixTimer timer)
    {
        timer = null!;
        return _timers.TryGetValue(session, out KeepTimers? timers) && timers.TryGet(request.Int32(0), out timer);
    }

    private KeepTimers Timers(IKeepSession session) => _timers.GetValue(session, _ => new KeepTimers());

    private static byte[] Encode(Int128 interval, Int128 value)
    {
        var bytes = new byte[SpecSize];
        Timespec.FromNanoseconds(interval).ToBytes().CopyTo(bytes, 0);
        Timespec.FromNanoseconds(value).ToBytes().CopyTo(bytes, 16);
        return bytes;
    }

    /// <summary>One keep's timers by id: the lowest free id first, as Linux hands them out.</summary>
    private sealed class KeepTimers
    {
        private readonly Lock _lock = new();
        private readonly SortedDictionary<int, PosixTimer> _byId = [];

        public int Add(PosixTimer timer)
        {
            lock (_lock)
            {
                if (_byId.Count >= MaxTimers)
                {
                    timer.Dispose();
                    return -1;
                }

                int id = 0;
                while (_byId.ContainsKey(id))
                {
                    id++;
                }

                _byId[id] = timer;
                return id;
            }
        }

        public bool TryGet(int id, out PosixTimer timer)
        {
            lock (_lock)
            {
                return _byId.TryGetValue(id, out timer!);
            }
        }

        public bool Remove(int id, PosixTimer timer)
        {
            lock (_lock)
            {
                return _byId.TryGetValue(id, out PosixTimer? found) && ReferenceEquals(found, timer) && _byId.Remove(id);
            }
        }
    }

    /// <summary>One timer: its deadline on the host's monotonic clock, its period, its signal (0: none), and the host timer that rings it.</summary>
    private sealed class PosixTimer(TimeProvider clock, IKeepSignalSender sender, bool realtime, int signal) : IDisposable
    {
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private long _deadline;         // clock timestamp; 0 when disarmed
        private Int128 _interval;       // nanoseconds
        private int _overrun;

        /// <summary>Whether the timer is on <c>CLOCK_REALTIME</c> (for absolute times).</summary>
        public bool Realtime => realtime;

        /// <summary>The periods the last signal stood for beyond the first.</summary>
        public int Overrun
        {
            get
            {
                lock (_lock)
                {
                    return _overrun;
                }
            }
        }

        /// <summary>Arms the timer for <paramref name="value"/> ns (0 disarms), then every <paramref name="interval"/> ns; returns what was left before.</summary>
        public (Int128 Value, Int128 Interval) Set(Int128 value, Int128 interval)
        {
            lock (_lock)
            {
                var before = Remaining();
                _timer?.Dispose();
                _timer = null;
                _deadline = 0;
                _overrun = 0;
                _interval = value > 0 ? interval : 0;
                if (value > 0)
                {
                    _deadline = clock.GetTimestamp() + Ticks(value);
                    _timer = clock.CreateTimer(Ring, null, Wait(value), Timeout.InfiniteTimeSpan);
                }

                return before;
            }
        }

        public (Int128 Value, Int128 Interval) Get()
        {
            lock (_lock)
            {
                return Remaining();
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _timer?.Dispose();
                _timer = null;
                _deadline = 0;
            }
        }

        private long Ticks(Int128 nanoseconds) => (long)Int128.Min(nanoseconds * clock.TimestampFrequency / 1_000_000_000, long.MaxValue / 4);

        private Int128 Nanoseconds(long ticks) => (Int128)ticks * 1_000_000_000 / clock.TimestampFrequency;

        private (Int128 Value, Int128 Interval) Remaining() =>
            _deadline == 0 ? (0, _interval) : (Int128.Max(Nanoseconds(_deadline - clock.GetTimestamp()), 1), _interval);

        private static TimeSpan Wait(Int128 nanoseconds) =>
            TimeSpan.FromTicks((long)Int128.Min(Int128.Max(nanoseconds, 0) / 100, LongestWait.Ticks));

        /// <summary>The host timer ended: ring when the deadline has come (then re-arm a periodic timer, counting missed periods), else wait on.</summary>
        private void Ring(object? state)
        {
            lock (_lock)
            {
                if (_deadline == 0 || _timer is null)
                {
                    return;             // disarmed meanwhile
                }

                Int128 early = Nanoseconds(_deadline - clock.GetTimestamp());
                if (early > 1_000_000)
                {
                    _timer.Change(Wait(early), Timeout.InfiniteTimeSpan);   // a wait longer than one host timer
                    return;
                }

                if (_interval > 0)
                {
                    long period = Math.Max(1, Ticks(_interval));
                    long now = clock.GetTimestamp();
                    long missed = now > _deadline ? (now - _deadline) / period : 0;
                    _overrun = (int)Math.Min(missed, int.MaxValue);
                    _deadline += (missed + 1) * period;
                    _timer.Change(Wait(Nanoseconds(_deadline - now)), Timeout.InfiniteTimeSpan);
                }
                else
                {
                    _overrun = 0;
                    _deadline = 0;
                }
            }

            if (signal != 0)
            {
                _ = sender.Send(signal);
            }
        }
    }
}
