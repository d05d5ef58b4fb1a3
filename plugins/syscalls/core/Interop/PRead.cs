using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "pread64", SetLastError = true)]
    private static unsafe partial nint PReadNative(int descriptor, byte* buffer, nint count, long offset);

    /// <summary><c>pread64(2)</c> on a host descriptor, made again when a signal interrupts it.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="buffer">Where the bytes go; its length is the count.</param>
    /// <param name="offset">The file offset to read at.</param>
    /// <returns>The number of bytes read, or minus errno (<c>ESPIPE</c> on a pipe or a terminal).</returns>
    public static long PRead(int descriptor, Span<byte> buffer, long offset)
    {
        long result;
        do
        {
            unsafe
            {
                // SAFETY: `buffer` is pinned for the whole call and the kernel writes at most `buffer.Length` bytes to it.
                fixed (byte* pointer = buffer)
                {
                    result = PReadNative(descriptor, pointer, buffer.Length, offset);
                }
            }
        }
        while (HostCall.Interrupted(ref result));

        return result;
    }
}
