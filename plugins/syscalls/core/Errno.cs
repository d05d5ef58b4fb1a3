namespace Donjon.Syscalls.Core;

/// <summary>The Linux errno values the core set answers with (x86-64, from <c>asm-generic/errno-base.h</c> and <c>errno.h</c>).</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EFAULT = 14;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ENOSYS = 38;
    public const int EOPNOTSUPP = 95;
}
