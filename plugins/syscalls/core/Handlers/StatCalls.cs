using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>fstat</c> and <c>newfstatat</c> on a descriptor: the real <c>fstat</c> of the host descriptor, whose bytes are
/// the kernel's own x86-64 <c>struct stat</c> layout (144 bytes), so the workload sees the real kind of file
/// (<c>S_IFIFO</c>, <c>S_IFCHR</c>, <c>S_IFREG</c>, <c>S_IFSOCK</c>...).
/// </summary>
internal static class StatCalls
{
    /// <summary><c>AT_FDCWD</c>.</summary>
    private const int CurrentDirectory = -100;

    /// <summary><c>AT_SYMLINK_NOFOLLOW</c>.</summary>
    private const int SymlinkNoFollow = 0x100;

    /// <summary><c>AT_NO_AUTOMOUNT</c>.</summary>
    private const int NoAutomount = 0x800;

    /// <summary><c>AT_EMPTY_PATH</c>.</summary>
    private const int EmptyPath = 0x1000;

    /// <summary><c>fstat(fd, statbuf)</c>.</summary>
    public static SyscallResult FStat(SyscallRequest request, IKeepSession session) =>
        StatDescriptor(request, session, request.Int32(0), outputIndex: 1);

    /// <summary>
    /// <c>newfstatat(dirfd, path, statbuf, flags)</c>. Only the descriptor form is served (an empty path with
    /// <c>AT_EMPTY_PATH</c>, which is how glibc and musl implement <c>fstat</c>).
    /// </summary>
    public static SyscallResult FStatAt(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(3);
        if ((flags & ~(SymlinkNoFollow | NoAutomount | EmptyPath)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int directory = request.Int32(0);
        if (request.CString(1).IsEmpty && (flags & EmptyPath) != 0 && directory != CurrentDirectory)
        {
            return StatDescriptor(request, session, directory, outputIndex: 2);
        }

        // Paths are not served yet: access to host files is gated by the admin's policy (FileGrant), which a later
        // issue implements together with openat. Until then every path, the current directory included, is
        // answered as if the keep's file system were empty. An empty path without AT_EMPTY_PATH is ENOENT in Linux too.
        return SyscallResult.Error(Errno.ENOENT);
    }

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
