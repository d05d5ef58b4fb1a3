using System.Runtime.InteropServices;

namespace Donjon.Backends.Vm.Interop;

internal static partial class Libc
{
    /// <summary>pipe2(2): QEMU's stderr, read by the host.</summary>
    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    internal static unsafe partial int Pipe2(int* descriptors, int flags);
}
