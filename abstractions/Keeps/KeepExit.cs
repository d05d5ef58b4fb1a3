namespace Donjon.Abstractions.Keeps;

/// <summary>How a keep ended.</summary>
/// <param name="ExitStatus">The workload's exit status (0-255) when it exited; <see langword="null"/> when it did not.</param>
/// <param name="Fault">The fault that ended the workload, when one did.</param>
/// <param name="Reason">When the keep ended for another reason (killed, the shim failed), what happened.</param>
public sealed record KeepExit(int? ExitStatus, KeepFault? Fault, string? Reason)
{
    /// <summary>
    /// The signal that ended the keep's process (its wait status said "killed by signal N"), when the backend knows
    /// one; <see langword="null"/> when the process exited, or when the backend has no such process to wait for.
    /// </summary>
    /// <remarks>
    /// The host trusts this, and <see cref="ExitStatus"/>, over what the keep reported in its shared block: in a
    /// process keep the workload can write the block itself, but it cannot forge how its process ended.
    /// </remarks>
    public int? Signal { get; init; }

    /// <summary>The workload exited with <paramref name="status"/>.</summary>
    /// <param name="status">The exit status, 0-255.</param>
    /// <returns>The exit.</returns>
    public static KeepExit Exited(int status) => new(status & 0xff, null, null);
}

/// <summary>A fault inside the keep that ended the workload.</summary>
/// <param name="Signal">The Linux signal number that matches the fault (11 for SIGSEGV, 4 for SIGILL...).</param>
/// <param name="Address">The faulting address (CR2, or <c>si_addr</c>), when the fault has one.</param>
/// <param name="InstructionPointer">The workload's instruction pointer at the fault.</param>
/// <param name="ExceptionVector">The x86 exception vector in a VM keep (14 for #PF...); <see langword="null"/> otherwise.</param>
/// <param name="ErrorCode">The exception's error code, or the signal's <c>si_code</c>.</param>
/// <param name="Description">A sentence describing the fault.</param>
public sealed record KeepFault(int Signal, ulong Address, ulong InstructionPointer, int? ExceptionVector, ulong ErrorCode, string Description);
