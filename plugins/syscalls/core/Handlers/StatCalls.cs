using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>fstat</c> on a descriptor (the <c>files</c> set serves <c>newfstatat</c>, the descriptor form included): the real <c>fstat</c> of the host descriptor, whose bytes are
/// the kernel's own x86-64 <c>struct stat</c> layout (144 bytes), so the workload sees the real kind of file
/// (<c>S_IFIFO</c>, <c>S_IFCHR</c>, <c>S_IFREG</c>, <c>S_IFSOCK</c>...).
/// </summary>
internal static class StatCalls
{
    /// <summary><c>fstat(fd, statbuf)</c>.</summary>
    public static SyscallResult FStat(SyscallRequest request, IKeepSession session) =>
        StatDescriptor(request, session, request.Int32(0), outputIndex: 1);

    private static SyscallResult StatDescriptor(SyscallRequest request, IKeepSession session, int descriptor, int outputIndex)
    {
        if (!DescriptorCalls.TryHost(session, descriptor, out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (!request.HasOutput(outputIndex, LibC.StatSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] stat = new byte[LibC.StatSize];
        long result = LibC.FStat(host, stat);
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(0, outputIndex, stat);
    }
}
