using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>
/// <c>openat2(dirfd, path, how, size)</c> inside the keep's view: <c>struct open_how</c> checked as Linux checks it,
/// and its <c>RESOLVE_*</c> flags honoured relative to the keep's own <c>dirfd</c>, on top of the mount's own
/// confinement (which always applies). See the plugin's README.
/// </summary>
internal static class OpenHowCalls
{
    /// <summary><c>OPEN_HOW_SIZE_VER0</c>: <c>flags</c>, <c>mode</c>, <c>resolve</c>, three u64.</summary>
    public const int HowSize = 24;

    /// <summary>The largest <c>size</c> Linux takes (<c>PAGE_SIZE</c>); larger is <c>E2BIG</c>.</summary>
    public const int MaxHowSize = 4096;

    /// <summary>Linux's <c>VALID_OPEN_FLAGS</c> on x86-64.</summary>
    private const long ValidOpenFlags = Resolver.AccessModeMask | Resolver.OpenCreate | Resolver.OpenExclusive | Resolver.OpenNoControllingTerminal |
        Resolver.OpenTruncate | Resolver.OpenAppend | Resolver.OpenNonBlocking | Resolver.OpenSync | Resolver.OpenDataSync | Resolver.OpenAsync |
        Resolver.OpenDirect | Resolver.OpenLargeFile | Resolver.OpenDirectory | Resolver.OpenNoFollow | Resolver.OpenNoAccessTime |
        Resolver.OpenCloseOnExec | Resolver.OpenPath | Resolver.OpenTemporary;

    /// <summary>Linux's <c>VALID_RESOLVE_FLAGS</c>.</summary>
    private const long ValidResolveFlags = Resolver.ResolveNoCrossDevice | Resolver.ResolveNoMagicLinks | Resolver.ResolveNoSymbolicLinks |
        Resolver.ResolveBeneath | Resolver.ResolveInRoot | Resolver.ResolveCached;

    /// <summary>The flags an <c>O_PATH</c> open may carry (<c>O_PATH_FLAGS</c>).</summary>
    private const long PathFlags = Resolver.OpenPath | Resolver.OpenDirectory | Resolver.OpenNoFollow | Resolver.OpenCloseOnExec;

    /// <summary><c>__O_TMPFILE</c> alone, without the <c>O_DIRECTORY</c> bit <c>O_TMPFILE</c> includes.</summary>
    private const long TemporaryBit = 0x400000;

    /// <summary><c>S_IALLUGO</c>: the mode bits a new file may have.</summary>
    private const long ModeBits = 0xFFF;

    /// <summary>Handles the call.</summary>
    public static SyscallResult OpenAt2(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        ulong size = request.Argument(3);
        if (size < HowSize)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (size > MaxHowSize)
        {
            return SyscallResult.Error(Errno.E2BIG);
        }

        ReadOnlySpan<byte> how = request.Input(2).Span;
        if ((ulong)how.Length != size)
        {
            return SyscallResult.Error(Errno.EFAULT);   // a NULL how, or one the shim could not carry whole
        }

        if (how[HowSize..].IndexOfAnyExcept((byte)0) >= 0)
        {
            return SyscallResult.Error(Errno.E2BIG);    // a newer open_how whose extension this kernel (Donjon) does not know
        }

        long flags = BinaryPrimitives.ReadInt64LittleEndian(how);
        long mode = BinaryPrimitives.ReadInt64LittleEndian(how[8..]);
        long resolve = BinaryPrimitives.ReadInt64LittleEndian(how[16..]);
        int checkedFlags = Check(flags, mode, resolve);
        if (checkedFlags != 0)
        {
            return SyscallResult.Error(checkedFlags);
        }

        if (request.Input(1).IsEmpty)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        ReadOnlySpan<byte> path = request.CString(1);
        if (path.IsEmpty)
        {
            return SyscallResult.Error(Errno.ENOENT);
        }

        return (resolve & (Resolver.ResolveBeneath | Resolver.ResolveInRoot)) != 0
            ? Confined(session, request.Int32(0), path, (int)flags, (int)mode, resolve, cancellationToken)
            : Unconfined(session, request.Int32(0), path, (int)flags, (int)mode, resolve, cancellationToken);
    }

    /// <summary>Linux's <c>build_open_flags</c> checks of an <c>open_how</c>: 0, or the errno.</summary>
    private static int Check(long flags, long mode, long resolve)
    {
        if ((flags & ~ValidOpenFlags) != 0 || (resolve & ~ValidResolveFlags) != 0 || (mode & ~ModeBits) != 0)
        {
            return Errno.EINVAL;
        }

        bool creates = (flags & Resolver.OpenCreate) != 0 || (flags & TemporaryBit) != 0;
        if (!creates && mode != 0)
        {
            return Errno.EINVAL;
        }

        if ((resolve & (Resolver.ResolveBeneath | Resolver.ResolveInRoot)) == (Resolver.ResolveBeneath | Resolver.ResolveInRoot))
        {
            return Errno.EINVAL;
        }

        if ((flags & Resolver.OpenPath) != 0 && (flags & ~PathFlags) != 0)
        {
            return Errno.EINVAL;
        }

        if ((flags & TemporaryBit) != 0 &&
            ((flags & (Resolver.OpenTemporary | Resolver.OpenCreate)) != Resolver.OpenTemporary || (flags & Resolver.AccessModeMask) == Resolver.OpenReadOnly))
        {
            return Errno.EINVAL;
        }

        if ((resolve & Resolver.ResolveCached) != 0 && (flags & (Resolver.OpenCreate | Resolver.OpenTruncate | TemporaryBit)) != 0)
        {
            return Errno.EAGAIN;
        }

        return 0;
    }

    /// <summary>Without <c>RESOLVE_BENEATH</c> or <c>RESOLVE_IN_ROOT</c>: as <c>openat</c>, with the other resolve flags.</summary>
    private static SyscallResult Unconfined(IKeepSession session, int directory, ReadOnlySpan<byte> path, int flags, int mode, long resolve, CancellationToken cancellationToken)
    {
        long found = Resolver.Locate(session, directory, path, out Location? location);
        if (found < 0)
        {
            return SyscallResult.Error((int)-found);
        }

        if ((resolve & Resolver.ResolveNoCrossDevice) != 0)
        {
            // The walk starts at the root for an absolute path, else at the dirfd (or the working directory).
            long start = path[0] == (byte)'/' ? Resolver.Locate(session, Kernel.CurrentDirectory, "/"u8, out Location? from)
                : Resolver.Locate(session, directory, "."u8, out from);
            if (start < 0)
            {
                return SyscallResult.Error((int)-start);
            }

            if (CrossesMount(from!, location!))
            {
                return SyscallResult.Error(Errno.EXDEV);
            }
        }

        long extra = resolve & (Resolver.ResolveNoCrossDevice | Resolver.ResolveNoSymbolicLinks | Resolver.ResolveCached);
        Location target = location!;
        return OpenCalls.OpenLocation(session, target, flags, mode, cancellationToken,
            (hostFlags, hostMode) => Resolver.Open(target, hostFlags, hostMode, extra), escapesAreErrors: (extra & Resolver.ResolveNoCrossDevice) != 0);
    }

    /// <summary>
    /// With <c>RESOLVE_BENEATH</c> or <c>RESOLVE_IN_ROOT</c>: the path is taken lexically beneath the starting
    /// directory (an absolute path or a <c>..</c> above it is <c>EXDEV</c> under <c>RESOLVE_BENEATH</c>, and stays
    /// there under <c>RESOLVE_IN_ROOT</c>); then, when the target is in the starting directory's own mount, the host
    /// resolves it beneath a descriptor of that directory with the keep's flag, so a symbolic link cannot leave the
    /// keep's starting directory either. A target in another mount (one mounted beneath the starting directory) is
    /// confined by that mount, which lies beneath the starting directory too.
    /// </summary>
    private static SyscallResult Confined(IKeepSession session, int directory, ReadOnlySpan<byte> path, int flags, int mode, long resolve, CancellationToken cancellationToken)
    {
        long started = Resolver.Locate(session, directory, "."u8, out Location? start);
        if (started < 0)
        {
            return SyscallResult.Error((int)-started);
        }

        bool inRoot = (resolve & Resolver.ResolveInRoot) != 0;
        string relative = KeepPaths.Beneath(path, inRoot, out bool mustBeDirectory, out bool escapes);
        if (escapes)
        {
            return SyscallResult.Error(Errno.EXDEV);
        }

        string keepPath = start!.KeepPath == "/" ? "/" + relative : relative.Length == 0 ? start.KeepPath : start.KeepPath + "/" + relative;
        byte[] keepBytes = KeepPaths.ToHost(keepPath + (mustBeDirectory ? "/" : string.Empty));
        long found = Resolver.Locate(session, Kernel.CurrentDirectory, keepBytes.AsSpan(0, keepBytes.Length - 1), out Location? location);
        if (found < 0)
        {
            return SyscallResult.Error((int)-found);
        }

        Location target = location!;
        if ((resolve & Resolver.ResolveNoCrossDevice) != 0 && CrossesMount(start, target))
        {
            return SyscallResult.Error(Errno.EXDEV);
        }

        long confine = resolve & (Resolver.ResolveNoCrossDevice | Resolver.ResolveNoSymbolicLinks | Resolver.ResolveCached | Resolver.ResolveBeneath | Resolver.ResolveInRoot);
        if (target.Device is null && start.Mount is { IsDirectory: true } mount && ReferenceEquals(mount, target.Mount))
        {
            // Beneath a descriptor of the starting directory itself, opened beneath the mount.
            byte[] beneath = KeepPaths.ToHost(relative.Length == 0 ? "." : mustBeDirectory ? relative + "/" : relative);
            return OpenCalls.OpenLocation(session, target, flags, mode, cancellationToken, (hostFlags, hostMode) =>
            {
                long floor = Resolver.OpenPathOnly(start, noFollow: false, directory: true);
                return floor < 0 ? floor : Paths.Closing((int)floor, descriptor => Resolver.OpenBeneath(descriptor, beneath, mount, hostFlags, hostMode, confine));
            }, escapesAreErrors: true);
        }

        long extra = confine & ~(Resolver.ResolveBeneath | Resolver.ResolveInRoot);
        return OpenCalls.OpenLocation(session, target, flags, mode, cancellationToken,
            (hostFlags, hostMode) => Resolver.Open(target, hostFlags, hostMode, extra), escapesAreErrors: true);
    }

    /// <summary>Whether going from <paramref name="from"/> to <paramref name="to"/> crosses a keep mount (a device is a mount of its own, as <c>/dev</c> is).</summary>
    private static bool CrossesMount(Location from, Location to) =>
        to.Device is not null || from.Device is not null || !ReferenceEquals(from.Mount, to.Mount);
}
