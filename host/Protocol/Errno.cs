namespace Donjon.Host.Protocol;

/// <summary>The Linux errno values the host answers with itself.</summary>
internal static class Errno
{
    /// <summary>Interrupted system call: a forwarded signal interrupted a blocked call.</summary>
    internal const int EINTR = 4;

    /// <summary>Kernel-internal "restart the call": answered for an interrupted restartable call; the shim turns it into a restart (<c>SA_RESTART</c>) or <c>EINTR</c>.</summary>
    internal const int ERESTARTSYS = 512;

    /// <summary>Resource temporarily unavailable (a slot that cannot be served).</summary>
    internal const int EAGAIN = 11;

    /// <summary>I/O error: a handler failed.</summary>
    internal const int EIO = 5;

    /// <summary>Out of memory.</summary>
    internal const int ENOMEM = 12;

    /// <summary>Bad address: a request or a handler's result broke the protocol.</summary>
    internal const int EFAULT = 14;

    /// <summary>Invalid argument.</summary>
    internal const int EINVAL = 22;

    /// <summary>Too many open files.</summary>
    internal const int EMFILE = 24;

    /// <summary>File name too long.</summary>
    internal const int ENAMETOOLONG = 36;

    /// <summary>No such syscall.</summary>
    internal const int ENOSYS = 38;
}
