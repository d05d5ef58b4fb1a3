using System.Buffers.Binary;
using System.Text;
using Donjon.Abstractions.Syscalls;
using static Donjon.Backends.Sdk.Protocol.ProtocolLayout;

namespace Donjon.Host.Protocol;

/// <summary>
/// Reads the request in a shared block (<c>docs/protocol.md</c> §3). It reads the request size and sequence
/// once, copies the request bytes into a private buffer, and checks and uses only that copy: the keep may change
/// the block at any moment.
/// </summary>
/// <remarks>
/// Never throws on any block content. One parser serves one keep, one request at a time: the inputs of a
/// <see cref="ParsedRequest.SyscallCall"/> are slices of the private buffer and stay valid until the next
/// <see cref="Parse"/>. A buffer argument sent as {0, 0} is a NULL pointer: the handler sees an empty input and a
/// zero capacity. Version 1.0 requests carry one item; the parser serves the first item of a known kind,
/// skips unknown kinds by their size, and ignores what follows the served item.
/// </remarks>
internal sealed class RequestParser
{
    private readonly Func<int, SyscallSignature?> _lookup;
    private readonly Func<int, int>? _inPlaceInputs;
    private byte[] _copy = [];

    /// <summary>The block being parsed by <see cref="ParseFromBlock"/>, whose plain-byte inputs may be served in place; empty otherwise.</summary>
    private ReadOnlyMemory<byte> _inPlaceBlock;

    /// <summary>Creates a parser that checks syscalls against <paramref name="lookup"/>.</summary>
    /// <param name="lookup">The declaration of a syscall number, or <see langword="null"/> when no loaded set declares it.</param>
    /// <param name="inPlaceInputs">
    /// Per syscall number, a mask of the arguments (bit i: argument i) whose plain bytes its handler set reads in place
    /// (<see cref="IInPlaceInputSyscallHandlerSet"/>); <see langword="null"/>: none. Used by <see cref="ParseFromBlock"/> only.
    /// </param>
    public RequestParser(Func<int, SyscallSignature?> lookup, Func<int, int>? inPlaceInputs = null)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        _lookup = lookup;
        _inPlaceInputs = inPlaceInputs;
    }

    /// <summary>Creates a parser that checks syscalls against <paramref name="signatures"/>, keyed by number.</summary>
    /// <param name="signatures">The declared syscalls.</param>
    public RequestParser(IReadOnlyDictionary<int, SyscallSignature> signatures)
        : this(number => signatures.TryGetValue(number, out var signature) ? signature : null)
    {
    }

    /// <summary>Copies the current request out of <paramref name="untrustedBlock"/> and checks it.</summary>
    /// <param name="untrustedBlock">The whole shared block, which the keep may be changing.</param>
    /// <returns>What the request is; a <see cref="ParsedRequest.ProtocolViolation"/> when it breaks the protocol.</returns>
    public ParsedRequest Parse(ReadOnlySpan<byte> untrustedBlock)
    {
        if (untrustedBlock.Length < BlockItemsStart + ItemHeaderSize)
        {
            return new ParsedRequest.ProtocolViolation(0, $"the shared block is {untrustedBlock.Length} bytes, smaller than its header and one item", null);
        }

        // Each header field is read exactly once, into a local; only the locals are used afterwards.
        uint untrustedSequence = BinaryPrimitives.ReadUInt32LittleEndian(untrustedBlock[BlockRequestSequenceOffset..]);
        uint untrustedRequestSize = BinaryPrimitives.ReadUInt32LittleEndian(untrustedBlock[BlockRequestSizeOffset..]);

        // The capacity comes from the host's own mapping, never from the header fields the keep could overwrite.
        int capacity = untrustedBlock.Length - BlockItemsStart;
        if (untrustedRequestSize > (uint)capacity)
        {
            return Violation(untrustedSequence, $"the request size {untrustedRequestSize} exceeds the items capacity {capacity}");
        }

        if (untrustedRequestSize < ItemHeaderSize || untrustedRequestSize % ItemAlignment != 0)
        {
            return Violation(untrustedSequence, $"the request size {untrustedRequestSize} is not a multiple of {ItemAlignment} of at least {ItemHeaderSize}");
        }

        int requestSize = (int)untrustedRequestSize;
        if (_copy.Length < requestSize)
        {
            _copy = new byte[requestSize];
        }

        // From here on only the private copy is read. Ranges are copied into it as they are needed, each once:
        // item headers and fixed parts, and the bytes of input buffers, but never the room reserved for outputs
        // (a 1 MiB read reserves 1 MiB that the host has no reason to copy).
        return ParseItems(untrustedBlock, untrustedSequence, requestSize);
    }

    /// <summary>
    /// Like <see cref="Parse"/>, but the inputs of kind <see cref="ArgumentKind.InputBuffer"/> and
    /// <see cref="ArgumentKind.InputIovec"/> that the parser's in-place mask names are not copied: the request's
    /// <see cref="SyscallRequest.Input"/> for them is memory over <paramref name="untrustedBlock"/> itself, which the keep
    /// may change while the handler reads it (the handler only passes those bytes on). Every other field, and every
    /// other input, is read from the private copy as with <see cref="Parse"/>; the checks are the same, and none of them
    /// reads the bytes of an in-place input (only its offset and size, from the copy).
    /// </summary>
    /// <param name="untrustedBlock">The whole shared block, which the keep may be changing; it must outlive the call's handling.</param>
    /// <returns>What the request is; a <see cref="ParsedRequest.ProtocolViolation"/> when it breaks the protocol.</returns>
    public ParsedRequest ParseFromBlock(ReadOnlyMemory<byte> untrustedBlock)
    {
        _inPlaceBlock = _inPlaceInputs is null ? ReadOnlyMemory<byte>.Empty : untrustedBlock;
        try
        {
            return Parse(untrustedBlock.Span);
        }
        finally
        {
            _inPlaceBlock = ReadOnlyMemory<byte>.Empty;
        }
    }

    /// <summary>Walks the items of the private copy; every field in it was written by the keep and is checked before use.</summary>
    private ParsedRequest ParseItems(ReadOnlySpan<byte> untrustedBlock, uint sequence, int requestSize)
    {
        ReadOnlySpan<byte> request = _copy.AsSpan(0, requestSize);
        int position = 0;
        while (position < requestSize)
        {
            if (requestSize - position < ItemHeaderSize)
            {
                return Violation(sequence, $"the item at request offset {position} has no room for its header");
            }

            CopyOnce(untrustedBlock, position, ItemHeaderSize);
            uint untrustedItemSize = BinaryPrimitives.ReadUInt32LittleEndian(request[(position + ItemSizeOffset)..]);
            uint untrustedKind = BinaryPrimitives.ReadUInt32LittleEndian(request[(position + ItemKindOffset)..]);
            if (untrustedItemSize < ItemHeaderSize || untrustedItemSize % ItemAlignment != 0)
            {
                return Violation(sequence, $"the item at request offset {position} has size {untrustedItemSize}, not a multiple of {ItemAlignment} of at least {ItemHeaderSize}");
            }

            if ((ulong)position + untrustedItemSize > (ulong)requestSize)
            {
                return Violation(sequence, $"the item at request offset {position} (size {untrustedItemSize}) ends beyond the request size {requestSize}");
            }

            int size = (int)untrustedItemSize; // checked: 8 ≤ size, aligned, inside the request
            ReadOnlySpan<byte> item = request.Slice(position, size);
            switch (untrustedKind)
            {
                case ItemKindSyscall:
                    CopyOnce(untrustedBlock, position + ItemHeaderSize, Math.Min(size, SyscallFixedSize) - ItemHeaderSize);
                    return ParseSyscall(untrustedBlock, sequence, item, position, requestSize);
                case ItemKindExit:
                    CopyOnce(untrustedBlock, position + ItemHeaderSize, size - ItemHeaderSize);
                    return ParseExit(sequence, item);
                case ItemKindFault:
                    CopyOnce(untrustedBlock, position + ItemHeaderSize, size - ItemHeaderSize);
                    return ParseFault(sequence, item);
                case ItemKindLog:
                    CopyOnce(untrustedBlock, position + ItemHeaderSize, size - ItemHeaderSize);
                    return ParseLog(sequence, item);
                case ItemKindSlotOpen:
                    CopyOnce(untrustedBlock, position + ItemHeaderSize, size - ItemHeaderSize);
                    return ParseSlotOpen(sequence, item, BlockItemsStart + position);
                case ItemKindTrace:
                    CopyOnce(untrustedBlock, position + ItemHeaderSize, size - ItemHeaderSize);
                    return ParseTrace(sequence, item);
                default:
                    position += size; // An unknown kind is skipped by its size.
                    break;
            }
        }

        return Violation(sequence, "the request holds no item of a known kind");
    }

    /// <summary>Copies request bytes [start, start + length) from the block into the private copy, at the same offsets.</summary>
    private void CopyOnce(ReadOnlySpan<byte> untrustedBlock, int start, int length)
    {
        if (length > 0)
        {
            untrustedBlock.Slice(BlockItemsStart + start, length).CopyTo(_copy.AsSpan(start, length));
        }
    }

    private ParsedRequest ParseSyscall(ReadOnlySpan<byte> untrustedBlock, uint sequence, ReadOnlySpan<byte> item, int itemPosition, int requestSize)
    {
        int itemOffset = BlockItemsStart + itemPosition;
        if (item.Length < SyscallFixedSize)
        {
            return Violation(sequence, $"the syscall item has size {item.Length}, smaller than its fixed part ({SyscallFixedSize})");
        }

        uint untrustedNumber = BinaryPrimitives.ReadUInt32LittleEndian(item[SyscallNumberOffset..]);
        uint untrustedFlags = BinaryPrimitives.ReadUInt32LittleEndian(item[SyscallFlagsOffset..]);
        if ((untrustedFlags & SyscallFlagUndeclared) != 0 || untrustedNumber > int.MaxValue)
        {
            return new ParsedRequest.Undeclared(sequence, untrustedNumber, itemOffset);
        }

        var signature = _lookup((int)untrustedNumber);
        if (signature is null)
        {
            return new ParsedRequest.Undeclared(sequence, untrustedNumber, itemOffset);
        }

        Span<ulong> arguments = stackalloc ulong[MaxArguments]; // untrusted values, passed on to the handler as they are
        for (int i = 0; i < MaxArguments; i++)
        {
            arguments[i] = BinaryPrimitives.ReadUInt64LittleEndian(item[(SyscallArgumentsOffset + (8 * i))..]);
        }

        var inputs = new ReadOnlyMemory<byte>[MaxArguments];
        Span<int> capacities = stackalloc int[MaxArguments];
        Span<int> outputOffsets = stackalloc int[MaxArguments];
        int itemStartInCopy = itemPosition;
        Span<(int Offset, int Size)> placed = stackalloc (int, int)[MaxArguments];
        int placedCount = 0;

        // The arguments served in place (IInPlaceInputSyscallHandlerSet), when ParseFromBlock gave the block's memory.
        int inPlaceMask = _inPlaceBlock.Length == untrustedBlock.Length && _inPlaceBlock.Length > 0 ? _inPlaceInputs!(signature.Number) : 0;
        for (int i = 0; i < MaxArguments; i++)
        {
            outputOffsets[i] = -1;
            int descriptor = SyscallBuffersOffset + (SyscallBufferSize * i);
            uint untrustedBufferOffset = BinaryPrimitives.ReadUInt32LittleEndian(item[descriptor..]);
            uint untrustedBufferSize = BinaryPrimitives.ReadUInt32LittleEndian(item[(descriptor + 4)..]);
            // 1.5: a selected argument's shape is re-derived here from the request's own (untrusted) selector value, and
            // the buffer the shim sent must then fit that shape like any other.
            var declaration = SignatureValidator.Effective(signature, i, arguments);
            if (declaration is null)
            {
                return Violation(sequence, $"{Where(signature, i)} has no declaration", itemOffset);
            }

            if (declaration.Kind is ArgumentKind.Opaque or ArgumentKind.SignalMask)
            {
                // 1.4: never sent; only whether the pointer was NULL crosses, as the value 0 or 1.
                if (untrustedBufferOffset != 0 || untrustedBufferSize != 0 || arguments[i] > 1)
                {
                    return Violation(sequence, $"{Where(signature, i)} is a {declaration.Kind} argument, sent as 0 or 1 with no buffer, but has value {arguments[i]} and buffer {{{untrustedBufferOffset}, {untrustedBufferSize}}}", itemOffset);
                }

                continue;
            }

            if (declaration.Kind == ArgumentKind.Value)
            {
                if (untrustedBufferOffset != 0 || untrustedBufferSize != 0)
                {
                    return Violation(sequence, $"{Where(signature, i)} is a value but has buffer {{{untrustedBufferOffset}, {untrustedBufferSize}}}", itemOffset);
                }

                continue;
            }

            if (untrustedBufferOffset == 0 && untrustedBufferSize == 0)
            {
                // A NULL pointer: no bytes, capacity 0, its length argument left as the workload passed it.
                if (IsOutputKind(declaration.Kind))
                {
                    outputOffsets[i] = itemOffset; // Only 0 bytes can be written here.
                }

                continue;
            }

            // 64-bit arithmetic: offset + size cannot wrap.
            if (untrustedBufferOffset < SyscallFixedSize || (ulong)untrustedBufferOffset + untrustedBufferSize > (ulong)item.Length)
            {
                return Violation(sequence, $"{Where(signature, i)} buffer {{{untrustedBufferOffset}, {untrustedBufferSize}}} does not lie in [{SyscallFixedSize}, {item.Length})", itemOffset);
            }

            int bufferOffset = (int)untrustedBufferOffset;
            int bufferSize = (int)untrustedBufferSize;

            // Buffers never overlap: each input range is copied once and then checked, so no later copy may
            // change bytes already checked.
            foreach ((int otherOffset, int otherSize) in placed[..placedCount])
            {
                if (bufferOffset < otherOffset + otherSize && otherOffset < bufferOffset + bufferSize)
                {
                    return Violation(sequence, $"{Where(signature, i)} buffer {{{bufferOffset}, {bufferSize}}} overlaps another buffer at {otherOffset}", itemOffset);
                }
            }

            placed[placedCount++] = (bufferOffset, bufferSize);
            // Plain bytes the handler only passes on are not copied: its input is the block itself (see ParseFromBlock).
            // Their checks below use the buffer's size only, never its bytes (CheckBuffer for these two kinds).
            // The declared kind decides, not the shape a selector picked: a selected argument (fcntl's struct flock) is a
            // structure the handler checks, so it is always copied once.
            bool inPlace = (inPlaceMask & (1 << i)) != 0 && signature.Arguments[i].Kind is ArgumentKind.InputBuffer or ArgumentKind.InputIovec;
            if (IsInputKind(declaration.Kind) && !inPlace)
            {
                CopyOnce(untrustedBlock, itemStartInCopy + bufferOffset, bufferSize);
            }

            var buffer = item.Slice(bufferOffset, bufferSize);
            string? problem = SignatureValidator.IsMessage(declaration.Kind)
                ? CheckMessages(untrustedBlock, declaration, signature, arguments, itemStartInCopy + bufferOffset, bufferSize)
                : SignatureValidator.IsSizedByValueResult(signature.Arguments, i)
                ? null // checked below, once every value-result length is known
                : CheckBuffer(declaration, signature, arguments, buffer);
            if (problem is not null)
            {
                return Violation(sequence, $"{Where(signature, i)} {problem}", itemOffset);
            }

            var kind = declaration.Kind;
            if (inPlace)
            {
                inputs[i] = _inPlaceBlock.Slice(BlockItemsStart + itemStartInCopy + bufferOffset, bufferSize);
            }
            else if (IsInputKind(kind) || IsHeaderInputKind(kind))
            {
                inputs[i] = new ReadOnlyMemory<byte>(_copy, itemStartInCopy + bufferOffset, bufferSize);
            }

            if (IsOutputKind(kind))
            {
                capacities[i] = bufferSize;
                outputOffsets[i] = itemOffset + bufferOffset;
            }
        }

        // 1.3: a buffer sized by a value-result length is exactly min(*length, its maximum); a negative length never
        // crosses (the shim answers EINVAL), and a buffer whose length pointer is NULL is the shim's EFAULT.
        for (int i = 0; i < MaxArguments && i < signature.Arguments.Count; i++)
        {
            if (!SignatureValidator.IsSizedByValueResult(signature.Arguments, i) || outputOffsets[i] < 0 || capacities[i] == 0 && outputOffsets[i] == itemOffset)
            {
                continue;
            }

            var declaration = signature.Arguments[i];
            int lengthArgument = declaration.LengthArgument;
            ReadOnlySpan<byte> untrustedLength = inputs[lengthArgument].Span;
            if (untrustedLength.Length == 0)
            {
                return Violation(sequence, $"{Where(signature, i)} buffer of {capacities[i]} bytes has a NULL value-result length (argument {lengthArgument})", itemOffset);
            }

            long value = untrustedLength.Length == 4
                ? BinaryPrimitives.ReadInt32LittleEndian(untrustedLength)
                : BinaryPrimitives.ReadInt64LittleEndian(untrustedLength);
            if (value < 0)
            {
                return Violation(sequence, $"{Where(signature, i)} has a negative value-result length (argument {lengthArgument}: {value})", itemOffset);
            }

            long expected = Math.Min(value, declaration.FixedSize);
            if (capacities[i] != expected)
            {
                return Violation(sequence, $"{Where(signature, i)} buffer size {capacities[i]} differs from min(value-result length (argument {lengthArgument}: {value}), maximum {declaration.FixedSize}) = {expected}", itemOffset);
            }
        }

        var request = new SyscallRequest(signature, arguments, inputs, capacities);
        var reply = new SyscallReplyLayout(itemOffset, outputOffsets, capacities, BlockItemsStart + requestSize);
        return new ParsedRequest.SyscallCall(sequence, request, reply);
    }

    /// <summary>Checks one buffer against its declaration; returns what is wrong, or null.</summary>
    private static string? CheckBuffer(SyscallArgument declaration, SyscallSignature signature, ReadOnlySpan<ulong> arguments, ReadOnlySpan<byte> buffer)
    {
        int lengthArgument = declaration.LengthArgument;
        bool hasLengthArgument = lengthArgument >= 0;
        if (hasLengthArgument && (lengthArgument >= MaxArguments || lengthArgument >= signature.Arguments.Count))
        {
            return $"has a length argument {lengthArgument} out of range in its declaration";
        }

        switch (declaration.Kind)
        {
            case ArgumentKind.InputBuffer:
            case ArgumentKind.OutputBuffer:
            case ArgumentKind.InOutBuffer:
                if (hasLengthArgument)
                {
                    ulong untrustedLength = arguments[lengthArgument];
                    return untrustedLength == (ulong)buffer.Length
                        ? null
                        : $"buffer size {buffer.Length} differs from its length argument {lengthArgument} ({untrustedLength})";
                }

                if (declaration.FixedSize > 0)
                {
                    return buffer.Length == declaration.FixedSize
                        ? null
                        : $"buffer size {buffer.Length} differs from its fixed size {declaration.FixedSize}";
                }

                return "has neither a length argument nor a fixed size in its declaration";

            case ArgumentKind.CString:
                if (buffer.Length == 0 || buffer.Length > MaxCStringSize)
                {
                    return $"C string of {buffer.Length} bytes is not 1-{MaxCStringSize} bytes long";
                }

                return buffer.IndexOf((byte)0) == buffer.Length - 1
                    ? null
                    : "C string does not end with its only NUL";

            case ArgumentKind.InputIovec:
            case ArgumentKind.OutputIovec:
                if (!hasLengthArgument)
                {
                    return "iovec array has no length argument in its declaration";
                }

                ulong untrustedCount = arguments[lengthArgument];
                return untrustedCount <= MaxIovecCount
                    ? null
                    : $"iovec array count (argument {lengthArgument}) is {untrustedCount}, more than {MaxIovecCount}";

            case ArgumentKind.InputArray:
            case ArgumentKind.OutputArray:
            case ArgumentKind.InOutArray:
                return CheckArray(declaration, arguments, buffer.Length);

            case ArgumentKind.ValueResultLength:
                return buffer.Length == declaration.FixedSize
                    ? null
                    : $"value-result length of {buffer.Length} bytes differs from its width {declaration.FixedSize}";

            default:
                return $"has unknown kind {(int)declaration.Kind} in its declaration";
        }
    }

    /// <summary>
    /// The message records of a kind 11 or 12 argument (1.4): as many as its count argument says (one without), each a
    /// 32-byte header whose name (≤ 128), control (≤ 64 KiB) and data sizes give its length, filling the buffer exactly.
    /// A send's records were copied whole already; a receive's headers are copied here, one by one, each before it is read.
    /// </summary>
    private string? CheckMessages(ReadOnlySpan<byte> untrustedBlock, SyscallArgument declaration, SyscallSignature signature, ReadOnlySpan<ulong> arguments, int start, int size)
    {
        ulong untrustedCount = 1;
        if (declaration.LengthArgument >= 0)
        {
            if (declaration.LengthArgument >= MaxArguments || declaration.LengthArgument >= signature.Arguments.Count)
            {
                return $"has a count argument {declaration.LengthArgument} out of range in its declaration";
            }

            untrustedCount = arguments[declaration.LengthArgument];
            if (untrustedCount > MaxMessages)
            {
                return $"message count (argument {declaration.LengthArgument}) is {untrustedCount}, more than {MaxMessages}";
            }
        }

        bool receive = declaration.Kind == ArgumentKind.ReceiveMessage;
        long position = 0;
        for (ulong k = 0; k < untrustedCount; k++)
        {
            if (size - position < MessageHeaderSize)
            {
                return $"message {k} has no room for its {MessageHeaderSize}-byte header at {position} of {size}";
            }

            int header = start + (int)position;
            if (receive)
            {
                CopyOnce(untrustedBlock, header, MessageHeaderSize);
            }

            ReadOnlySpan<byte> record = _copy.AsSpan(header, MessageHeaderSize);
            uint untrustedName = BinaryPrimitives.ReadUInt32LittleEndian(record[MessageNameSizeOffset..]);
            uint untrustedControl = BinaryPrimitives.ReadUInt32LittleEndian(record[MessageControlSizeOffset..]);
            uint untrustedData = BinaryPrimitives.ReadUInt32LittleEndian(record[MessageDataSizeOffset..]);
            uint untrustedPresence = BinaryPrimitives.ReadUInt32LittleEndian(record[MessagePresenceOffset..]);
            uint untrustedIovCount = BinaryPrimitives.ReadUInt32LittleEndian(record[MessageIovCountOffset..]);
            uint untrustedLength = BinaryPrimitives.ReadUInt32LittleEndian(record[MessageLengthOffset..]);
            uint untrustedReserved = BinaryPrimitives.ReadUInt32LittleEndian(record[MessageReservedOffset..]);
            if (untrustedName > MaxMessageNameSize || untrustedControl > MaxMessageControlSize || untrustedIovCount > MaxIovecCount)
            {
                return $"message {k} has a name of {untrustedName} (at most {MaxMessageNameSize}), control of {untrustedControl} (at most {MaxMessageControlSize}) and {untrustedIovCount} iovecs (at most {MaxIovecCount}) bytes";
            }

            if (untrustedPresence > (MessageNamePresent | MessageControlPresent) ||
                (untrustedName > 0 && (untrustedPresence & MessageNamePresent) == 0) ||
                (untrustedControl > 0 && (untrustedPresence & MessageControlPresent) == 0))
            {
                return $"message {k} has presence bits {untrustedPresence} that do not fit its name ({untrustedName}) and control ({untrustedControl}) sizes";
            }

            if (untrustedLength != 0 || untrustedReserved != 0)
            {
                return $"message {k} has a non-zero msg_len ({untrustedLength}) or reserved field ({untrustedReserved})";
            }

            // 64-bit: three u32 sizes padded, below 2^35.
            long recordSize = MessageHeaderSize + Padded(untrustedName) + Padded(untrustedControl) + Padded(untrustedData);
            if (recordSize > size - position)
            {
                return $"message {k} of {recordSize} bytes runs past its buffer ({size - position} bytes left)";
            }

            if (receive)
            {
                // The rest of a receive's record is room for output, never copied: the handler sees zeros there.
                _copy.AsSpan(header + MessageHeaderSize, (int)recordSize - MessageHeaderSize).Clear();
            }

            position += recordSize;
        }

        return position == size ? null : $"message buffer of {size} bytes holds {untrustedCount} records of {position} bytes";
    }

    private static long Padded(uint size) => ((long)size + ItemAlignment - 1) & ~(long)(ItemAlignment - 1);

    /// <summary>An array (kinds 7-9) is exactly count × element size bytes, with count ≤ <see cref="MaxArrayCount"/>.</summary>
    private static string? CheckArray(SyscallArgument declaration, ReadOnlySpan<ulong> arguments, int bufferSize)
    {
        int countArgument = declaration.LengthArgument;
        int elementSize = declaration.FixedSize;
        if (countArgument < 0 || elementSize <= 0)
        {
            return "array has no count argument or no element size in its declaration";
        }

        ulong untrustedCount = arguments[countArgument];
        if (untrustedCount > MaxArrayCount)
        {
            return $"array count (argument {countArgument}) is {untrustedCount}, more than {MaxArrayCount}";
        }

        // count ≤ 1024 and size ≤ 65535: the product fits in 64 bits (and in 32).
        ulong expected = untrustedCount * (ulong)elementSize;
        return expected == (ulong)bufferSize
            ? null
            : $"array buffer size {bufferSize} differs from its count (argument {countArgument}: {untrustedCount}) × element size {elementSize} = {expected}";
    }

    /// <summary>Kinds whose bytes the shim copies in.</summary>
    private static bool IsInputKind(ArgumentKind kind) => kind is ArgumentKind.InputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.CString
        or ArgumentKind.InputIovec or ArgumentKind.InputArray or ArgumentKind.InOutArray or ArgumentKind.ValueResultLength
        or ArgumentKind.SendMessage;

    /// <summary>Kinds whose input the handler sees although only part of it was copied in (a receive's record headers).</summary>
    private static bool IsHeaderInputKind(ArgumentKind kind) => kind is ArgumentKind.ReceiveMessage;

    /// <summary>Kinds the host may write output into.</summary>
    private static bool IsOutputKind(ArgumentKind kind) => kind is ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer
        or ArgumentKind.OutputIovec or ArgumentKind.OutputArray or ArgumentKind.InOutArray or ArgumentKind.ValueResultLength
        or ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage;

    private static ParsedRequest ParseExit(uint sequence, ReadOnlySpan<byte> item)
    {
        if (item.Length < ExitItemSize)
        {
            return Violation(sequence, $"the exit item has size {item.Length}, smaller than {ExitItemSize}");
        }

        int untrustedStatus = BinaryPrimitives.ReadInt32LittleEndian(item[ExitStatusOffset..]);
        return new ParsedRequest.Exit(sequence, untrustedStatus);
    }

    private static ParsedRequest ParseSlotOpen(uint sequence, ReadOnlySpan<byte> item, int itemOffset)
    {
        if (item.Length < SlotOpenItemSize)
        {
            return Violation(sequence, $"the slot-open item has size {item.Length}, smaller than {SlotOpenItemSize}");
        }

        uint untrustedSlot = BinaryPrimitives.ReadUInt32LittleEndian(item[SlotOpenSlotOffset..]);
        uint untrustedThreadId = BinaryPrimitives.ReadUInt32LittleEndian(item[SlotOpenThreadIdOffset..]);
        return new ParsedRequest.SlotOpen(sequence, untrustedSlot, untrustedThreadId, itemOffset);
    }

    private static ParsedRequest ParseTrace(uint sequence, ReadOnlySpan<byte> item)
    {
        if (item.Length != TraceItemSize)
        {
            return Violation(sequence, $"the trace item has size {item.Length}, not {TraceItemSize}");
        }

        uint untrustedNumber = BinaryPrimitives.ReadUInt32LittleEndian(item[TraceNumberOffset..]);
        uint untrustedThreadId = BinaryPrimitives.ReadUInt32LittleEndian(item[TraceThreadIdOffset..]);
        var arguments = new ulong[MaxArguments];
        for (int i = 0; i < MaxArguments; i++)
        {
            arguments[i] = BinaryPrimitives.ReadUInt64LittleEndian(item[(TraceArgumentsOffset + (8 * i))..]);
        }

        long untrustedResult = BinaryPrimitives.ReadInt64LittleEndian(item[TraceResultOffset..]);
        return new ParsedRequest.Trace(sequence, untrustedNumber, untrustedThreadId, arguments, untrustedResult);
    }

    private static ParsedRequest ParseFault(uint sequence, ReadOnlySpan<byte> item)
    {
        if (item.Length < FaultItemSize)
        {
            return Violation(sequence, $"the fault item has size {item.Length}, smaller than {FaultItemSize}");
        }

        uint untrustedSignal = BinaryPrimitives.ReadUInt32LittleEndian(item[FaultSignalOffset..]);
        int untrustedVector = BinaryPrimitives.ReadInt32LittleEndian(item[FaultVectorOffset..]);
        if (untrustedSignal is < 1 or > 64)
        {
            return Violation(sequence, $"the fault item names signal {untrustedSignal}, not 1-64");
        }

        if (untrustedVector is < -1 or > 255)
        {
            return Violation(sequence, $"the fault item names exception vector {untrustedVector}, not -1 or 0-255");
        }

        return new ParsedRequest.Fault(
            sequence,
            (int)untrustedSignal,
            untrustedVector,
            BinaryPrimitives.ReadUInt64LittleEndian(item[FaultAddressOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(item[FaultInstructionPointerOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(item[FaultErrorCodeOffset..]));
    }

    private static ParsedRequest ParseLog(uint sequence, ReadOnlySpan<byte> item)
    {
        if (item.Length < LogFixedSize)
        {
            return Violation(sequence, $"the log item has size {item.Length}, smaller than {LogFixedSize}");
        }

        uint untrustedLevel = BinaryPrimitives.ReadUInt32LittleEndian(item[LogLevelOffset..]);
        uint untrustedLength = BinaryPrimitives.ReadUInt32LittleEndian(item[LogLengthOffset..]);
        if (untrustedLevel > LogLevelError)
        {
            return Violation(sequence, $"the log item has level {untrustedLevel}, not {LogLevelDebug}-{LogLevelError}");
        }

        if (untrustedLength > (uint)(item.Length - LogTextOffset))
        {
            return Violation(sequence, $"the log item's text length {untrustedLength} exceeds its size {item.Length}");
        }

        string text = Encoding.UTF8.GetString(item.Slice(LogTextOffset, (int)untrustedLength));
        return new ParsedRequest.Log(sequence, (int)untrustedLevel, text);
    }

    private static string Where(SyscallSignature signature, int argument) =>
        $"syscall {signature.Number} ({signature.Name}) argument {argument}";

    private static ParsedRequest.ProtocolViolation Violation(uint sequence, string reason, int? syscallItemOffset = null) =>
        new(sequence, reason, syscallItemOffset);
}
