using System.Runtime.InteropServices;

namespace Donjon.Backends.Process.Interop;

internal static partial class Libc
{
    /// <summary>fcntl(2) with an integer argument (F_ADD_SEALS).</summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int command, int argument);
}
