using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class FileCalls
{
    /// <summary>fstat(2): what the descriptor just opened really is, so that what is checked is what is read.</summary>
    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    internal static partial int Fstat(int fd, out StatBuffer buffer);
}
