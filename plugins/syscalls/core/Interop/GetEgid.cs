using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary><c>getegid(2)</c>: Donjon's own effective group id, which the keep's auxiliary vector also carries. It cannot fail.</summary>
    /// <returns>The id.</returns>
    [LibraryImport("libc", EntryPoint = "getegid", SetLastError = true)]
    public static partial uint GetEgid();
}
