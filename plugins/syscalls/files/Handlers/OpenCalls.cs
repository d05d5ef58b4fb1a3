using System.Security.Cryptography;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>
/// <c>open</c>, <c>openat</c> and <c>creat</c>: the policy's checks (<c>EROFS</c> for any write-mode open,
/// <c>O_CREAT</c>, <c>O_TRUNC</c> or <c>O_TMPFILE</c> beneath a read-only mount; <c>EACCES</c> for reading beneath a
/// write-only one), then the host's <c>openat2</c> beneath the mount, and the new host descriptor enters the keep's table.
/// </summary>
internal static class OpenCalls
{
    private const int StatModeOffset = 24;
    private const int DirectoryType = 0x4000;

    /// <summary><c>open(path, flags, mode)</c>.</summary>
    public static SyscallResult Open(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        OpenAt(request, session, -1, 0, request.Int32(1), request.Int32(2), cancellationToken);

    /// <summary><c>openat(dirfd, path, flags, mode)</c>.</summary>
    public static SyscallResult OpenAt(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        OpenAt(request, session, 0, 1, request.Int32(2), request.Int32(3), cancellationToken);

    /// <summary><c>creat(path, mode)</c> = <c>open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)</c>.</summary>
    public static SyscallResult Create(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        OpenAt(request, session, -1, 0, Resolver.OpenCreate | Resolver.OpenWriteOnly | Resolver.OpenTruncate, request.Int32(1), cancellationToken);

    private static SyscallResult OpenAt(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, int flags, int mode, CancellationToken cancellationToken)
    {
        if (!Paths.TryLocate(request, session, directoryIndex, pathIndex, out Location location, out SyscallResult error))
        {
            return error;
        }

        return OpenLocation(session, location, flags, mode, cancellationToken);
    }

    /// <summary>
    /// Opens <paramref name="location"/> for the keep: the policy's checks, the host's open (by
    /// <paramref name="hostOpen"/>, given the host flags and mode, or else <see cref="Resolver.Open"/> beneath the
    /// mount), a FIFO's wait, a pinned digest, and the keep's new number.
    /// </summary>
    /// <param name="session">The keep.</param>
    /// <param name="location">Where the keep's path leads.</param>
    /// <param name="flags">The keep's open flags.</param>
    /// <param name="mode">The keep's mode for a new file.</param>
    /// <param name="cancellationToken">Interrupts a FIFO's wait.</param>
    /// <param name="hostOpen">Opens the location on the host, or <see langword="null"/> for <see cref="Resolver.Open"/>.</param>
    /// <param name="escapesAreErrors">Whether the host's <c>EXDEV</c> is the keep's own resolve flags' answer (<c>openat2</c>), not an escape from the mount to deny as <c>ENOENT</c>.</param>
    public static SyscallResult OpenLocation(IKeepSession session, Location location, int flags, int mode, CancellationToken cancellationToken,
        Func<int, int, long>? hostOpen = null, bool escapesAreErrors = false)
    {
        SyscallResult error;
        hostOpen ??= (hostFlags, hostMode) => Resolver.Open(location, hostFlags, hostMode);
        flags &= Resolver.AllowedOpenFlags;
        if ((flags & Resolver.OpenPath) != 0)
        {
            // O_PATH ignores every other flag but these, and openat2 refuses the others.
            flags &= Resolver.OpenPath | Resolver.OpenDirectory | Resolver.OpenNoFollow | Resolver.OpenCloseOnExec;
        }

        bool closeOnExec = (flags & Resolver.OpenCloseOnExec) != 0;
        int access = flags & Resolver.AccessModeMask;
        if (access == 3 && (flags & Resolver.OpenPath) == 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (location.Device is string device)
        {
            return OpenDevice(session, location, device, flags, closeOnExec);
        }

        bool pathOnly = (flags & Resolver.OpenPath) != 0;
        bool writes = !pathOnly && (access != Resolver.OpenReadOnly || (flags & (Resolver.OpenCreate | Resolver.OpenTruncate)) != 0 ||
            (flags & Resolver.OpenTemporary) == Resolver.OpenTemporary);
        if (writes && !Paths.MayWrite(session, "open", location, out error))
        {
            return error;
        }

        if (!pathOnly && access != Resolver.OpenWriteOnly && !location.IsReadable)
        {
            Denials.Of(session).WriteOnly(session, "open", location);
            return SyscallResult.Error(Errno.EACCES);
        }

        int umask = session is IKeepFileSystem fileSystem ? fileSystem.Umask : 0x12;

        // A blocking open of a FIFO for reading or for writing waits for the other end. The host never waits in a
        // plain open (nothing could interrupt it): it opens with O_NONBLOCK, and only a FIFO then waits (Fifo.Open).
        bool mayWait = !pathOnly && access != Resolver.OpenReadWrite && (flags & Resolver.OpenNonBlocking) == 0 &&
            (flags & Resolver.OpenTemporary) != Resolver.OpenTemporary;

        // O_NOCTTY is no O_PATH flag: openat2 refuses it there (EINVAL), as it refuses any other.
        int hostFlags = (pathOnly ? flags : flags | Resolver.OpenNoControllingTerminal) | (mayWait ? Resolver.OpenNonBlocking : 0);
        long opened = hostOpen(hostFlags, mode & 0xFFF & ~umask);
        if (mayWait)
        {
            opened = Fifo.Settle(hostOpen, opened, flags, cancellationToken);
        }

        if (opened < 0)
        {
            return SyscallResult.Error(opened == -Errno.EXDEV && escapesAreErrors ? Errno.EXDEV : (int)-Paths.Answer(session, "open", location, opened, writes));
        }

        int host = (int)opened;
        if (location.Mount!.Sha256 is string expected && !pathOnly && !MatchesDigest(session, location, host, expected))
        {
            Kernel.Close(host);
            return SyscallResult.Error(Errno.EACCES);
        }

        Span<byte> stat = stackalloc byte[Kernel.StatSize];
        bool isDirectory = Kernel.FStat(host, stat) == 0 && (BitConverterLittle(stat[StatModeOffset..]) & 0xF000) == DirectoryType;
        var file = new KeepFile(host, KeepPaths.Display(location.KeepPath), location.KeepPath, location.Mount, isDirectory);
        return Enter(session, file, closeOnExec);
    }

    /// <summary>Puts <paramref name="file"/> at the lowest free number (with <c>FD_CLOEXEC</c> when asked); <c>EMFILE</c> when the table is full.</summary>
    public static SyscallResult Enter(IKeepSession session, IOpenFile file, bool closeOnExec)
    {
        int descriptor = session.Files.Add(file);
        if (descriptor < 0)
        {
            file.Dispose();
            return SyscallResult.Error(Errno.EMFILE);
        }

        if (closeOnExec && session.Files is IDescriptorFlags flags)
        {
            flags.SetDescriptorFlags(descriptor, 1);
        }

        return SyscallResult.Success(descriptor);
    }

    private static SyscallResult OpenDevice(IKeepSession session, Location location, string device, int flags, bool closeOnExec)
    {
        if (location.MustBeDirectory || (flags & Resolver.OpenDirectory) != 0)
        {
            return SyscallResult.Error(Errno.ENOTDIR);
        }

        if ((flags & (Resolver.OpenCreate | Resolver.OpenExclusive)) == (Resolver.OpenCreate | Resolver.OpenExclusive))
        {
            return SyscallResult.Error(Errno.EEXIST);
        }

        int stdio = Devices.StdioDescriptor(device);
        if (stdio >= 0)
        {
            // /dev/stdout is the keep's descriptor 1, shared as dup shares it.
            if (!session.Files.TryGet(stdio, out IOpenFile? shared))
            {
                return SyscallResult.Error(Errno.ENOENT);
            }

            int descriptor = session.Files.Add(shared);
            if (descriptor < 0)
            {
                return SyscallResult.Error(Errno.EMFILE);
            }

            if (closeOnExec && session.Files is IDescriptorFlags descriptorFlags)
            {
                descriptorFlags.SetDescriptorFlags(descriptor, 1);
            }

            return SyscallResult.Success(descriptor);
        }

        int hostFlags = (flags & (Resolver.AccessModeMask | Resolver.OpenNonBlocking | Resolver.OpenAppend | Resolver.OpenPath)) |
            Resolver.OpenCloseOnExec | Resolver.OpenNoControllingTerminal;
        long opened = Kernel.OpenAt(Kernel.CurrentDirectory, Devices.HostPath(device), hostFlags, 0);
        return opened < 0
            ? SyscallResult.Error((int)-opened)
            : Enter(session, new KeepFile((int)opened, "/dev/" + device, location.KeepPath, null, isDirectory: false), closeOnExec);
    }

    /// <summary>Whether the file just opened has the pinned digest; reads it through its own descriptor, so what is checked is what was opened.</summary>
    private static bool MatchesDigest(IKeepSession session, Location location, int host, string expected)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 20];
        long offset = 0;
        while (true)
        {
            long read = Kernel.PRead(host, buffer, offset);
            if (read < 0)
            {
                session.Logger.LogFileError(location, read);
                return false;
            }

            if (read == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, (int)read);
            offset += read;
        }

        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual == expected)
        {
            return true;
        }

        Denials.DigestMismatch(session, location, actual);
        return false;
    }

    private static uint BitConverterLittle(ReadOnlySpan<byte> bytes) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);
}

/// <summary>Log helpers of the set.</summary>
internal static class FileLog
{
    /// <summary>A pinned file that cannot be read to check its digest.</summary>
    public static void LogFileError(this Microsoft.Extensions.Logging.ILogger logger, Location location, long errno) =>
        Microsoft.Extensions.Logging.LoggerExtensions.LogError(logger, "denied open of {Path}: {HostPath} cannot be read to check its SHA-256 (errno {Errno}) (EACCES)",
            KeepPaths.Display(location.KeepPath), location.Mount!.HostPath, -errno);
}
