using System.Text;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>readlink</c> and <c>readlinkat</c>, for the one link a static binary commonly reads: <c>/proc/self/exe</c>
/// (also spelled <c>/proc/1/exe</c>, since the keep's pid is 1, and <c>/proc/thread-self/exe</c>), which names the
/// workload as the keep sees it, <see cref="Abstractions.Images.WorkloadIdentity.Path"/>.
/// </summary>
/// <remarks>
/// Every other path is <c>ENOENT</c> for now: host file access is policy-gated (FileGrant), which a later issue
/// implements, and until then the keep's file system looks empty.
/// </remarks>
internal static class PathCalls
{
    /// <summary><c>readlink(path, buf, bufsiz)</c>.</summary>
    public static SyscallResult ReadLink(SyscallRequest request, IKeepSession session) =>
        ReadLink(request, session, pathIndex: 0, outputIndex: 1, sizeIndex: 2);

    /// <summary>
    /// <c>readlinkat(dirfd, path, buf, bufsiz)</c>. The served paths are absolute, so <c>dirfd</c> is ignored, as
    /// Linux ignores it for an absolute path.
    /// </summary>
    public static SyscallResult ReadLinkAt(SyscallRequest request, IKeepSession session) =>
        ReadLink(request, session, pathIndex: 1, outputIndex: 2, sizeIndex: 3);

    private static SyscallResult ReadLink(SyscallRequest request, IKeepSession session, int pathIndex, int outputIndex, int sizeIndex)
    {
        // bufsiz is an int in the kernel; zero or negative is EINVAL.
        if (request.Int32(sizeIndex) <= 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        ReadOnlySpan<byte> path = request.CString(pathIndex);
        if (!IsSelfExe(path))
        {
            return SyscallResult.Error(Errno.ENOENT);
        }

        // readlink never writes a NUL and truncates silently.
        byte[] target = Encoding.UTF8.GetBytes(session.Workload.Path);
        int count = Math.Min(target.Length, request.OutputCount(outputIndex, sizeIndex));
        return request.Output(count, outputIndex, target.AsMemory(0, count));
    }

    private static bool IsSelfExe(ReadOnlySpan<byte> path) =>
        path.SequenceEqual("/proc/self/exe"u8) || path.SequenceEqual("/proc/1/exe"u8) || path.SequenceEqual("/proc/thread-self/exe"u8);
}
