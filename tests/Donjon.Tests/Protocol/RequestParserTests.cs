using System.Buffers.Binary;
using System.Text;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>One test per check of docs/protocol.md §3 "The host checks before use", and the item kinds.</summary>
public sealed class RequestParserTests
{
    private static readonly ulong[] NoValues = new ulong[6];

    private static ParsedRequest Parse(byte[] block) => new RequestParser(TestShim.ByNumber).Parse(block);

    private static ParsedRequest ParseItems(params byte[][] items)
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, TestShim.Concat(items), sequence: 77);
        return Parse(block);
    }

    private static byte[] Write(byte[] data) =>
        TestShim.SyscallItem(TestShim.Signature("write"), [1, 0, 0, 0, 0, 0], [null, data, null, null, null, null]);

    private static ParsedRequest.ProtocolViolation ShouldViolate(ParsedRequest parsed, string because)
    {
        var violation = parsed.Should().BeOfType<ParsedRequest.ProtocolViolation>().Subject;
        violation.Reason.Should().Contain(because);
        return violation;
    }

    /// <summary>Sets field <paramref name="offset"/> (u32) of the single item at the items offset.</summary>
    private static ParsedRequest ParseWithItemField(byte[] item, int offset, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(offset), value);
        return ParseItems(item);
    }

    [Fact]
    public void A_valid_write_is_a_call_with_its_input()
    {
        var call = ParseItems(Write("hello"u8.ToArray())).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Number.Should().Be(1);
        call.RequestSequence.Should().Be(77);
        call.Request.Argument(0).Should().Be(1);
        call.Request.Argument(2).Should().Be(5);
        call.Request.Input(1).ToArray().Should().Equal("hello"u8.ToArray());
        call.Request.OutputCapacity(1).Should().Be(0);
        call.Reply.ItemOffset.Should().Be(64);
    }

    [Fact]
    public void Request_size_beyond_the_mapped_capacity_is_a_violation_whatever_the_header_says()
    {
        var block = TestShim.NewBlock(1024);
        TestShim.Send(block, Write([1, 2, 3]));
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x10), uint.MaxValue); // the keep forges the capacity
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x14), 1024 - 64 + 8);
        ShouldViolate(Parse(block), "exceeds the items capacity");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(172u)]
    public void Request_size_smaller_than_a_header_or_unaligned_is_a_violation(uint size)
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, Write([1, 2, 3]));
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(0x14), size);
        ShouldViolate(Parse(block), "request size");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(7u)]
    [InlineData(12u)]
    public void Item_size_below_8_or_unaligned_is_a_violation(uint size) =>
        ShouldViolate(ParseWithItemField(Write([1]), 0, size), "not a multiple of 8");

    [Fact]
    public void An_item_that_ends_beyond_the_request_is_a_violation() =>
        ShouldViolate(ParseWithItemField(Write([1]), 0, 4096), "ends beyond the request");

    private static byte[] TraceItem(int size = 72)
    {
        var item = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(item, (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(4), 6);
        if (size >= 16)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(8), 9);      // mmap
            BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(12), 3);     // thread 3
        }

        for (int i = 0; i < 6 && 16 + (8 * i) + 8 <= size; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(16 + (8 * i)), (ulong)(100 + i));
        }

        if (size >= 72)
        {
            BinaryPrimitives.WriteInt64LittleEndian(item.AsSpan(64), -12);
        }

        return item;
    }

    [Fact]
    public void A_trace_item_gives_the_number_thread_arguments_and_result_as_sent()
    {
        var trace = ParseItems(TraceItem()).Should().BeOfType<ParsedRequest.Trace>().Subject;
        trace.RequestSequence.Should().Be(77);
        trace.Number.Should().Be(9);
        trace.ThreadId.Should().Be(3);
        trace.Arguments.Should().Equal(100UL, 101UL, 102UL, 103UL, 104UL, 105UL);
        trace.Result.Should().Be(-12);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(80)]
    public void A_trace_item_of_another_size_than_72_is_a_violation(int size) =>
        ShouldViolate(ParseItems(TraceItem(size)), $"the trace item has size {size}, not 72");

    [Fact]
    public void Unknown_item_kinds_are_skipped_by_size()
    {
        var parsed = ParseItems(TestShim.UnknownItem(99, 24), TestShim.UnknownItem(0, 8), TestShim.ExitItem(3));
        parsed.Should().BeOfType<ParsedRequest.Exit>().Which.Status.Should().Be(3);
    }

    [Fact]
    public void A_request_of_unknown_items_only_is_a_violation() =>
        ShouldViolate(ParseItems(TestShim.UnknownItem(99, 24)), "no item of a known kind");

    [Fact]
    public void A_syscall_item_smaller_than_152_bytes_is_a_violation_without_a_reply_slot()
    {
        var violation = ShouldViolate(ParseItems(TestShim.UnknownItem(1, 144)), "smaller than its fixed part");
        violation.SyscallItemOffset.Should().BeNull();
    }

    [Fact]
    public void The_undeclared_flag_gives_undeclared()
    {
        var item = TestShim.RawSyscallItem(1, 1, NoValues, new (uint, uint)[6], []);
        var parsed = ParseItems(item).Should().BeOfType<ParsedRequest.Undeclared>().Subject;
        parsed.Number.Should().Be(1);
        parsed.SyscallItemOffset.Should().Be(64);
    }

    [Theory]
    [InlineData(3u)]
    [InlineData(1023u)]
    [InlineData(0x8000_0000u)]
    [InlineData(uint.MaxValue)]
    public void A_number_no_set_declares_gives_undeclared(uint number)
    {
        var item = TestShim.RawSyscallItem(number, 0, NoValues, new (uint, uint)[6], []);
        ParseItems(item).Should().BeOfType<ParsedRequest.Undeclared>().Which.Number.Should().Be(number);
    }

    [Fact]
    public void Overlapping_buffers_are_a_violation()
    {
        // stat(path, buf): point the 144-byte output at the C string, so that a checked input could be rewritten.
        var item = TestShim.SyscallItem(TestShim.Signature("stat"), NoValues, ["/etc/hosts\0"u8.ToArray(), null, null, null, null, null]);
        uint pathOffset = BinaryPrimitives.ReadUInt32LittleEndian(item.AsSpan(0x48));
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + 8), pathOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + 12), 8);
        ShouldViolate(ParseItems(item), "overlaps another buffer");
    }

    [Fact]
    public void Only_input_bytes_are_copied_so_the_reserved_output_room_is_never_read()
    {
        var block = TestShim.NewBlock();
        var item = TestShim.SyscallItem(TestShim.Signature("read"), NoValues, [null, new byte[4096], null, null, null, null]);
        TestShim.Send(block, item);
        var call = Parse(block).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.OutputCapacity(1).Should().Be(4096);
        call.Request.Input(1).Length.Should().Be(0);
    }

    [Fact]
    public void A_buffer_that_starts_inside_the_fixed_part_is_a_violation()
    {
        var item = Write([1, 2, 3, 4]);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + 8), 0x40); // argument 1's offset points at the result field
        ShouldViolate(ParseItems(item), "does not lie in [152,").SyscallItemOffset.Should().Be(64);
    }

    [Theory]
    [InlineData(152u, 9u)]
    [InlineData(159u, 2u)]
    [InlineData(uint.MaxValue, 4u)]
    [InlineData(152u, uint.MaxValue)]
    public void A_buffer_that_ends_beyond_the_item_is_a_violation(uint offset, uint size)
    {
        var item = Write([1, 2, 3, 4, 5, 6, 7, 8]); // 160 bytes
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + 8), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x4C + 8), size);
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(0x10 + 16), size);
        ShouldViolate(ParseItems(item), "does not lie in");
    }

    [Theory]
    [InlineData(0, 152u, 0u)]
    [InlineData(2, 0u, 1u)]
    [InlineData(5, 160u, 0u)]
    public void A_value_argument_with_a_buffer_is_a_violation(int argument, uint offset, uint size)
    {
        var item = Write([1, 2, 3, 4, 5, 6, 7, 8]);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x48 + (8 * argument)), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(0x4C + (8 * argument)), size);
        ShouldViolate(ParseItems(item), "is a value but has buffer");
    }

    [Theory]
    [InlineData("etc", "does not end with its only NUL")]
    [InlineData("et\0c\0", "does not end with its only NUL")]
    [InlineData("", "not 1-4096 bytes")]
    public void A_C_string_must_end_with_its_only_NUL(string text, string because)
    {
        var item = TestShim.SyscallItem(TestShim.Signature("open"), NoValues, [Encoding.ASCII.GetBytes(text), null, null, null, null, null]);
        ShouldViolate(ParseItems(item), because);
    }

    [Fact]
    public void A_C_string_longer_than_4096_bytes_is_a_violation()
    {
        var text = new byte[4097];
        Array.Fill(text, (byte)'a');
        text[^1] = 0;
        var item = TestShim.SyscallItem(TestShim.Signature("open"), NoValues, [text, null, null, null, null, null]);
        ShouldViolate(ParseItems(item), "not 1-4096 bytes");
    }

    [Fact]
    public void A_C_string_reaches_the_handler_with_its_NUL()
    {
        var item = TestShim.SyscallItem(TestShim.Signature("open"), [0, 2, 420, 0, 0, 0], ["/etc/hosts\0"u8.ToArray(), null, null, null, null, null]);
        var call = ParseItems(item).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(0).ToArray().Should().Equal("/etc/hosts\0"u8.ToArray());
        call.Request.Argument(1).Should().Be(2);
    }

    [Theory]
    [InlineData("write", 1, 2)]
    [InlineData("read", 1, 2)]
    [InlineData("poll", 0, 1)]
    public void A_length_argument_that_differs_from_the_buffer_size_is_a_violation(string name, int buffer, int length)
    {
        var payloads = new byte[]?[6];
        payloads[buffer] = new byte[10];
        var item = TestShim.SyscallItem(TestShim.Signature(name), NoValues, payloads);
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(0x10 + (8 * length)), 11);
        ShouldViolate(ParseItems(item), "differs from its length argument");
    }

    [Fact]
    public void A_fixed_size_buffer_of_another_size_is_a_violation()
    {
        var item = TestShim.SyscallItem(TestShim.Signature("clock_gettime"), NoValues, [null, new byte[15], null, null, null, null]);
        ShouldViolate(ParseItems(item), "differs from its fixed size 16");
    }

    [Fact]
    public void An_iovec_count_above_1024_is_a_violation()
    {
        var item = TestShim.SyscallItem(TestShim.Signature("writev"), [1, 0, 1025, 0, 0, 0], [null, new byte[10], null, null, null, null]);
        ShouldViolate(ParseItems(item), "more than 1024");
    }

    [Fact]
    public void Iovec_arrays_carry_their_bytes_and_capacity()
    {
        var writev = ParseItems(TestShim.SyscallItem(TestShim.Signature("writev"), [1, 0, 3, 0, 0, 0], [null, [1, 2, 3, 4, 5], null, null, null, null]));
        writev.Should().BeOfType<ParsedRequest.SyscallCall>().Which.Request.Input(1).ToArray().Should().Equal(1, 2, 3, 4, 5);
        var readv = ParseItems(TestShim.SyscallItem(TestShim.Signature("readv"), [1, 0, 3, 0, 0, 0], [null, new byte[100], null, null, null, null]));
        readv.Should().BeOfType<ParsedRequest.SyscallCall>().Which.Request.OutputCapacity(1).Should().Be(100);
    }

    [Fact]
    public void The_request_is_copied_before_use()
    {
        var block = TestShim.NewBlock();
        TestShim.Send(block, Write("hello"u8.ToArray()));
        var call = (ParsedRequest.SyscallCall)Parse(block);
        block.AsSpan(64).Fill(0xEE); // the keep rewrites everything after the host read it
        call.Request.Input(1).ToArray().Should().Equal("hello"u8.ToArray());
        call.Request.Argument(2).Should().Be(5);
    }

    [Theory]
    [InlineData("write", 1)]
    [InlineData("read", 1)]
    [InlineData("open", 0)]
    [InlineData("nanosleep", 1)]
    [InlineData("writev", 1)]
    public void A_NULL_pointer_is_an_absent_buffer(string name, int index)
    {
        var absent = new bool[6];
        absent[index] = true;
        var item = TestShim.SyscallItem(TestShim.Signature(name), [1, 0, 7, 0, 0, 0], [new byte[16], new byte[16], null, null, null, null], absent: absent);
        TestShim.Buffer(TestShim.Concat(new byte[64], item), index).Should().Be((0u, 0u));
        var call = ParseItems(item).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(index).Length.Should().Be(0);
        call.Request.OutputCapacity(index).Should().Be(0);
        if (TestShim.Signature(name).Arguments[index].LengthArgument is int length and >= 0)
        {
            call.Request.Argument(length).Should().Be(7, "a NULL buffer's length argument stays as the workload passed it");
        }
    }

    [Fact]
    public void Exit_carries_the_status()
    {
        ParseItems(TestShim.ExitItem(-1)).Should().BeOfType<ParsedRequest.Exit>().Which.Status.Should().Be(-1);
    }

    [Fact]
    public void An_exit_item_smaller_than_16_bytes_is_a_violation() =>
        ShouldViolate(ParseItems(TestShim.UnknownItem(2, 8)), "exit item");

    [Fact]
    public void Fault_carries_every_field()
    {
        var fault = ParseItems(TestShim.FaultItem(11, 14, 0xdead, 0x1234, 6)).Should().BeOfType<ParsedRequest.Fault>().Subject;
        fault.Should().BeEquivalentTo(new { Signal = 11, Vector = 14, Address = 0xdeadUL, InstructionPointer = 0x1234UL, ErrorCode = 6UL });
    }

    [Fact]
    public void A_fault_item_smaller_than_40_bytes_is_a_violation() =>
        ShouldViolate(ParseItems(TestShim.UnknownItem(3, 32)), "fault item");

    [Theory]
    [InlineData(0u, -1)]
    [InlineData(65u, -1)]
    [InlineData(11u, -2)]
    [InlineData(11u, 256)]
    public void A_fault_with_an_impossible_signal_or_vector_is_a_violation(uint signal, int vector) =>
        ShouldViolate(ParseItems(TestShim.FaultItem(signal, vector, 0, 0, 0)), "the fault item names");

    [Fact]
    public void Log_carries_level_and_text()
    {
        var log = ParseItems(TestShim.LogItem(3, "mapped 5 regions")).Should().BeOfType<ParsedRequest.Log>().Subject;
        log.Level.Should().Be(3);
        log.Text.Should().Be("mapped 5 regions");
    }

    [Fact]
    public void A_log_level_above_4_is_a_violation() =>
        ShouldViolate(ParseItems(TestShim.LogItem(5, "x")), "level 5");

    [Fact]
    public void A_log_text_longer_than_its_item_is_a_violation() =>
        ShouldViolate(ParseItems(TestShim.LogItem(1, "abc", lengthOverride: 9)), "exceeds its size");

    [Fact]
    public void A_block_smaller_than_its_header_is_a_violation() =>
        Parse(new byte[40]).Should().BeOfType<ParsedRequest.ProtocolViolation>();

    [Fact]
    public void Arguments_beyond_the_declaration_are_values()
    {
        var item = TestShim.RawSyscallItem(39, 0, [1, 2, 3, 4, 5, 6], new (uint, uint)[6], []);
        var call = ParseItems(item).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        Enumerable.Range(0, 6).Select(i => call.Request.Argument(i)).Should().Equal(1UL, 2UL, 3UL, 4UL, 5UL, 6UL);
        Enumerable.Range(0, 6).Select(i => call.Request.Input(i).Length).Should().OnlyContain(length => length == 0);
    }

    [Fact]
    public void A_signature_with_an_unknown_kind_yields_a_violation_not_an_exception()
    {
        var odd = new SyscallSignature(5, "odd", [new SyscallArgument((ArgumentKind)42, -1, 8)]);
        var parser = new RequestParser(n => n == 5 ? odd : null);
        var block = TestShim.NewBlock();
        var buffers = new (uint, uint)[6];
        buffers[0] = (152, 8);
        TestShim.Send(block, TestShim.RawSyscallItem(5, 0, NoValues, buffers, new byte[8]));
        parser.Parse(block).Should().BeOfType<ParsedRequest.ProtocolViolation>().Which.Reason.Should().Contain("unknown kind 42");
    }

    // ---- Arrays (kinds 7-9, configuration page 1.1): exactly count × element size bytes ----

    /// <summary>A <c>gather</c> item (input array of 12-byte elements, count in argument 1) with exactly these fields.</summary>
    private static byte[] Gather(ulong count, int bufferSize)
    {
        var buffers = new (uint, uint)[6];
        buffers[0] = (152, (uint)bufferSize);
        return TestShim.RawSyscallItem(400, 0, [0, count, 0, 0, 0, 0], buffers, new byte[bufferSize]);
    }

    [Fact]
    public void An_in_out_array_is_a_call_with_its_elements_as_input_and_as_capacity()
    {
        var fds = Enumerable.Range(0, 24).Select(b => (byte)b).ToArray(); // three struct pollfd
        var item = TestShim.SyscallItem(TestShim.Signature("ppoll"), [0, 0, 0, 0, 8, 0], [fds, null, new byte[16], null, null, null]);
        var call = ParseItems(item).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Argument(1).Should().Be(3);
        call.Request.Input(0).ToArray().Should().Equal(fds);
        call.Request.OutputCapacity(0).Should().Be(24);
        call.Reply.IsOutput(0).Should().BeTrue();
        call.Reply.IsOutput(2).Should().BeFalse("a fixed-size input is not an output");
    }

    [Fact]
    public void An_output_array_has_capacity_and_no_input()
    {
        var item = TestShim.SyscallItem(TestShim.Signature("scatter"), [5, 0, 0, 0, 0, 0], [null, null, new byte[48], null, null, null]);
        var call = ParseItems(item).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Argument(1).Should().Be(3);
        call.Request.Input(2).Length.Should().Be(0);
        call.Request.OutputCapacity(2).Should().Be(48);
    }

    [Fact]
    public void An_input_array_is_not_an_output()
    {
        var call = ParseItems(Gather(2, 24)).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(0).Length.Should().Be(24);
        call.Reply.IsOutput(0).Should().BeFalse();
    }

    [Theory]
    [InlineData(2ul, 12)]  // one element short
    [InlineData(1ul, 16)]  // not a whole number of elements
    [InlineData(0ul, 8)]
    public void An_array_whose_size_is_not_count_times_element_size_is_a_violation(ulong count, int size) =>
        ShouldViolate(ParseItems(Gather(count, size)), "differs from its count");

    [Fact]
    public void An_array_count_above_1024_is_a_violation()
    {
        var block = TestShim.NewBlock(64 + 152 + (1025 * 12) + 64);
        TestShim.Send(block, Gather(1025, 1025 * 12));
        ShouldViolate(Parse(block), "more than 1024");
    }

    [Theory]
    [InlineData((1ul << 62) + 1, 12)] // (2^62 + 1) × 12 wraps to 12 in 64 bits
    [InlineData(ulong.MaxValue, 8)]
    public void An_array_count_whose_product_would_wrap_is_a_violation(ulong count, int size) =>
        ShouldViolate(ParseItems(Gather(count, size)), "more than 1024");

    [Fact]
    public void A_NULL_array_is_accepted_whatever_its_count_as_the_shim_answers_EFAULT_itself()
    {
        var call = ParseItems(TestShim.RawSyscallItem(400, 0, [0, 7, 0, 0, 0, 0], new (uint, uint)[6], []))
            .Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(0).Length.Should().Be(0);
        call.Request.Argument(1).Should().Be(7);
    }

    [Fact]
    public void An_array_of_1024_elements_is_accepted()
    {
        var block = TestShim.NewBlock(64 + 152 + (1024 * 12) + 64);
        TestShim.Send(block, Gather(1024, 1024 * 12));
        Parse(block).Should().BeOfType<ParsedRequest.SyscallCall>().Which.Request.Input(0).Length.Should().Be(1024 * 12);
    }

    private static byte[] Fcntl(ulong command, byte[]? flock) =>
        TestShim.SyscallItem(TestShim.Signature("fcntl"), [3, command, 0x7000, 0, 0, 0], [null, null, flock, null, null, null]);

    [Fact]
    public void A_selected_argument_takes_the_input_shape_its_selector_chooses()
    {
        var flock = Enumerable.Range(1, 32).Select(b => (byte)b).ToArray();
        var call = ParseItems(Fcntl(6, flock)).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Argument(1).Should().Be(6);
        call.Request.Input(2).ToArray().Should().Equal(flock);
        call.Request.OutputCapacity(2).Should().Be(0);
        call.Reply.IsOutput(2).Should().BeFalse();
    }

    [Fact]
    public void A_selected_argument_takes_the_in_out_shape_its_selector_chooses()
    {
        var flock = Enumerable.Range(1, 32).Select(b => (byte)b).ToArray();
        var call = ParseItems(Fcntl(5, flock)).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(2).ToArray().Should().Equal(flock);
        call.Request.OutputCapacity(2).Should().Be(32);
        call.Reply.IsOutput(2).Should().BeTrue();
    }

    [Fact]
    public void A_selector_compares_its_low_32_bits_as_Linux_reads_an_int_command()
    {
        var call = ParseItems(Fcntl(0xFFFF_FFFF_0000_0006, new byte[32])).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(2).Length.Should().Be(32);
    }

    [Theory]
    [InlineData(3ul, "a value choice")]
    [InlineData(4ul, "a selector value no choice names")]
    public void A_selected_argument_that_is_a_value_passes_as_it_is_and_refuses_a_buffer(ulong command, string because)
    {
        var call = ParseItems(Fcntl(command, null)).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Argument(2).Should().Be(0x7000, because);
        call.Reply.IsOutput(2).Should().BeFalse();

        // The keep sends the buffer of F_SETLK's shape with a command that has none: the host re-derives the shape from
        // the request's own selector, and refuses it.
        var forged = Fcntl(6, new byte[32]);
        BinaryPrimitives.WriteUInt64LittleEndian(forged.AsSpan(0x10 + 8), command);
        ShouldViolate(ParseItems(forged), "is a value but has buffer");
    }

    [Theory]
    [InlineData(5ul, 16)]
    [InlineData(6ul, 33)]
    [InlineData(9ul, 32)]
    public void A_selected_buffer_of_another_size_than_its_choice_is_a_violation(ulong command, int size)
    {
        var forged = Fcntl(6, new byte[size]);
        BinaryPrimitives.WriteUInt64LittleEndian(forged.AsSpan(0x10 + 8), command);
        ShouldViolate(ParseItems(forged), $"differs from its fixed size {(command == 9 ? 8 : 32)}");
    }

    [Fact]
    public void A_NULL_selected_buffer_is_absent()
    {
        var item = TestShim.SyscallItem(TestShim.Signature("fcntl"), [3, 6, 0, 0, 0, 0], [null, null, new byte[32], null, null, null], absent: [false, false, true, false, false, false]);
        var call = ParseItems(item).Should().BeOfType<ParsedRequest.SyscallCall>().Subject;
        call.Request.Input(2).Length.Should().Be(0);
    }
}
