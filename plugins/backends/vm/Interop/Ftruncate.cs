using System.Runtime.InteropServices;

namespace Donjon.Backends.Vm.Interop;

internal static partial class Libc
{
    /// <summary>ftruncate(2): sizes the guest RAM file.</summary>
    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);
}
