using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>ioctl(fd, request, argp)</c>, limited to the two terminal queries libc makes on its own: <c>TCGETS</c>
/// (<c>isatty</c>, <c>tcgetattr</c>) and <c>TIOCGWINSZ</c> (window size). Both are answered by the real ioctl on the
/// host descriptor, so a pipe or a file gets <c>ENOTTY</c> and Donjon's own terminal answers for itself.
/// </summary>
/// <remarks>
/// The marshalling table has one shape per syscall, but <c>argp</c>'s size depends on the request. It is declared an
/// output of a fixed <see cref="ArgumentSize"/> (36) bytes, the larger of the two structures; the handler returns
/// exactly as many bytes as the request's structure has (36 or 8), and the shim copies only those. Every other
/// request is <c>ENOTTY</c> without output, so nothing the host does not understand reaches a host descriptor.
/// </remarks>
internal static class IoctlCalls
{
    /// <summary>The declared size of <c>argp</c>: the kernel's <c>struct termios</c>, the largest structure served.</summary>
    public const int ArgumentSize = TermiosSize;

    /// <summary><c>TCGETS</c>.</summary>
    public const uint GetTerminalAttributes = 0x5401;

    /// <summary><c>TIOCGWINSZ</c>.</summary>
    public const uint GetWindowSize = 0x5413;

    /// <summary>
    /// The kernel's <c>struct termios</c> on x86-64 (not glibc's 60-byte one, nor <c>termios2</c>): <c>c_iflag</c>,
    /// <c>c_oflag</c>, <c>c_cflag</c>, <c>c_lflag</c> (4 × u32), <c>c_line</c> (u8) and <c>c_cc[19]</c>.
    /// </summary>
    private const int TermiosSize = (4 * sizeof(uint)) + 1 + 19;

    /// <summary><c>struct winsize</c>: four u16.</summary>
    private const int WindowSizeSize = 4 * sizeof(ushort);

    /// <summary>Handles the call.</summary>
    public static SyscallResult Ioctl(SyscallRequest request, IKeepSession session)
    {
        if (!DescriptorCalls.TryHost(session, request.Int32(0), out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        // The kernel takes the request as an unsigned int.
        uint command = request.UInt32(1);
        int size = command switch
        {
            GetTerminalAttributes => TermiosSize,
            GetWindowSize => WindowSizeSize,
            _ => 0,
        };

        if (size == 0)
        {
            return SyscallResult.Error(Errno.ENOTTY);
        }

        if (!request.HasOutput(2, size))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] output = new byte[size];
        long result = LibC.IoctlRead(host, command, output);
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(result, 2, output);
    }
}
