using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>posix_spawn_file_actions_addopen(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PosixSpawnFileActionsAddOpen(nint fileActions, int fd, string path, int flags, uint mode);
}
