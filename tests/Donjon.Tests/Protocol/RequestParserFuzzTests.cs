using System.Buffers.Binary;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>
/// Random and mutated blocks against the parser and the reply writer: they never throw, always give one of the
/// result kinds, a valid request round-trips exactly, and a reply never writes outside the places the shim
/// reserved for it.
/// </summary>
public sealed class RequestParserFuzzTests
{
    private const int Iterations = 100_000;
    private static readonly uint[] EdgeSizes = [0, 7, 8, 151, 152, int.MaxValue, uint.MaxValue];

    [Fact]
    public void Random_blocks_never_throw_and_replies_stay_in_bounds()
    {
        var random = new Random(0x0D1);
        var parser = new RequestParser(TestShim.ByNumber);
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            int size = 72 + (8 * random.Next(0, 500));
            var block = new byte[size];
            random.NextBytes(block);

            // Random bytes alone almost never get past the first check; make some of them plausible.
            int capacity = size - 64;
            switch (random.Next(4))
            {
                case 0:
                    break;
                case 1:
                    BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x14), (uint)(8 * random.Next(0, (capacity / 8) + 2)));
                    break;
                default:
                    BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x14), (uint)(8 * random.Next(1, (capacity / 8) + 1)));
                    BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(64), (uint)(8 * random.Next(1, (capacity / 8) + 1)));
                    BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(68), (uint)random.Next(0, 6));
                    if (random.Next(2) == 0 && size >= 64 + 16)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(72), (uint)TestShim.Signatures[random.Next(TestShim.Signatures.Count)].Number);
                        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(76), 0);
                    }

                    break;
            }

            ParseAndReply(parser, block, random, iteration);
        }
    }

    [Fact]
    public void Mutated_valid_requests_parsed_in_place_never_throw_and_serve_only_plain_bytes_inside_the_request()
    {
        // Every argument of every number named in place: only input buffers and gathered iovec bytes may be served from
        // the block, and each lies inside the request the shim sent.
        var random = new Random(0x0D3);
        var parser = new RequestParser(number => TestShim.ByNumber.GetValueOrDefault(number), _ => 0b111111);
        int inPlace = 0;
        for (int iteration = 0; iteration < Iterations / 4; iteration++)
        {
            var block = TestShim.NewBlock(4096);
            var (items, _) = RandomValidRequest(random, 4096 - 64);
            TestShim.Send(block, items, (uint)iteration);
            for (int m = random.Next(0, 3); m > 0; m--)
            {
                Mutate(block, items.Length, random);
            }

            ParsedRequest parsed;
            try
            {
                parsed = parser.ParseFromBlock(block);
            }
            catch (Exception exception)
            {
                throw new InvalidOperationException($"iteration {iteration}: the parser threw on block {Convert.ToHexString(block.AsSpan(0, 512))}", exception);
            }

            if (parsed is not ParsedRequest.SyscallCall call)
            {
                continue;
            }

            for (int i = 0; i < SyscallRequest.MaxArguments; i++)
            {
                if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(call.Request.Input(i), out ArraySegment<byte> segment) || segment.Array != block)
                {
                    continue;
                }

                inPlace++;
                var kind = call.Signature.Arguments[i].Kind;
                Require(kind is ArgumentKind.InputBuffer or ArgumentKind.InputIovec, () => $"iteration {iteration}: argument {i} of kind {kind} was served in place");
                Require(segment.Offset >= 64 + 152 && segment.Offset + segment.Count <= call.Reply.End, () => $"iteration {iteration}: argument {i} in place at [{segment.Offset}, {segment.Offset + segment.Count}) outside the request (end {call.Reply.End})");
            }
        }

        inPlace.Should().BeGreaterThan(Iterations / 100, "enough requests carry plain inputs to exercise the in-place path");
    }

    [Fact]
    public void Mutated_valid_requests_never_throw_and_replies_stay_in_bounds()
    {
        var random = new Random(0x0D2);
        var parser = new RequestParser(TestShim.ByNumber);
        int calls = 0;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            var block = TestShim.NewBlock(4096);
            var (items, _) = RandomValidRequest(random, 4096 - 64);
            TestShim.Send(block, items, (uint)iteration);
            int mutations = random.Next(1, 4);
            for (int m = 0; m < mutations; m++)
            {
                Mutate(block, items.Length, random);
            }

            if (ParseAndReply(parser, block, random, iteration) is ParsedRequest.SyscallCall)
            {
                calls++;
            }
        }

        calls.Should().BeGreaterThan(Iterations / 20, "enough mutations leave a valid call to exercise the reply writer");
    }

    [Fact]
    public void Valid_requests_round_trip_exactly()
    {
        var random = new Random(0x0D3);
        var parser = new RequestParser(TestShim.ByNumber);
        for (int iteration = 0; iteration < 20_000; iteration++)
        {
            var block = TestShim.NewBlock(8192);
            var (items, expected) = RandomValidRequest(random, 8192 - 64);
            TestShim.Send(block, items, (uint)iteration);
            var parsed = parser.Parse(block);
            switch (expected)
            {
                case ExpectedCall call:
                    var actual = parsed.Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
                    actual.RequestSequence.Should().Be((uint)iteration);
                    actual.Number.Should().Be(call.Signature.Number);
                    actual.Signature.Should().BeSameAs(call.Signature);
                    for (int i = 0; i < 6; i++)
                    {
                        actual.Request.Argument(i).Should().Be(call.Values[i]);
                        actual.Request.Input(i).ToArray().Should().Equal(call.Inputs[i]);
                        actual.Request.OutputCapacity(i).Should().Be(call.Capacities[i]);
                    }

                    // The reply round-trips too: the shim reads back exactly what the handler returned.
                    var outputs = new List<SyscallOutput>();
                    for (int i = 0; i < 6; i++)
                    {
                        if (actual.Reply.IsOutput(i) && random.Next(3) != 0)
                        {
                            bool message = call.Signature.Arguments[i].Kind is ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage;
                            var data = new byte[message ? call.Capacities[i] : random.Next(0, call.Capacities[i] + 1)]; // records: all or none
                            random.NextBytes(data);
                            outputs.Add(new SyscallOutput(i, data));
                        }
                    }

                    long value = random.NextInt64(long.MinValue, long.MaxValue);
                    ReplyWriter.WriteSyscallResult(block, actual, new SyscallResult(value, outputs)).Should().BeNull();
                    var (result, sizes) = TestShim.ReadReply(block);
                    result.Should().Be(value);
                    TestShim.ReplySequence(block).Should().Be((uint)iteration);
                    for (int i = 0; i < 6; i++)
                    {
                        var output = outputs.FirstOrDefault(o => o.ArgumentIndex == i);
                        sizes[i].Should().Be((uint)output.Data.Length);
                        var (offset, _) = TestShim.Buffer(block, i);
                        block.AsSpan(64 + (int)offset, output.Data.Length).ToArray().Should().Equal(output.Data.ToArray());
                    }

                    break;
                case ParsedRequest.Exit exit:
                    parsed.Should().BeOfType<ParsedRequest.Exit>().Which.Status.Should().Be(exit.Status);
                    break;
                case ParsedRequest.Fault fault:
                    parsed.Should().Be(fault with { RequestSequence = (uint)iteration });
                    break;
                case ParsedRequest.Log log:
                    parsed.Should().Be(log with { RequestSequence = (uint)iteration });
                    break;
            }
        }
    }

    /// <summary>Parses, checks the result against an independent oracle, replies, and checks where the reply wrote.</summary>
    private static ParsedRequest ParseAndReply(RequestParser parser, byte[] block, Random random, int iteration)
    {
        ParsedRequest parsed;
        try
        {
            parsed = parser.Parse(block);
        }
        catch (Exception exception)
        {
            throw new InvalidOperationException($"iteration {iteration}: the parser threw on block {Convert.ToHexString(block.AsSpan(0, Math.Min(block.Length, 512)))}", exception);
        }

        bool known = parsed is ParsedRequest.SyscallCall or ParsedRequest.Exit or ParsedRequest.Fault
            or ParsedRequest.Log or ParsedRequest.Undeclared or ParsedRequest.ProtocolViolation or ParsedRequest.SlotOpen or ParsedRequest.Trace;
        Require(known, () => $"iteration {iteration}: the parser returned {parsed.GetType().Name}");

        if (parsed is ParsedRequest.SyscallCall call)
        {
            CheckCallAgainstBlock(block, call, iteration);
        }

        var before = (byte[])block.Clone();
        try
        {
            if (parsed is ParsedRequest.SyscallCall served)
            {
                ReplyWriter.WriteSyscallResult(block, served, RandomResult(random, served));
            }
            else
            {
                ReplyWriter.WriteReply(block, parsed, -14);
            }
        }
        catch (Exception exception)
        {
            throw new InvalidOperationException($"iteration {iteration}: the reply writer threw for {parsed}", exception);
        }

        CheckReplyWrites(before, block, parsed, iteration);
        return parsed;
    }

    private static void Require(bool condition, Func<string> message)
    {
        if (!condition)
        {
            throw new Xunit.Sdk.XunitException(message());
        }
    }

    /// <summary>An independent check that a call the parser accepted satisfies §3 in the block it came from.</summary>
    private static void CheckCallAgainstBlock(byte[] block, ParsedRequest.SyscallCall call, int iteration)
    {
        int item = call.Reply.ItemOffset;
        uint requestSize = TestShim.RequestSize(block);
        uint itemSize = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(item));
        Require((ulong)item + itemSize <= 64 + (ulong)requestSize && itemSize >= 152 && requestSize <= block.Length - 64,
            () => $"iteration {iteration}: accepted item at {item} of size {itemSize} in a request of {requestSize}");
        for (int i = 0; i < 6; i++)
        {
            var (offset, size) = TestShim.Buffer(block, i, item);
            var shaped = TestShim.Resolved(call.Signature, [.. Enumerable.Range(0, 6).Select(call.Request.Argument)]);
            var kind = i < shaped.Arguments.Count ? shaped.Arguments[i].Kind : ArgumentKind.Value;
            bool isOutput = kind is ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.OutputIovec
                or ArgumentKind.OutputArray or ArgumentKind.InOutArray or ArgumentKind.ValueResultLength
                or ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage;
            Require(call.Reply.IsOutput(i) == isOutput, () => $"iteration {iteration}: argument {i} ({kind}) output flag is wrong");
            if (kind is ArgumentKind.Opaque or ArgumentKind.SignalMask)
            {
                Require((offset, size) == (0u, 0u) && call.Request.Argument(i) <= 1, () => $"iteration {iteration}: never-sent argument {i} accepted with buffer {{{offset}, {size}}} or value {call.Request.Argument(i)}");
                continue;
            }

            if (kind == ArgumentKind.Value)
            {
                Require((offset, size) == (0u, 0u), () => $"iteration {iteration}: value argument {i} accepted with buffer {{{offset}, {size}}}");
                continue;
            }

            if ((offset, size) == (0u, 0u))
            {
                Require(call.Request.Input(i).Length == 0 && call.Request.OutputCapacity(i) == 0, () => $"iteration {iteration}: NULL argument {i} carries bytes");
                continue;
            }

            Require(offset >= 152 && (ulong)offset + size <= itemSize, () => $"iteration {iteration}: argument {i} buffer {{{offset}, {size}}} accepted outside [152, {itemSize})");
            bool isInput = kind is ArgumentKind.InputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.CString or ArgumentKind.InputIovec
                or ArgumentKind.InputArray or ArgumentKind.InOutArray or ArgumentKind.SendMessage;
            if (kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray)
            {
                var declaration = shaped.Arguments[i];
                ulong count = BinaryPrimitives.ReadUInt64LittleEndian(block.AsSpan(item + 0x10 + (8 * declaration.LengthArgument)));
                Require(count <= 1024 && (UInt128)count * (UInt128)declaration.FixedSize == size,
                    () => $"iteration {iteration}: array argument {i} of {size} bytes accepted with count {count} x {declaration.FixedSize}");
            }

            Require(!isInput || call.Request.Input(i).Span.SequenceEqual(block.AsSpan(item + (int)offset, (int)size)),
                () => $"iteration {iteration}: argument {i} input differs from the block");
            Require(!isOutput || call.Request.OutputCapacity(i) == size, () => $"iteration {iteration}: argument {i} capacity differs from the block");
        }
    }

    /// <summary>Every byte the reply changed is the reply sequence, or a result / output-size / output-buffer byte of the served syscall item.</summary>
    private static void CheckReplyWrites(byte[] before, byte[] after, ParsedRequest parsed, int iteration)
    {
        int? item = parsed switch
        {
            ParsedRequest.SyscallCall c => c.Reply.ItemOffset,
            ParsedRequest.Undeclared u => u.SyscallItemOffset,
            ParsedRequest.ProtocolViolation v => v.SyscallItemOffset,
            _ => null,
        };

        if (item is int start)
        {
            Require(start + 152 <= 64 + (long)Math.Min(TestShim.RequestSize(before), (uint)(before.Length - 64)),
                () => $"iteration {iteration}: the reply's syscall item at {start} is not inside the request");
        }

        int first = before.AsSpan().CommonPrefixLength(after);
        for (int i = first; i < before.Length; i++)
        {
            if (before[i] == after[i] || i is >= 0x28 and < 0x2C)
            {
                continue;
            }

            if (parsed is ParsedRequest.SlotOpen open)
            {
                // A slot-open item's reply is its result field only, inside the item (inside the request).
                Require(i >= open.ItemOffset + 0x10 && i < open.ItemOffset + 0x18 && open.ItemOffset + 24 <= 64 + (long)TestShim.RequestSize(before),
                    () => $"iteration {iteration}: the slot-open reply changed byte {i}, not its result field inside the request");
                continue;
            }

            Require(item is not null, () => $"iteration {iteration}: byte {i} changed although the request had no syscall item to reply in");
            int relative = i - item!.Value;
            bool allowed = relative is >= 0x40 and < 0x48 or >= 0x78 and < 0x90;
            if (!allowed && parsed is ParsedRequest.SyscallCall call)
            {
                for (int a = 0; a < 6 && !allowed; a++)
                {
                    var (offset, size) = TestShim.Buffer(before, a, item.Value);
                    allowed = call.Reply.IsOutput(a) && relative >= offset && relative < offset + (long)size;
                }
            }

            Require(allowed, () => $"iteration {iteration}: the reply changed byte {i} (item offset {relative}), which is not a reply field or an output buffer");
        }
    }

    private static SyscallResult RandomResult(Random random, ParsedRequest.SyscallCall call)
    {
        var outputs = new List<SyscallOutput>();
        int count = random.Next(0, 3);
        for (int o = 0; o < count; o++)
        {
            int index = random.Next(-1, 8);
            int capacity = call.Reply.IsOutput(index) ? call.Reply.OutputCapacity(index) : 16;
            var data = new byte[random.Next(0, capacity + 2)];
            random.NextBytes(data);
            outputs.Add(new SyscallOutput(index, data));
        }

        return new SyscallResult(random.NextInt64(), outputs);
    }

    private static void Mutate(byte[] block, int itemsLength, Random random)
    {
        // Mostly aim inside the request (and the request-size field), sometimes anywhere.
        int Target() => random.Next(4) == 0 ? random.Next(0, block.Length) : 64 + random.Next(0, Math.Max(1, itemsLength));
        int AlignedTarget() => Math.Min(block.Length - 4, Target() & ~3);
        switch (random.Next(4))
        {
            case 0:
                int bit = Target();
                block[bit] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(AlignedTarget()), (uint)random.NextInt64(0, 1L << 32));
                break;
            default:
                // An edge value into a size field: request size, item size, a buffer size or offset, a log length.
                int[] fields = [0x14, 64, 64 + 0x48, 64 + 0x4C, 64 + 0x54, 64 + 0x5C, 64 + 0x64, 64 + 0x0C, AlignedTarget()];
                int field = fields[random.Next(fields.Length)];
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(field), EdgeSizes[random.Next(EdgeSizes.Length)]);
                break;
        }
    }

    /// <summary>What a valid syscall request must parse to.</summary>
    private sealed record ExpectedCall(SyscallSignature Signature, ulong[] Values, byte[][] Inputs, int[] Capacities);

    /// <summary>A random valid request, marshalled as the shim would, and what it must parse to.</summary>
    private static (byte[] Items, object Expected) RandomValidRequest(Random random, int capacity)
    {
        switch (random.Next(10))
        {
            case 0:
                int status = random.Next(int.MinValue, int.MaxValue);
                return (TestShim.ExitItem(status), new ParsedRequest.Exit(0, status));
            case 1:
                uint signal = (uint)random.Next(1, 65);
                int vector = random.Next(-1, 256);
                ulong address = (ulong)random.NextInt64(), rip = (ulong)random.NextInt64(), code = (ulong)random.NextInt64();
                return (TestShim.FaultItem(signal, vector, address, rip, code), new ParsedRequest.Fault(0, (int)signal, vector, address, rip, code));
            case 2:
                string text = new(Enumerable.Range(0, random.Next(0, 80)).Select(_ => (char)random.Next(0x20, 0x7F)).ToArray());
                uint level = (uint)random.Next(0, 5);
                return (TestShim.LogItem(level, text), new ParsedRequest.Log(0, (int)level, text));
        }

        var signature = TestShim.Signatures[random.Next(TestShim.Signatures.Count)];
        var values = new ulong[6];
        var payloads = new byte[]?[6];
        var inputs = new byte[6][];
        var capacities = new int[6];
        for (int i = 0; i < 6; i++)
        {
            values[i] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 32);
            inputs[i] = [];
        }

        // 1.5: a selected argument's selector is most often one of its choices' values, and otherwise any value (a value).
        if (signature.Arguments.FirstOrDefault(a => a.Kind == ArgumentKind.Selected) is { } selectedArgument && random.Next(4) != 0)
        {
            var choices = selectedArgument.Choices!;
            values[selectedArgument.LengthArgument] = (values[selectedArgument.LengthArgument] & ~0xFFFF_FFFFUL) | choices[random.Next(choices.Count)].SelectorValue;
        }

        var shape = TestShim.Resolved(signature, values);
        int budget = Math.Min(capacity - 152 - 64, 1500);
        var absent = new bool[6];
        for (int i = 0; i < shape.Arguments.Count; i++)
        {
            var argument = shape.Arguments[i];
            if (argument.Kind is ArgumentKind.Opaque or ArgumentKind.SignalMask)
            {
                values[i] = (ulong)random.Next(2); // never sent: 1 or 0, no buffer
                continue;
            }

            if (argument.Kind != ArgumentKind.Value && random.Next(8) == 0)
            {
                absent[i] = true; // a NULL pointer: no bytes, capacity 0, the length argument untouched
                continue;
            }

            if (argument.Kind is ArgumentKind.SendMessage or ArgumentKind.ReceiveMessage)
            {
                bool receive = argument.Kind == ArgumentKind.ReceiveMessage;
                int messages = argument.LengthArgument >= 0 ? random.Next(0, 5) : 1;
                byte[]? Part(int most)
                {
                    if (random.Next(4) == 0)
                    {
                        return null;
                    }

                    var part = new byte[random.Next(0, most + 1)];
                    if (!receive)
                    {
                        random.NextBytes(part);
                    }

                    return part;
                }

                var parts = Enumerable.Range(0, messages).Select(_ => (Part(128), Part(64), Part(budget / 8) ?? [])).ToArray();
                payloads[i] = TestShim.MessageRecords(parts);
                inputs[i] = receive ? TestShim.MessageRecords(parts) : payloads[i]!; // a receive's room reads as zeros
                capacities[i] = payloads[i]!.Length;
                if (argument.LengthArgument >= 0)
                {
                    values[argument.LengthArgument] = (ulong)messages;
                }

                continue;
            }

            bool isArray = argument.Kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray;
            int length = isArray ? argument.FixedSize * random.Next(0, Math.Max(1, budget / 4 / argument.FixedSize))
                : argument.FixedSize > 0 ? argument.FixedSize : random.Next(0, Math.Max(1, budget / 4));
            switch (argument.Kind)
            {
                case ArgumentKind.InputBuffer:
                case ArgumentKind.InOutBuffer:
                case ArgumentKind.InputIovec:
                case ArgumentKind.InputArray:
                case ArgumentKind.InOutArray:
                    payloads[i] = new byte[length];
                    random.NextBytes(payloads[i]!);
                    inputs[i] = payloads[i]!;
                    break;
                case ArgumentKind.CString:
                    var text = new byte[random.Next(0, 200) + 1];
                    for (int c = 0; c < text.Length - 1; c++)
                    {
                        text[c] = (byte)random.Next(1, 256);
                    }

                    payloads[i] = text;
                    inputs[i] = text;
                    break;
                case ArgumentKind.OutputBuffer:
                case ArgumentKind.OutputIovec:
                case ArgumentKind.OutputArray:
                    payloads[i] = new byte[length];
                    break;
            }

            if (argument.Kind is ArgumentKind.OutputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.OutputIovec
                or ArgumentKind.OutputArray or ArgumentKind.InOutArray)
            {
                capacities[i] = length;
            }

            if (argument.Kind is ArgumentKind.InputIovec or ArgumentKind.OutputIovec)
            {
                values[argument.LengthArgument] = (ulong)random.Next(0, 1025);
            }
        }

        var item = TestShim.SyscallItem(signature, values, payloads, padding: random.Next(0, 3) * 8, absent: absent);

        // The values the parser must report: pointer arguments are 0, length arguments are the buffer sizes.
        var expectedValues = new ulong[6];
        for (int i = 0; i < 6; i++)
        {
            expectedValues[i] = BinaryPrimitives.ReadUInt64LittleEndian(item.AsSpan(0x10 + (8 * i)));
        }

        return (item, new ExpectedCall(signature, expectedValues, inputs, capacities));
    }
}
