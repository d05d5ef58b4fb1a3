namespace Donjon.Host.Execution;

/// <summary>Names and meanings of signals, their <c>si_code</c> values and x86 exception vectors, for fault reports.</summary>
internal static class FaultNames
{
    /// <summary>"SIGSEGV", or "signal N" for a number without a name here.</summary>
    public static string Signal(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS",
        8 => "SIGFPE", 9 => "SIGKILL", 10 => "SIGUSR1", 11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE",
        14 => "SIGALRM", 15 => "SIGTERM", 31 => "SIGSYS",
        _ => $"signal {signal}",
    };

    /// <summary>What a signal's <c>si_code</c> means (siginfo.h), or null when it means nothing known for that signal.</summary>
    public static string? SignalCode(int signal, long code) => (signal, code) switch
    {
        (11, 1) => "address not mapped",
        (11, 2) => "invalid permissions for mapped object",
        (11, 3) => "failed address bound checks",
        (11, 4) => "failed protection key checks",
        (7, 1) => "invalid address alignment",
        (7, 2) => "nonexistent physical address",
        (7, 3) => "object-specific hardware error",
        (8, 1) => "integer divide by zero",
        (8, 2) => "integer overflow",
        (8, 3) => "floating-point divide by zero",
        (8, 4) => "floating-point overflow",
        (8, 5) => "floating-point underflow",
        (8, 6) => "floating-point inexact result",
        (8, 7) => "floating-point invalid operation",
        (8, 8) => "subscript out of range",
        (4, 1) => "illegal opcode",
        (4, 2) => "illegal operand",
        (4, 3) => "illegal addressing mode",
        (4, 4) => "illegal trap",
        (4, 5) => "privileged opcode",
        (4, 6) => "privileged register",
        (4, 7) => "coprocessor error",
        (4, 8) => "internal stack error",
        (5, 1) => "breakpoint",
        (5, 2) => "trace trap",
        (_, 128) => "general protection or another fault the kernel reports without an address",
        (_, 0) => "sent by a process (kill)",
        (_, -6) => "sent by tkill or tgkill",
        _ => null,
    };

    /// <summary>"#GP general protection" for an x86 exception vector, or null for one without a name here.</summary>
    public static string? Vector(int vector) => vector switch
    {
        0 => "#DE divide error",
        1 => "#DB debug",
        2 => "NMI",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range exceeded",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack-segment fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 floating-point error",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD floating-point exception",
        20 => "#VE virtualization exception",
        21 => "#CP control protection",
        _ => null,
    };

    /// <summary>What a #PF error code says: "write to an unmapped address", "instruction fetch from a protected page"...</summary>
    public static string PageFaultCause(ulong errorCode)
    {
        string access = (errorCode & 0x10) != 0 ? "instruction fetch from" : (errorCode & 0x2) != 0 ? "write to" : "read of";
        string where = (errorCode & 0x1) != 0 ? "a page it may not access that way" : "an unmapped address";
        return $"{access} {where}";
    }
}
