using System.Runtime.InteropServices;

namespace Donjon.Syscalls.Core.Interop;

internal static partial class LibC
{
    /// <summary>The size of one <c>struct utsname</c> field, with its NUL.</summary>
    public const int UtsFieldSize = 65;

    /// <summary>The size of <c>struct utsname</c> on Linux: six fields, the last being <c>domainname</c>.</summary>
    public const int UtsNameSize = 6 * UtsFieldSize;

    [LibraryImport("libc", EntryPoint = "uname", SetLastError = true)]
    private static unsafe partial int UnameNative(byte* name);

    /// <summary><c>uname(2)</c> of the host.</summary>
    /// <param name="name">At least <see cref="UtsNameSize"/> bytes; receives the host's <c>struct utsname</c>.</param>
    /// <returns>Zero, or minus errno.</returns>
    public static long Uname(Span<byte> name)
    {
        if (name.Length < UtsNameSize)
        {
            return -Errno.EFAULT;
        }

        long result;
        unsafe
        {
            // SAFETY: `name` is pinned for the whole call and holds the 390 bytes of `struct utsname` (checked above).
            fixed (byte* pointer = name)
            {
                result = UnameNative(pointer);
            }
        }

        _ = HostCall.Interrupted(ref result);
        return result;
    }
}
