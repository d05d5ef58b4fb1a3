using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary><c>getgid(2)</c>: Donjon's own real group id, which the keep's auxiliary vector also carries. It cannot fail.</summary>
    /// <returns>The id.</returns>
    [LibraryImport("libc", EntryPoint = "getgid", SetLastError = true)]
    public static partial uint GetGid();
}
