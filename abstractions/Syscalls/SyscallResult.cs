namespace Donjon.Abstractions.Syscalls;

/// <summary>The outcome of one proxied syscall.</summary>
/// <param name="Value">The value the syscall returns: non-negative on success, minus an errno on failure.</param>
/// <param name="Outputs">Bytes for output arguments; each must fit its argument's capacity.</param>
public sealed record SyscallResult(long Value, IReadOnlyList<SyscallOutput> Outputs)
{
    /// <summary>A success with no output.</summary>
    /// <param name="value">The returned value.</param>
    /// <returns>The result.</returns>
    public static SyscallResult Success(long value) => new(value, []);

    /// <summary>A success with one output.</summary>
    /// <param name="value">The returned value.</param>
    /// <param name="argumentIndex">The output argument's index.</param>
    /// <param name="data">The bytes to copy into the workload's buffer.</param>
    /// <returns>The result.</returns>
    public static SyscallResult Success(long value, int argumentIndex, ReadOnlyMemory<byte> data) =>
        new(value, [new SyscallOutput(argumentIndex, data)]);

    /// <summary>A failure with <paramref name="errno"/>.</summary>
    /// <param name="errno">A positive Linux errno, for example 9 for EBADF.</param>
    /// <returns>The result.</returns>
    public static SyscallResult Error(int errno) => new(-(long)errno, []);
}

/// <summary>Bytes a handler returns for one output argument.</summary>
/// <param name="ArgumentIndex">The output argument's index, 0-5.</param>
/// <param name="Data">The bytes; never more than the argument's capacity.</param>
public readonly record struct SyscallOutput(int ArgumentIndex, ReadOnlyMemory<byte> Data);
