using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawnattr_init(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    internal static partial int PosixSpawnattrInit(nint attributes);
}
