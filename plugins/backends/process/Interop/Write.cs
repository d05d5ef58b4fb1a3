using System.Runtime.InteropServices;

namespace Donjon.Backends.Process.Interop;

internal static partial class Libc
{
    /// <summary>write(2), to fill a memfd.</summary>
    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    internal static unsafe partial nint Pwrite(int fd, byte* buffer, nuint count, long offset);
}
