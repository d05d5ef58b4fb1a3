using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary>The size of the kernel's <c>struct stat</c> on x86-64, which glibc's is equal to.</summary>
    public const int StatSize = 144;

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static unsafe partial int FStatNative(int descriptor, byte* statBuffer);

    /// <summary><c>fstat(2)</c> on a host descriptor.</summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="statBuffer">At least <see cref="StatSize"/> bytes; receives the kernel's <c>struct stat</c>.</param>
    /// <returns>Zero, or minus errno.</returns>
    public static long FStat(int descriptor, Span<byte> statBuffer)
    {
        if (statBuffer.Length < StatSize)
        {
            return -Errno.EFAULT;
        }

        long result;
        unsafe
        {
            // SAFETY: `statBuffer` is pinned for the whole call and holds at least the 144 bytes of the x86-64
            // `struct stat` the call writes (checked above).
            fixed (byte* pointer = statBuffer)
            {
                result = FStatNative(descriptor, pointer);
            }
        }

        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
