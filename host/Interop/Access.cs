using System.Runtime.InteropServices;

namespace Donjon.Host.Interop;

internal static partial class Access
{
    private const int X_OK = 1;

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int AccessNative(string path, int mode);

    /// <summary>access(2) with X_OK: whether this user may execute <paramref name="path"/>, as a shell checks.</summary>
    internal static bool IsExecutable(string path) => AccessNative(path, X_OK) == 0;
}
