using Donjon.Abstractions.Sessions;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files;

/// <summary>Where a keep path leads: a built-in device, or a mount and the path beneath it.</summary>
/// <param name="KeepPath">The normalised keep path.</param>
/// <param name="Mount">The mount it falls under; <see langword="null"/> for a device.</param>
/// <param name="Relative">The path beneath the mount (<c>.</c> for the mount itself), Latin-1 chars.</param>
/// <param name="MustBeDirectory">Whether the keep's path ended in <c>/</c> (or <c>/.</c>, <c>/..</c>).</param>
/// <param name="Device">The device's name (<c>null</c>, <c>stdin</c>...) when the path is <c>/dev/NAME</c> of a built-in one.</param>
internal sealed record Location(string KeepPath, KeepMount? Mount, string Relative, bool MustBeDirectory, string? Device)
{
    /// <summary>Whether the keep may write beneath the location's mount.</summary>
    public bool IsWritable => Mount is { } mount && (mount.Access & FileGrantAccess.Write) != 0;

    /// <summary>Whether the keep may read beneath it.</summary>
    public bool IsReadable => Device is not null || (Mount is { } mount && (mount.Access & FileGrantAccess.Read) != 0);

    /// <summary>Whether the path lies outside every grant (in Donjon's skeleton root).</summary>
    public bool IsUngranted => Mount is { IsBuiltIn: true, KeepPath: "/" };

    /// <summary>The relative path as the host call takes it, with a final <c>/</c> when the keep wrote one.</summary>
    public byte[] HostRelative => KeepPaths.ToHost(MustBeDirectory && Relative != "." ? Relative + "/" : Relative);
}

/// <summary>
/// Resolves keep paths to <see cref="Location"/>s and opens them beneath their mount's descriptor with
/// <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)</c> (and <c>RESOLVE_NO_XDEV</c> where the mount asks): the
/// host kernel, not a string check, keeps every open inside the mount, whatever <c>..</c>, symbolic links (absolute
/// or relative, planted or raced) or <c>/proc</c> magic links the path goes through.
/// </summary>
/// <remarks>Stateless: safe from several threads.</remarks>
internal static class Resolver
{
    public const int OpenReadOnly = 0;
    public const int OpenWriteOnly = 1;
    public const int OpenReadWrite = 2;
    public const int AccessModeMask = 3;
    public const int OpenCreate = 0x40;
    public const int OpenExclusive = 0x80;
    public const int OpenNoControllingTerminal = 0x100;
    public const int OpenTruncate = 0x200;
    public const int OpenAppend = 0x400;
    public const int OpenNonBlocking = 0x800;
    public const int OpenDataSync = 0x1000;
    public const int OpenAsync = 0x2000;
    public const int OpenDirect = 0x4000;
    public const int OpenLargeFile = 0x8000;
    public const int OpenDirectory = 0x10000;
    public const int OpenNoFollow = 0x20000;
    public const int OpenNoAccessTime = 0x40000;
    public const int OpenCloseOnExec = 0x80000;
    public const int OpenSync = 0x101000;
    public const int OpenPath = 0x200000;
    public const int OpenTemporary = 0x410000;

    /// <summary><c>RESOLVE_NO_XDEV</c>.</summary>
    public const long ResolveNoCrossDevice = 0x01;

    /// <summary><c>RESOLVE_NO_MAGICLINKS</c>.</summary>
    public const long ResolveNoMagicLinks = 0x02;

    /// <summary><c>RESOLVE_NO_SYMLINKS</c>.</summary>
    public const long ResolveNoSymbolicLinks = 0x04;

    /// <summary><c>RESOLVE_BENEATH</c>.</summary>
    public const long ResolveBeneath = 0x08;

    /// <summary><c>RESOLVE_IN_ROOT</c>.</summary>
    public const long ResolveInRoot = 0x10;

    /// <summary><c>RESOLVE_CACHED</c>.</summary>
    public const long ResolveCached = 0x20;

    /// <summary>The open flags the keep may pass; anything else (<c>O_ASYNC</c>'s SIGIO to Donjon) is dropped.</summary>
    public const int AllowedOpenFlags = AccessModeMask | OpenCreate | OpenExclusive | OpenNoControllingTerminal | OpenTruncate | OpenAppend |
        OpenNonBlocking | OpenSync | OpenDirect | OpenLargeFile | OpenDirectory | OpenNoFollow | OpenNoAccessTime | OpenCloseOnExec | OpenPath | OpenTemporary;

    /// <summary>
    /// Finds where <paramref name="path"/> leads, relative to <paramref name="directory"/> (<c>AT_FDCWD</c> or a
    /// keep descriptor) when it is relative.
    /// </summary>
    /// <returns>The location, or minus errno: <c>ENOENT</c> for an empty path or a session without a file system,
    /// <c>EBADF</c>/<c>ENOTDIR</c> for a bad <paramref name="directory"/>, <c>ENAMETOOLONG</c>.</returns>
    public static long Locate(IKeepSession session, int directory, ReadOnlySpan<byte> path, out Location? location)
    {
        location = null;
        if (session is not IKeepFileSystem fileSystem || fileSystem.Mounts.Count == 0)
        {
            return -Errno.ENOENT;
        }

        if (path.IsEmpty)
        {
            return -Errno.ENOENT;
        }

        if (path.Length >= KeepPaths.MaxPath)
        {
            return -Errno.ENAMETOOLONG;
        }

        string baseDirectory = "/";
        if (path[0] != (byte)'/')
        {
            if (directory == Kernel.CurrentDirectory)
            {
                baseDirectory = fileSystem.WorkingDirectory;
            }
            else if (directory < 0 || !session.Files.TryGet(directory, out IOpenFile? file))
            {
                return -Errno.EBADF;
            }
            else if (file is not KeepFile { IsDirectory: true, KeepPath: string keepPath })
            {
                return -Errno.ENOTDIR;
            }
            else
            {
                baseDirectory = keepPath;
            }
        }

        string? normalised = KeepPaths.Normalise(baseDirectory, path, out bool mustBeDirectory);
        if (normalised is null)
        {
            return -Errno.ENAMETOOLONG;
        }

        if (normalised.StartsWith("/dev/", StringComparison.Ordinal) && Array.IndexOf(Devices.Names, normalised[5..]) >= 0)
        {
            location = new Location(normalised, null, ".", mustBeDirectory, normalised[5..]);
            return 0;
        }

        foreach (KeepMount mount in fileSystem.Mounts)
        {
            if (KeepPaths.IsBeneath(mount.KeepPath, normalised, out string relative))
            {
                if (!mount.IsDirectory && relative != ".")
                {
                    return -Errno.ENOTDIR;
                }

                location = new Location(normalised, mount, relative, mustBeDirectory, null);
                return 0;
            }
        }

        return -Errno.ENOENT;
    }

    /// <summary>
    /// Opens <paramref name="location"/> (not a device) on the host with <paramref name="flags"/>, always
    /// <c>O_CLOEXEC</c>: beneath its mount with <c>openat2</c>, or, for a one-file mount, by reopening the mount's own
    /// descriptor. An escape (<c>EXDEV</c> from the kernel) is returned as <c>-EXDEV</c> for the caller to deny.
    /// </summary>
    /// <param name="location">Where to open.</param>
    /// <param name="flags">The host open flags.</param>
    /// <param name="mode">The mode of a new file.</param>
    /// <param name="resolve">More <c>RESOLVE_*</c> flags, from the keep's <c>openat2</c>: <c>RESOLVE_NO_SYMLINKS</c>, <c>RESOLVE_NO_XDEV</c>, <c>RESOLVE_CACHED</c>.</param>
    /// <returns>The new host descriptor, or minus errno.</returns>
    public static long Open(Location location, int flags, int mode, long resolve = 0)
    {
        KeepMount mount = location.Mount!;
        flags |= OpenCloseOnExec;
        if ((flags & OpenCreate) == 0 && (flags & OpenTemporary) != OpenTemporary)
        {
            mode = 0; // openat2 refuses a mode without O_CREAT or O_TMPFILE
        }

        if (!mount.IsDirectory)
        {
            if (location.MustBeDirectory || (flags & OpenDirectory) != 0)
            {
                return -Errno.ENOTDIR;
            }

            if ((flags & (OpenCreate | OpenExclusive)) == (OpenCreate | OpenExclusive))
            {
                return -Errno.EEXIST;
            }

            // The host's own magic link to the mount's descriptor, a path the host builds: never a keep string.
            return Kernel.OpenAt(Kernel.CurrentDirectory, KeepPaths.ToHost($"/proc/self/fd/{mount.Root.DangerousGetHandle()}"), flags & ~(OpenCreate | OpenNoFollow), 0);
        }

        return OpenBeneath((int)mount.Root.DangerousGetHandle(), location.HostRelative, mount, flags, mode, ResolveBeneath | resolve);
    }

    /// <summary>
    /// Opens <paramref name="relative"/> beneath host directory <paramref name="directory"/> (a mount's root, or a
    /// directory opened beneath it) with <c>openat2</c>, with <c>RESOLVE_NO_MAGICLINKS</c> and the mount's
    /// <c>RESOLVE_NO_XDEV</c> added to <paramref name="resolve"/>, which must hold <c>RESOLVE_BENEATH</c> or
    /// <c>RESOLVE_IN_ROOT</c>: either keeps the resolution beneath <paramref name="directory"/>, so beneath the mount.
    /// </summary>
    /// <returns>The new host descriptor (always <c>O_CLOEXEC</c>), or minus errno.</returns>
    public static long OpenBeneath(int directory, byte[] relative, KeepMount mount, int flags, int mode, long resolve)
    {
        if ((resolve & (ResolveBeneath | ResolveInRoot)) == 0)
        {
            throw new ArgumentException("resolve must confine the open (RESOLVE_BENEATH or RESOLVE_IN_ROOT)", nameof(resolve));
        }

        flags |= OpenCloseOnExec;
        if ((flags & OpenCreate) == 0 && (flags & OpenTemporary) != OpenTemporary)
        {
            mode = 0; // openat2 refuses a mode without O_CREAT or O_TMPFILE
        }

        resolve |= ResolveNoMagicLinks | (mount.SameFileSystem ? ResolveNoCrossDevice : 0);
        for (int attempt = 0; ; attempt++)
        {
            long result = Kernel.OpenAt2(directory, relative, flags, mode, resolve);

            // openat2 answers EAGAIN when a rename raced with a '..' it resolved beneath the root: try again, a few
            // times (an O_NONBLOCK open of a file under a lease answers EAGAIN too, and would only be tried again). Not
            // under RESOLVE_CACHED, whose EAGAIN is its own answer.
            if (result != -Errno.EAGAIN || attempt == 16 || (resolve & ResolveCached) != 0)
            {
                return result;
            }
        }
    }

    /// <summary>Opens <paramref name="location"/> as an <c>O_PATH</c> descriptor (following a final symbolic link unless <paramref name="noFollow"/>).</summary>
    public static long OpenPathOnly(Location location, bool noFollow, bool directory = false) =>
        Open(location, OpenPath | (noFollow ? OpenNoFollow : 0) | (directory ? OpenDirectory : 0), 0);

    /// <summary>
    /// Opens the directory that holds <paramref name="location"/>'s last name, beneath its mount, as an
    /// <c>O_PATH</c> descriptor; the name can then be created, removed or renamed in it without anything being followed.
    /// </summary>
    /// <param name="location">A location beneath a directory mount, other than the mount itself.</param>
    /// <param name="name">The last name, NUL-terminated, without <c>/</c>.</param>
    /// <returns>The parent's host descriptor, or minus errno.</returns>
    public static long OpenParent(Location location, out byte[] name)
    {
        string last = KeepPaths.Split(location.Relative, out string parent);
        name = KeepPaths.ToHost(last);
        return Open(location with { Relative = parent, MustBeDirectory = false }, OpenPath | OpenDirectory, 0);
    }

    /// <summary>The host path of a host descriptor's magic link, built by the host: <c>/proc/self/fd/N</c>.</summary>
    public static byte[] ProcPath(long hostDescriptor) => KeepPaths.ToHost($"/proc/self/fd/{hostDescriptor}");
}
