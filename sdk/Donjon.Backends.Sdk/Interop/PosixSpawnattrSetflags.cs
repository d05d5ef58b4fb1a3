using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawnattr_setflags(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    internal static partial int PosixSpawnattrSetflags(nint attributes, short flags);
}
