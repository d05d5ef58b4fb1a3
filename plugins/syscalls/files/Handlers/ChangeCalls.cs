using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>
/// The calls that change the file system: <c>mkdir</c>, <c>unlink</c>, <c>rmdir</c>, <c>rename</c>, <c>link</c>,
/// <c>symlink</c>, <c>chmod</c>, <c>utimensat</c>, <c>truncate</c> and their <c>*at</c> forms. Beneath a read-only
/// mount (and in the keep's skeleton root) each is <c>EROFS</c>. A name is created, removed or renamed in its parent
/// directory, opened beneath the mount as an <c>O_PATH</c> descriptor, so no final component is ever followed; calls
/// that must follow it (<c>chmod</c>, <c>utimensat</c> without <c>AT_SYMLINK_NOFOLLOW</c>, <c>truncate</c>) act on a
/// descriptor opened beneath the mount. A rename or hard link between two mounts is <c>EXDEV</c>, as between two
/// Linux mounts: a hard link can never make a read-only file writable through another mount.
/// </summary>
internal static class ChangeCalls
{
    private const int RemoveDirectory = 0x200;  // AT_REMOVEDIR
    private const int SymlinkFollow = 0x400;    // AT_SYMLINK_FOLLOW
    private const int RenameFlags = 0x1 | 0x2;  // RENAME_NOREPLACE | RENAME_EXCHANGE

    /// <summary><c>mkdir(path, mode)</c>.</summary>
    public static SyscallResult Mkdir(SyscallRequest request, IKeepSession session) => MkdirAt(request, session, -1, 0, request.Int32(1));

    /// <summary><c>mkdirat(dirfd, path, mode)</c>.</summary>
    public static SyscallResult MkdirAt(SyscallRequest request, IKeepSession session) => MkdirAt(request, session, 0, 1, request.Int32(2));

    /// <summary><c>unlink(path)</c>.</summary>
    public static SyscallResult Unlink(SyscallRequest request, IKeepSession session) => UnlinkAt(request, session, -1, 0, 0);

    /// <summary><c>rmdir(path)</c>.</summary>
    public static SyscallResult Rmdir(SyscallRequest request, IKeepSession session) => UnlinkAt(request, session, -1, 0, RemoveDirectory);

    /// <summary><c>unlinkat(dirfd, path, flags)</c>.</summary>
    public static SyscallResult UnlinkAt(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(2);
        return (flags & ~RemoveDirectory) != 0 ? SyscallResult.Error(Errno.EINVAL) : UnlinkAt(request, session, 0, 1, flags);
    }

    /// <summary><c>rename(old, new)</c>.</summary>
    public static SyscallResult Rename(SyscallRequest request, IKeepSession session) => RenameAt(request, session, -1, 0, -1, 1, 0);

    /// <summary><c>renameat(olddirfd, old, newdirfd, new)</c>.</summary>
    public static SyscallResult RenameAt(SyscallRequest request, IKeepSession session) => RenameAt(request, session, 0, 1, 2, 3, 0);

    /// <summary><c>renameat2(olddirfd, old, newdirfd, new, flags)</c>: <c>RENAME_NOREPLACE</c> and <c>RENAME_EXCHANGE</c>.</summary>
    public static SyscallResult RenameAt2(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(4);
        return (flags & ~RenameFlags) != 0 || flags == RenameFlags ? SyscallResult.Error(Errno.EINVAL) : RenameAt(request, session, 0, 1, 2, 3, flags);
    }

    /// <summary><c>link(old, new)</c>.</summary>
    public static SyscallResult Link(SyscallRequest request, IKeepSession session) => LinkAt(request, session, -1, 0, -1, 1, 0);

    /// <summary><c>linkat(olddirfd, old, newdirfd, new, flags)</c>: <c>AT_SYMLINK_FOLLOW</c>; <c>AT_EMPTY_PATH</c> is <c>ENOENT</c> (it needs a capability).</summary>
    public static SyscallResult LinkAt(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(4);
        if ((flags & ~(SymlinkFollow | Kernel.EmptyPath)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        return LinkAt(request, session, 0, 1, 2, 3, flags & SymlinkFollow);
    }

    /// <summary><c>symlink(target, linkpath)</c>.</summary>
    public static SyscallResult Symlink(SyscallRequest request, IKeepSession session) => SymlinkAt(request, session, -1, 1);

    /// <summary><c>symlinkat(target, newdirfd, linkpath)</c>.</summary>
    public static SyscallResult SymlinkAt(SyscallRequest request, IKeepSession session) => SymlinkAt(request, session, 1, 2);

    /// <summary><c>chmod(path, mode)</c>.</summary>
    public static SyscallResult Chmod(SyscallRequest request, IKeepSession session) => ChmodAt(request, session, -1, 0, request.Int32(1));

    /// <summary><c>fchmodat(dirfd, path, mode)</c>.</summary>
    public static SyscallResult FChmodAt(SyscallRequest request, IKeepSession session) => ChmodAt(request, session, 0, 1, request.Int32(2));

    /// <summary><c>utimensat(dirfd, path, times, flags)</c>; a NULL path is the descriptor itself (<c>futimens</c>).</summary>
    public static SyscallResult UtimensAt(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(3);
        if ((flags & ~(Kernel.SymlinkNoFollow | Kernel.EmptyPath)) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        ReadOnlySpan<byte> times = request.Input(2).Span;
        if (!times.IsEmpty && times.Length != 32)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] timesCopy = times.ToArray();
        if (request.Input(1).IsEmpty || (request.CString(1).IsEmpty && (flags & Kernel.EmptyPath) != 0))
        {
            int descriptor = request.Int32(0);
            if (descriptor < 0 || !session.Files.TryGet(descriptor, out IOpenFile? file))
            {
                return SyscallResult.Error(Errno.EBADF);
            }

            if (file is not KeepFile keepFile || (keepFile.Mount is not null && !keepFile.IsWritableMount) || keepFile.KeepPath is null)
            {
                return SyscallResult.Error(file is KeepFile { Mount: not null } ? Errno.EROFS : Errno.EPERM);
            }

            return Paths.From(Kernel.UtimensAt(file.HostDescriptor, [], timesCopy, 0));
        }

        if (!Paths.TryLocate(request, session, 0, 1, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (!Paths.MayWrite(session, "utimensat", location, out error))
        {
            return error;
        }

        long result = (flags & Kernel.SymlinkNoFollow) != 0 && location.Relative != "."
            ? Paths.WithParent(session, "utimensat", location, (parent, name) => Kernel.UtimensAt(parent, name, timesCopy, Kernel.SymlinkNoFollow))
            : Paths.WithPath(session, "utimensat", location, noFollow: false, host => Kernel.UtimensAt(Kernel.CurrentDirectory, Resolver.ProcPath(host), timesCopy, 0));
        return Paths.From(result);
    }

    /// <summary><c>truncate(path, length)</c>.</summary>
    public static SyscallResult Truncate(SyscallRequest request, IKeepSession session)
    {
        if (!Paths.TryLocate(request, session, -1, 0, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (!Paths.MayWrite(session, "truncate", location, out error))
        {
            return error;
        }

        long length = request.Int64(1);
        long opened = Resolver.Open(location, Resolver.OpenWriteOnly | Resolver.OpenNoControllingTerminal | Resolver.OpenNonBlocking, 0);
        if (opened < 0)
        {
            return SyscallResult.Error((int)-Paths.Answer(session, "truncate", location, opened, write: true));
        }

        return Paths.From(Paths.Closing((int)opened, host => Kernel.Call(77, host, length)));
    }

    private static SyscallResult MkdirAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int mode)
    {
        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (location.Device is not null || location.Relative == ".")
        {
            return SyscallResult.Error(Errno.EEXIST);
        }

        if (!location.IsWritable)
        {
            // An existing name is EEXIST, as on a read-only Linux file system; only a new one is refused.
            long exists = Resolver.OpenPathOnly(location, noFollow: true);
            if (exists >= 0)
            {
                Kernel.Close((int)exists);
                return SyscallResult.Error(Errno.EEXIST);
            }
        }

        if (!Paths.MayWrite(session, "mkdir", location, out error))
        {
            return error;
        }

        int umask = session is IKeepFileSystem fileSystem ? fileSystem.Umask : 0x12;
        return Paths.From(Paths.WithParent(session, "mkdir", location, (parent, name) => Kernel.MkdirAt(parent, name, mode & 0xFFF & ~umask)));
    }

    private static SyscallResult UnlinkAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int flags)
    {
        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (location.Relative == "." && location.Device is null)
        {
            return SyscallResult.Error(Errno.EBUSY); // a mount point
        }

        string operation = (flags & RemoveDirectory) != 0 ? "rmdir" : "unlink";
        if (!Paths.MayWrite(session, operation, location, out error))
        {
            return error;
        }

        if (location.MustBeDirectory)
        {
            // "name/" must be a directory; checked beneath the mount, then the name itself is removed without following it.
            long check = Paths.WithPath(session, operation, location, noFollow: false, _ => 0, directory: true);
            if (check < 0)
            {
                return SyscallResult.Error((int)-check);
            }
        }

        return Paths.From(Paths.WithParent(session, operation, location, (parent, name) => Kernel.UnlinkAt(parent, name, flags)));
    }

    private static SyscallResult RenameAt(SyscallRequest request, IKeepSession session, int oldDirectoryIndex, int oldPathIndex, int newDirectoryIndex, int newPathIndex, int flags)
    {
        if (!TryTwo(request, session, "rename", oldDirectoryIndex, oldPathIndex, newDirectoryIndex, newPathIndex, out Location from, out Location to, out SyscallResult error))
        {
            return error;
        }

        return Paths.From(Paths.WithParent(session, "rename", from, (oldParent, oldName) =>
            Paths.WithParent(session, "rename", to, (newParent, newName) => Kernel.RenameAt2(oldParent, oldName, newParent, newName, flags))));
    }

    private static SyscallResult LinkAt(SyscallRequest request, IKeepSession session, int oldDirectoryIndex, int oldPathIndex, int newDirectoryIndex, int newPathIndex, int flags)
    {
        if (!TryTwo(request, session, "link", oldDirectoryIndex, oldPathIndex, newDirectoryIndex, newPathIndex, out Location from, out Location to, out SyscallResult error))
        {
            return error;
        }

        if ((flags & SymlinkFollow) != 0)
        {
            // Follow the old name beneath the mount, then link what it leads to through the host's own magic link.
            return Paths.From(Paths.WithPath(session, "link", from, noFollow: false, host =>
                Paths.WithParent(session, "link", to, (newParent, newName) =>
                    Kernel.LinkAt(Kernel.CurrentDirectory, Resolver.ProcPath(host), newParent, newName, SymlinkFollow))));
        }

        return Paths.From(Paths.WithParent(session, "link", from, (oldParent, oldName) =>
            Paths.WithParent(session, "link", to, (newParent, newName) => Kernel.LinkAt(oldParent, oldName, newParent, newName, 0))));
    }

    /// <summary>Locates both paths of a rename or link: both in one writable mount, neither a mount point nor a device.</summary>
    private static bool TryTwo(SyscallRequest request, IKeepSession session, string operation, int oldDirectoryIndex, int oldPathIndex, int newDirectoryIndex, int newPathIndex,
        out Location from, out Location to, out SyscallResult error)
    {
        to = null!;
        if (!Paths.TryLocate(request, session, oldDirectoryIndex, oldPathIndex, out from, out error) ||
            !Paths.TryLocate(request, session, newDirectoryIndex, newPathIndex, out to, out error))
        {
            return false;
        }

        if (from.IsUngranted)
        {
            long exists = Paths.WithPath(session, operation, from, noFollow: true, _ => 0);
            if (exists < 0)
            {
                error = SyscallResult.Error((int)-exists);
                return false;
            }
        }

        if (from.Device is not null || to.Device is not null || !ReferenceEquals(from.Mount, to.Mount))
        {
            error = SyscallResult.Error(Errno.EXDEV);
            return false;
        }

        if (!Paths.MayWrite(session, operation, from, out error))
        {
            return false;
        }

        if (from.Relative == "." || to.Relative == ".")
        {
            error = SyscallResult.Error(Errno.EBUSY);
            return false;
        }

        return true;
    }

    private static SyscallResult SymlinkAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex)
    {
        if (request.Input(0).IsEmpty)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] target = [.. request.CString(0), 0];
        if (target.Length == 1)
        {
            return SyscallResult.Error(Errno.ENOENT);
        }

        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (location.Device is not null || location.Relative == ".")
        {
            return SyscallResult.Error(Errno.EEXIST);
        }

        if (!Paths.MayWrite(session, "symlink", location, out error))
        {
            return error;
        }

        return Paths.From(Paths.WithParent(session, "symlink", location, (parent, name) => Kernel.SymlinkAt(target, parent, name)));
    }

    private static SyscallResult ChmodAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int mode)
    {
        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        if (!Paths.MayWrite(session, "chmod", location, out error))
        {
            return error;
        }

        return Paths.From(Paths.WithPath(session, "chmod", location, noFollow: false, host =>
            Kernel.FChmodAt(Kernel.CurrentDirectory, Resolver.ProcPath(host), mode & 0xFFF)));
    }
}
