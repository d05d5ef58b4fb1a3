using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    // ioctl is variadic in C; its third argument is passed as a pointer, which the x86-64 System V ABI passes in
    // the same register whether or not the callee is variadic.
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int IoctlNative(int descriptor, nuint request, byte* argument);

    /// <summary>
    /// <c>ioctl(2)</c> on a host descriptor, for a request whose argument points to a structure the kernel writes.
    /// Only call it with requests whose output is known to fit <paramref name="output"/>.
    /// </summary>
    /// <param name="descriptor">The host descriptor.</param>
    /// <param name="request">The request, for example <c>TCGETS</c>.</param>
    /// <param name="output">Receives the structure; at least as large as the request writes.</param>
    /// <returns>The call's non-negative value, or minus errno.</returns>
    public static long IoctlRead(int descriptor, uint request, Span<byte> output)
    {
        long result;
        unsafe
        {
            // SAFETY: `output` is pinned for the whole call; callers pass only requests (TCGETS, TIOCGWINSZ) whose
            // structure is no larger than `output`, so the kernel writes inside it.
            fixed (byte* pointer = output)
            {
                result = IoctlNative(descriptor, request, pointer);
            }
        }

        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
