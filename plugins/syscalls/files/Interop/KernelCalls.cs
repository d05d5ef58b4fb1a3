namespace Donjon.Syscalls.Files.Interop;

/// <summary>
/// Typed wrappers over <see cref="Kernel.Call"/>: each pins its buffers for the call and returns the value or minus
/// errno. A path is a NUL-terminated byte string (see <see cref="KeepPaths.ToHost"/>); sizes are the spans' lengths.
/// </summary>
internal static partial class Kernel
{
    /// <summary><c>AT_FDCWD</c>.</summary>
    public const int CurrentDirectory = -100;

    /// <summary><c>AT_EMPTY_PATH</c>.</summary>
    public const int EmptyPath = 0x1000;

    /// <summary><c>AT_SYMLINK_NOFOLLOW</c>.</summary>
    public const int SymlinkNoFollow = 0x100;

    /// <summary>The size of the kernel's <c>struct stat</c> on x86-64.</summary>
    public const int StatSize = 144;

    /// <summary>The size of <c>struct statx</c>.</summary>
    public const int StatxSize = 256;

    /// <summary>The size of <c>struct statfs</c> on x86-64.</summary>
    public const int StatfsSize = 120;

    private static ReadOnlySpan<byte> Empty => [0];

    /// <summary><c>openat2(dirfd, path, &amp;how, sizeof how)</c> with <c>struct open_how { u64 flags, mode, resolve; }</c>.</summary>
    public static unsafe long OpenAt2(int directory, ReadOnlySpan<byte> path, long flags, long mode, long resolve)
    {
        long* how = stackalloc long[3];
        how[0] = flags;
        how[1] = mode;
        how[2] = resolve;

        // SAFETY: `path` is pinned and NUL-terminated; `how` is a 24-byte stack structure, its size passed as the last argument.
        fixed (byte* p = path)
        {
            return Call(437, directory, (long)p, (long)how, 24);
        }
    }

    /// <summary><c>openat(dirfd, path, flags, mode)</c>.</summary>
    public static unsafe long OpenAt(int directory, ReadOnlySpan<byte> path, long flags, long mode)
    {
        // SAFETY: `path` is pinned and NUL-terminated for the call.
        fixed (byte* p = path)
        {
            return Call(257, directory, (long)p, flags, mode);
        }
    }

    /// <summary><c>fcntl(fd, cmd, &amp;flock)</c> for a record lock command, with the 32-byte <c>struct flock</c> read and, for <c>F_GETLK</c>, written in place.</summary>
    public static unsafe long RecordLock(int descriptor, int command, Span<byte> flock)
    {
        if (flock.Length < 32)
        {
            return -Errno.EFAULT;
        }

        // SAFETY: `flock` is pinned and holds the 32 bytes of a struct flock that the kernel reads and may write.
        fixed (byte* p = flock)
        {
            return Call(72, descriptor, command, (long)p);
        }
    }

    /// <summary><c>close(fd)</c>.</summary>
    public static long Close(int descriptor) => Call(3, descriptor);

    /// <summary><c>newfstatat(fd, "", buf, AT_EMPTY_PATH)</c>: the <c>struct stat</c> of a descriptor (an <c>O_PATH</c> one too).</summary>
    public static unsafe long FStat(int descriptor, Span<byte> stat)
    {
        if (stat.Length < StatSize)
        {
            return -Errno.EFAULT;
        }

        // SAFETY: `stat` is pinned and holds the 144 bytes written; the empty path is a static NUL.
        fixed (byte* p = Empty)
        fixed (byte* s = stat)
        {
            return Call(262, descriptor, (long)p, (long)s, EmptyPath);
        }
    }

    /// <summary><c>statx(fd, "", AT_EMPTY_PATH | flags, mask, buf)</c>.</summary>
    public static unsafe long Statx(int descriptor, int flags, uint mask, Span<byte> buffer)
    {
        if (buffer.Length < StatxSize)
        {
            return -Errno.EFAULT;
        }

        // SAFETY: `buffer` is pinned and holds the 256 bytes of struct statx written.
        fixed (byte* p = Empty)
        fixed (byte* s = buffer)
        {
            return Call(332, descriptor, (long)p, EmptyPath | flags, mask, (long)s);
        }
    }

    /// <summary><c>fstatfs(fd, buf)</c>.</summary>
    public static unsafe long FStatfs(int descriptor, Span<byte> buffer)
    {
        if (buffer.Length < StatfsSize)
        {
            return -Errno.EFAULT;
        }

        // SAFETY: `buffer` is pinned and holds the 120 bytes of struct statfs written.
        fixed (byte* s = buffer)
        {
            return Call(138, descriptor, (long)s);
        }
    }

    /// <summary><c>getdents64(fd, buf, count)</c>.</summary>
    public static unsafe long GetDents64(int descriptor, Span<byte> buffer)
    {
        // SAFETY: `buffer` is pinned; the kernel writes at most its length.
        fixed (byte* s = buffer)
        {
            return Call(217, descriptor, (long)s, buffer.Length);
        }
    }

    /// <summary><c>mkdirat(dirfd, name, mode)</c>.</summary>
    public static unsafe long MkdirAt(int directory, ReadOnlySpan<byte> name, int mode)
    {
        // SAFETY: `name` is pinned and NUL-terminated.
        fixed (byte* p = name)
        {
            return Call(258, directory, (long)p, mode);
        }
    }

    /// <summary><c>unlinkat(dirfd, name, flags)</c>.</summary>
    public static unsafe long UnlinkAt(int directory, ReadOnlySpan<byte> name, int flags)
    {
        // SAFETY: `name` is pinned and NUL-terminated.
        fixed (byte* p = name)
        {
            return Call(263, directory, (long)p, flags);
        }
    }

    /// <summary><c>renameat2(olddirfd, oldname, newdirfd, newname, flags)</c>.</summary>
    public static unsafe long RenameAt2(int oldDirectory, ReadOnlySpan<byte> oldName, int newDirectory, ReadOnlySpan<byte> newName, int flags)
    {
        // SAFETY: both names are pinned and NUL-terminated.
        fixed (byte* o = oldName)
        fixed (byte* n = newName)
        {
            return Call(316, oldDirectory, (long)o, newDirectory, (long)n, flags);
        }
    }

    /// <summary><c>linkat(olddirfd, oldname, newdirfd, newname, flags)</c>.</summary>
    public static unsafe long LinkAt(int oldDirectory, ReadOnlySpan<byte> oldName, int newDirectory, ReadOnlySpan<byte> newName, int flags)
    {
        // SAFETY: both names are pinned and NUL-terminated.
        fixed (byte* o = oldName)
        fixed (byte* n = newName)
        {
            return Call(265, oldDirectory, (long)o, newDirectory, (long)n, flags);
        }
    }

    /// <summary><c>symlinkat(target, newdirfd, name)</c>.</summary>
    public static unsafe long SymlinkAt(ReadOnlySpan<byte> target, int directory, ReadOnlySpan<byte> name)
    {
        // SAFETY: both strings are pinned and NUL-terminated.
        fixed (byte* t = target)
        fixed (byte* n = name)
        {
            return Call(266, (long)t, directory, (long)n);
        }
    }

    /// <summary><c>readlinkat(fd, "", buf, size)</c>: the target of the symbolic link an <c>O_PATH | O_NOFOLLOW</c> descriptor holds.</summary>
    public static unsafe long ReadLink(int descriptor, Span<byte> buffer)
    {
        // SAFETY: `buffer` is pinned; the kernel writes at most its length.
        fixed (byte* p = Empty)
        fixed (byte* s = buffer)
        {
            return Call(267, descriptor, (long)p, (long)s, buffer.Length);
        }
    }

    /// <summary><c>fchmodat(dirfd, path, mode)</c> (the kernel's, without flags).</summary>
    public static unsafe long FChmodAt(int directory, ReadOnlySpan<byte> path, int mode)
    {
        // SAFETY: `path` is pinned and NUL-terminated.
        fixed (byte* p = path)
        {
            return Call(268, directory, (long)p, mode);
        }
    }

    /// <summary><c>fchmod(fd, mode)</c>.</summary>
    public static long FChmod(int descriptor, int mode) => Call(91, descriptor, mode);

    /// <summary><c>utimensat(dirfd, path, times, flags)</c>; an empty <paramref name="path"/> is NULL (the descriptor itself), empty <paramref name="times"/> NULL (now).</summary>
    public static unsafe long UtimensAt(int directory, ReadOnlySpan<byte> path, ReadOnlySpan<byte> times, int flags)
    {
        // SAFETY: both spans are pinned; a path is NUL-terminated and times is 32 bytes (two timespecs) when given.
        fixed (byte* p = path)
        fixed (byte* t = times)
        {
            return Call(280, directory, path.IsEmpty ? 0 : (long)p, times.IsEmpty ? 0 : (long)t, flags);
        }
    }

    /// <summary><c>faccessat2(fd, "", mode, AT_EMPTY_PATH | flags)</c>.</summary>
    public static unsafe long Access(int descriptor, int mode, int flags)
    {
        // SAFETY: the empty path is a static NUL.
        fixed (byte* p = Empty)
        {
            return Call(439, descriptor, (long)p, mode, EmptyPath | flags);
        }
    }

    /// <summary><c>pipe2(fds, flags)</c>.</summary>
    public static unsafe long Pipe2(Span<int> descriptors, int flags)
    {
        if (descriptors.Length < 2)
        {
            return -Errno.EFAULT;
        }

        // SAFETY: `descriptors` is pinned and holds the two ints written.
        fixed (int* p = descriptors)
        {
            return Call(293, (long)p, flags);
        }
    }

    /// <summary><c>pread64(fd, buf, count, offset)</c>.</summary>
    public static unsafe long PRead(int descriptor, Span<byte> buffer, long offset)
    {
        // SAFETY: `buffer` is pinned; the kernel writes at most its length.
        fixed (byte* s = buffer)
        {
            return Call(17, descriptor, (long)s, buffer.Length, offset);
        }
    }

    /// <summary><c>pwrite64(fd, buf, count, offset)</c>.</summary>
    public static unsafe long PWrite(int descriptor, ReadOnlySpan<byte> buffer, long offset)
    {
        // SAFETY: `buffer` is pinned; the kernel reads at most its length.
        fixed (byte* s = buffer)
        {
            return Call(18, descriptor, (long)s, buffer.Length, offset);
        }
    }

    /// <summary><c>sendfile(out, in, offset, count)</c>; an empty <paramref name="offset"/> is NULL.</summary>
    public static unsafe long SendFile(int output, int input, Span<byte> offset, long count)
    {
        // SAFETY: `offset` is pinned and is 8 bytes (a loff_t) when given.
        fixed (byte* o = offset)
        {
            return Call(40, output, input, offset.IsEmpty ? 0 : (long)o, count);
        }
    }

    /// <summary><c>copy_file_range(in, off_in, out, off_out, len, flags)</c>; an empty offset is NULL.</summary>
    public static unsafe long CopyFileRange(int input, Span<byte> inputOffset, int output, Span<byte> outputOffset, long length, int flags)
    {
        // SAFETY: both offsets are pinned and are 8 bytes when given.
        fixed (byte* i = inputOffset)
        fixed (byte* o = outputOffset)
        {
            return Call(326, input, inputOffset.IsEmpty ? 0 : (long)i, output, outputOffset.IsEmpty ? 0 : (long)o, length, flags);
        }
    }
}
