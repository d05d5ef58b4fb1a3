using System.Runtime.InteropServices;

namespace Donjon.Backends.Vm.Interop;

internal static partial class Libc
{
    /// <summary>mmap(2): maps the shared block's window of the guest RAM file into the host.</summary>
    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);
}
