using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawnattr_destroy(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    internal static partial int PosixSpawnattrDestroy(nint attributes);
}
