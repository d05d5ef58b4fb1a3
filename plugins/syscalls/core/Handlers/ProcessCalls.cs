using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// What a program asks about its own process that the host can answer without reaching any other:
/// <c>sched_getaffinity</c> (the CPUs the keep may run on) and the thread-name part of <c>prctl</c>.
/// </summary>
/// <remarks>
/// <para>
/// <c>sched_getaffinity</c> gives CPUs 0 to n − 1, n being the CPUs Donjon itself may use (at most 64), for any
/// thread of the keep: the keep's threads are scheduled by the host (process keep) or by the guest on its vCPUs (VM
/// keep), never pinned by the workload. Runtimes size their thread pools from it (Rust's
/// <c>available_parallelism</c>, Go, .NET).
/// </para>
/// <para>
/// <c>prctl</c>: only <c>PR_SET_NAME</c> and <c>PR_GET_NAME</c>, the names threads give themselves (glibc's
/// <c>pthread_setname_np</c>, Rust's named threads); a name is kept per keep, not per thread, and never reaches the
/// host's own thread names. Every other option is <c>EINVAL</c>: none of them may change how the keep's process
/// runs (dumpable, seccomp, no_new_privs, parent-death signal), which are the shim's.
/// </para>
/// </remarks>
internal sealed class ProcessCalls
{
    /// <summary>The size of a thread name, its NUL included (<c>TASK_COMM_LEN</c>).</summary>
    public const int NameSize = 16;

    private const int PrSetName = 15;
    private const int PrGetName = 16;

    private readonly ConditionalWeakTable<IKeepSession, byte[]> _names = [];

    /// <summary><c>sched_getaffinity(pid, size, mask)</c>: the mask's bytes, and the size the kernel's cpumask has (8).</summary>
    public static SyscallResult GetAffinity(SyscallRequest request)
    {
        long size = (long)request.Argument(1);
        if (request.Int32(0) < 0)
        {
            return SyscallResult.Error(Errno.ESRCH);
        }

        if (size < sizeof(ulong) || size % sizeof(ulong) != 0)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        int cpus = Math.Clamp(Environment.ProcessorCount, 1, 64);
        ulong mask = cpus == 64 ? ulong.MaxValue : (1UL << cpus) - 1;
        byte[] bytes = BitConverter.GetBytes(mask);
        return request.Output(sizeof(ulong), 2, bytes);
    }

    /// <summary><c>prctl(option, arg2, ...)</c>.</summary>
    public SyscallResult Control(SyscallRequest request, IKeepSession session)
    {
        int option = request.Int32(0);
        switch (option)
        {
            case PrSetName:
                ReadOnlySpan<byte> untrustedName = request.Input(1).Span;
                if (untrustedName.IsEmpty)
                {
                    return SyscallResult.Error(Errno.EFAULT);
                }

                var name = new byte[NameSize];
                int length = untrustedName.IndexOf((byte)0);
                untrustedName[..Math.Min(length < 0 ? untrustedName.Length : length, NameSize - 1)].CopyTo(name);
                lock (_names)
                {
                    _names.AddOrUpdate(session, name);
                }

                return SyscallResult.Success(0);

            case PrGetName:
                if (request.OutputCapacity(1) < NameSize)
                {
                    return SyscallResult.Error(Errno.EFAULT);
                }

                byte[] current;
                lock (_names)
                {
                    current = _names.TryGetValue(session, out byte[]? set) ? set : DefaultName(session);
                }

                return request.Output(0, 1, current);

            default:
                return SyscallResult.Error(Errno.EINVAL);
        }
    }

    /// <summary>The name Linux gives a process: its file's name, cut to 15 bytes.</summary>
    private static byte[] DefaultName(IKeepSession session)
    {
        var name = new byte[NameSize];
        byte[] file = System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(session.Workload.Path));
        file.AsSpan(0, Math.Min(file.Length, NameSize - 1)).CopyTo(name);
        return name;
    }
}
