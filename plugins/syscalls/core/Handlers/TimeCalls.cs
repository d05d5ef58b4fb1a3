using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// Clocks and sleeps: <c>clock_gettime</c>, <c>clock_getres</c>, <c>gettimeofday</c>, <c>time</c>,
/// <c>nanosleep</c>, <c>clock_nanosleep</c>. Times come from the host's clocks (the keep gets no vDSO, so every clock
/// read crosses the boundary and lands here).
/// </summary>
/// <remarks>
/// <para>
/// Clock ids: the host's own clocks are served as they are (REALTIME 0, MONOTONIC 1, MONOTONIC_RAW 4,
/// REALTIME_COARSE 5, MONOTONIC_COARSE 6, BOOTTIME 7, REALTIME_ALARM 8, BOOTTIME_ALARM 9, TAI 11). Negative ids —
/// the CPU clocks of other processes and threads, and dynamic clocks — are <c>EINVAL</c>: they would read host
/// processes.
/// </para>
/// <para>
/// CPU-time clocks (PROCESS_CPUTIME_ID 2, THREAD_CPUTIME_ID 3): the host cannot see the keep's CPU time without
/// knowing the backend, so both report the time elapsed since this set first served the keep, an upper bound of the
/// CPU time of a single-threaded workload (and exact for one that never blocks). <c>clock()</c> thus works.
/// Sleeping on them is <c>EINVAL</c>.
/// </para>
/// <para>
/// Sleeps never spin: the bulk of a sleep is a timer (<see cref="Task.Delay(TimeSpan, CancellationToken)"/>, which
/// blocks no thread), and its last <see cref="PreciseWindowNanoseconds"/> is the host's own absolute
/// <c>clock_nanosleep</c> on the same clock, so a sleep never ends early. An absolute sleep waits for its own clock
/// to reach the deadline; a relative one is measured on CLOCK_MONOTONIC, so that setting the wall clock does not
/// change it (as in Linux). When the keep ends (the token is
/// cancelled) a sleep returns <c>EINTR</c> with the remaining time, as a signal would.
/// </para>
/// </remarks>
internal sealed class TimeCalls
{
    private const int ClockRealtime = 0;
    private const int ClockMonotonic = 1;
    private const int ClockProcessCpuTime = 2;
    private const int ClockThreadCpuTime = 3;
    private const int ClockMonotonicRaw = 4;
    private const int ClockRealtimeCoarse = 5;
    private const int ClockMonotonicCoarse = 6;
    private const int ClockBootTime = 7;
    private const int ClockRealtimeAlarm = 8;
    private const int ClockBootTimeAlarm = 9;
    private const int ClockTai = 11;

    /// <summary>The last part of a sleep, slept precisely in the kernel rather than by a timer.</summary>
    private const long PreciseWindowNanoseconds = 2_000_000;

    /// <summary>The longest timer slice, so that a very long sleep never exceeds what a timer accepts.</summary>
    private static readonly TimeSpan LongestSlice = TimeSpan.FromHours(1);

    /// <summary>When this set first served each keep, for the CPU-time clocks.</summary>
    private readonly ConditionalWeakTable<IKeepSession, StrongBox<long>> _firstSeen = [];

    /// <summary>Records, once, when this set first served <paramref name="session"/>.</summary>
    /// <param name="session">The keep's session.</param>
    public void Observe(IKeepSession session) => _ = FirstSeen(session);

    /// <summary><c>clock_gettime(clockid, tp)</c>.</summary>
    public SyscallResult GetTime(SyscallRequest request, IKeepSession session)
    {
        long result = Now(request.Int32(0), session, out Timespec now);
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        return request.HasOutput(1, Timespec.Size)
            ? request.Output(0, 1, now.ToBytes())
            : SyscallResult.Error(Errno.EFAULT);
    }

    /// <summary><c>clock_getres(clockid, res)</c>; <c>res</c> may be null.</summary>
    public static SyscallResult GetResolution(SyscallRequest request)
    {
        int clock = request.Int32(0);
        Timespec resolution;
        if (IsCpuClock(clock))
        {
            resolution = new Timespec(0, 1);
        }
        else if (IsHostClock(clock))
        {
            long result = LibC.ClockGetRes(clock, out resolution);
            if (result < 0)
            {
                return SyscallResult.Error((int)-result);
            }
        }
        else
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        return request.HasOutput(1, Timespec.Size) ? request.Output(0, 1, resolution.ToBytes()) : SyscallResult.Success(0);
    }

    /// <summary>
    /// <c>gettimeofday(tv, tz)</c>; either may be null. <c>tz</c> is declared as an 8-byte output rather than a value,
    /// so that its address never leaves the keep; it receives a zero <c>struct timezone</c> (UTC, no DST), which is
    /// what Linux reports unless an administrator set one.
    /// </summary>
    public static SyscallResult GetTimeOfDay(SyscallRequest request)
    {
        long result = LibC.ClockGetTime(ClockRealtime, out Timespec now);
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        var outputs = new List<SyscallOutput>(2);
        if (request.HasOutput(0, 16))
        {
            byte[] timeval = new byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(timeval, now.Seconds);
            BinaryPrimitives.WriteInt64LittleEndian(timeval.AsSpan(8), now.Nanoseconds / 1000);
            outputs.Add(new SyscallOutput(0, timeval));
        }

        if (request.HasOutput(1, 8))
        {
            outputs.Add(new SyscallOutput(1, new byte[8]));
        }

        return new SyscallResult(0, outputs);
    }

    /// <summary><c>time(tloc)</c>: the seconds since the epoch, also stored in <c>tloc</c> unless it is null.</summary>
    public static SyscallResult Time(SyscallRequest request)
    {
        long result = LibC.ClockGetTime(ClockRealtime, out Timespec now);
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        if (!request.HasOutput(0, sizeof(long)))
        {
            return SyscallResult.Success(now.Seconds);
        }

        byte[] seconds = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(seconds, now.Seconds);
        return request.Output(now.Seconds, 0, seconds);
    }

    /// <summary><c>nanosleep(req, rem)</c>: a relative sleep on CLOCK_MONOTONIC.</summary>
    public static ValueTask<SyscallResult> NanosleepAsync(SyscallRequest request, CancellationToken cancellationToken) =>
        SleepAsync(request, ClockMonotonic, absolute: false, requestIndex: 0, remainingIndex: 1, cancellationToken);

    /// <summary>
    /// <c>clock_nanosleep(clockid, flags, req, rem)</c>: relative, or absolute with <c>TIMER_ABSTIME</c> (other flag
    /// bits are ignored, as Linux ignores them). <c>rem</c> is written only when a relative sleep is interrupted.
    /// </summary>
    public static ValueTask<SyscallResult> ClockNanosleepAsync(SyscallRequest request, CancellationToken cancellationToken)
    {
        int clock = request.Int32(0);
        if (IsCpuClock(clock) || !IsHostClock(clock))
        {
            return new(SyscallResult.Error(Errno.EINVAL));
        }

        if (clock is ClockMonotonicRaw or ClockRealtimeCoarse or ClockMonotonicCoarse)
        {
            // Linux has no sleep on these clocks.
            return new(SyscallResult.Error(Errno.EOPNOTSUPP));
        }

        bool absolute = (request.Int32(1) & LibC.TimerAbsoluteTime) != 0;
        return SleepAsync(request, clock, absolute, requestIndex: 2, remainingIndex: 3, cancellationToken);
    }

    private static async ValueTask<SyscallResult> SleepAsync(
        SyscallRequest request, int clock, bool absolute, int requestIndex, int remainingIndex, CancellationToken cancellationToken)
    {
        if (!request.TryTimespec(requestIndex, out Timespec requested))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        if (!requested.IsValid)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        Int128 deadline = requested.TotalNanoseconds;
        if (!absolute)
        {
            // A relative sleep measures elapsed time, which setting the wall clock must not stretch or cut: Linux
            // runs it on a relative timer whatever the clock, and this set runs it on CLOCK_MONOTONIC.
            clock = ClockMonotonic;
            long result = LibC.ClockGetTime(clock, out Timespec start);
            if (result < 0)
            {
                return SyscallResult.Error((int)-result);
            }

            deadline += start.TotalNanoseconds;
        }

        (long outcome, Int128 remaining) = await SleepUntilAsync(clock, deadline, cancellationToken).ConfigureAwait(false);
        if (outcome == -Errno.EINTR && !absolute && request.HasOutput(remainingIndex, Timespec.Size))
        {
            return new SyscallResult(outcome, [new SyscallOutput(remainingIndex, Timespec.FromNanoseconds(remaining).ToBytes())]);
        }

        return RequestReader.FromHost(outcome);
    }

    /// <summary>Sleeps until <paramref name="clock"/> reaches <paramref name="deadline"/> nanoseconds.</summary>
    /// <returns>0 when it did, <c>-EINTR</c> with the time left when the keep ended first, or minus a host errno.</returns>
    private static async ValueTask<(long Result, Int128 Remaining)> SleepUntilAsync(int clock, Int128 deadline, CancellationToken cancellationToken)
    {
        Timespec deadlineTime = Timespec.FromNanoseconds(deadline);
        while (true)
        {
            long result = LibC.ClockGetTime(clock, out Timespec now);
            if (result < 0)
            {
                return (result, 0);
            }

            Int128 remaining = deadline - now.TotalNanoseconds;
            if (remaining <= 0)
            {
                return (0, 0);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return (-Errno.EINTR, remaining);
            }

            if (remaining > PreciseWindowNanoseconds)
            {
                // A timer for all but the last millisecond: timers may fire up to a tick early, the precise window
                // absorbs that.
                Int128 sliceNanoseconds = remaining - (PreciseWindowNanoseconds / 2);
                TimeSpan slice = sliceNanoseconds >= (Int128)LongestSlice.Ticks * 100
                    ? LongestSlice
                    : TimeSpan.FromTicks((long)(sliceNanoseconds / 100));
                try
                {
                    await Task.Delay(slice, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Measured again at the top of the loop, which answers EINTR with the time left.
                }
            }
            else
            {
                // The host kernel sleeps this thread until the deadline; EINTR from a host signal just loops.
                result = LibC.SleepUntil(clock, deadlineTime);
                if (result < 0 && result != -Errno.EINTR)
                {
                    return (result, 0);
                }
            }
        }
    }

    private long Now(int clock, IKeepSession session, out Timespec now)
    {
        if (IsCpuClock(clock))
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(FirstSeen(session));
            now = Timespec.FromNanoseconds((Int128)elapsed.Ticks * 100);
            return 0;
        }

        if (!IsHostClock(clock))
        {
            now = default;
            return -Errno.EINVAL;
        }

        return LibC.ClockGetTime(clock, out now);
    }

    private long FirstSeen(IKeepSession session) =>
        _firstSeen.GetValue(session, static _ => new StrongBox<long>(Stopwatch.GetTimestamp())).Value;

    private static bool IsCpuClock(int clock) => clock is ClockProcessCpuTime or ClockThreadCpuTime;

    private static bool IsHostClock(int clock) => clock is ClockRealtime or ClockMonotonic or ClockMonotonicRaw
        or ClockRealtimeCoarse or ClockMonotonicCoarse or ClockBootTime or ClockRealtimeAlarm or ClockBootTimeAlarm or ClockTai;
}
