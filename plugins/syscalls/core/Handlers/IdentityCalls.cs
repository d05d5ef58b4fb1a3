using System.Text;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>Who and where the workload is: <c>uname</c>, process ids and user ids.</summary>
/// <remarks>
/// <para>
/// Process ids: a keep is a world of its own with one process in it, like a process in a fresh pid namespace, so
/// <c>getpid</c> returns <see cref="KeepProcessId"/> (1) and <c>getppid</c> returns 0. The host's pids would leak the
/// host's view and mean nothing inside the keep. Thread ids (<c>gettid</c>, <c>set_tid_address</c>) and signals to
/// the keep itself (<c>kill</c>, <c>tgkill</c>) are served by the shims; the main thread's tid is also 1.
/// </para>
/// <para>
/// User ids: the real ids Donjon runs with, read from libc on each call. The host puts the same values in the
/// auxiliary vector (<c>AT_UID</c>, <c>AT_EUID</c>, <c>AT_GID</c>, <c>AT_EGID</c>), which musl compares to decide
/// whether it runs "secure"; the two must agree.
/// </para>
/// </remarks>
internal static class IdentityCalls
{
    /// <summary>The pid, tgid and tid of the keep's only process.</summary>
    public const long KeepProcessId = 1;

    /// <summary>The node name every keep reports; the host's would leak.</summary>
    private const string NodeName = "donjon";

    private static readonly Lazy<byte[]> UnameBytes = new(BuildUname);

    /// <summary><c>uname(buf)</c>.</summary>
    public static SyscallResult Uname(SyscallRequest request) =>
        request.HasOutput(0, LibC.UtsNameSize)
            ? request.Output(0, 0, UnameBytes.Value)
            : SyscallResult.Error(Errno.EFAULT);

    /// <summary><c>getpid()</c>.</summary>
    public static SyscallResult ProcessId() => SyscallResult.Success(KeepProcessId);

    /// <summary><c>getppid()</c>: the keep's process has no parent it can see.</summary>
    public static SyscallResult ParentProcessId() => SyscallResult.Success(0);

    /// <summary><c>getuid()</c>.</summary>
    public static SyscallResult UserId() => SyscallResult.Success(LibC.GetUid());

    /// <summary><c>geteuid()</c>.</summary>
    public static SyscallResult EffectiveUserId() => SyscallResult.Success(LibC.GetEuid());

    /// <summary><c>getgid()</c>.</summary>
    public static SyscallResult GroupId() => SyscallResult.Success(LibC.GetGid());

    /// <summary><c>getegid()</c>.</summary>
    public static SyscallResult EffectiveGroupId() => SyscallResult.Success(LibC.GetEgid());

    /// <summary>
    /// The keep's <c>struct utsname</c>: sysname "Linux", nodename "donjon", the host's release and version (the
    /// workload runs on the host's kernel ABI, and libc may check the release), machine "x86_64", domainname "(none)".
    /// </summary>
    private static byte[] BuildUname()
    {
        byte[] host = new byte[LibC.UtsNameSize];
        bool haveHost = LibC.Uname(host) == 0;

        byte[] name = new byte[LibC.UtsNameSize];
        Field(name, 0, "Linux"u8);
        Field(name, 1, Encoding.ASCII.GetBytes(NodeName));
        Field(name, 2, haveHost ? HostField(host, 2) : "6.1.0"u8);
        Field(name, 3, haveHost ? HostField(host, 3) : "#1 SMP"u8);
        Field(name, 4, "x86_64"u8);
        Field(name, 5, "(none)"u8);
        return name;
    }

    private static ReadOnlySpan<byte> HostField(byte[] host, int index)
    {
        ReadOnlySpan<byte> field = host.AsSpan(index * LibC.UtsFieldSize, LibC.UtsFieldSize);
        int end = field.IndexOf((byte)0);
        return end < 0 ? field[..^1] : field[..end];
    }

    private static void Field(byte[] name, int index, ReadOnlySpan<byte> value)
    {
        // Each field is NUL-terminated within its 65 bytes; the array is already zero.
        ReadOnlySpan<byte> cut = value.Length < LibC.UtsFieldSize ? value : value[..(LibC.UtsFieldSize - 1)];
        cut.CopyTo(name.AsSpan(index * LibC.UtsFieldSize));
    }
}
