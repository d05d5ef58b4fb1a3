using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawnattr_setsigmask(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    internal static partial int PosixSpawnattrSetsigmask(nint attributes, nint signalSet);
}
