using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary><c>getuid(2)</c>: Donjon's own real user id, which the keep's auxiliary vector also carries. It cannot fail.</summary>
    /// <returns>The id.</returns>
    [LibraryImport("libc", EntryPoint = "getuid", SetLastError = true)]
    public static partial uint GetUid();
}
