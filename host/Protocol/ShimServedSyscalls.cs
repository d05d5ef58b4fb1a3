namespace Donjon.Host.Protocol;

/// <summary>Which keeps' shims serve a syscall themselves.</summary>
[Flags]
internal enum ServedIn
{
    /// <summary>No shim.</summary>
    None = 0,

    /// <summary>The process keep's shim (<c>asm/process/sigsys.S</c>).</summary>
    Process = 1,

    /// <summary>The VM keep's guest kernel (<c>asm/vm/syscall.S</c>).</summary>
    Vm = 2,

    /// <summary>Both shims.</summary>
    Both = Process | Vm,
}

/// <summary>One syscall a shim serves inside the keep.</summary>
/// <param name="Number">The x86-64 syscall number.</param>
/// <param name="Name">Its name.</param>
/// <param name="Keeps">Which shims serve it.</param>
/// <param name="Declarable">
/// Whether a handler set may still declare it: true only when some shim sends it to the host after all
/// (<c>getrandom</c>: the VM shim falls back to the host on a CPU with neither RDRAND nor RDSEED, and the process shim
/// never serves it).
/// </param>
internal readonly record struct ShimServedSyscall(int Number, string Name, ServedIn Keeps, bool Declarable);

/// <summary>
/// The syscalls the shims serve themselves, so that no handler set may declare them: a handler would never be called,
/// and a verifier reading the configuration page would be told that they leave the keep.
/// </summary>
/// <remarks>
/// This is the one place in the host that lists them. It mirrors the <c>KEEP LX_NR_...</c> lines of
/// <c>dj_keep_table</c> in <c>asm/process/sigsys.S</c> (plus the numbers sigsys.S dispatches before that table:
/// <c>rt_sigreturn</c> and <c>sigaltstack</c>) and of <c>dj_keep_table</c> in <c>asm/vm/syscall.S</c>, with the numbers of
/// <c>asm/include/linux.h</c> (and <c>asm/vm/vm.h</c>). <c>ShimServedSyscallsTests</c> reads those files and fails when
/// they and this list differ; change both together.
/// </remarks>
internal static class ShimServedSyscalls
{
    /// <summary>Every syscall some shim serves, by number.</summary>
    public static IReadOnlyList<ShimServedSyscall> All { get; } =
    [
        new(9, "mmap", ServedIn.Both, false),
        new(10, "mprotect", ServedIn.Both, false),
        new(11, "munmap", ServedIn.Both, false),
        new(12, "brk", ServedIn.Both, false),
        new(13, "rt_sigaction", ServedIn.Both, false),
        new(14, "rt_sigprocmask", ServedIn.Both, false),
        new(15, "rt_sigreturn", ServedIn.Both, false),
        new(24, "sched_yield", ServedIn.Both, false),
        new(25, "mremap", ServedIn.Both, false),
        new(28, "madvise", ServedIn.Both, false),
        new(34, "pause", ServedIn.Both, false),
        new(56, "clone", ServedIn.Both, false),
        new(60, "exit", ServedIn.Both, false),
        new(62, "kill", ServedIn.Both, false),
        new(127, "rt_sigpending", ServedIn.Both, false),
        new(128, "rt_sigtimedwait", ServedIn.Both, false),
        new(130, "rt_sigsuspend", ServedIn.Both, false),
        new(131, "sigaltstack", ServedIn.Both, false),
        new(158, "arch_prctl", ServedIn.Both, false),
        new(186, "gettid", ServedIn.Both, false),
        new(200, "tkill", ServedIn.Both, false),
        new(202, "futex", ServedIn.Both, false),
        new(218, "set_tid_address", ServedIn.Both, false),
        new(231, "exit_group", ServedIn.Both, false),
        new(234, "tgkill", ServedIn.Both, false),
        new(273, "set_robust_list", ServedIn.Both, false),
        new(318, "getrandom", ServedIn.Vm, true),
        new(334, "rseq", ServedIn.Both, false),
        new(435, "clone3", ServedIn.Both, false),
    ];

    /// <summary>The served syscall that a handler set may not declare, or <see langword="null"/> when <paramref name="number"/> is free.</summary>
    /// <param name="number">A syscall number.</param>
    /// <returns>The entry that refuses it.</returns>
    public static ShimServedSyscall? Refusing(int number)
    {
        foreach (ShimServedSyscall served in All)
        {
            if (served.Number == number && !served.Declarable)
            {
                return served;
            }
        }

        return null;
    }
}
