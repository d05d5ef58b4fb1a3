using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class FileCalls
{
    /// <summary>stat(2), following symbolic links: what a path names, without opening it.</summary>
    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Stat(string path, out StatBuffer buffer);
}
