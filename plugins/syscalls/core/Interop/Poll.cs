using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary>The size of <c>struct pollfd</c>: <c>int fd; short events; short revents;</c>.</summary>
    public const int PollFdSize = 8;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int PollNative(byte* fds, nuint count, int timeoutMilliseconds);

    /// <summary>
    /// <c>poll(2)</c> on host descriptors, once: <paramref name="fds"/> holds <c>struct pollfd</c> elements whose
    /// <c>revents</c> the kernel fills in. An interruption by a signal is returned as <c>-EINTR</c> for the caller's
    /// loop, which knows how much of the timeout is left.
    /// </summary>
    /// <param name="fds">Whole <c>struct pollfd</c> elements (a multiple of <see cref="PollFdSize"/> bytes).</param>
    /// <param name="timeoutMilliseconds">The timeout: negative waits for ever, 0 does not wait.</param>
    /// <returns>The number of elements with a non-zero <c>revents</c>, or minus errno.</returns>
    public static long Poll(Span<byte> fds, int timeoutMilliseconds)
    {
        long result;
        unsafe
        {
            // SAFETY: `fds` is pinned for the whole call; the kernel reads and writes only the count elements, which
            // lie inside it since count = fds.Length / PollFdSize.
            fixed (byte* pointer = fds)
            {
                result = PollNative(pointer, (nuint)(fds.Length / PollFdSize), timeoutMilliseconds);
            }
        }

        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
