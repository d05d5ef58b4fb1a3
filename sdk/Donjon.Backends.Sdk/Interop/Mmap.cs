using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>mmap(2): maps a memfd into the host.</summary>
    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);
}
