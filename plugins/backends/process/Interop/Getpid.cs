using System.Runtime.InteropServices;

namespace Donjon.Backends.Process.Interop;

internal static partial class Libc
{
    /// <summary>getpid(2): the host pid the shim checks its parent against.</summary>
    [LibraryImport("libc", EntryPoint = "getpid")]
    internal static partial int Getpid();
}
