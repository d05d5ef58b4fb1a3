using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>waitid(2): with WNOWAIT, waits for the keep's process to end without reaping it, so its pid (and its process group) cannot be reused before the group is killed.</summary>
    [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
    internal static unsafe partial int Waitid(int idType, int id, byte* info, int options);
}
