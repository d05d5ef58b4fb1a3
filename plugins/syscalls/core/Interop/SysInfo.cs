using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary>The size of <c>struct sysinfo</c> on x86-64.</summary>
    public const int SysInfoSize = 112;

    [LibraryImport("libc", EntryPoint = "sysinfo", SetLastError = true)]
    private static unsafe partial int SysInfoNative(byte* info);

    /// <summary><c>sysinfo(2)</c> of the host.</summary>
    /// <param name="info">At least <see cref="SysInfoSize"/> bytes; receives the host's <c>struct sysinfo</c>.</param>
    /// <returns>Zero, or minus errno.</returns>
    public static long SysInfo(Span<byte> info)
    {
        if (info.Length < SysInfoSize)
        {
            return -Errno.EFAULT;
        }

        long result;
        unsafe
        {
            // SAFETY: `info` is pinned for the whole call and holds the 112 bytes of `struct sysinfo` (checked above).
            fixed (byte* pointer = info)
            {
                result = SysInfoNative(pointer);
            }
        }

        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
