using System.Buffers.Binary;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core.Handlers;

/// <summary>
/// <c>sysinfo(info)</c>: the host's uptime, load averages and process count, and memory figures that describe the keep,
/// not the host: <c>totalram</c> is the policy's memory limit (<c>policy.limits.memory</c>, or the host's RAM if that is
/// smaller), <c>freeram</c> the host's free RAM capped at it, and no shared, buffer, swap or high memory; <c>mem_unit</c>
/// is 1, so every figure is in bytes.
/// </summary>
/// <remarks>
/// The keep's own use of its memory lives in the shim, which the host never reads, so <c>freeram</c> is not the limit
/// minus what the workload mapped: it says how much the host could still give, at most the limit. <c>struct sysinfo</c>
/// on x86-64: <c>uptime</c> (s64) at 0, <c>loads[3]</c> at 8, then <c>totalram</c>, <c>freeram</c>, <c>sharedram</c>,
/// <c>bufferram</c>, <c>totalswap</c>, <c>freeswap</c> (u64) at 32–72, <c>procs</c> (u16) at 80, <c>totalhigh</c> and
/// <c>freehigh</c> at 88 and 96, <c>mem_unit</c> (u32) at 104; 112 bytes.
/// </remarks>
internal static class SystemInfoCalls
{
    private const int TotalRamOffset = 32;
    private const int FreeRamOffset = 40;
    private const int MemoryUnitOffset = 104;

    /// <summary>Handles the call.</summary>
    public static SyscallResult SysInfo(SyscallRequest request, IKeepSession session)
    {
        if (!request.HasOutput(0, LibC.SysInfoSize))
        {
            return SyscallResult.Error(Errno.EFAULT);
        }

        byte[] info = new byte[LibC.SysInfoSize];
        long result = LibC.SysInfo(info);
        if (result < 0)
        {
            return SyscallResult.Error((int)-result);
        }

        uint unit = Math.Max(1u, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(MemoryUnitOffset)));
        ulong hostTotal = Bytes(BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(TotalRamOffset)), unit);
        ulong hostFree = Bytes(BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(FreeRamOffset)), unit);
        ulong limit = session.Policy.Limits.MemorySize;
        ulong total = limit == 0 ? hostTotal : Math.Min(limit, hostTotal);

        // Keep uptime, loads and procs (0–31 and 80); everything after 32 but those is the keep's.
        info.AsSpan(TotalRamOffset, 80 - TotalRamOffset).Clear();
        info.AsSpan(82).Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(TotalRamOffset), total);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(FreeRamOffset), Math.Min(hostFree, total));
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(MemoryUnitOffset), 1);
        return request.Output(0, 0, info);
    }

    /// <summary><paramref name="count"/> units of <paramref name="unit"/> bytes, saturated.</summary>
    private static ulong Bytes(ulong count, uint unit) => count > ulong.MaxValue / unit ? ulong.MaxValue : count * unit;
}
