using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "pwrite64", SetLastError = true)]
    private static unsafe partial nint PWriteNative(int descriptor, byte* buffer, nint count, long offset);

    /// <summary><c>pwrite64(2)</c> on a host descriptor, made again when a signal interrupts it.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="data">The bytes to write; its length is the count.</param>
    /// <param name="offset">The file offset to write at.</param>
    /// <returns>The number of bytes written, or minus errno (<c>ESPIPE</c> on a pipe or a terminal).</returns>
    public static long PWrite(int descriptor, ReadOnlySpan<byte> data, long offset)
    {
        long result;
        do
        {
            unsafe
            {
                // SAFETY: `data` is pinned for the whole call and the kernel reads at most `data.Length` bytes from it.
                fixed (byte* pointer = data)
                {
                    result = PWriteNative(descriptor, pointer, data.Length, offset);
                }
            }
        }
        while (HostCall.Interrupted(ref result));

        return result;
    }
}
