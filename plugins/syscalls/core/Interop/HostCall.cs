using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

/// <summary>
/// The convention every wrapper in <see cref="LibC"/> follows: a result is the host call's value when it
/// succeeded and minus the host's errno when it failed, so that a handler can pass it straight to the keep.
/// </summary>
internal static class HostCall
{
    /// <summary>
    /// Turns a raw libc return value into the convention, reading errno with
    /// <see cref="Marshal.GetLastPInvokeError"/> when the call failed (returned -1).
    /// </summary>
    /// <param name="result">The libc return value; on return, the value or minus errno.</param>
    /// <returns>Whether the call was interrupted by a signal (<c>EINTR</c>) and should be made again.</returns>
    public static bool Interrupted(ref long result)
    {
        if (result >= 0)
        {
            return false;
        }

        int errno = Marshal.GetLastPInvokeError();
        result = -(long)errno;
        return errno == Errno.EINTR;
    }
}
