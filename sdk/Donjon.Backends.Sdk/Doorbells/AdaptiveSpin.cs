using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using Donjon.Backends.Sdk.Interop;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Backends.Sdk.Doorbells;

/// <summary>
/// How long one slot's host side spins on its doorbell before it sleeps (docs/protocol.md §3, "Doorbell"): a window
/// sized from the waits actually observed, as KVM's halt polling sizes its poll. A request that came within
/// <see cref="MaxWindowTicks"/> of the start of the wait, after the host had slept, doubles the window (a longer spin
/// would have caught it); one that came later halves it (spinning was wasted); one caught spinning leaves it. With
/// one usable CPU (affinity or cgroup quota, as <see cref="Environment.ProcessorCount"/> counts them) the window is
/// zero (the peer cannot run while the host spins), unless the peer says where it runs (2.1): then the host waits by
/// yielding its CPU to the peer, and the window adapts. The clock is read once per <see cref="PollsPerClock"/> looks
/// at the word, never on every one.
/// </summary>
/// <remarks>One instance per slot, used by that slot's serving thread only.</remarks>
public sealed class AdaptiveSpin
{
    /// <summary>Looks at the doorbell (each followed by <c>pause</c>) between two reads of the clock.</summary>
    public const int PollsPerClock = 16;

    /// <summary>The longest window: 50 µs, more than a proxied call's round trip on a quiet machine.</summary>
    public static readonly long MaxWindowTicks = Stopwatch.Frequency / 20_000;

    /// <summary>The least window a growing one starts from: 2 µs.</summary>
    public static readonly long GrowFloorTicks = Stopwatch.Frequency / 500_000;

    /// <summary>Whether more than one CPU is usable by this process; spinning is pointless otherwise.</summary>
    public static readonly bool SpinningUseful = Environment.ProcessorCount > 1;

    private long _window = SpinningUseful ? MaxWindowTicks : 0;

    /// <summary>The current window, in <see cref="Stopwatch"/> ticks (0: sleep at once).</summary>
    public long WindowTicks => _window;

    /// <summary>
    /// Spins while <paramref name="word"/> differs from <paramref name="awaited"/>, for the window counted from
    /// <paramref name="started"/>. Returns whether the word read <paramref name="awaited"/>.
    /// </summary>
    /// <param name="word">A 4-aligned word in a mapping that outlives the call.</param>
    /// <param name="awaited">The value waited for.</param>
    /// <param name="started">The <see cref="Stopwatch.GetTimestamp"/> at the start of the wait.</param>
    public unsafe bool Spin(int* word, int awaited, long started) => Spin(word, awaited, started, null, null);

    /// <summary>
    /// <see cref="Spin(int*, int, long)"/> beside a peer that says where it runs (docs/protocol.md §3, "Where each side
    /// runs", 2.1): <paramref name="peerWord"/>'s high half is the CPU the peer last ran on, plus 1, and this side
    /// publishes its own in <paramref name="ownWord"/>'s (whose low half, its state, is 0 while it spins). When the peer
    /// last ran on this thread's CPU, the peer is not running (this thread is, there): spinning cannot help, and this
    /// thread gives the CPU up with <c>sched_yield</c> once per look at the clock, which runs the peer at once if it
    /// waits for that CPU. With one usable CPU every wait beside such a peer yields, and the window adapts as with
    /// several, instead of being zero.
    /// </summary>
    /// <param name="word">A 4-aligned word in a mapping that outlives the call.</param>
    /// <param name="awaited">The value waited for.</param>
    /// <param name="started">The <see cref="Stopwatch.GetTimestamp"/> at the start of the wait.</param>
    /// <param name="peerWord">The peer's sleeping word (untrusted: only compared), or null for a peer that does not say where it runs.</param>
    /// <param name="ownWord">This side's sleeping word, written with this thread's CPU; null when <paramref name="peerWord"/> is.</param>
    internal unsafe bool Spin(int* word, int awaited, long started, int* peerWord, int* ownWord)
    {
        bool besidePublisher = peerWord != null && ownWord != null;
        long window = _window;
        if (window == 0 && besidePublisher && !SpinningUseful && _besidePublisherUnseen)
        {
            // The first wait beside a peer that says where it runs, on one CPU: yielding to it pays, so the window
            // starts as it does with several CPUs, and adapts from there.
            _besidePublisherUnseen = false;
            window = _window = MaxWindowTicks;
        }

        if (window == 0)
        {
            return Volatile.Read(ref *word) == awaited;
        }

        int ownCpu = 0;
        do
        {
            if (besidePublisher)
            {
                ownCpu = Publish(ownWord, ownCpu);
                // SAFETY: the peer's word lies in the caller's mapping (parameter contract); only compared.
                int peer = Volatile.Read(ref *peerWord);
                if (!SpinningUseful || (int)((uint)peer >> ProtocolLayout.SleepingCpuShift) == ownCpu)
                {
                    Thread.Yield();
                }
            }

            for (int i = 0; i < PollsPerClock; i++)
            {
                // SAFETY: the caller's word is 4-aligned and mapped for the whole call (parameter contract).
                if (Volatile.Read(ref *word) == awaited)
                {
                    return true;
                }

                if (X86Base.IsSupported)
                {
                    X86Base.Pause();
                }
            }
        }
        while (Stopwatch.GetTimestamp() - started < window);

        return false;
    }

    /// <summary>This thread's CPU plus 1 (0: unknown), as a sleeping word's high half would hold it.</summary>
    internal static int CurrentCpuPlusOne()
    {
        int cpu = Libc.SchedGetcpu();
        return cpu is >= 0 and < ProtocolLayout.SleepingStateMask ? cpu + 1 : 0;
    }

    /// <summary>Writes this thread's CPU into <paramref name="ownWord"/>'s high half (state 0) when it changed; returns it.</summary>
    private static unsafe int Publish(int* ownWord, int published)
    {
        int cpu = CurrentCpuPlusOne();
        if (cpu != published)
        {
            // SAFETY: the caller's own word, in its live mapping (parameter contract of Spin).
            Volatile.Write(ref *ownWord, cpu << ProtocolLayout.SleepingCpuShift);
        }

        return cpu;
    }

    private bool _besidePublisherUnseen = true;

    /// <summary>Adapts the window to a wait that ended in sleep, at <paramref name="ended"/>.</summary>
    /// <param name="started">The <see cref="Stopwatch.GetTimestamp"/> at the start of the wait.</param>
    /// <param name="ended">The <see cref="Stopwatch.GetTimestamp"/> when the awaited value was seen.</param>
    public void AfterSleep(long started, long ended) => _window = Next(_window, ended - started, SpinningUseful);

    /// <summary>As <see cref="AfterSleep(long, long)"/>, for a wait beside a peer that says where it runs (its window adapts on one CPU too).</summary>
    internal void AfterSleepBesidePublisher(long started, long ended) => _window = Next(_window, ended - started, canWait: true);

    /// <summary>The window after one that ended in sleep <paramref name="waited"/> ticks after it began.</summary>
    internal static long Next(long window, long waited) => Next(window, waited, SpinningUseful);

    /// <summary>The window after one that ended in sleep <paramref name="waited"/> ticks after it began; none when waiting cannot pay.</summary>
    internal static long Next(long window, long waited, bool canWait)
    {
        if (!canWait)
        {
            return 0;
        }

        if (waited < MaxWindowTicks)
        {
            return Math.Min(MaxWindowTicks, Math.Max(GrowFloorTicks, window * 2));
        }

        long half = window / 2;
        return half < GrowFloorTicks ? 0 : half;
    }
}
