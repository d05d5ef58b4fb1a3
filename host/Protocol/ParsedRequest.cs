using Donjon.Abstractions.Syscalls;

namespace Donjon.Host.Protocol;

/// <summary>
/// One request read from the shared block by <see cref="RequestParser"/>: exactly one of the nested kinds.
/// Everything in it comes from the host's private copy of the request, already checked.
/// </summary>
/// <param name="RequestSequence">The request sequence number the shim wrote; the reply echoes it.</param>
internal abstract record ParsedRequest(uint RequestSequence)
{
    /// <summary>A declared syscall whose every field passed the checks of §3.</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Request">The call as a handler sees it; its inputs are slices of the private copy, valid until the next parse.</param>
    /// <param name="Reply">Where the reply goes in the shared block, as validated from the private copy.</param>
    internal sealed record SyscallCall(uint RequestSequence, SyscallRequest Request, SyscallReplyLayout Reply) : ParsedRequest(RequestSequence)
    {
        /// <summary>The syscall number.</summary>
        public int Number => Request.Number;

        /// <summary>The declaration the call was checked against.</summary>
        public SyscallSignature Signature => Request.Signature;
    }

    /// <summary>The workload called <c>exit</c> or <c>exit_group</c>.</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Status">The status the workload passed, as it passed it (untrusted, any i32).</param>
    internal sealed record Exit(uint RequestSequence, int Status) : ParsedRequest(RequestSequence);

    /// <summary>The workload faulted; the keep ends after the reply.</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Signal">The signal, 1-64.</param>
    /// <param name="Vector">The exception vector (0-255), or -1 in a process keep.</param>
    /// <param name="Address">The faulting address.</param>
    /// <param name="InstructionPointer">The workload's instruction pointer.</param>
    /// <param name="ErrorCode">The exception's error code, or <c>si_code</c>.</param>
    internal sealed record Fault(uint RequestSequence, int Signal, int Vector, ulong Address, ulong InstructionPointer, ulong ErrorCode)
        : ParsedRequest(RequestSequence);

    /// <summary>A new keep thread is about to use another slot: the host starts serving it (protocol 2.0).</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Slot">The slot the thread will use (untrusted: any u32; the executor checks it against the slot count).</param>
    /// <param name="ThreadId">The thread's id inside the keep (untrusted; for the log only).</param>
    /// <param name="ItemOffset">Where the item starts in the slot, so its <c>result</c> can be written.</param>
    internal sealed record SlotOpen(uint RequestSequence, uint Slot, uint ThreadId, int ItemOffset) : ParsedRequest(RequestSequence);

    /// <summary>
    /// A call the shim served itself, reported for <c>run --strace</c> (a TRACE item, sent only when the configuration
    /// page sets the trace flag). Every field is the keep's word, untrusted: it is shown, never acted on.
    /// </summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Number">The syscall number (any u32).</param>
    /// <param name="ThreadId">The calling thread's id inside the keep (any u32).</param>
    /// <param name="Arguments">The six argument values, as the workload passed them.</param>
    /// <param name="Result">The result the shim returned.</param>
    internal sealed record Trace(uint RequestSequence, uint Number, uint ThreadId, IReadOnlyList<ulong> Arguments, long Result) : ParsedRequest(RequestSequence);

    /// <summary>A log line from the shim.</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Level">0 debug … 4 error.</param>
    /// <param name="Text">The text, decoded as UTF-8 (invalid bytes replaced). Untrusted: escape it before printing.</param>
    internal sealed record Log(uint RequestSequence, int Level, string Text) : ParsedRequest(RequestSequence);

    /// <summary>A syscall no loaded handler set declares; answered with <c>-ENOSYS</c>.</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Number">The syscall number the shim sent (untrusted, any u32).</param>
    /// <param name="SyscallItemOffset">Where the syscall item starts in the block; its fixed part lies inside the request.</param>
    internal sealed record Undeclared(uint RequestSequence, uint Number, int SyscallItemOffset) : ParsedRequest(RequestSequence);

    /// <summary>A request that breaks the protocol; answered with <c>-EFAULT</c> and logged as a warning.</summary>
    /// <param name="RequestSequence">The request sequence number.</param>
    /// <param name="Reason">What was wrong, for the log.</param>
    /// <param name="SyscallItemOffset">
    /// Where the offending syscall item starts in the block when its fixed part lies inside the request (so its
    /// <c>result</c> can carry <c>-EFAULT</c>); <see langword="null"/> otherwise.
    /// </param>
    internal sealed record ProtocolViolation(uint RequestSequence, string Reason, int? SyscallItemOffset) : ParsedRequest(RequestSequence);
}

/// <summary>
/// Where the reply to one syscall item goes in the shared block, validated from the private copy: the item's
/// start and, for each output argument, its buffer's place and capacity.
/// </summary>
internal sealed class SyscallReplyLayout
{
    private readonly int[] _outputOffsets;
    private readonly int[] _outputCapacities;

    /// <summary>Creates a layout.</summary>
    /// <param name="itemOffset">The item's start, from the block's start.</param>
    /// <param name="outputOffsets">
    /// Per argument: the output buffer's start from the block's start (the item's start for a NULL output, whose
    /// capacity is 0), or -1 when the argument is not an output.
    /// </param>
    /// <param name="outputCapacities">Per argument: the output buffer's capacity in bytes, or 0.</param>
    /// <param name="end">The first block offset after the request; every offset above lies below it.</param>
    public SyscallReplyLayout(int itemOffset, ReadOnlySpan<int> outputOffsets, ReadOnlySpan<int> outputCapacities, int end)
    {
        ItemOffset = itemOffset;
        _outputOffsets = outputOffsets.ToArray();
        _outputCapacities = outputCapacities.ToArray();
        End = end;
    }

    /// <summary>The item's start, from the block's start.</summary>
    public int ItemOffset { get; }

    /// <summary>The first block offset after the request: the reply never writes at or beyond it.</summary>
    public int End { get; }

    /// <summary>Whether argument <paramref name="index"/> is an output (output buffer, in/out buffer, output iovec array).</summary>
    /// <param name="index">Any integer; out of range is not an output.</param>
    /// <returns>Whether the handler may return bytes for it.</returns>
    public bool IsOutput(int index) => (uint)index < (uint)_outputOffsets.Length && _outputOffsets[index] >= 0;

    /// <summary>The output buffer of argument <paramref name="index"/>, from the block's start.</summary>
    /// <param name="index">An output argument's index.</param>
    /// <returns>The offset.</returns>
    public int OutputOffset(int index) => _outputOffsets[index];

    /// <summary>The capacity of argument <paramref name="index"/>'s output buffer.</summary>
    /// <param name="index">An output argument's index.</param>
    /// <returns>The capacity in bytes.</returns>
    public int OutputCapacity(int index) => _outputCapacities[index];
}
