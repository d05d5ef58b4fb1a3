using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class FileCalls
{
    /// <summary>lstat(2), not following a final symbolic link: whether Donjon's runtime directory is what it made.</summary>
    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Lstat(string path, out StatBuffer buffer);
}
