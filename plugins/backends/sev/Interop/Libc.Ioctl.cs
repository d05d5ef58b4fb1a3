using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Backends.Sev.Interop;

/// <summary>The C library's <c>ioctl</c>, for requests whose argument is an integer.</summary>
internal static partial class Libc
{
    /// <summary>Issues <paramref name="request"/> with an integer <paramref name="argument"/> on an open device.</summary>
    /// <param name="device">An open device; it stays referenced, so it cannot be closed, for the whole call.</param>
    /// <param name="request">The request number, for example <c>KVM_GET_API_VERSION</c> (<c>0xAE00</c>).</param>
    /// <param name="argument">The request's integer argument; never a pointer.</param>
    /// <param name="errno">The C library's <c>errno</c> when the result is negative, 0 otherwise.</param>
    /// <returns>What <c>ioctl</c> returned: -1 on failure.</returns>
    internal static int IoctlWithInteger(SafeFileHandle device, nuint request, nint argument, out int errno)
    {
        bool referenced = false;
        try
        {
            device.DangerousAddRef(ref referenced);
            // SAFETY: the reference taken above keeps the descriptor open (so it cannot be closed and reused by another
            // file) until DangerousRelease below. Only requests whose argument is an integer pass through here, so
            // the kernel reads and writes no memory of this process. ioctl is variadic in C; under the x86-64 System V
            // ABI a fixed prototype passes the same registers (rdi, rsi, rdx), which is what this declaration relies on.
            int result = Ioctl(checked((int)device.DangerousGetHandle()), request, argument);
            errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            return result;
        }
        finally
        {
            if (referenced)
            {
                device.DangerousRelease();
            }
        }
    }

    /// <summary><c>int ioctl(int fd, unsigned long request, long argument)</c>.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, nint argument);
}
