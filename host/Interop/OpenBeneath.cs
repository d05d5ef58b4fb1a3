using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class FileCalls
{
    /// <summary>
    /// syscall(2), used here only for <c>openat2</c> (437), which libc does not wrap: <c>syscall(437, dirfd, path,
    /// &amp;how, sizeof how)</c>. See <see cref="Donjon.Host.Files.RegularFile.ReadBeneath"/>.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall4(long number, long a0, long a1, long a2, long a3);
}
