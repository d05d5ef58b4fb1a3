using System.Runtime.InteropServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Execution;
using Donjon.Host.Protocol;
using Donjon.Tests.Protocol;

namespace Donjon.Tests.Execution;

/// <summary>
/// IDirectOutputSyscallHandlerSet against a real block, the real parser and reply writer: the room it is given is the
/// output buffer's own bytes in the slot's block, and what it writes there reaches the reply as a copied output would.
/// </summary>
public sealed class DirectOutputTests
{
    private readonly ListLogger _logger = new();

    private async Task<FakeSyscallPort> Run(ISyscallHandlerSet set, params byte[][] items)
    {
        var port = new FakeSyscallPort();
        foreach (byte[] item in items)
        {
            port.Enqueue(item);
        }

        var table = ConfigurationPageBuilder.BuildTable([set]);
        await SyscallExecutor.RunAsync(port, table.Dispatch, new TestSession(_logger), _logger, CancellationToken.None);
        return port;
    }

    private static byte[] Read(int count) =>
        TestShim.SyscallItem(TestShim.Signature("read"), [0, 0, (ulong)count, 0, 0, 0], [null, new byte[count], null, null, null, null]);

    [Fact]
    public async Task The_room_of_a_read_is_its_output_buffer_in_the_slots_block()
    {
        var set = new RoomSet(RoomSet.Mode.WriteInRoom);
        var port = await Run(set, Read(8));

        // The block is the port's array: the room is the 8 bytes of argument 1's buffer (item at 64, buffer at +152).
        MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)port.SharedBlock, out ArraySegment<byte> block).Should().BeTrue();
        set.Rooms.Should().ContainSingle();
        MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)set.Rooms[0], out ArraySegment<byte> room).Should().BeTrue();
        room.Array.Should().BeSameAs(block.Array);
        room.Offset.Should().Be(64 + 152);
        room.Count.Should().Be(8);
        set.PlainCalls.Should().Be(0, "a direct-output set is called with its room, never through the plain HandleAsync");
    }

    [Fact]
    public async Task What_the_handler_writes_into_its_room_is_the_reply_byte_exact()
    {
        var port = await Run(new RoomSet(RoomSet.Mode.WriteInRoom), Read(8));

        var (_, reply) = port.Exchanges.Should().ContainSingle().Subject;
        BitConverter.ToInt64(reply, 64 + 0x40).Should().Be(5);
        BitConverter.ToUInt32(reply, 64 + 0x78 + 4).Should().Be(5, "argument 1's output size is what the handler returned");
        reply.AsSpan(64 + 152, 5).ToArray().Should().Equal("hello"u8.ToArray());
    }

    [Fact]
    public async Task Output_memory_outside_the_room_is_still_copied_in()
    {
        var port = await Run(new RoomSet(RoomSet.Mode.ReturnOwnArray), Read(8));

        var (_, reply) = port.Exchanges.Should().ContainSingle().Subject;
        BitConverter.ToInt64(reply, 64 + 0x40).Should().Be(3);
        reply.AsSpan(64 + 152, 3).ToArray().Should().Equal("abc"u8.ToArray());
    }

    [Fact]
    public async Task A_room_result_larger_than_the_capacity_is_refused_with_EFAULT()
    {
        // The room is exactly the capacity, so only a handler that returns other memory can overflow it: still checked.
        var port = await Run(new RoomSet(RoomSet.Mode.ReturnTooMuch), Read(4));

        var (_, reply) = port.Exchanges.Should().ContainSingle().Subject;
        BitConverter.ToInt64(reply, 64 + 0x40).Should().Be(-14);
        _logger.Lines.Should().Contain(line => line.Message.Contains("capacity is 4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Arguments_without_output_have_an_empty_room_and_indexes_beyond_five_are_refused()
    {
        var set = new RoomSet(RoomSet.Mode.WriteInRoom);
        await Run(set, Read(8));

        set.EmptyRoomsForNonOutputs.Should().BeTrue();
        set.OutOfRangeRefused.Should().BeTrue();
    }

    private sealed class RoomSet(RoomSet.Mode mode) : IDirectOutputSyscallHandlerSet
    {
        public enum Mode
        {
            WriteInRoom,
            ReturnOwnArray,
            ReturnTooMuch,
        }

        public string Name => "roomset";

        public IReadOnlyList<SyscallSignature> Syscalls { get; } = [TestShim.Signature("read")];

        public List<Memory<byte>> Rooms { get; } = [];

        public int PlainCalls { get; private set; }

        public bool EmptyRoomsForNonOutputs { get; private set; }

        public bool OutOfRangeRefused { get; private set; }

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
        {
            PlainCalls++;
            return ValueTask.FromResult(SyscallResult.Error(38));
        }

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, ISyscallOutputRoom outputRoom, IKeepSession session, CancellationToken cancellationToken)
        {
            Memory<byte> room = outputRoom.For(1);
            Rooms.Add(room);
            EmptyRoomsForNonOutputs = outputRoom.For(0).IsEmpty && outputRoom.For(2).IsEmpty && outputRoom.For(5).IsEmpty;
            try
            {
                outputRoom.For(6);
            }
            catch (ArgumentOutOfRangeException)
            {
                OutOfRangeRefused = true;
            }

            switch (mode)
            {
                case Mode.WriteInRoom:
                    "hello"u8.CopyTo(room.Span);
                    return ValueTask.FromResult(SyscallResult.Success(5, 1, room[..5]));
                case Mode.ReturnOwnArray:
                    return ValueTask.FromResult(SyscallResult.Success(3, 1, "abc"u8.ToArray()));
                default:
                    return ValueTask.FromResult(SyscallResult.Success(5, 1, new byte[room.Length + 1]));
            }
        }
    }
}
