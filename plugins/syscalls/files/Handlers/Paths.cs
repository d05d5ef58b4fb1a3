using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>What the path calls share: locating a keep path, the policy's checks, and turning a host answer into the keep's.</summary>
internal static class Paths
{
    /// <summary>Locates C-string argument <paramref name="pathIndex"/> relative to descriptor argument <paramref name="directoryIndex"/> (or the working directory when -1).</summary>
    public static bool TryLocate(SyscallRequest request, IKeepSession session, int directoryIndex, int pathIndex, out Location location, out SyscallResult error)
    {
        if (request.Input(pathIndex).IsEmpty)
        {
            location = null!;
            error = SyscallResult.Error(Errno.EFAULT); // a NULL path
            return false;
        }

        int directory = directoryIndex < 0 ? Kernel.CurrentDirectory : request.Int32(directoryIndex);
        long result = Resolver.Locate(session, directory, request.CString(pathIndex), out Location? found);
        if (result < 0)
        {
            location = null!;
            error = SyscallResult.Error((int)-result);
            return false;
        }

        location = found!;
        error = null!;
        return true;
    }

    /// <summary>Whether <paramref name="location"/> may be changed; otherwise <paramref name="error"/> is <c>EROFS</c> and the denial is logged.</summary>
    public static bool MayWrite(IKeepSession session, string operation, Location location, out SyscallResult error)
    {
        if (location.Device is null && location.IsWritable)
        {
            error = null!;
            return true;
        }

        if (location.Device is null)
        {
            Denials.Of(session).ReadOnly(session, operation, location);
        }

        error = SyscallResult.Error(Errno.EROFS);
        return false;
    }

    /// <summary>
    /// The keep's answer for a host result of an operation on <paramref name="location"/>: an escape refused by the
    /// kernel (<c>EXDEV</c> from <c>openat2</c>) becomes <c>ENOENT</c>, and both it and an absence outside every
    /// grant are logged as denials.
    /// </summary>
    public static long Answer(IKeepSession session, string operation, Location location, long result, bool write = false)
    {
        if (result == -Errno.EXDEV && location.Mount is not null)
        {
            Denials.Of(session).Escape(session, operation, location);
            return -Errno.ENOENT;
        }

        if (result == -Errno.ENOENT && location.IsUngranted)
        {
            Denials.Of(session).Ungranted(session, operation, location, write);
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a host descriptor for <paramref name="location"/>: the stdio descriptor's
    /// own, a host device's, or an <c>O_PATH</c> one opened beneath the mount (closed afterwards).
    /// </summary>
    public static long WithPath(IKeepSession session, string operation, Location location, bool noFollow, Func<int, long> action, bool directory = false)
    {
        if (location.Device is string device)
        {
            if (location.MustBeDirectory || directory)
            {
                return -Errno.ENOTDIR;
            }

            int stdio = Devices.StdioDescriptor(device);
            if (stdio >= 0)
            {
                return session.Files.TryGet(stdio, out IOpenFile? file) ? action(file.HostDescriptor) : -Errno.ENOENT;
            }

            long opened = Kernel.OpenAt(Kernel.CurrentDirectory, Devices.HostPath(device), Resolver.OpenPath | Resolver.OpenCloseOnExec, 0);
            return opened < 0 ? opened : Closing((int)opened, action);
        }

        long descriptor = Resolver.OpenPathOnly(location, noFollow, directory);
        if (descriptor < 0)
        {
            return Answer(session, operation, location, descriptor);
        }

        return Closing((int)descriptor, action);
    }

    /// <summary>
    /// Runs <paramref name="action"/> with the <c>O_PATH</c> descriptor of <paramref name="location"/>'s parent and
    /// its last name (NUL-terminated), for the calls that create, remove or rename a name without following it.
    /// </summary>
    public static long WithParent(IKeepSession session, string operation, Location location, Func<int, byte[], long> action)
    {
        long parent = Resolver.OpenParent(location, out byte[] name);
        if (parent < 0)
        {
            return Answer(session, operation, location, parent);
        }

        try
        {
            return action((int)parent, name);
        }
        finally
        {
            Kernel.Close((int)parent);
        }
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="descriptor"/>, then closes it.</summary>
    public static long Closing(int descriptor, Func<int, long> action)
    {
        try
        {
            return action(descriptor);
        }
        finally
        {
            Kernel.Close(descriptor);
        }
    }

    /// <summary>The result for a host value or minus errno, without output.</summary>
    public static SyscallResult From(long result) => RequestReader.FromHost(result);
}
