using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeekNative(int descriptor, long offset, int whence);

    /// <summary><c>lseek(2)</c> on a host descriptor.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="offset">The offset, relative to <paramref name="whence"/>.</param>
    /// <param name="whence"><c>SEEK_SET</c>, <c>SEEK_CUR</c>, <c>SEEK_END</c>, <c>SEEK_DATA</c> or <c>SEEK_HOLE</c>.</param>
    /// <returns>The new offset, or minus errno.</returns>
    public static long LSeek(int descriptor, long offset, int whence)
    {
        long result = LSeekNative(descriptor, offset, whence);
        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
