using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadNative(int descriptor, byte* buffer, nint count);

    /// <summary><c>read(2)</c> on a host descriptor, made again when a signal interrupts it.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="buffer">Where the bytes go; its length is the count.</param>
    /// <returns>The number of bytes read, or minus errno.</returns>
    public static long Read(int descriptor, Span<byte> buffer)
    {
        long result;
        do
        {
            unsafe
            {
                // SAFETY: `buffer` is pinned for the whole call and the kernel writes at most `buffer.Length` bytes to it.
                fixed (byte* pointer = buffer)
                {
                    result = ReadNative(descriptor, pointer, buffer.Length);
                }
            }
        }
        while (HostCall.Interrupted(ref result));

        return result;
    }
}
