using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary><c>TIMER_ABSTIME</c>: the request is an absolute time on the clock.</summary>
    public const int TimerAbsoluteTime = 1;

    // clock_nanosleep returns the error number itself rather than -1 and errno.
    [LibraryImport("libc", EntryPoint = "clock_nanosleep", SetLastError = true)]
    private static unsafe partial int ClockNanosleepNative(int clock, int flags, long* request, long* remaining);

    /// <summary>
    /// Blocks the calling thread until <paramref name="clock"/> reaches <paramref name="deadline"/>
    /// (<c>clock_nanosleep(2)</c> with <c>TIMER_ABSTIME</c>). It sleeps in the kernel; it never spins.
    /// </summary>
    /// <param name="clock">The clock id; callers pass only ids the host can sleep on.</param>
    /// <param name="deadline">The absolute time, already checked to be a valid <c>timespec</c>.</param>
    /// <returns>Zero, or minus errno (<c>EINTR</c> when a signal interrupted the sleep).</returns>
    public static long SleepUntil(int clock, Timespec deadline)
    {
        int error;
        unsafe
        {
            // SAFETY: `request` is a 16-byte `struct timespec` on this stack frame that the call only reads; the
            // remaining-time pointer is null, which an absolute sleep never writes.
            long* request = stackalloc long[2];
            request[0] = deadline.Seconds;
            request[1] = deadline.Nanoseconds;
            error = ClockNanosleepNative(clock, TimerAbsoluteTime, request, null);
        }

        return -(long)error;
    }
}
