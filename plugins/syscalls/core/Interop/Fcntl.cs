using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary><c>F_GETFL</c>.</summary>
    public const int GetStatusFlags = 3;

    /// <summary><c>O_NONBLOCK</c>.</summary>
    public const int NonBlocking = 0x800;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlNative(int descriptor, int command);

    /// <summary><c>fcntl(descriptor, F_GETFL)</c>: the open file's status flags, or minus errno.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <returns>The flags, or minus errno.</returns>
    public static long GetFlags(int descriptor)
    {
        long result = FcntlNative(descriptor, GetStatusFlags);
        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
