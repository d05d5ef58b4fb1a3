using System.Text;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>
/// The calls that look at a path without changing it: <c>stat</c>, <c>lstat</c>, <c>newfstatat</c>, <c>statx</c>,
/// <c>access</c>, <c>faccessat</c>, <c>faccessat2</c>, <c>readlink</c>, <c>readlinkat</c>, <c>statfs</c> and
/// <c>fstatfs</c>. Each opens the path beneath its mount as an <c>O_PATH</c> descriptor (so the kernel confines the
/// resolution) and asks the host kernel about that descriptor.
/// </summary>
internal static class MetadataCalls
{
    private const int AccessModes = 7;      // R_OK | W_OK | X_OK
    private const int WriteAccess = 2;      // W_OK
    private const int EffectiveAccess = 0x200; // AT_EACCESS
    private const int NoAutomount = 0x800;
    private const int StatxSyncMask = 0x6000;

    /// <summary><c>stat(path, statbuf)</c>.</summary>
    public static SyscallResult Stat(SyscallRequest request, IKeepSession session) => StatAt(request, session, -1, 0, 1, noFollow: false);

    /// <summary><c>lstat(path, statbuf)</c>.</summary>
    public static SyscallResult LStat(SyscallRequest request, IKeepSession session) => StatAt(request, session, -1, 0, 1, noFollow: true);

    /// <summary><c>newfstatat(dirfd, path, statbuf, flags)</c>; <c>""</c> with <c>AT_EMPTY_PATH</c> is <c>fstat(dirfd)</c> on any descriptor.</summary>
    public static SyscallResult FStatAt(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(3);
        if ((flags & ~(Kernel.SymlinkNoFollow | NoAutomount | Kernel.EmptyPath)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (request.CString(1).IsEmpty && (flags & Kernel.EmptyPath) != 0 && !request.Input(1).IsEmpty)
        {
            return request.Int32(0) == Kernel.CurrentDirectory
                ? StatAt(request, session, ".", 2, noFollow: false)
                : OnDescriptor(request, session, request.Int32(0), 2, Kernel.StatSize, (host, buffer) => Kernel.FStat(host, buffer));
        }

        return StatAt(request, session, 0, 1, 2, (flags & Kernel.SymlinkNoFollow) != 0);
    }

    /// <summary><c>statx(dirfd, path, flags, mask, statxbuf)</c>.</summary>
    public static SyscallResult Statx(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(2);
        uint mask = request.UInt32(3);
        if ((flags & ~(Kernel.SymlinkNoFollow | NoAutomount | Kernel.EmptyPath | StatxSyncMask)) != 0 || (flags & StatxSyncMask) == StatxSyncMask)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (!request.HasOutput(4, Kernel.StatxSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        int sync = flags & StatxSyncMask;
        Location location;
        if (request.CString(1).IsEmpty && (flags & Kernel.EmptyPath) != 0 && !request.Input(1).IsEmpty)
        {
            if (request.Int32(0) != Kernel.CurrentDirectory)
            {
                return OnDescriptor(request, session, request.Int32(0), 4, Kernel.StatxSize, (host, buffer) => Kernel.Statx(host, sync, mask, buffer));
            }

            long found = Resolver.Locate(session, Kernel.CurrentDirectory, "."u8, out Location? cwd);
            if (found < 0)
            {
                return SyscallResult.Error((int)-found);
            }

            location = cwd!;
        }
        else if (!Paths.TryLocate(request, session, 0, 1, out location, out SyscallResult error))
        {
            return error;
        }

        byte[] output = new byte[Kernel.StatxSize];
        long result = Paths.WithPath(session, "statx", location, (flags & Kernel.SymlinkNoFollow) != 0, host => Kernel.Statx(host, sync, mask, output));
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(0, 4, output);
    }

    /// <summary><c>access(path, mode)</c>.</summary>
    public static SyscallResult Access(SyscallRequest request, IKeepSession session) => AccessAt(request, session, -1, 0, request.Int32(1), 0);

    /// <summary><c>faccessat(dirfd, path, mode)</c> (the kernel's has no flags).</summary>
    public static SyscallResult FAccessAt(SyscallRequest request, IKeepSession session) => AccessAt(request, session, 0, 1, request.Int32(2), 0);

    /// <summary><c>faccessat2(dirfd, path, mode, flags)</c>.</summary>
    public static SyscallResult FAccessAt2(SyscallRequest request, IKeepSession session) => AccessAt(request, session, 0, 1, request.Int32(2), request.Int32(3));

    /// <summary><c>readlink(path, buf, bufsiz)</c>.</summary>
    public static SyscallResult ReadLink(SyscallRequest request, IKeepSession session) => ReadLinkAt(request, session, -1, 0, 1, 2);

    /// <summary><c>readlinkat(dirfd, path, buf, bufsiz)</c>.</summary>
    public static SyscallResult ReadLinkAt(SyscallRequest request, IKeepSession session) => ReadLinkAt(request, session, 0, 1, 2, 3);

    /// <summary><c>statfs(path, buf)</c>.</summary>
    public static SyscallResult StatFs(SyscallRequest request, IKeepSession session)
    {
        if (!request.HasOutput(1, Kernel.StatfsSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        if (!Paths.TryLocate(request, session, -1, 0, out Location location, out SyscallResult error))
        {
            return error;
        }

        byte[] output = new byte[Kernel.StatfsSize];
        long result = Paths.WithPath(session, "statfs", location, noFollow: false, host => Kernel.FStatfs(host, output));
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(0, 1, output);
    }

    /// <summary><c>fstatfs(fd, buf)</c>.</summary>
    public static SyscallResult FStatFs(SyscallRequest request, IKeepSession session) =>
        OnDescriptor(request, session, request.Int32(0), 1, Kernel.StatfsSize, (host, buffer) => Kernel.FStatfs(host, buffer));

    private static SyscallResult StatAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int outputIndex, bool noFollow)
    {
        if (!request.HasOutput(outputIndex, Kernel.StatSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        return Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error)
            ? StatAt(request, session, location, outputIndex, noFollow)
            : error;
    }

    /// <summary><c>stat</c> of the working directory's <paramref name="relative"/> path (<c>.</c>).</summary>
    private static SyscallResult StatAt(SyscallRequest request, IKeepSession session, string relative, int outputIndex, bool noFollow)
    {
        if (!request.HasOutput(outputIndex, Kernel.StatSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        long found = Resolver.Locate(session, Kernel.CurrentDirectory, System.Text.Encoding.Latin1.GetBytes(relative), out Location? location);
        return found < 0 ? SyscallResult.Error((int)-found) : StatAt(request, session, location!, outputIndex, noFollow);
    }

    private static SyscallResult StatAt(SyscallRequest request, IKeepSession session, Location location, int outputIndex, bool noFollow)
    {
        byte[] output = new byte[Kernel.StatSize];
        long result = Paths.WithPath(session, noFollow ? "lstat" : "stat", location, noFollow, host => Kernel.FStat(host, output));
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(0, outputIndex, output);
    }

    private static SyscallResult OnDescriptor(SyscallRequest request, IKeepSession session, int descriptor, int outputIndex, int size, Func<int, byte[], long> call)
    {
        if (descriptor < 0 || !session.Files.TryGet(descriptor, out IOpenFile? file))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (!request.HasOutput(outputIndex, size))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] output = new byte[size];
        long result = call(file.HostDescriptor, output);
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(0, outputIndex, output);
    }

    private static SyscallResult AccessAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int mode, int flags)
    {
        if ((mode & ~AccessModes) != 0 || (flags & ~(EffectiveAccess | Kernel.SymlinkNoFollow | Kernel.EmptyPath)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (request.CString(pathIndex).IsEmpty && (flags & Kernel.EmptyPath) != 0 && directoryIndex >= 0 && !request.Input(pathIndex).IsEmpty)
        {
            int descriptor = request.Int32(directoryIndex);
            return descriptor >= 0 && session.Files.TryGet(descriptor, out IOpenFile? file)
                ? Paths.From(Kernel.Access(file.HostDescriptor, mode, flags & EffectiveAccess))
                : SyscallResult.Error(Errno.EBADF);
        }

        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        long result = Paths.WithPath(session, "access", location, (flags & Kernel.SymlinkNoFollow) != 0, host => Kernel.Access(host, mode, flags & EffectiveAccess));
        if (result == 0 && (mode & WriteAccess) != 0 && location.Device is null && !location.IsWritable)
        {
            return SyscallResult.Error(Errno.EROFS); // as Linux answers W_OK on a read-only file system
        }

        if (result == 0 && (mode & 4) != 0 && !location.IsReadable)
        {
            return SyscallResult.Error(Errno.EACCES);
        }

        return Paths.From(result);
    }

    private static SyscallResult ReadLinkAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int outputIndex, int sizeIndex)
    {
        // bufsiz is an int in the kernel; zero or negative is EINVAL.
        if (request.Int32(sizeIndex) <= 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        ReadOnlySpan<byte> path = request.CString(pathIndex);
        int count = request.OutputCount(outputIndex, sizeIndex);
        if (IsSelfExe(path))
        {
            // readlink never writes a NUL and truncates silently.
            byte[] target = Encoding.UTF8.GetBytes(session.Workload.Path);
            int length = Math.Min(target.Length, count);
            return request.Output(length, outputIndex, target.AsMemory(0, length));
        }

        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (location.Device is not null || (location.Relative == "." && location.Mount!.IsDirectory))
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        byte[] output = new byte[count];
        long result = Paths.WithPath(session, "readlink", location, noFollow: true, host =>
        {
            // An O_PATH descriptor of something that is not a link: some kernels say ENOENT, Linux's readlink EINVAL.
            long read = Kernel.ReadLink(host, output);
            return read == -Errno.ENOENT ? -Errno.EINVAL : read;
        });
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(result, outputIndex, output.AsMemory(0, (int)result));
    }

    /// <summary><c>/proc/self/exe</c> (also <c>/proc/1/exe</c>, the keep's pid being 1, and <c>/proc/thread-self/exe</c>).</summary>
    private static bool IsSelfExe(ReadOnlySpan<byte> path) =>
        path.SequenceEqual("/proc/self/exe"u8) || path.SequenceEqual("/proc/1/exe"u8) || path.SequenceEqual("/proc/thread-self/exe"u8);
}
