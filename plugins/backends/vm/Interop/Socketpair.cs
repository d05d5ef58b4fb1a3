using System.Runtime.InteropServices;

namespace Donjon.Backends.Vm.Interop;

internal static partial class Libc
{
    /// <summary>socketpair(2): the two ends of a serial line between QEMU and the host.</summary>
    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int Socketpair(int domain, int type, int protocol, int* descriptors);
}
