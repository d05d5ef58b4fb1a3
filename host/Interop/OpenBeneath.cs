using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class FileCalls
{
    /// <summary>
    /// syscall(2), used for <c>openat2</c> (437), which libc does not wrap: <c>syscall(437, dirfd, path, &amp;how,
    /// sizeof how)</c> (see <see cref="Donjon.Host.Files.RegularFile.ReadBeneath"/>), and for <c>fcntl(fd, F_SETLK,
    /// &amp;flock)</c> (72) when a keep closes one of several numbers of a file (<c>FileDescriptorTable</c>).
    /// </summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall4(long number, long a0, long a1, long a2, long a3);
}
