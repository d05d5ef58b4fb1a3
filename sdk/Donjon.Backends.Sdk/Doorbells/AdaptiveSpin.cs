using System.Diagnostics;
using System.Runtime.Intrinsics.X86;

namespace Donjon.Backends.Sdk.Doorbells;

/// <summary>
/// How long one slot's host side spins on its doorbell before it sleeps (docs/protocol.md §3, "Doorbell"): a window
/// sized from the waits actually observed, as KVM's halt polling sizes its poll. A request that came within
/// <see cref="MaxWindowTicks"/> of the start of the wait, after the host had slept, doubles the window (a longer spin
/// would have caught it); one that came later halves it (spinning was wasted); one caught spinning leaves it. With
/// one usable CPU (affinity or cgroup quota, as <see cref="Environment.ProcessorCount"/> counts them) the window is
/// always zero: the peer cannot run while the host spins. The clock is read once per
/// <see cref="PollsPerClock"/> looks at the word, never on every one.
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
    public unsafe bool Spin(int* word, int awaited, long started)
    {
        long window = _window;
        if (window == 0)
        {
            return Volatile.Read(ref *word) == awaited;
        }

        do
        {
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

    /// <summary>Adapts the window to a wait that ended in sleep, at <paramref name="ended"/>.</summary>
    /// <param name="started">The <see cref="Stopwatch.GetTimestamp"/> at the start of the wait.</param>
    /// <param name="ended">The <see cref="Stopwatch.GetTimestamp"/> when the awaited value was seen.</param>
    public void AfterSleep(long started, long ended) => _window = Next(_window, ended - started);

    /// <summary>The window after one that ended in sleep <paramref name="waited"/> ticks after it began.</summary>
    internal static long Next(long window, long waited)
    {
        if (!SpinningUseful)
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
