using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawn(3): starts a program with exactly the descriptors the file actions give it.</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn", SetLastError = true)]
    internal static unsafe partial int PosixSpawn(int* pid, byte* path, nint fileActions, nint attributes, byte** argv, byte** envp);
}
