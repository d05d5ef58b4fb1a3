using System.Runtime.InteropServices;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Execution;
using Donjon.Host.Protocol;
using Donjon.Tests.Protocol;

namespace Donjon.Tests.Execution;

/// <summary>
/// IInPlaceInputSyscallHandlerSet through the real executor: a set that names an argument is handed the slot's block
/// itself for it; the host asks only about plain-byte arguments; a set without the interface gets the private copy.
/// </summary>
public sealed class InPlaceInputExecutionTests
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

    private static byte[] Write(string text) =>
        TestShim.SyscallItem(TestShim.Signature("write"), [1, 0, 0, 0, 0, 0], [null, System.Text.Encoding.ASCII.GetBytes(text), null, null, null, null]);

    [Fact]
    public async Task A_set_that_reads_in_place_is_handed_the_blocks_bytes_and_answers_as_before()
    {
        var set = new WriteSet(inPlace: true);
        var port = await Run(set, Write("hello"));

        MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)port.SharedBlock, out ArraySegment<byte> block).Should().BeTrue();
        set.Seen.Should().ContainSingle();
        set.Seen[0].Array.Should().BeSameAs(block.Array, "the input is the slot's block, not a copy of it");
        set.Seen[0].Offset.Should().Be(64 + 152);
        set.Texts.Should().Equal("hello");
        var (_, reply) = port.Exchanges.Should().ContainSingle().Subject;
        BitConverter.ToInt64(reply, 64 + 0x40).Should().Be(5);
    }

    [Fact]
    public async Task The_host_asks_only_about_plain_byte_arguments_of_the_sets_own_calls()
    {
        var set = new WriteSet(inPlace: true);
        await Run(set, Write("x"));

        set.Asked.Should().BeEquivalentTo([(1, 1), (20, 1), (35, 0)], "the input buffers and gathered iovec bytes; never a value, a path or an output");
    }

    [Fact]
    public async Task A_set_without_the_interface_or_that_says_no_gets_the_private_copy()
    {
        foreach (ISyscallHandlerSet set in new ISyscallHandlerSet[] { new CopySet(), new WriteSet(inPlace: false) })
        {
            var port = await Run(set, Write("hello"));

            MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)port.SharedBlock, out ArraySegment<byte> block).Should().BeTrue();
            var seen = set is CopySet copy ? copy.Seen : ((WriteSet)set).Seen;
            seen.Should().ContainSingle().Which.Array.Should().NotBeSameAs(block.Array);
        }
    }

    private sealed class WriteSet(bool inPlace) : IInPlaceInputSyscallHandlerSet
    {
        public string Name => "inplace";

        public IReadOnlyList<SyscallSignature> Syscalls { get; } =
            [TestShim.Signature("write"), TestShim.Signature("open"), TestShim.Signature("read"), TestShim.Signature("writev"), TestShim.Signature("nanosleep")];

        public List<ArraySegment<byte>> Seen { get; } = [];

        public List<string> Texts { get; } = [];

        public List<(int Number, int Argument)> Asked { get; } = [];

        public bool ReadsInputInPlace(int number, int argumentIndex)
        {
            Asked.Add((number, argumentIndex));
            return inPlace && number != 35; // a timespec is a structure: the set wants it copied
        }

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
        {
            MemoryMarshal.TryGetArray(request.Input(1), out ArraySegment<byte> segment);
            Seen.Add(segment);
            Texts.Add(System.Text.Encoding.ASCII.GetString(request.Input(1).Span));
            return ValueTask.FromResult(SyscallResult.Success(request.Input(1).Length));
        }
    }

    private sealed class CopySet : ISyscallHandlerSet
    {
        public string Name => "copy";

        public IReadOnlyList<SyscallSignature> Syscalls { get; } = [TestShim.Signature("write")];

        public List<ArraySegment<byte>> Seen { get; } = [];

        public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
        {
            MemoryMarshal.TryGetArray(request.Input(1), out ArraySegment<byte> segment);
            Seen.Add(segment);
            return ValueTask.FromResult(SyscallResult.Success(request.Input(1).Length));
        }
    }
}
