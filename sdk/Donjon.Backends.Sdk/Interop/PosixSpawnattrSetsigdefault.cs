using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawnattr_setsigdefault(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static partial int PosixSpawnattrSetsigdefault(nint attributes, nint signalSet);
}
