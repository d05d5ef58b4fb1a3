namespace Donjon.Syscalls.Net;

/// <summary>The Linux errno values the net set answers with itself (x86-64).</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOSYS = 38;
    public const int ENOTSOCK = 88;
    public const int EPROTOTYPE = 91;
    public const int ENOPROTOOPT = 92;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int EINPROGRESS = 115;
    public const int ECONNREFUSED = 111;
}
