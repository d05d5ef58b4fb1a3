using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files.Handlers;

/// <summary>
/// The files set's calls on descriptors: <c>getdents64</c>, <c>fcntl</c>, <c>pipe</c>/<c>pipe2</c>,
/// <c>close_range</c>, <c>fsync</c>, <c>fdatasync</c>, <c>ftruncate</c>, <c>fallocate</c>, <c>flock</c>,
/// <c>fadvise64</c>, <c>fchmod</c>, <c>preadv</c>/<c>pwritev</c>, <c>sendfile</c>, <c>copy_file_range</c>; and the
/// working directory and mask: <c>getcwd</c>, <c>chdir</c>, <c>fchdir</c>, <c>umask</c>. Each runs the real host
/// call on the descriptor's host descriptor, so the kernel's answers reach the keep unchanged.
/// </summary>
internal static class DescriptorCalls
{
    private const int DuplicateCommand = 0, GetDescriptorFlags = 1, SetDescriptorFlags = 2, GetStatusFlags = 3, SetStatusFlags = 4;
    private const int DuplicateCloseOnExec = 1030, SetPipeSize = 1031, GetPipeSize = 1032;

    /// <summary>The record lock commands: <c>F_GETLK</c>, <c>F_SETLK</c>, <c>F_SETLKW</c>, <c>F_OFD_GETLK</c>, <c>F_OFD_SETLK</c>, <c>F_OFD_SETLKW</c>.</summary>
    internal const int GetLock = 5, SetLock = 6, SetLockWait = 7, OpenFileGetLock = 36, OpenFileSetLock = 37, OpenFileSetLockWait = 38;

    /// <summary>The size of <c>struct flock</c> on x86-64, and where its <c>l_pid</c> is.</summary>
    internal const int FlockSize = 32, FlockPidOffset = 24;

    /// <summary>The pid the keep sees as its own (<c>getpid</c> in the core set).</summary>
    private const int KeepProcessId = 1;

    /// <summary>The longest pause between two tries of a waiting lock.</summary>
    private static readonly TimeSpan MaxLockPause = TimeSpan.FromMilliseconds(20);

    /// <summary>The status flags <c>F_SETFL</c> may change; <c>O_ASYNC</c> (SIGIO to Donjon) is not one of them here.</summary>
    private const int SettableStatusFlags = Resolver.OpenAppend | Resolver.OpenNonBlocking | Resolver.OpenNoAccessTime | Resolver.OpenDirect;

    private const int PipeFlags = Resolver.OpenNonBlocking | Resolver.OpenCloseOnExec | Resolver.OpenDirect;

    private const int CloseRangeUnshare = 2, CloseRangeCloseOnExec = 4;

    /// <summary><c>getdents64(fd, dirp, count)</c>.</summary>
    public static SyscallResult GetDents64(SyscallRequest request, IKeepSession session) =>
        GetDents64(request, session, Memory<byte>.Empty);

    /// <summary><c>getdents64(fd, dirp, count)</c> into <paramref name="room"/>, the call's output room in the shared block (empty: a buffer of its own).</summary>
    public static SyscallResult GetDents64(SyscallRequest request, IKeepSession session, Memory<byte> room)
    {
        if (!TryHost(session, request.Int32(0), out int host, out _))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        int count = request.OutputCount(1, 2);
        Memory<byte> buffer = OwnOrRoom(room, count);
        long result = Kernel.GetDents64(host, buffer.Span);
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(result, 1, buffer[..(int)Math.Min(result, count)]);
    }

    /// <summary>
    /// The first <paramref name="count"/> bytes of the call's output room when the host gave one (the kernel writes
    /// straight into the shared block, no copy after), else a buffer of the call's own: with several keep threads served
    /// at once, a buffer shared between calls could be overwritten before the host copies it.
    /// </summary>
    private static Memory<byte> OwnOrRoom(Memory<byte> room, int count) =>
        room.Length >= count ? room[..count] : new byte[count];

    /// <summary>
    /// <c>fcntl(fd, cmd, arg)</c>: <c>F_DUPFD</c>, <c>F_DUPFD_CLOEXEC</c>, <c>F_GETFD</c>, <c>F_SETFD</c>, <c>F_GETFL</c>,
    /// <c>F_SETFL</c> (<c>O_APPEND</c>, <c>O_NONBLOCK</c>, <c>O_NOATIME</c>, <c>O_DIRECT</c>), <c>F_GETPIPE_SZ</c>,
    /// <c>F_SETPIPE_SZ</c>, and the record locks (<see cref="RecordLock"/>); every other command is <c>EINVAL</c>.
    /// </summary>
    public static SyscallResult Fcntl(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        int descriptor = request.Int32(0);
        if (!TryHost(session, descriptor, out int host, out IOpenFile? file))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        int command = request.Int32(1);
        int argument = request.Int32(2);
        switch (command)
        {
            case GetLock or SetLock or SetLockWait or OpenFileGetLock or OpenFileSetLock or OpenFileSetLockWait:
                return RecordLock(request, host, command, cancellationToken);
            case DuplicateCommand or DuplicateCloseOnExec:
                if (argument < 0)
                {
                    return SyscallResult.Error(Errno.EINVAL);
                }

                int added = session.Files.Add(file!, argument);
                if (added < 0)
                {
                    return SyscallResult.Error(argument >= LimitOf(session) ? Errno.EINVAL : Errno.EMFILE);
                }

                if (command == DuplicateCloseOnExec && session.Files is IDescriptorFlags flagsTable)
                {
                    flagsTable.SetDescriptorFlags(added, 1);
                }

                return SyscallResult.Success(added);
            case GetDescriptorFlags:
                return SyscallResult.Success(session.Files is IDescriptorFlags table ? Math.Max(0, table.GetDescriptorFlags(descriptor)) : 0);
            case SetDescriptorFlags:
                if (session.Files is IDescriptorFlags settable)
                {
                    settable.SetDescriptorFlags(descriptor, argument);
                }

                return SyscallResult.Success(0);
            case GetStatusFlags:
                return Paths.From(Kernel.Call(72, host, GetStatusFlags));
            case SetStatusFlags:
                long current = Kernel.Call(72, host, GetStatusFlags);
                if (current < 0)
                {
                    return SyscallResult.Error((int)-current);
                }

                long wanted = (current & ~(long)SettableStatusFlags & ~(long)Resolver.OpenAsync) | (long)(uint)(argument & SettableStatusFlags);
                return Paths.From(Kernel.Call(72, host, SetStatusFlags, wanted));
            case GetPipeSize or SetPipeSize:
                return Paths.From(Kernel.Call(72, host, command, argument));
            default:
                return SyscallResult.Error(Errno.EINVAL);
        }
    }

    /// <summary>
    /// The record locks (configuration page 1.5 gives <c>fcntl</c>'s third argument the shape of a 32-byte
    /// <c>struct flock</c> for these commands): <c>F_GETLK</c>, <c>F_SETLK</c>, <c>F_SETLKW</c> and the open file
    /// description forms <c>F_OFD_GETLK</c>, <c>F_OFD_SETLK</c>, <c>F_OFD_SETLKW</c>, made on the host descriptor, so the
    /// keep's locks are the kernel's and contend with every other process's; the kernel checks <c>l_type</c>,
    /// <c>l_whence</c>, <c>l_start</c>, <c>l_len</c> and (OFD) <c>l_pid</c> as it always does. A NULL pointer is
    /// <c>EFAULT</c>. <c>F_GETLK</c> reports a POSIX lock of the keep itself with <c>l_pid</c> 1 (the keep's <c>getpid</c>)
    /// and a holder outside the keep with 0, as Linux reports a holder outside the caller's pid namespace (an OFD lock's
    /// is -1, as on Linux). A waiting lock (<c>F_SETLKW</c>,
    /// <c>F_OFD_SETLKW</c>) is retried without blocking the host thread for long, so a forwarded signal interrupts it
    /// (<c>EINTR</c>, or a restart under <c>SA_RESTART</c>); it never answers <c>EDEADLK</c> and does not queue.
    /// </summary>
    private static SyscallResult RecordLock(SyscallRequest request, int host, int command, CancellationToken cancellationToken)
    {
        ReadOnlySpan<byte> untrustedLock = request.Input(2).Span;
        if (untrustedLock.Length != FlockSize)
        {
            return SyscallResult.Error(Errno.EFAULT); // a NULL struct flock * (the shim sends no buffer)
        }

        byte[] flock = untrustedLock.ToArray();
        if (command is GetLock or OpenFileGetLock)
        {
            long got = Kernel.RecordLock(host, command, flock);
            if (got < 0)
            {
                return SyscallResult.Error((int)-got);
            }

            int holder = BinaryPrimitives.ReadInt32LittleEndian(flock.AsSpan(FlockPidOffset));
            if (holder > 0)
            {
                // The host process is the keep (its POSIX locks are the keep's): the keep's own pid, 1. Any other holder is
                // outside the keep: 0, as Linux reports a holder outside the caller's pid namespace.
                BinaryPrimitives.WriteInt32LittleEndian(flock.AsSpan(FlockPidOffset), holder == Environment.ProcessId ? KeepProcessId : 0);
            }

            return request.Output(0, 2, flock);
        }

        if (command is SetLock or OpenFileSetLock)
        {
            return Paths.From(Kernel.RecordLock(host, command, flock));
        }

        // F_SETLKW, F_OFD_SETLKW: the non-waiting form, again and again, until it is granted, fails otherwise, or a
        // forwarded signal cancels the token (the executor then answers -ERESTARTSYS).
        int immediate = command == SetLockWait ? SetLock : OpenFileSetLock;
        TimeSpan pause = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long result = Kernel.RecordLock(host, immediate, flock);
            if (result != -Errno.EAGAIN && result != -Errno.EACCES)
            {
                return Paths.From(result);
            }

            if (!cancellationToken.CanBeCanceled)
            {
                return Paths.From(Kernel.RecordLock(host, command, flock)); // nothing can interrupt it: the kernel's own wait
            }

            cancellationToken.WaitHandle.WaitOne(pause);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxLockPause.Ticks));
        }
    }

    /// <summary><c>pipe(fds)</c>.</summary>
    public static SyscallResult Pipe(SyscallRequest request, IKeepSession session) => MakePipe(request, session, 0);

    /// <summary><c>pipe2(fds, flags)</c>: <c>O_NONBLOCK</c>, <c>O_CLOEXEC</c>, <c>O_DIRECT</c>.</summary>
    public static SyscallResult Pipe2(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(1);
        return (flags & ~PipeFlags) != 0 ? SyscallResult.Error(Errno.EINVAL) : MakePipe(request, session, flags);
    }

    /// <summary><c>close_range(first, last, flags)</c>: <c>CLOSE_RANGE_CLOEXEC</c> marks instead of closing; <c>CLOSE_RANGE_UNSHARE</c> changes nothing (a keep has one table).</summary>
    public static SyscallResult CloseRange(SyscallRequest request, IKeepSession session)
    {
        uint first = request.UInt32(0);
        uint last = request.UInt32(1);
        int flags = request.Int32(2);
        if ((flags & ~(CloseRangeUnshare | CloseRangeCloseOnExec)) != 0 || first > last)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        uint end = Math.Min(last, (uint)Math.Max(0, LimitOf(session) - 1));
        for (uint descriptor = first; descriptor <= end && descriptor <= int.MaxValue; descriptor++)
        {
            if ((flags & CloseRangeCloseOnExec) != 0)
            {
                (session.Files as IDescriptorFlags)?.SetDescriptorFlags((int)descriptor, 1);
            }
            else
            {
                session.Files.Close((int)descriptor);
            }

            if (descriptor == uint.MaxValue)
            {
                break;
            }
        }

        return SyscallResult.Success(0);
    }

    /// <summary>A call made as it is on the host descriptor of argument 0: <c>fsync</c>, <c>fdatasync</c>, <c>ftruncate</c>, <c>fallocate</c>, <c>flock</c>.</summary>
    public static Func<SyscallRequest, IKeepSession, SyscallResult> OnHost(int number) => (request, session) =>
        TryHost(session, request.Int32(0), out int host, out _)
            ? Paths.From(Kernel.Call(number, host, request.Int64(1), request.Int64(2), request.Int64(3)))
            : SyscallResult.Error(Errno.EBADF);

    /// <summary><c>fadvise64(fd, offset, len, advice)</c>: checked, and a no-op.</summary>
    public static SyscallResult Fadvise(SyscallRequest request, IKeepSession session)
    {
        if (!TryHost(session, request.Int32(0), out _, out _))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        return request.Int32(3) is < 0 or > 5 || request.Int64(2) < 0 ? SyscallResult.Error(Errno.EINVAL) : SyscallResult.Success(0);
    }

    /// <summary><c>fchmod(fd, mode)</c>: a file of a writable mount, or a pipe; <c>EROFS</c> on a read-only mount; <c>EPERM</c> on Donjon's own stdio.</summary>
    public static SyscallResult FChmod(SyscallRequest request, IKeepSession session)
    {
        int descriptor = request.Int32(0);
        if (descriptor < 0 || !session.Files.TryGet(descriptor, out IOpenFile? file))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        return file switch
        {
            KeepFile { Mount: null, KeepPath: null } or KeepFile { IsWritableMount: true } => Paths.From(Kernel.FChmod(file.HostDescriptor, request.Int32(1) & 0xFFF)),
            KeepFile { Mount: not null } => SyscallResult.Error(Errno.EROFS),
            _ => SyscallResult.Error(Errno.EPERM),
        };
    }

    /// <summary><c>preadv(fd, iov, iovcnt, pos_l, pos_h)</c>: one host <c>pread64</c> of the elements' total length.</summary>
    public static SyscallResult PReadVector(SyscallRequest request, IKeepSession session) =>
        PReadVector(request, session, Memory<byte>.Empty);

    /// <summary><c>preadv</c> as above, into <paramref name="room"/>, the call's output room in the shared block (empty: a buffer of its own).</summary>
    public static SyscallResult PReadVector(SyscallRequest request, IKeepSession session, Memory<byte> room)
    {
        if (!TryHost(session, request.Int32(0), out int host, out _))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        long offset = request.Int64(3);
        if (request.Argument(2) > 1024 || offset < 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int count = Math.Max(0, request.OutputCapacity(1));
        Memory<byte> buffer = OwnOrRoom(room, count);
        long result = Kernel.PRead(host, buffer.Span, offset);
        return result < 0 ? SyscallResult.Error((int)-result) : request.Output(result, 1, buffer[..(int)Math.Min(result, count)]);
    }

    /// <summary><c>pwritev(fd, iov, iovcnt, pos_l, pos_h)</c>: one host <c>pwrite64</c> of the concatenated elements.</summary>
    public static SyscallResult PWriteVector(SyscallRequest request, IKeepSession session)
    {
        if (!TryHost(session, request.Int32(0), out int host, out _))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        long offset = request.Int64(3);
        return request.Argument(2) > 1024 || offset < 0 ? SyscallResult.Error(Errno.EINVAL) : Paths.From(Kernel.PWrite(host, request.Input(1).Span, offset));
    }

    /// <summary><c>sendfile(out_fd, in_fd, offset, count)</c>: the host's, between the two host descriptors.</summary>
    public static SyscallResult SendFile(SyscallRequest request, IKeepSession session)
    {
        if (!TryHost(session, request.Int32(0), out int output, out _) || !TryHost(session, request.Int32(1), out int input, out _))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        byte[] offset = request.Input(2).ToArray();
        if (offset.Length is not (0 or 8))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        long result = Kernel.SendFile(output, input, offset, request.Int64(3));
        return result < 0 ? SyscallResult.Error((int)-result) : offset.Length == 8 ? request.Output(result, 2, offset) : SyscallResult.Success(result);
    }

    /// <summary><c>copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)</c>: the host's.</summary>
    public static SyscallResult CopyFileRange(SyscallRequest request, IKeepSession session)
    {
        if (!TryHost(session, request.Int32(0), out int input, out _) || !TryHost(session, request.Int32(2), out int output, out _))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        byte[] inputOffset = request.Input(1).ToArray();
        byte[] outputOffset = request.Input(3).ToArray();
        if (inputOffset.Length is not (0 or 8) || outputOffset.Length is not (0 or 8))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        long result = Kernel.CopyFileRange(input, inputOffset, output, outputOffset, request.Int64(4), request.Int32(5));
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        var outputs = new List<SyscallOutput>();
        if (inputOffset.Length == 8)
        {
            outputs.Add(new SyscallOutput(1, inputOffset));
        }

        if (outputOffset.Length == 8)
        {
            outputs.Add(new SyscallOutput(3, outputOffset));
        }

        return new SyscallResult(result, outputs);
    }

    /// <summary><c>umask(mask)</c>: the previous mask.</summary>
    public static SyscallResult Umask(SyscallRequest request, IKeepSession session) =>
        SyscallResult.Success(session is IKeepFileSystem fileSystem ? fileSystem.ExchangeUmask(request.Int32(0)) : 0x12);

    /// <summary><c>getcwd(buf, size)</c>: the keep path of the working directory; the length with its NUL, as the kernel returns it.</summary>
    public static SyscallResult GetCwd(SyscallRequest request, IKeepSession session)
    {
        string cwd = session is IKeepFileSystem fileSystem ? fileSystem.WorkingDirectory : "/";
        byte[] bytes = KeepPaths.ToHost(cwd);
        if (request.OutputCapacity(0) == 0 && request.Argument(1) != 0)
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        return (ulong)bytes.Length > request.Argument(1) || bytes.Length > request.OutputCapacity(0)
            ? SyscallResult.Error(Errno.ERANGE)
            : SyscallResult.Success(bytes.Length, 0, bytes);
    }

    /// <summary><c>chdir(path)</c>: the path must be a directory the keep can reach.</summary>
    public static SyscallResult Chdir(SyscallRequest request, IKeepSession session)
    {
        if (!Paths.TryLocate(request, session, -1, 0, out Location location, out SyscallResult error))
        {
            return error;
        }

        long result = Paths.WithPath(session, "chdir", location, noFollow: false, _ => 0, directory: true);
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        ((IKeepFileSystem)session).SetWorkingDirectory(location.KeepPath);
        return SyscallResult.Success(0);
    }

    /// <summary><c>fchdir(fd)</c>: a directory the files set opened.</summary>
    public static SyscallResult FChdir(SyscallRequest request, IKeepSession session)
    {
        int descriptor = request.Int32(0);
        if (descriptor < 0 || !session.Files.TryGet(descriptor, out IOpenFile? file))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (file is not KeepFile { IsDirectory: true, KeepPath: string path } || session is not IKeepFileSystem fileSystem)
        {
            return SyscallResult.Error(Errno.ENOTDIR);
        }

        fileSystem.SetWorkingDirectory(path);
        return SyscallResult.Success(0);
    }

    /// <summary>
    /// The extended-attribute family (<c>getxattr</c>, <c>listxattr</c> and their <c>l</c>/<c>f</c> forms):
    /// <c>EOPNOTSUPP</c>, always, as for a file system without extended attributes. The keep's files carry none, so a
    /// program that looks for ACLs or capabilities (<c>ls -l</c>) finds none and goes on.
    /// </summary>
    public static SyscallResult NoExtendedAttributes(SyscallRequest request, IKeepSession session) => SyscallResult.Error(Errno.EOPNOTSUPP);

    /// <summary>The chown family: <c>EPERM</c>, always.</summary>
    public static SyscallResult NotPermitted(SyscallRequest request, IKeepSession session) => SyscallResult.Error(Errno.EPERM);

    private static SyscallResult MakePipe(SyscallRequest request, IKeepSession session, int flags)
    {
        if (!request.HasOutput(0, 8))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        Span<int> ends = stackalloc int[2];
        long result = Kernel.Pipe2(ends, (flags & ~Resolver.OpenCloseOnExec) | Resolver.OpenCloseOnExec);
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        var reader = new KeepFile(ends[0], "pipe (read end)", null, null, isDirectory: false);
        var writer = new KeepFile(ends[1], "pipe (write end)", null, null, isDirectory: false);
        int readNumber = session.Files.Add(reader);
        int writeNumber = readNumber < 0 ? -1 : session.Files.Add(writer);
        if (readNumber < 0 || writeNumber < 0)
        {
            if (readNumber >= 0)
            {
                session.Files.Close(readNumber);
            }
            else
            {
                reader.Dispose();
            }

            writer.Dispose();
            return SyscallResult.Error(Errno.EMFILE);
        }

        if ((flags & Resolver.OpenCloseOnExec) != 0 && session.Files is IDescriptorFlags table)
        {
            table.SetDescriptorFlags(readNumber, 1);
            table.SetDescriptorFlags(writeNumber, 1);
        }

        byte[] output = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(output, readNumber);
        BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(4), writeNumber);
        return SyscallResult.Success(0, 0, output);
    }

    private static int LimitOf(IKeepSession session) => session.Policy.Limits.MaxOpenFiles;

    private static bool TryHost(IKeepSession session, int descriptor, out int host, out IOpenFile? file)
    {
        if (descriptor >= 0 && session.Files.TryGet(descriptor, out file))
        {
            host = file.HostDescriptor;
            return true;
        }

        file = null;
        host = -1;
        return false;
    }
}
