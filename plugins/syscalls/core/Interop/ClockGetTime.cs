using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static unsafe partial int ClockGetTimeNative(int clock, long* time);

    /// <summary><c>clock_gettime(2)</c> on the host.</summary>
    /// <param name="clock">The clock id; callers pass only ids they have checked.</param>
    /// <param name="time">The time read.</param>
    /// <returns>Zero, or minus errno.</returns>
    public static long ClockGetTime(int clock, out Timespec time)
    {
        long result;
        long seconds;
        long nanoseconds;
        unsafe
        {
            // SAFETY: `buffer` is a 16-byte `struct timespec` on this stack frame, which is all the call writes.
            long* buffer = stackalloc long[2];
            result = ClockGetTimeNative(clock, buffer);
            seconds = buffer[0];
            nanoseconds = buffer[1];
        }

        _ = HostCall.Interrupted(ref result);
        time = result == 0 ? new Timespec(seconds, nanoseconds) : default;
        return result;
    }
}
