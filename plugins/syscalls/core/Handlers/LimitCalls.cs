using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>getrlimit</c> and <c>prlimit64</c>: the keep's limits, from the admin's policy (<see cref="KeepLimits"/>),
/// never the host's.
/// </summary>
/// <remarks>
/// Each keep starts with soft and hard limits equal: RLIMIT_STACK is <see cref="KeepLimits.StackSize"/>,
/// RLIMIT_NOFILE <see cref="KeepLimits.MaxOpenFiles"/>, RLIMIT_AS <see cref="KeepLimits.MemorySize"/>. RLIMIT_CORE,
/// RLIMIT_NICE and RLIMIT_RTPRIO are 0, because a keep cannot dump core or change its priority. Every other resource
/// is RLIM_INFINITY. As on Linux for an unprivileged process, the workload may lower its soft and hard limits and
/// raise a soft limit up to its hard limit; raising a hard limit is EPERM, so no limit ever exceeds what the policy
/// grants, and soft above hard is EINVAL. The keep's current limits are what getrlimit and prlimit64 report
/// (kept per session); the host still enforces the policy's limits themselves.
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

    /// <summary>Each keep's current soft and hard limits, starting from its policy.</summary>
    private static readonly ConditionalWeakTable<IKeepSession, CurrentLimits> Current = new();

    private sealed class CurrentLimits
    {
        public readonly ulong[] Soft = new ulong[ResourceCount];
        public readonly ulong[] Hard = new ulong[ResourceCount];

        public CurrentLimits(KeepLimits policy)
        {
            for (uint resource = 0; resource < ResourceCount; resource++)
            {
                Soft[resource] = Hard[resource] = Limit(policy, resource);
            }
        }
    }

    private static CurrentLimits Of(IKeepSession session) => Current.GetValue(session, s => new CurrentLimits(s.Policy.Limits));

    /// <summary><c>getrlimit(resource, rlim)</c>.</summary>
    public static SyscallResult GetLimit(SyscallRequest request, IKeepSession session)
    {
        uint resource = request.UInt32(0);
        if (resource >= ResourceCount)
        {
            return SyscallResult.Error(Errno.EINVAL);
        }

        if (!request.HasOutput(1, RlimitSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        CurrentLimits limits = Of(session);
        lock (limits)
        {
            return request.Output(0, 1, Encode(limits.Soft[resource], limits.Hard[resource]));
        }
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

        CurrentLimits limits = Of(session);
        lock (limits)
        {
            ulong oldSoft = limits.Soft[resource];
            ulong oldHard = limits.Hard[resource];
            if (request.TryInput(2, RlimitSize, out ReadOnlyMemory<byte> wanted))
            {
                ulong soft = BinaryPrimitives.ReadUInt64LittleEndian(wanted.Span);
                ulong hard = BinaryPrimitives.ReadUInt64LittleEndian(wanted.Span[8..]);
                if (soft > hard)
                {
                    return SyscallResult.Error(Errno.EINVAL);
                }

                if (hard > oldHard)
                {
                    return SyscallResult.Error(Errno.EPERM); // raising a hard limit needs CAP_SYS_RESOURCE, which a keep never has
                }

                limits.Soft[resource] = soft;
                limits.Hard[resource] = hard;
            }

            return request.HasOutput(3, RlimitSize) ? request.Output(0, 3, Encode(oldSoft, oldHard)) : SyscallResult.Success(0);
        }
    }

    private static ulong Limit(KeepLimits limits, uint resource) => resource switch
    {
        LimitStack => limits.StackSize,
        LimitOpenFiles => (ulong)Math.Max(0, limits.MaxOpenFiles),
        LimitAddressSpace => limits.MemorySize,
        LimitCore or LimitNice or LimitRealtimePriority => 0,
        _ => Infinity,
    };

    private static byte[] Encode(ulong soft, ulong hard)
    {
        byte[] bytes = new byte[RlimitSize];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, soft);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), hard);
        return bytes;
    }
}
