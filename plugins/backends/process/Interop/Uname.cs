using System.Runtime.InteropServices;

namespace Donjon.Backends.Process.Interop;

internal static partial class Libc
{
    /// <summary>uname(2), for the kernel-version probe.</summary>
    [LibraryImport("libc", EntryPoint = "uname", SetLastError = true)]
    internal static unsafe partial int Uname(byte* buffer);
}
