using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "clock_getres", SetLastError = true)]
    private static unsafe partial int ClockGetResNative(int clock, long* resolution);

    /// <summary><c>clock_getres(2)</c> on the host.</summary>
    /// <param name="clock">The clock id; callers pass only ids they have checked.</param>
    /// <param name="resolution">The clock's resolution.</param>
    /// <returns>Zero, or minus errno.</returns>
    public static long ClockGetRes(int clock, out Timespec resolution)
    {
        long result;
        long seconds;
        long nanoseconds;
        unsafe
        {
            // SAFETY: `buffer` is a 16-byte `struct timespec` on this stack frame, which is all the call writes.
            long* buffer = stackalloc long[2];
            result = ClockGetResNative(clock, buffer);
            seconds = buffer[0];
            nanoseconds = buffer[1];
        }

        _ = HostCall.Interrupted(ref result);
        resolution = result == 0 ? new Timespec(seconds, nanoseconds) : default;
        return result;
    }
}
