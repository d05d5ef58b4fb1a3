using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary><c>EFD_CLOEXEC</c>.</summary>
    public const int EventFdCloseOnExec = 0x80000;

    /// <summary><c>EFD_NONBLOCK</c>.</summary>
    public const int EventFdNonBlocking = 0x800;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFdNative(uint initialValue, int flags);

    /// <summary><c>eventfd(2)</c>: a host descriptor that becomes readable once something is written to it.</summary>
    /// <param name="flags">The <c>EFD_*</c> flags.</param>
    /// <returns>The descriptor, or minus errno.</returns>
    public static long EventFd(int flags)
    {
        long result = EventFdNative(0, flags);
        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
