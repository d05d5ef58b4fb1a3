using System.Runtime.InteropServices;

namespace Donjon.Backends.Vm.Interop;

internal static partial class Libc
{
    /// <summary>getpid(2): the host pid donjon-vm-exec checks its parent against.</summary>
    [LibraryImport("libc", EntryPoint = "getpid")]
    internal static partial int Getpid();
}
