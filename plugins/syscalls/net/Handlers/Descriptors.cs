using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Net.Handlers;

/// <summary>The keep's descriptors as the net set sees them: lookups that answer as Linux does, and new entries.</summary>
internal static class Descriptors
{
    /// <summary>The socket behind keep descriptor <paramref name="descriptor"/>: <c>EBADF</c> when it is not open, <c>ENOTSOCK</c> when it is no socket.</summary>
    public static bool TryGetSocket(IKeepSession session, int descriptor, out KeepSocket socket, out SyscallResult error)
    {
        socket = null!;
        if (!session.Files.TryGet(descriptor, out IOpenFile? file))
        {
            error = SyscallResult.Error(Errno.EBADF);
            return false;
        }

        if (file is not KeepSocket { Kind: NetObjectKind.Socket } found)
        {
            error = SyscallResult.Error(Errno.ENOTSOCK);
            return false;
        }

        socket = found;
        error = null!;
        return true;
    }

    /// <summary>
    /// Gives <paramref name="file"/> the lowest free keep number, with <c>FD_CLOEXEC</c> when <paramref name="closeOnExec"/>;
    /// -1 (and the file disposed) when the table is full.
    /// </summary>
    public static int Add(IKeepSession session, KeepSocket file, bool closeOnExec)
    {
        int descriptor = session.Files.Add(file);
        if (descriptor < 0)
        {
            file.Dispose();
            return -1;
        }

        if (closeOnExec)
        {
            (session.Files as IDescriptorFlags)?.SetDescriptorFlags(descriptor, 1);
        }

        return descriptor;
    }

    /// <summary>The result of adding a file the host just made: its keep number, or <c>EMFILE</c>.</summary>
    public static SyscallResult AddResult(IKeepSession session, KeepSocket file, bool closeOnExec)
    {
        int descriptor = Add(session, file, closeOnExec);
        return descriptor < 0 ? SyscallResult.Error(Errno.EMFILE) : SyscallResult.Success(descriptor);
    }
}
