using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class FileCalls
{
    /// <summary>open(2) without a mode: Donjon only opens existing files, for reading (<see cref="Donjon.Host.Files.RegularFile"/>).</summary>
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Open(string path, int flags);
}
