using System.Runtime.InteropServices;
using Donjon.Host.Interop;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Host.Files;

/// <summary>
/// Reads the files the user and the admin name (the workload, <c>plugins.json</c>, plugin assemblies) without ever
/// blocking on them: <c>open(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)</c> returns at once even for a FIFO,
/// <c>fstat</c> on that very descriptor refuses anything that is not a regular file, and the bytes are read from
/// the same descriptor, so that what is checked is what is read.
/// </summary>
internal static class RegularFile
{
    private const int OpenReadOnly = 0;
    private const int OpenNoControllingTerminal = 0x100;
    private const int OpenNonBlocking = 0x800;
    private const int OpenCloseOnExec = 0x80000;

    private const uint TypeMask = 0xF000;
    private const uint TypeFifo = 0x1000;
    private const uint TypeCharacterDevice = 0x2000;
    private const uint TypeDirectory = 0x4000;
    private const uint TypeBlockDevice = 0x6000;
    private const uint TypeRegular = 0x8000;
    private const uint TypeSymbolicLink = 0xA000;
    private const uint TypeSocket = 0xC000;

    private const int ENOENT = 2;
    private const int EACCES = 13;
    private const int ENOTDIR = 20;
    private const int ENXIO = 6;
    private const int EPERM = 1;
    private const int ELOOP = 40;

    /// <summary>
    /// What <paramref name="path"/> names (following symbolic links), without opening it: <see langword="null"/>
    /// when nothing exists there, else a <see cref="FileKind"/>.
    /// </summary>
    public static FileKind? KindOf(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (FileCalls.Stat(path, out StatBuffer buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR or ELOOP ? null : FileKind.Unknown;
        }

        return KindOfMode(buffer.Mode);
    }

    /// <summary>Reads the whole regular file at <paramref name="path"/>, at most <paramref name="maxSize"/> bytes.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="NotARegularFileException">The path names a FIFO, a socket, a device or a directory.</exception>
    /// <exception cref="FileTooLargeException">The file is larger than <paramref name="maxSize"/>.</exception>
    /// <exception cref="IOException">Another failure to open or read it.</exception>
    public static byte[] ReadAll(string path, long maxSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int fd = FileCalls.Open(path, OpenReadOnly | OpenNonBlocking | OpenCloseOnExec | OpenNoControllingTerminal);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                ENOENT or ENOTDIR => new FileNotFoundException($"{path}: no such file", path),
                EACCES or EPERM => new UnauthorizedAccessException($"{path}: permission denied (errno {errno}); check the file's permissions"),

                // A socket file cannot be opened at all (ENXIO); say what it is.
                ENXIO => new NotARegularFileException(path, KindOf(path) ?? FileKind.Unknown),
                _ => new IOException($"{path}: cannot be opened (errno {errno})"),
            };
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return ReadOpened(handle, path, maxSize);
    }

    /// <summary>
    /// Reads the regular file at <paramref name="relativePath"/> beneath the folder <paramref name="folder"/>, resolved
    /// by the kernel with <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)</c>: no <c>..</c>, absolute symbolic
    /// link or magic link can leave the folder. It is how the host reads a file through a mount of the keep's policy,
    /// the way the files handler set would open it for the keep.
    /// </summary>
    /// <param name="folder">The mount's host folder (the admin's path).</param>
    /// <param name="relativePath">The path beneath it; untrusted (from a workload's headers).</param>
    /// <param name="maxSize">The most bytes accepted.</param>
    /// <param name="errno">0, or the errno of the failed open (ENOENT, EXDEV for a path that leaves the folder, ELOOP...).</param>
    /// <returns>The bytes, or <see langword="null"/> when the open failed.</returns>
    /// <exception cref="NotARegularFileException">The path names a FIFO, a socket, a device or a directory.</exception>
    /// <exception cref="FileTooLargeException">The file is larger than <paramref name="maxSize"/>.</exception>
    public static unsafe byte[]? ReadBeneath(string folder, string relativePath, long maxSize, out int errno)
    {
        const long OpenAt2 = 437;
        const long ResolveNoMagicLinks = 0x02;
        const long ResolveBeneath = 0x08;
        const int OpenDirectory = 0x10000;
        const int OpenPath = 0x200000;
        int directory = FileCalls.Open(folder, OpenPath | OpenDirectory | OpenCloseOnExec);
        if (directory < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        using var directoryHandle = new SafeFileHandle(directory, ownsHandle: true);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(relativePath + "\0");
        long* how = stackalloc long[3];
        how[0] = OpenReadOnly | OpenNonBlocking | OpenCloseOnExec | OpenNoControllingTerminal;
        how[1] = 0;
        how[2] = ResolveBeneath | ResolveNoMagicLinks;
        long fd;

        // SAFETY: `name` is pinned and NUL-terminated for the call; `how` is a 24-byte stack `struct open_how`, its size the last argument.
        fixed (byte* path = name)
        {
            fd = FileCalls.Syscall4(OpenAt2, directory, (long)path, (long)how, 24);
        }

        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        using var handle = new SafeFileHandle((nint)fd, ownsHandle: true);
        return ReadOpened(handle, relativePath, maxSize);
    }

    private static byte[] ReadOpened(SafeFileHandle handle, string path, long maxSize)
    {
        int fd = (int)handle.DangerousGetHandle();
        if (FileCalls.Fstat(fd, out StatBuffer status) != 0)
        {
            throw new IOException($"{path}: fstat failed (errno {Marshal.GetLastPInvokeError()})");
        }

        FileKind kind = KindOfMode(status.Mode);
        if (kind != FileKind.Regular)
        {
            throw new NotARegularFileException(path, kind);
        }

        if (status.Size > maxSize)
        {
            throw new FileTooLargeException(path, status.Size, maxSize);
        }

        // Read exactly the size fstat gave; a file that grows meanwhile is cut there, one that shrinks is short.
        byte[] contents = new byte[status.Size];
        int done = 0;
        while (done < contents.Length)
        {
            int count = RandomAccess.Read(handle, contents.AsSpan(done), done);
            if (count == 0)
            {
                return contents[..done];
            }

            done += count;
        }

        return contents;
    }

    /// <summary>"a FIFO", "a socket", "a character device"...: what to call a file of this kind in a message.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a FIFO",
        FileKind.Socket => "a socket",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.SymbolicLink => "a symbolic link",
        _ => "not a file Donjon can identify",
    };

    private static FileKind KindOfMode(uint mode) => (mode & TypeMask) switch
    {
        TypeRegular => FileKind.Regular,
        TypeDirectory => FileKind.Directory,
        TypeFifo => FileKind.Fifo,
        TypeSocket => FileKind.Socket,
        TypeCharacterDevice => FileKind.CharacterDevice,
        TypeBlockDevice => FileKind.BlockDevice,
        TypeSymbolicLink => FileKind.SymbolicLink,
        _ => FileKind.Unknown,
    };
}

/// <summary>What a path names.</summary>
internal enum FileKind
{
    /// <summary>A type stat(2) reported that Donjon does not know, or stat failed for another reason than absence.</summary>
    Unknown,

    /// <summary>A regular file: the only kind Donjon reads.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe: opening it for reading would block until a writer comes.</summary>
    Fifo,

    /// <summary>A Unix socket.</summary>
    Socket,

    /// <summary>A character device (a terminal, /dev/zero...).</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>A symbolic link (only seen when links are not followed).</summary>
    SymbolicLink,
}

/// <summary>A path names a FIFO, a socket, a device or a directory where Donjon needs a regular file.</summary>
internal sealed class NotARegularFileException(string path, FileKind kind)
    : IOException($"{path}: is {RegularFile.Describe(kind)}, not a regular file")
{
    /// <summary>What the path names.</summary>
    public FileKind Kind { get; } = kind;

    /// <summary>The path as given.</summary>
    public string Path { get; } = path;

    /// <summary>"is a FIFO, not a regular file".</summary>
    public string Problem => $"is {RegularFile.Describe(Kind)}, not a regular file";
}

/// <summary>A regular file is larger than Donjon accepts for its purpose.</summary>
internal sealed class FileTooLargeException(string path, long size, long maxSize)
    : IOException($"{path}: the file is {size} bytes, more than the {maxSize} bytes accepted")
{
    /// <summary>The file's size in bytes.</summary>
    public long Size { get; } = size;

    /// <summary>The most bytes accepted.</summary>
    public long MaxSize { get; } = maxSize;
}
