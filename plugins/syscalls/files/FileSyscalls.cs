using System.Collections.Frozen;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Files.Handlers;
using Donjon.Syscalls.Files.Interop;

namespace Donjon.Syscalls.Files;

/// <summary>
/// The <c>files</c> handler set: the keep's file system under the admin's default-deny policy (the session's
/// <see cref="IKeepFileSystem"/>: mounts, the built-in <c>/dev</c> devices, the scratch <c>/tmp</c>, the working
/// directory), pipes, and the descriptor calls that files need. Every path is resolved by the host kernel beneath its
/// mount's descriptor with <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)</c>; what no mount holds does not exist
/// (<c>ENOENT</c>), and every denial is logged once with the policy entry that would grant it. See the plugin's README.
/// </summary>
/// <remarks>
/// Thread-safe: the set keeps no state of its own but one denial log per keep, which takes a lock; the session's table
/// and file system are thread-safe. One instance may therefore serve several keeps and several threads of one keep at
/// once. It never throws for anything the keep sends: a bad descriptor, path, flag or size is an errno.
/// </remarks>
public sealed class FileSyscalls : IDirectOutputSyscallHandlerSet, IInPlaceInputSyscallHandlerSet
{
    private readonly FrozenDictionary<int, Handler> _handlers;

    /// <summary>Creates the set.</summary>
    public FileSyscalls()
    {
        List<(SyscallSignature Signature, Handler Handler)> table = Table();
        Syscalls = table.ConvertAll(entry => entry.Signature).AsReadOnly();
        _handlers = table.ToFrozenDictionary(entry => entry.Signature.Number, entry => entry.Handler);
    }

    /// <summary>A handler; the token is cancelled by a signal forwarded to the calling thread, or the keep's end.</summary>
    private delegate SyscallResult Handler(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken);

    /// <inheritdoc />
    public string Name => "files";

    /// <inheritdoc />
    public IReadOnlyList<SyscallSignature> Syscalls { get; }

    /// <inheritdoc />
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(session);
        return new ValueTask<SyscallResult>(_handlers.TryGetValue(request.Number, out var handler) ? handler(request, session, cancellationToken) : SyscallResult.Error(Errno.ENOSYS));
    }

    /// <summary>
    /// Handles one proxied syscall with room in the shared block for its outputs: <c>getdents64</c> and <c>preadv</c>
    /// read straight into it; every other call is served as by <see cref="HandleAsync(SyscallRequest, IKeepSession, CancellationToken)"/>.
    /// </summary>
    /// <param name="request">The call.</param>
    /// <param name="outputRoom">The call's output room.</param>
    /// <param name="session">The keep's state.</param>
    /// <param name="cancellationToken">Cancelled when the keep ends or a forwarded signal interrupts the call.</param>
    /// <returns>The call's result and output bytes.</returns>
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, ISyscallOutputRoom outputRoom, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outputRoom);
        ArgumentNullException.ThrowIfNull(session);
        return request.Number switch
        {
            217 => new ValueTask<SyscallResult>(DescriptorCalls.GetDents64(request, session, outputRoom.For(1))),
            295 => new ValueTask<SyscallResult>(DescriptorCalls.PReadVector(request, session, outputRoom.For(1))),
            _ => HandleAsync(request, session, cancellationToken),
        };
    }

    /// <summary>
    /// The data of <c>pwritev</c> (argument 1): bytes handed to the host's <c>pwrite64</c> as they are, never parsed, so
    /// the host may serve them from the shared block without copying them first.
    /// </summary>
    /// <param name="number">A declared syscall number.</param>
    /// <param name="argumentIndex">The argument index.</param>
    /// <returns>Whether that argument is plain bytes this set only passes on.</returns>
    public bool ReadsInputInPlace(int number, int argumentIndex) => number == 296 && argumentIndex == 1;

    private static List<(SyscallSignature, Handler)> Table()
    {
        SyscallArgument value = SyscallArgument.Value;
        SyscallArgument path = SyscallArgument.CString;
        SyscallArgument stat = SyscallArgument.OutputOfSize(Kernel.StatSize);
        SyscallArgument statfs = SyscallArgument.OutputOfSize(Kernel.StatfsSize);
        SyscallArgument offset = new(ArgumentKind.InOutBuffer, -1, 8);

        return
        [
            Interruptible(2, "open", OpenCalls.Open, path, value, value),
            Entry(4, "stat", MetadataCalls.Stat, path, stat),
            Entry(6, "lstat", MetadataCalls.LStat, path, stat),
            Entry(21, "access", MetadataCalls.Access, path, value),
            Entry(22, "pipe", DescriptorCalls.Pipe, SyscallArgument.OutputOfSize(8)),
            Entry(40, "sendfile", DescriptorCalls.SendFile, value, value, offset, value),
            Interruptible(72, "fcntl", DescriptorCalls.Fcntl, value, value, SyscallArgument.Selected(
                1,
                new ArgumentChoice(DescriptorCalls.GetLock, ArgumentKind.InOutBuffer, DescriptorCalls.FlockSize),
                new ArgumentChoice(DescriptorCalls.SetLock, ArgumentKind.InputBuffer, DescriptorCalls.FlockSize),
                new ArgumentChoice(DescriptorCalls.SetLockWait, ArgumentKind.InputBuffer, DescriptorCalls.FlockSize),
                new ArgumentChoice(DescriptorCalls.OpenFileGetLock, ArgumentKind.InOutBuffer, DescriptorCalls.FlockSize),
                new ArgumentChoice(DescriptorCalls.OpenFileSetLock, ArgumentKind.InputBuffer, DescriptorCalls.FlockSize),
                new ArgumentChoice(DescriptorCalls.OpenFileSetLockWait, ArgumentKind.InputBuffer, DescriptorCalls.FlockSize))),
            Entry(73, "flock", DescriptorCalls.OnHost(73), value, value),
            Entry(74, "fsync", DescriptorCalls.OnHost(74), value),
            Entry(75, "fdatasync", DescriptorCalls.OnHost(75), value),
            Entry(76, "truncate", ChangeCalls.Truncate, path, value),
            Entry(77, "ftruncate", DescriptorCalls.OnHost(77), value, value),
            Entry(79, "getcwd", DescriptorCalls.GetCwd, SyscallArgument.Output(1), value),
            Entry(80, "chdir", DescriptorCalls.Chdir, path),
            Entry(81, "fchdir", DescriptorCalls.FChdir, value),
            Entry(82, "rename", ChangeCalls.Rename, path, path),
            Entry(83, "mkdir", ChangeCalls.Mkdir, path, value),
            Entry(84, "rmdir", ChangeCalls.Rmdir, path),
            Interruptible(85, "creat", OpenCalls.Create, path, value),
            Entry(86, "link", ChangeCalls.Link, path, path),
            Entry(87, "unlink", ChangeCalls.Unlink, path),
            Entry(88, "symlink", ChangeCalls.Symlink, path, path),
            Entry(89, "readlink", MetadataCalls.ReadLink, path, SyscallArgument.Output(2), value),
            Entry(90, "chmod", ChangeCalls.Chmod, path, value),
            Entry(91, "fchmod", DescriptorCalls.FChmod, value, value),
            Entry(92, "chown", DescriptorCalls.NotPermitted, path, value, value),
            Entry(93, "fchown", DescriptorCalls.NotPermitted, value, value, value),
            Entry(94, "lchown", DescriptorCalls.NotPermitted, path, value, value),
            Entry(95, "umask", DescriptorCalls.Umask, value),
            Entry(137, "statfs", MetadataCalls.StatFs, path, statfs),
            Entry(138, "fstatfs", MetadataCalls.FStatFs, value, statfs),
            Entry(191, "getxattr", DescriptorCalls.NoExtendedAttributes, path, path, SyscallArgument.Output(3), value),
            Entry(192, "lgetxattr", DescriptorCalls.NoExtendedAttributes, path, path, SyscallArgument.Output(3), value),
            Entry(193, "fgetxattr", DescriptorCalls.NoExtendedAttributes, value, path, SyscallArgument.Output(3), value),
            Entry(194, "listxattr", DescriptorCalls.NoExtendedAttributes, path, SyscallArgument.Output(2), value),
            Entry(195, "llistxattr", DescriptorCalls.NoExtendedAttributes, path, SyscallArgument.Output(2), value),
            Entry(196, "flistxattr", DescriptorCalls.NoExtendedAttributes, value, SyscallArgument.Output(2), value),
            Entry(217, "getdents64", DescriptorCalls.GetDents64, value, SyscallArgument.Output(2), value),
            Entry(221, "fadvise64", DescriptorCalls.Fadvise, value, value, value, value),
            Interruptible(257, "openat", OpenCalls.OpenAt, value, path, value, value),
            Entry(258, "mkdirat", ChangeCalls.MkdirAt, value, path, value),
            Entry(260, "fchownat", DescriptorCalls.NotPermitted, value, path, value, value, value),
            Entry(262, "newfstatat", MetadataCalls.FStatAt, value, path, stat, value),
            Entry(263, "unlinkat", ChangeCalls.UnlinkAt, value, path, value),
            Entry(264, "renameat", ChangeCalls.RenameAt, value, path, value, path),
            Entry(265, "linkat", ChangeCalls.LinkAt, value, path, value, path, value),
            Entry(266, "symlinkat", ChangeCalls.SymlinkAt, path, value, path),
            Entry(267, "readlinkat", MetadataCalls.ReadLinkAt, value, path, SyscallArgument.Output(3), value),
            Entry(268, "fchmodat", ChangeCalls.FChmodAt, value, path, value),
            Entry(269, "faccessat", MetadataCalls.FAccessAt, value, path, value),
            Entry(280, "utimensat", ChangeCalls.UtimensAt, value, path, SyscallArgument.InputOfSize(32), value),
            Entry(285, "fallocate", DescriptorCalls.OnHost(285), value, value, value, value),
            Entry(293, "pipe2", DescriptorCalls.Pipe2, SyscallArgument.OutputOfSize(8), value),
            Entry(295, "preadv", DescriptorCalls.PReadVector, value, new SyscallArgument(ArgumentKind.OutputIovec, LengthArgument: 2), value, value, value),
            Entry(296, "pwritev", DescriptorCalls.PWriteVector, value, new SyscallArgument(ArgumentKind.InputIovec, LengthArgument: 2), value, value, value),
            Entry(316, "renameat2", ChangeCalls.RenameAt2, value, path, value, path, value),
            Entry(326, "copy_file_range", DescriptorCalls.CopyFileRange, value, offset, value, offset, value, value),
            Entry(332, "statx", MetadataCalls.Statx, value, path, value, value, SyscallArgument.OutputOfSize(Kernel.StatxSize)),
            Entry(436, "close_range", DescriptorCalls.CloseRange, value, value, value),
            Interruptible(437, "openat2", OpenHowCalls.OpenAt2, value, path, SyscallArgument.Input(3), value),
            Entry(439, "faccessat2", MetadataCalls.FAccessAt2, value, path, value, value),
        ];
    }

    private static (SyscallSignature, Handler) Entry(
        int number, string name, Func<SyscallRequest, IKeepSession, SyscallResult> handle, params SyscallArgument[] arguments) =>
        (new SyscallSignature(number, name, arguments), (request, session, _) => handle(request, session));

    /// <summary>An entry whose handler may block in a way its token interrupts (an open of a FIFO).</summary>
    private static (SyscallSignature, Handler) Interruptible(
        int number, string name, Handler handle, params SyscallArgument[] arguments) =>
        (new SyscallSignature(number, name, arguments), handle);
}
