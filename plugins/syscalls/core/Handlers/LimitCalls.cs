using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>getrlimit</c> and <c>prlimit64</c>: the keep's limits, from the admin's policy (<see cref="KeepLimits"/>),
/// never the host's.
/// </summary>
/// <remarks>
/// Soft and hard limits are equal. RLIMIT_STACK is <see cref="KeepLimits.StackSize"/>, RLIMIT_NOFILE
/// <see cref="KeepLimits.MaxOpenFiles"/>, RLIMIT_AS <see cref="KeepLimits.MemorySize"/>. RLIMIT_CORE, RLIMIT_NICE and
/// RLIMIT_RTPRIO are 0, because a keep cannot dump core or change its priority. Every other resource is
/// RLIM_INFINITY. The limits are fixed for the keep's life: setting a limit succeeds only when it sets the value it
/// already has (so the common "raise the soft NOFILE limit to the hard one" works), and is EPERM otherwise, lowering
/// included.
/// </remarks>
internal static class LimitCalls
{
    /// <summary><c>RLIM_NLIMITS</c>.</summary>
    private const uint ResourceCount = 16;

    private const uint LimitCore = 4;
    private const uint LimitStack = 3;
    private const uint LimitOpenFiles = 7;
    private const uint LimitAddressSpace = 9;
    private const uint LimitNice = 13;
    private const uint LimitRealtimePriority = 14;

    /// <summary><c>struct rlimit</c>: two u64.</summary>
    private const int RlimitSize = 16;

    /// <summary><c>RLIM_INFINITY</c>.</summary>
    private const ulong Infinity = ulong.MaxValue;

    /// <summary><c>getrlimit(resource, rlim)</c>.</summary>
    public static SyscallResult GetLimit(SyscallRequest request, IKeepSession session)
    {
        uint resource = request.UInt32(0);
        if (resource >= ResourceCount)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        return request.HasOutput(1, RlimitSize)
            ? request.Output(0, 1, Encode(Limit(session.Policy.Limits, resource)))
            : SyscallResult.Error(Errno.EFAULT);
    }

    /// <summary><c>prlimit64(pid, resource, new_limit, old_limit)</c>; <c>pid</c> is 0 or the keep's own pid, 1.</summary>
    public static SyscallResult ProcessLimit(SyscallRequest request, IKeepSession session)
    {
        long pid = request.Int32(0);
        if (pid != 0 && pid != IdentityCalls.KeepProcessId)
        {
            return SyscallResult.Error(Errno.ESRCH);
        }

        uint resource = request.UInt32(1);
        if (resource >= ResourceCount)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        ulong current = Limit(session.Policy.Limits, resource);
        if (request.TryInput(2, RlimitSize, out ReadOnlyMemory<byte> wanted))
        {
            ulong soft = BinaryPrimitives.ReadUInt64LittleEndian(wanted.Span);
            ulong hard = BinaryPrimitives.ReadUInt64LittleEndian(wanted.Span[8..]);
            if (soft > hard)
            {
                return SyscallResult.Error(Errno.EINVAL);
            }

            if (soft != current || hard != current)
            {
                return SyscallResult.Error(Errno.EPERM);
            }
        }

        return request.HasOutput(3, RlimitSize) ? request.Output(0, 3, Encode(current)) : SyscallResult.Success(0);
    }

    private static ulong Limit(KeepLimits limits, uint resource) => resource switch
    {
        LimitStack => limits.StackSize,
        LimitOpenFiles => (ulong)Math.Max(0, limits.MaxOpenFiles),
        LimitAddressSpace => limits.MemorySize,
        LimitCore or LimitNice or LimitRealtimePriority => 0,
        _ => Infinity,
    };

    private static byte[] Encode(ulong limit)
    {
        byte[] bytes = new byte[RlimitSize];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, limit);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), limit);
        return bytes;
    }
}
