using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// The calls that act on any descriptor in the keep's table, whoever opened it (stdio, files, sockets): they run the
/// real host call on the descriptor's <see cref="IOpenFile.HostDescriptor"/>, so the host kernel's answers
/// (short reads, <c>ESPIPE</c> on a pipe, <c>EAGAIN</c>...) reach the workload unchanged.
/// </summary>
internal static class DescriptorCalls
{
    /// <summary><c>UIO_MAXIOV</c>: the most elements an iovec array may have.</summary>
    private const int MaxIovecCount = 1024;

    /// <summary><c>O_CLOEXEC</c>, the only flag <c>dup3</c> accepts.</summary>
    private const int CloseOnExec = 0x80000;

    /// <summary>Finds the host descriptor behind keep descriptor <paramref name="descriptor"/>.</summary>
    /// <param name="session">The keep's session.</param>
    /// <param name="descriptor">The keep descriptor, untrusted.</param>
    /// <param name="host">The host descriptor.</param>
    /// <returns>Whether the descriptor is open; otherwise the caller answers <c>EBADF</c>.</returns>
    public static bool TryHost(IKeepSession session, int descriptor, out int host)
    {
        if (descriptor >= 0 && session.Files.TryGet(descriptor, out IOpenFile? file))
        {
            host = file.HostDescriptor;
            return true;
        }

        host = -1;
        return false;
    }

    /// <summary><c>read(fd, buf, count)</c>: a wait for data that a forwarded signal interrupts (<see cref="Readiness"/>), then the read.</summary>
    public static SyscallResult Read(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        Read(request, session, Memory<byte>.Empty, cancellationToken);

    /// <summary><c>read(fd, buf, count)</c> into <paramref name="room"/>, the call's output room in the shared block (empty: a buffer of its own).</summary>
    public static SyscallResult Read(SyscallRequest request, IKeepSession session, Memory<byte> room, CancellationToken cancellationToken)
    {
        if (!TryHost(session, request.Int32(0), out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        Readiness.WaitReadable(host, cancellationToken);
        return ReadInto(request, host, 1, request.OutputCount(1, 2), offset: null, room);
    }

    /// <summary><c>write(fd, buf, count)</c>: a wait for room (a full pipe) that a forwarded signal interrupts, then the write.</summary>
    public static SyscallResult Write(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!TryHost(session, request.Int32(0), out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        Readiness.WaitWritable(host, cancellationToken);
        return RequestReader.FromHost(LibC.Write(host, request.Input(1).Span));
    }

    /// <summary><c>readv(fd, iov, iovcnt)</c>: one host read of the elements' total length; the shim scatters the bytes.</summary>
    public static SyscallResult ReadVector(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken) =>
        ReadVector(request, session, Memory<byte>.Empty, cancellationToken);

    /// <summary><c>readv(fd, iov, iovcnt)</c> into <paramref name="room"/>, the call's output room in the shared block (empty: a buffer of its own).</summary>
    public static SyscallResult ReadVector(SyscallRequest request, IKeepSession session, Memory<byte> room, CancellationToken cancellationToken)
    {
        if (!TryHost(session, request.Int32(0), out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (request.Argument(2) > MaxIovecCount)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        Readiness.WaitReadable(host, cancellationToken);
        return ReadInto(request, host, 1, Math.Max(0, request.OutputCapacity(1)), offset: null, room);
    }

    /// <summary>
    /// <c>writev(fd, iov, iovcnt)</c>: the shim concatenated the elements, and one host write sends them, so a
    /// pipe write of at most <c>PIPE_BUF</c> bytes stays atomic as it is with the real <c>writev</c>.
    /// </summary>
    public static SyscallResult WriteVector(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        if (!TryHost(session, request.Int32(0), out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (request.Argument(2) > MaxIovecCount)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        Readiness.WaitWritable(host, cancellationToken);
        return RequestReader.FromHost(LibC.Write(host, request.Input(1).Span));
    }

    /// <summary><c>pread64(fd, buf, count, offset)</c>.</summary>
    public static SyscallResult PositionalRead(SyscallRequest request, IKeepSession session) =>
        PositionalRead(request, session, Memory<byte>.Empty);

    /// <summary><c>pread64(fd, buf, count, offset)</c> into <paramref name="room"/>, the call's output room in the shared block (empty: a buffer of its own).</summary>
    public static SyscallResult PositionalRead(SyscallRequest request, IKeepSession session, Memory<byte> room)
    {
        if (!TryHost(session, request.Int32(0), out int host))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        return ReadInto(request, host, 1, request.OutputCount(1, 2), request.Int64(3), room);
    }

    /// <summary><c>pwrite64(fd, buf, count, offset)</c>.</summary>
    public static SyscallResult PositionalWrite(SyscallRequest request, IKeepSession session) =>
        TryHost(session, request.Int32(0), out int host)
            ? RequestReader.FromHost(LibC.PWrite(host, request.Input(1).Span, request.Int64(3)))
            : SyscallResult.Error(Errno.EBADF);

    /// <summary><c>lseek(fd, offset, whence)</c>.</summary>
    public static SyscallResult Seek(SyscallRequest request, IKeepSession session) =>
        TryHost(session, request.Int32(0), out int host)
            ? RequestReader.FromHost(LibC.LSeek(host, request.Int64(1), request.Int32(2)))
            : SyscallResult.Error(Errno.EBADF);

    /// <summary><c>close(fd)</c>: the table disposes the open file when its last number goes.</summary>
    public static SyscallResult Close(SyscallRequest request, IKeepSession session)
    {
        int descriptor = request.Int32(0);
        return descriptor >= 0 && session.Files.Close(descriptor)
            ? SyscallResult.Success(0)
            : SyscallResult.Error(Errno.EBADF);
    }

    /// <summary><c>dup(oldfd)</c>: the lowest free number, sharing the open file.</summary>
    public static SyscallResult Duplicate(SyscallRequest request, IKeepSession session)
    {
        int descriptor = request.Int32(0);
        if (descriptor < 0 || !session.Files.TryGet(descriptor, out IOpenFile? file))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        int added = session.Files.Add(file);
        return added < 0 ? SyscallResult.Error(Errno.EMFILE) : SyscallResult.Success(added);
    }

    /// <summary><c>dup2(oldfd, newfd)</c>.</summary>
    public static SyscallResult DuplicateTo(SyscallRequest request, IKeepSession session) =>
        DuplicateTo(session, request.Int32(0), request.Int32(1), sameIsError: false);

    /// <summary>
    /// <c>dup3(oldfd, newfd, flags)</c>. <c>O_CLOEXEC</c> sets <c>FD_CLOEXEC</c> on the new number when the table keeps
    /// descriptor flags (<see cref="IDescriptorFlags"/>), for <c>fcntl(F_GETFD)</c>; a keep never executes another
    /// program, so no descriptor is ever closed on exec.
    /// </summary>
    public static SyscallResult DuplicateToWithFlags(SyscallRequest request, IKeepSession session)
    {
        int flags = request.Int32(2);
        if ((flags & ~CloseOnExec) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        SyscallResult result = DuplicateTo(session, request.Int32(0), request.Int32(1), sameIsError: true);
        if (result.Value >= 0 && (flags & CloseOnExec) != 0 && session.Files is IDescriptorFlags table)
        {
            table.SetDescriptorFlags((int)result.Value, 1);
        }

        return result;
    }

    private static SyscallResult DuplicateTo(IKeepSession session, int oldDescriptor, int newDescriptor, bool sameIsError)
    {
        if (oldDescriptor < 0 || !session.Files.TryGet(oldDescriptor, out IOpenFile? file))
        {
            return SyscallResult.Error(Errno.EBADF);
        }

        if (oldDescriptor == newDescriptor)
        {
            // dup2 returns the descriptor untouched; dup3 refuses.
            return sameIsError ? SyscallResult.Error(Errno.EINVAL) : SyscallResult.Success(newDescriptor);
        }

        // A number beyond the table's limit (RLIMIT_NOFILE) is EBADF, as in Linux.
        return newDescriptor >= 0 && session.Files.Set(newDescriptor, file)
            ? SyscallResult.Success(newDescriptor)
            : SyscallResult.Error(Errno.EBADF);
    }

    private static SyscallResult ReadInto(SyscallRequest request, int host, int outputIndex, int count, long? offset, Memory<byte> room = default)
    {
        // Straight into the call's output room in the shared block when the host gave one (no copy, no allocation).
        // Otherwise one buffer per call: with protocol 2.0 several threads of one keep are served at once, and the host
        // copies a result's outputs after the handler returns, so a buffer shared by a keep's calls could be overwritten first.
        Memory<byte> buffer = room.Length >= count ? room : count > 0 ? GC.AllocateUninitializedArray<byte>(count) : Memory<byte>.Empty;

        long result = offset is long position ? LibC.PRead(host, buffer.Span[..count], position) : LibC.Read(host, buffer.Span[..count]);
        return result < 0
            ? SyscallResult.Error((int)-result)
            : request.Output(result, outputIndex, buffer[..(int)Math.Min(result, count)]);
    }
}
