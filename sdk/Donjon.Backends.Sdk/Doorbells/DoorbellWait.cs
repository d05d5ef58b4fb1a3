using System.Diagnostics;
using Donjon.Backends.Sdk.Interop;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Backends.Sdk.Doorbells;

/// <summary>
/// The host's wait for a request on one slot (docs/protocol.md §3, "Doorbell"), shared by every doorbell port: spin for
/// the slot's adaptive window (<see cref="AdaptiveSpin"/>), then announce the sleep in <c>host sleeping</c>, look again,
/// and sleep in <c>FUTEX_WAIT</c> on the <c>doorbell</c> word (100 ms at most, to notice a keep that ended). How the
/// sleeping host is woken is the port's business: the shim's <c>FUTEX_WAKE</c> (<see cref="FutexDoorbellPort"/>), or a
/// reader of a byte line that wakes the sleeping slots (<see cref="SerialDoorbellPort"/>).
/// </summary>
public static unsafe class DoorbellWait
{
    private const long SysFutex = 202;
    private const int FutexWait = 0;
    private const int FutexWake = 1;

    /// <summary>Waits until the slot's doorbell says "request", the keep has ended, or the token is cancelled.</summary>
    /// <param name="doorbell">The slot's <c>doorbell</c> word, in a shared mapping (4-aligned); untrusted: any value but "request" means "not yet".</param>
    /// <param name="hostSleeping">The slot's <c>host sleeping</c> word, in the same mapping.</param>
    /// <param name="spin">The slot's adaptive window, updated by the wait.</param>
    /// <param name="hasKeepEnded">Whether the keep has ended; read at every look. The port's end-of-keep path must also wake the futex (<see cref="Wake"/>).</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns><see langword="true"/> for a request, <see langword="false"/> once the keep has ended.</returns>
    public static bool ForRequest(int* doorbell, int* hostSleeping, AdaptiveSpin spin, Func<bool> hasKeepEnded, CancellationToken cancellationToken) =>
        ForRequest(doorbell, hostSleeping, null, spin, hasKeepEnded, cancellationToken);

    /// <summary>
    /// <see cref="ForRequest(int*, int*, AdaptiveSpin, Func{bool}, CancellationToken)"/>, also reading the slot's
    /// <c>shim sleeping</c> word: a shim of 2.1 says there where it runs (the word's high half), and the host then says
    /// where it runs in <c>host sleeping</c>'s, and gives its CPU up instead of spinning while the shim last ran on it
    /// (docs/protocol.md §3, "Where each side runs"). Beside a shim that says nothing the wait is the same as without the word.
    /// </summary>
    /// <param name="doorbell">The slot's <c>doorbell</c> word, in a shared mapping (4-aligned); untrusted: any value but "request" means "not yet".</param>
    /// <param name="hostSleeping">The slot's <c>host sleeping</c> word, in the same mapping.</param>
    /// <param name="shimSleeping">The slot's <c>shim sleeping</c> word, in the same mapping (untrusted: only compared), or null.</param>
    /// <param name="spin">The slot's adaptive window, updated by the wait.</param>
    /// <param name="hasKeepEnded">Whether the keep has ended; read at every look. The port's end-of-keep path must also wake the futex (<see cref="Wake"/>).</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns><see langword="true"/> for a request, <see langword="false"/> once the keep has ended.</returns>
    public static bool ForRequest(int* doorbell, int* hostSleeping, int* shimSleeping, AdaptiveSpin spin, Func<bool> hasKeepEnded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spin);
        ArgumentNullException.ThrowIfNull(hasKeepEnded);
        if (doorbell == null || hostSleeping == null)
        {
            throw new ArgumentNullException(doorbell == null ? nameof(doorbell) : nameof(hostSleeping));
        }

        long started = Stopwatch.GetTimestamp();
        // A shim that says where it runs is told where the host does; one that says nothing reads 0, 1 and 2 as in 2.0.
        // SAFETY: the caller's word, in its live mapping (parameter contract); only compared.
        bool besidePublisher = shimSleeping != null && ((uint)Volatile.Read(ref *shimSleeping) >> ProtocolLayout.SleepingCpuShift) != 0;
        int* peerWord = besidePublisher ? shimSleeping : null;
        int* ownWord = besidePublisher ? hostSleeping : null;
        long* timeout = stackalloc long[2] { 0, 100_000_000 }; // 100 ms: notice a keep that ended
        // A request caught spinning leaves the window as it is (AdaptiveSpin).
        if (spin.Spin(doorbell, (int)ProtocolLayout.DoorbellRequest, started, peerWord, ownWord))
        {
            return true;
        }

        while (true)
        {
            int seen = Volatile.Read(ref *doorbell);
            if (seen == (int)ProtocolLayout.DoorbellRequest)
            {
                if (besidePublisher)
                {
                    spin.AfterSleepBesidePublisher(started, Stopwatch.GetTimestamp());
                }
                else
                {
                    spin.AfterSleep(started, Stopwatch.GetTimestamp());
                }

                return true;
            }

            if (hasKeepEnded())
            {
                return false;
            }

            cancellationToken.ThrowIfCancellationRequested();
            // Announce the sleep, then look again, so that a ring between the look and the sleep is not lost: a shim
            // that rang before the store is seen now (or makes FUTEX_WAIT return at once, the word having changed);
            // one that rang after sees the announcement and wakes the host its own way.
            // 2: asleep, and no CPU to spare (the shim should not spin; docs/protocol.md §3, "Adaptive windows"); 1: asleep.
            int cpuHalf = besidePublisher ? AdaptiveSpin.CurrentCpuPlusOne() << ProtocolLayout.SleepingCpuShift : 0;
            Interlocked.Exchange(ref *hostSleeping, cpuHalf | (AdaptiveSpin.SpinningUseful ? 1 : 2));
            seen = Volatile.Read(ref *doorbell);
            if (seen != (int)ProtocolLayout.DoorbellRequest && !hasKeepEnded())
            {
                // SAFETY: futex(2) on the caller's 4-aligned doorbell word in a shared mapping; the timeout is a local.
                // Not the private variant: the word is in a shared mapping.
                Libc.Syscall(SysFutex, (nint)doorbell, FutexWait, seen, (nint)timeout, 0, 0);
            }

            cpuHalf = besidePublisher ? AdaptiveSpin.CurrentCpuPlusOne() << ProtocolLayout.SleepingCpuShift : 0;
            Interlocked.Exchange(ref *hostSleeping, cpuHalf);
        }
    }

    /// <summary>Whether a sleeping word (untrusted) says its side sleeps: its low half, the state, is not 0.</summary>
    /// <param name="untrustedWord">A <c>host sleeping</c> or <c>shim sleeping</c> word as read.</param>
    public static bool SaysAsleep(int untrustedWord) => (untrustedWord & ProtocolLayout.SleepingStateMask) != 0;

    /// <summary>Wakes every host thread sleeping on <paramref name="doorbell"/> (the keep ended, or a line's reader saw a ring).</summary>
    /// <param name="doorbell">The slot's <c>doorbell</c> word.</param>
    public static void Wake(int* doorbell)
    {
        if (doorbell == null)
        {
            throw new ArgumentNullException(nameof(doorbell));
        }

        // SAFETY: futex(2) FUTEX_WAKE only compares the address; the word lies in the caller's live mapping.
        Libc.Syscall(SysFutex, (nint)doorbell, FutexWake, int.MaxValue, 0, 0, 0);
    }
}
