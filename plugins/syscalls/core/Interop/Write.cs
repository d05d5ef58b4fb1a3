using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteNative(int descriptor, byte* buffer, nint count);

    /// <summary><c>write(2)</c> on a host descriptor, made again when a signal interrupts it before anything was written.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="data">The bytes to write; its length is the count.</param>
    /// <returns>The number of bytes written, or minus errno.</returns>
    public static long Write(int descriptor, ReadOnlySpan<byte> data)
    {
        long result;
        do
        {
            unsafe
            {
                // SAFETY: `data` is pinned for the whole call and the kernel reads at most `data.Length` bytes from it.
                fixed (byte* pointer = data)
                {
                    result = WriteNative(descriptor, pointer, data.Length);
                }
            }
        }
        while (HostCall.Interrupted(ref result));

        return result;
    }
}
