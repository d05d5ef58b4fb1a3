namespace Donjon.Abstractions.Syscalls;

/// <summary>One proxied syscall, as a handler sees it: no keep address ever appears in it.</summary>
public sealed class SyscallRequest
{
    private readonly ulong[] _arguments;
    private readonly ReadOnlyMemory<byte>[] _inputs;
    private readonly int[] _outputCapacities;

    /// <summary>Creates a request.</summary>
    /// <param name="signature">The declaration the request was marshalled by.</param>
    /// <param name="arguments">Six argument values; pointer arguments are zero.</param>
    /// <param name="inputs">Six input byte ranges, empty where an argument carries no input.</param>
    /// <param name="outputCapacities">Six output capacities in bytes, zero where an argument carries no output.</param>
    public SyscallRequest(SyscallSignature signature, ReadOnlySpan<ulong> arguments, ReadOnlySpan<ReadOnlyMemory<byte>> inputs, ReadOnlySpan<int> outputCapacities)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (arguments.Length != MaxArguments || inputs.Length != MaxArguments || outputCapacities.Length != MaxArguments)
        {
            throw new ArgumentException($"a syscall request has exactly {MaxArguments} arguments, inputs and capacities");
        }

        Signature = signature;
        _arguments = arguments.ToArray();
        _inputs = inputs.ToArray();
        _outputCapacities = outputCapacities.ToArray();
    }

    /// <summary>The number of arguments every syscall has on x86-64.</summary>
    public const int MaxArguments = 6;

    /// <summary>The declaration the request was marshalled by.</summary>
    public SyscallSignature Signature { get; }

    /// <summary>The syscall number.</summary>
    public int Number => Signature.Number;

    /// <summary>The value of argument <paramref name="index"/>; zero for pointer arguments.</summary>
    /// <param name="index">The argument index, 0-5.</param>
    /// <returns>The value.</returns>
    public ulong Argument(int index) => _arguments[index];

    /// <summary>The bytes the shim copied in for argument <paramref name="index"/>; empty when it carries none.</summary>
    /// <param name="index">The argument index, 0-5.</param>
    /// <returns>
    /// The bytes, which the handler must not keep beyond the call: the host's private copy, or, for an argument its set
    /// names in <see cref="IInPlaceInputSyscallHandlerSet.ReadsInputInPlace"/>, the shared block's own bytes, which the
    /// keep may change while the handler reads them.
    /// </returns>
    public ReadOnlyMemory<byte> Input(int index) => _inputs[index];

    /// <summary>How many bytes the handler may return for argument <paramref name="index"/>.</summary>
    /// <param name="index">The argument index, 0-5.</param>
    /// <returns>The capacity in bytes; zero when the argument carries no output.</returns>
    public int OutputCapacity(int index) => _outputCapacities[index];
}
