using System.Buffers.Binary;
using System.Text;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Tests.Protocol;

/// <summary>
/// The shim's side of the shared block, written for the tests from docs/protocol.md §3 with literal offsets (not
/// from ProtocolLayout, so that the tests check the host against the document).
/// </summary>
internal static class TestShim
{
    public const int ItemsOffset = 64;
    public const int SyscallFixed = 152;

    /// <summary>A few declarations covering every argument kind.</summary>
    public static readonly IReadOnlyList<SyscallSignature> Signatures =
    [
        new(0, "read", [SyscallArgument.Value, SyscallArgument.Output(2), SyscallArgument.Value]),
        new(1, "write", [SyscallArgument.Value, SyscallArgument.Input(2), SyscallArgument.Value]),
        new(2, "open", [SyscallArgument.CString, SyscallArgument.Value, SyscallArgument.Value]),
        new(4, "stat", [SyscallArgument.CString, SyscallArgument.OutputOfSize(144)]),
        new(7, "poll", [new SyscallArgument(ArgumentKind.InOutBuffer, 1), SyscallArgument.Value, SyscallArgument.Value]),
        new(19, "readv", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.OutputIovec, 2), SyscallArgument.Value]),
        new(20, "writev", [SyscallArgument.Value, new SyscallArgument(ArgumentKind.InputIovec, 2), SyscallArgument.Value]),
        new(35, "nanosleep", [SyscallArgument.InputOfSize(16), SyscallArgument.OutputOfSize(16)]),
        new(39, "getpid", []),
        new(228, "clock_gettime", [SyscallArgument.Value, SyscallArgument.OutputOfSize(16)]),
        new(271, "ppoll", [SyscallArgument.InOutArray(1, 8), SyscallArgument.Value, SyscallArgument.InputOfSize(16), SyscallArgument.Value, SyscallArgument.Value]),
        new(400, "gather", [SyscallArgument.InputArray(1, 12), SyscallArgument.Value]),
        new(401, "scatter", [SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.OutputArray(1, 16)]),
        new(46, "sendmsg", [SyscallArgument.Value, SyscallArgument.SendMessage(), SyscallArgument.Value]),
        new(47, "recvmsg", [SyscallArgument.Value, SyscallArgument.ReceiveMessage(), SyscallArgument.Value]),
        new(299, "recvmmsg", [SyscallArgument.Value, SyscallArgument.ReceiveMessage(2), SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.InputOfSize(16)]),
        new(307, "sendmmsg", [SyscallArgument.Value, SyscallArgument.SendMessage(2), SyscallArgument.Value, SyscallArgument.Value]),
        new(281, "epoll_pwait", [SyscallArgument.Value, SyscallArgument.OutputArray(2, 12), SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.SignalMask(5), SyscallArgument.Value]),
        new(270, "pselect6", [SyscallArgument.Value, SyscallArgument.InOutOfSize(128), SyscallArgument.Opaque, SyscallArgument.InOutOfSize(128), SyscallArgument.InOutOfSize(16), SyscallArgument.SignalMaskPair]),
        new(72, "fcntl", [SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Selected(1,
            new ArgumentChoice(5, ArgumentKind.InOutBuffer, 32), new ArgumentChoice(6, ArgumentKind.InputBuffer, 32),
            new ArgumentChoice(9, ArgumentKind.OutputBuffer, 8), new ArgumentChoice(3, ArgumentKind.Value))]),
        new(300, "six", [SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Value, SyscallArgument.Value]),
    ];

    public static IReadOnlyDictionary<int, SyscallSignature> ByNumber { get; } = Signatures.ToDictionary(s => s.Number);

    public static SyscallSignature Signature(string name) => Signatures.Single(s => s.Name == name);

    /// <summary>
    /// The signature as one call with these argument values sees it (docs/protocol.md §2, 1.5), worked out here
    /// independently of the host: a selected argument becomes the fixed-size buffer or value its selector's low 32 bits
    /// choose, and a value when no choice names them.
    /// </summary>
    public static SyscallSignature Resolved(SyscallSignature signature, IReadOnlyList<ulong> values)
    {
        int selected = signature.Arguments.ToList().FindIndex(a => a.Kind == ArgumentKind.Selected);
        if (selected < 0)
        {
            return signature;
        }

        var declaration = signature.Arguments[selected];
        var choice = declaration.Choices!.FirstOrDefault(c => c.SelectorValue == (uint)values[declaration.LengthArgument]);
        var shape = choice is null || choice.Kind == ArgumentKind.Value ? SyscallArgument.Value : new SyscallArgument(choice.Kind, -1, choice.FixedSize);
        return signature with { Arguments = [.. signature.Arguments.Select((a, i) => i == selected ? shape : a)] };
    }

    /// <summary>A block with the header the host writes at creation.</summary>
    public static byte[] NewBlock(int size = 8192)
    {
        var block = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(block, 0x424E4A44);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(8), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x0C), 64);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x10), (uint)(size - 64));
        return block;
    }

    /// <summary>Places <paramref name="items"/> as the current request, as the shim does before ringing.</summary>
    public static void Send(byte[] block, ReadOnlySpan<byte> items, uint sequence = 1)
    {
        items.CopyTo(block.AsSpan(ItemsOffset));
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x14), (uint)items.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x24), sequence);
    }

    public static uint RequestSize(byte[] block) => BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(0x14));

    public static uint ReplySequence(byte[] block) => BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(0x28));

    /// <summary>
    /// Marshals a call as the shim would: every buffer argument's bytes (the payload, or zeros of the output
    /// capacity) go into the data area in order, a buffer's length argument is set to its size, and an array's count
    /// argument to its size divided by the element size.
    /// </summary>
    /// <param name="signature">The declaration.</param>
    /// <param name="values">Six argument values (pointer arguments are written as 0).</param>
    /// <param name="payloads">Per argument: input bytes, or for an output kind a buffer whose length is the capacity.</param>
    /// <param name="padding">Bytes left between buffers (the shim may align them).</param>
    /// <param name="absent">Per argument: a NULL pointer, sent as the buffer {0, 0} with its length argument untouched.</param>
    public static byte[] SyscallItem(SyscallSignature signature, ulong[] values, byte[]?[] payloads, int padding = 0, bool[]? absent = null)
    {
        signature = Resolved(signature, values);
        var args = (ulong[])values.Clone();
        var buffers = new (uint Offset, uint Size)[6];
        var data = new List<byte>();
        for (int i = 0; i < 6; i++)
        {
            var kind = i < signature.Arguments.Count ? signature.Arguments[i].Kind : ArgumentKind.Value;
            if (kind == ArgumentKind.Value)
            {
                continue;
            }

            if (kind is ArgumentKind.Opaque or ArgumentKind.SignalMask)
            {
                args[i] = values[i] != 0 && absent?[i] != true ? 1UL : 0UL; // never sent: 1 or 0, no buffer
                continue;
            }

            args[i] = 0;
            if (absent?[i] == true)
            {
                continue;
            }

            var payload = payloads[i] ?? [];
            buffers[i] = ((uint)(SyscallFixed + data.Count), (uint)payload.Length);
            data.AddRange(payload);
            data.AddRange(new byte[padding]);
            var argument = signature.Arguments[i];
            if (argument.LengthArgument >= 0 && kind is ArgumentKind.InputBuffer or ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer)
            {
                args[argument.LengthArgument] = (ulong)payload.Length;
            }

            if (argument.Kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray)
            {
                args[argument.LengthArgument] = (ulong)(payload.Length / argument.FixedSize);
            }
        }

        return RawSyscallItem((uint)signature.Number, 0, args, buffers, [.. data]);
    }

    /// <summary>A syscall item with exactly the given fields.</summary>
    public static byte[] RawSyscallItem(uint number, uint flags, ulong[] args, (uint Offset, uint Size)[] buffers, byte[] data, uint? sizeOverride = null)
    {
        int size = Align8(SyscallFixed + data.Length);
        var item = new byte[size];
        var span = item.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, sizeOverride ?? (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], number);
        BinaryPrimitives.WriteUInt32LittleEndian(span[0x0C..], flags);
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[(0x10 + (8 * i))..], args[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(0x48 + (8 * i))..], buffers[i].Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(0x4C + (8 * i))..], buffers[i].Size);
        }

        data.CopyTo(span[SyscallFixed..]);
        return item;
    }

    public static byte[] ExitItem(int status)
    {
        var item = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(item, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(4), 2);
        BinaryPrimitives.WriteInt32LittleEndian(item.AsSpan(8), status);
        return item;
    }

    public static byte[] FaultItem(uint signal, int vector, ulong address, ulong rip, ulong errorCode)
    {
        var item = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(item, 40);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(4), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(8), signal);
        BinaryPrimitives.WriteInt32LittleEndian(item.AsSpan(12), vector);
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(16), address);
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(24), rip);
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(32), errorCode);
        return item;
    }

    public static byte[] LogItem(uint level, string text, uint? lengthOverride = null)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var item = new byte[Align8(16 + bytes.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(item, (uint)item.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(4), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(8), level);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(12), lengthOverride ?? (uint)bytes.Length);
        bytes.CopyTo(item.AsSpan(16));
        return item;
    }

    public static byte[] UnknownItem(uint kind, int size)
    {
        var item = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(item, (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(4), kind);
        return item;
    }

    /// <summary>What the shim reads back from a syscall item after the reply.</summary>
    public static (long Result, uint[] OutputSizes) ReadReply(byte[] block, int itemOffset = ItemsOffset)
    {
        long result = BinaryPrimitives.ReadInt64LittleEndian(block.AsSpan(itemOffset + 0x40));
        var sizes = new uint[6];
        for (int i = 0; i < 6; i++)
        {
            sizes[i] = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(itemOffset + 0x78 + (4 * i)));
        }

        return (result, sizes);
    }

    /// <summary>The {offset, size} of buffer <paramref name="index"/> of the syscall item at <paramref name="itemOffset"/>.</summary>
    public static (uint Offset, uint Size) Buffer(byte[] block, int index, int itemOffset = ItemsOffset) =>
        (BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(itemOffset + 0x48 + (8 * index))),
         BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(itemOffset + 0x4C + (8 * index))));

    public static byte[] Concat(params byte[][] items) => [.. items.SelectMany(i => i)];

    public static int Align8(int value) => (value + 7) & ~7;

    /// <summary>
    /// Message records as the shim writes them (docs/protocol.md §3, "Message records"): per message its name, control and
    /// data parts (a receive's are zeros of the capacities), each after a header that gives their sizes.
    /// </summary>
    public static byte[] MessageRecords(params (byte[]? Name, byte[]? Control, byte[] Data)[] messages)
    {
        var bytes = new List<byte>();
        foreach (var (name, control, data) in messages)
        {
            var header = new byte[32];
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(name?.Length ?? 0));
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)(control?.Length ?? 0));
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (name is null ? 0u : 1u) | (control is null ? 0u : 2u));
            bytes.AddRange(header);
            foreach (byte[] part in new[] { name ?? [], control ?? [], data })
            {
                bytes.AddRange(part);
                bytes.AddRange(new byte[Align8(part.Length) - part.Length]);
            }
        }

        return [.. bytes];
    }
}
