using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Net.Interop;

/// <summary>
/// The one entry into the host kernel for this set: libc's <c>syscall(2)</c>, with the raw x86-64 numbers. The set
/// passes the kernel's own structure layouts (<c>sockaddr</c>, <c>epoll_event</c>, socket options) through unchanged,
/// so the raw call is the plain choice.
/// </summary>
internal static partial class Kernel
{
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallNative(long number, long a0, long a1, long a2, long a3, long a4, long a5);

    /// <summary>
    /// Makes syscall <paramref name="number"/>, again while a signal interrupts it (<c>EINTR</c>), and returns its value or
    /// minus errno. Pointer arguments must point into memory the caller has pinned for the call.
    /// </summary>
    /// <param name="number">The x86-64 syscall number.</param>
    /// <param name="a0">Argument 0.</param>
    /// <param name="a1">Argument 1.</param>
    /// <param name="a2">Argument 2.</param>
    /// <param name="a3">Argument 3.</param>
    /// <param name="a4">Argument 4.</param>
    /// <param name="a5">Argument 5.</param>
    /// <returns>The value, or minus errno.</returns>
    public static long Call(long number, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0)
    {
        while (true)
        {
            long result = SyscallNative(number, a0, a1, a2, a3, a4, a5);
            if (result >= 0)
            {
                return result;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return -errno;
            }
        }
    }
}
