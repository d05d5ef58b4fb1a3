using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Host.Protocol;

/// <summary>
/// Writes replies into the shared block (<c>docs/protocol.md</c> §3): a syscall item's <c>result</c> and
/// <c>output size</c> fields, bytes inside output buffers, and the reply sequence number. It writes only at the
/// places <see cref="RequestParser"/> validated from its private copy, never at places read again from the block.
/// </summary>
/// <remarks>The doorbell is not touched: <c>ISyscallPort.CompleteRequest</c> rings it.</remarks>
internal static class ReplyWriter
{
    /// <summary>
    /// Writes the reply to <paramref name="request"/> that carries no output: for a syscall item (also an
    /// undeclared one, or a violation whose syscall item was located) <paramref name="result"/> and zero output
    /// sizes; for every request the reply sequence number.
    /// </summary>
    /// <param name="block">The shared block.</param>
    /// <param name="request">The parsed request.</param>
    /// <param name="result">The syscall result, for example <c>-ENOSYS</c> (or a slot-open item's result); ignored when the request has neither.</param>
    public static void WriteReply(Span<byte> block, ParsedRequest request, long result)
    {
        ArgumentNullException.ThrowIfNull(request);
        int? itemOffset = request switch
        {
            ParsedRequest.SyscallCall call => call.Reply.ItemOffset,
            ParsedRequest.Undeclared undeclared => undeclared.SyscallItemOffset,
            ParsedRequest.ProtocolViolation violation => violation.SyscallItemOffset,
            _ => null,
        };

        if (request is ParsedRequest.SlotOpen open)
        {
            BinaryPrimitives.WriteInt64LittleEndian(block[(open.ItemOffset + SlotOpenResultOffset)..], result);
        }
        else if (itemOffset is int offset)
        {
            var item = block.Slice(offset, SyscallFixedSize);
            item.Slice(SyscallOutputSizesOffset, 4 * MaxArguments).Clear();
            BinaryPrimitives.WriteInt64LittleEndian(item[SyscallResultOffset..], result);
        }

        WriteReplySequence(block, request.RequestSequence);
    }

    /// <summary>
    /// Writes a handler's result for <paramref name="call"/>. A result that names a non-output argument, names an
    /// argument twice, or exceeds an output's capacity is refused: then nothing of it is written, the reply is
    /// <c>-EFAULT</c>, and the reason is returned for the caller to log. A handler bug never corrupts the keep.
    /// </summary>
    /// <param name="block">The shared block.</param>
    /// <param name="call">The call, as parsed.</param>
    /// <param name="result">The handler's result.</param>
    /// <returns><see langword="null"/> when written; otherwise why the result was refused.</returns>
    public static string? WriteSyscallResult(Span<byte> block, ParsedRequest.SyscallCall call, SyscallResult? result)
    {
        ArgumentNullException.ThrowIfNull(call);
        var layout = call.Reply;
        if (block.Length < layout.End)
        {
            throw new InvalidOperationException($"the reply block ({block.Length} bytes) is smaller than the block the request was parsed from");
        }

        string? problem = CheckResult(layout, result, call.Signature);
        if (problem is not null)
        {
            WriteReply(block, call, -Errno.EFAULT);
            return problem;
        }

        var item = block.Slice(layout.ItemOffset, SyscallFixedSize);
        var outputSizes = item.Slice(SyscallOutputSizesOffset, 4 * MaxArguments);
        outputSizes.Clear();
        foreach (var output in result!.Outputs)
        {
            var data = output.Data.Span;
            Span<byte> target = block.Slice(layout.OutputOffset(output.ArgumentIndex), data.Length);

            // An output a direct-output handler wrote into its room (IDirectOutputSyscallHandlerSet) is in place already.
            if (!System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(target)))
            {
                data.CopyTo(target);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(outputSizes[(4 * output.ArgumentIndex)..], (uint)data.Length);
        }

        BinaryPrimitives.WriteInt64LittleEndian(item[SyscallResultOffset..], result.Value);
        WriteReplySequence(block, call.RequestSequence);
        return null;
    }

    private static string? CheckResult(SyscallReplyLayout layout, SyscallResult? result, SyscallSignature signature)
    {
        if (result is null)
        {
            return "the handler returned no result";
        }

        if (result.Outputs is null)
        {
            return "the handler's result has no output list";
        }

        Span<bool> seen = stackalloc bool[MaxArguments];
        foreach (var output in result.Outputs)
        {
            int index = output.ArgumentIndex;
            if (!layout.IsOutput(index))
            {
                return $"the handler returned output for argument {index}, which is not an output argument";
            }

            if (seen[index])
            {
                return $"the handler returned output for argument {index} twice";
            }

            seen[index] = true;
            if (output.Data.Length > layout.OutputCapacity(index))
            {
                return $"the handler returned {output.Data.Length} bytes for argument {index}, whose capacity is {layout.OutputCapacity(index)}";
            }

            // 1.4: a message argument's records come back whole or not at all (the shim reads them by its own sizes).
            if (index < signature.Arguments.Count && SignatureValidator.IsMessage(signature.Arguments[index].Kind) &&
                output.Data.Length != 0 && output.Data.Length != layout.OutputCapacity(index))
            {
                return $"the handler returned {output.Data.Length} bytes of message records for argument {index}, not 0 or all {layout.OutputCapacity(index)}";
            }
        }

        return null;
    }

    private static void WriteReplySequence(Span<byte> block, uint requestSequence) =>
        BinaryPrimitives.WriteUInt32LittleEndian(block[BlockReplySequenceOffset..], requestSequence);
}
