using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int descriptor);

    /// <summary><c>close(2)</c> of a host descriptor this set made itself (never a keep's).</summary>
    /// <param name="descriptor">The host descriptor.</param>
    public static void Close(int descriptor) => _ = CloseNative(descriptor);
}
