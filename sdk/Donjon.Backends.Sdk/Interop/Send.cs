using System.Runtime.InteropServices;

namespace Donjon.Backends.Sdk.Interop;

internal static partial class Libc
{
    /// <summary>send(2) on the doorbell socket, with MSG_DONTWAIT | MSG_NOSIGNAL.</summary>
    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint Send(int fd, byte* buffer, nuint count, int flags);
}
