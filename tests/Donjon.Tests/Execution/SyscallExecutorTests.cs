using System.Buffers.Binary;
using Donjon.Host.Execution;
using Donjon.Host.Protocol;
using Donjon.Tests.Protocol;
using Microsoft.Extensions.Logging;

namespace Donjon.Tests.Execution;

/// <summary>The executor against a real block, the real parser and reply writer, and a transport-only fake port.</summary>
public sealed class SyscallExecutorTests
{
    private readonly TestHandlerSet _set = new();
    private readonly ListLogger _logger = new();

    private async Task<ExecutorOutcome> Run(FakeSyscallPort port, CancellationToken cancellationToken = default)
    {
        var table = ConfigurationPageBuilder.BuildTable([_set]);
        return await SyscallExecutor.RunAsync(port, table.Dispatch, new TestSession(_logger), _logger, cancellationToken);
    }

    private static byte[] Call(string name, ulong[] values, params byte[]?[] payloads)
    {
        var all = new byte[]?[6];
        payloads.CopyTo(all, 0);
        return TestShim.SyscallItem(TestShim.Signature(name), values, all);
    }

    /// <summary>The reply must equal the request with exactly these fields changed.</summary>
    private static void ShouldBeReply((byte[] Request, byte[] Reply) exchange, long result, uint[] outputSizes, params (int Offset, byte[] Bytes)[] outputs)
    {
        var expected = (byte[])exchange.Request.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(0x28), BinaryPrimitives.ReadUInt32LittleEndian(expected.AsSpan(0x24)));
        BinaryPrimitives.WriteInt64LittleEndian(expected.AsSpan(64 + 0x40), result);
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(64 + 0x78 + (4 * i)), outputSizes[i]);
        }

        foreach (var (offset, bytes) in outputs)
        {
            bytes.CopyTo(expected.AsSpan(64 + offset));
        }

        exchange.Reply.Should().Equal(expected);
    }

    [Fact]
    public async Task A_write_reaches_the_handler_and_its_result_comes_back_byte_exact()
    {
        var port = new FakeSyscallPort().Enqueue(Call("write", [1, 0, 0, 0, 0, 0], null, "hello"u8.ToArray()));
        var outcome = await Run(port);

        _set.Written.Should().ContainSingle().Which.Should().Equal("hello"u8.ToArray());
        port.Exchanges.Should().ContainSingle();
        ShouldBeReply(port.Exchanges[0], 5, new uint[6]);
        outcome.Should().Be(new ExecutorOutcome(null, null, 0, 0));
    }

    [Fact]
    public async Task A_read_output_is_written_into_its_buffer_byte_exact()
    {
        var port = new FakeSyscallPort().Enqueue(Call("read", [0, 0, 0, 0, 0, 0], null, new byte[4]));
        await Run(port);
        ShouldBeReply(port.Exchanges[0], 4, [0, 4, 0, 0, 0, 0], (152, "abcd"u8.ToArray()));
    }

    [Fact]
    public async Task An_async_handler_is_awaited()
    {
        var port = new FakeSyscallPort().Enqueue(Call("poll", [0, 0, 0, 0, 0, 0], [1, 2, 3]));
        await Run(port);
        ShouldBeReply(port.Exchanges[0], 1, [3, 0, 0, 0, 0, 0], (152, [3, 2, 1]));
    }

    [Fact]
    public async Task A_throwing_handler_yields_EIO_and_the_executor_goes_on()
    {
        var port = new FakeSyscallPort()
            .Enqueue(Call("getpid", new ulong[6]))
            .Enqueue(Call("write", [1, 0, 0, 0, 0, 0], null, "x"u8.ToArray()));
        var outcome = await Run(port);

        ShouldBeReply(port.Exchanges[0], -5, new uint[6]);
        ShouldBeReply(port.Exchanges[1], 1, new uint[6]);
        outcome.HandlerFailures.Should().Be(1);
        _logger.Lines.Should().Contain(l => l.Level == LogLevel.Error && l.Message.Contains("testset") && l.Message.Contains("getpid")
            && l.Exception is InvalidOperationException);
    }

    [Theory]
    [InlineData("clock_gettime", "not an output argument")]
    [InlineData("nanosleep", "capacity is 16")]
    public async Task A_handler_result_that_does_not_fit_yields_EFAULT_and_an_error(string name, string because)
    {
        var port = new FakeSyscallPort().Enqueue(Call(name, new ulong[6], new byte[16], new byte[16]));
        var outcome = await Run(port);

        ShouldBeReply(port.Exchanges[0], -14, new uint[6]);
        outcome.HandlerFailures.Should().Be(1);
        _logger.Lines.Should().Contain(l => l.Level == LogLevel.Error && l.Message.Contains("testset") && l.Message.Contains(name) && l.Message.Contains(because));
    }

    [Fact]
    public async Task Undeclared_syscalls_get_ENOSYS_and_one_debug_line_per_number()
    {
        var openat = TestShim.RawSyscallItem(257, 1, new ulong[6], new (uint, uint)[6], []);
        var unknown = TestShim.RawSyscallItem(4000, 0, new ulong[6], new (uint, uint)[6], []);
        var port = new FakeSyscallPort().Enqueue(openat).Enqueue(openat).Enqueue(unknown);
        await Run(port);

        port.Exchanges.Should().HaveCount(3);
        foreach (var exchange in port.Exchanges)
        {
            ShouldBeReply(exchange, -38, new uint[6]);
        }

        var debug = _logger.Lines.Where(l => l.Level == LogLevel.Debug).Select(l => l.Message).ToList();
        debug.Should().HaveCount(2);
        debug[0].Should().Contain("257 (openat)");
        debug[1].Should().Contain("4000");
    }

    [Fact]
    public async Task A_protocol_violation_gets_EFAULT_and_a_warning()
    {
        var item = Call("write", [1, 0, 0, 0, 0, 0], null, "hello"u8.ToArray());
        BinaryPrimitives.WriteUInt64LittleEndian(item.AsSpan(0x10 + 16), 6); // the length argument lies
        var port = new FakeSyscallPort().Enqueue(item);
        var outcome = await Run(port);

        ShouldBeReply(port.Exchanges[0], -14, new uint[6]);
        outcome.ProtocolViolations.Should().Be(1);
        _set.Written.Should().BeEmpty();
        _logger.Lines.Should().Contain(l => l.Level == LogLevel.Warning && l.Message.Contains("length argument"));
    }

    [Fact]
    public async Task Exit_is_recorded_and_serving_continues_until_the_keep_ends()
    {
        var port = new FakeSyscallPort()
            .Enqueue(TestShim.ExitItem(300))
            .Enqueue(Call("write", [1, 0, 0, 0, 0, 0], null, "late"u8.ToArray()));
        var outcome = await Run(port);

        outcome.ExitStatus.Should().Be(300 & 0xff);
        port.Exchanges.Should().HaveCount(2);
        var (request, reply) = port.Exchanges[0];
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(0x28), 1);
        reply.Should().Equal(request, "an exit reply changes only the reply sequence");
        _set.Written.Should().ContainSingle();
    }

    [Fact]
    public async Task A_fault_is_recorded()
    {
        var port = new FakeSyscallPort().Enqueue(TestShim.FaultItem(11, -1, 0x10, 0x5555_0000_1234, 1));
        var outcome = await Run(port);

        var fault = outcome.Fault!;
        fault.Signal.Should().Be(11);
        fault.Address.Should().Be(0x10);
        fault.InstructionPointer.Should().Be(0x5555_0000_1234);
        fault.ExceptionVector.Should().BeNull();
        fault.ErrorCode.Should().Be(1);
        fault.Description.Should().Contain("SIGSEGV");
        port.Exchanges.Should().ContainSingle();
    }

    [Fact]
    public async Task A_vm_fault_keeps_its_vector()
    {
        var outcome = await Run(new FakeSyscallPort().Enqueue(TestShim.FaultItem(11, 14, 0xdead000, 0x401000, 6)));
        outcome.Fault!.ExceptionVector.Should().Be(14);
        outcome.Fault.Description.Should().Contain("vector 14");
    }

    [Fact]
    public async Task Shim_log_lines_are_logged_escaped_at_their_level()
    {
        var port = new FakeSyscallPort().Enqueue(TestShim.LogItem(4, "bad\nline\u001b[31m"));
        await Run(port);
        _logger.Lines.Should().ContainSingle(l => l.Level == LogLevel.Error)
            .Which.Message.Should().Be("Shim: bad\\u000aline\\u001b[31m");
    }

    [Fact]
    public async Task Cancellation_stops_the_executor()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        var act = () => Run(new FakeSyscallPort().Enqueue(TestShim.ExitItem(0)), cancellation.Token);
        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task The_executor_returns_when_the_keep_ends_without_a_request()
    {
        var outcome = await Run(new FakeSyscallPort());
        outcome.Should().Be(new ExecutorOutcome(null, null, 0, 0));
    }

    [Theory]
    [InlineData(0, LogLevel.Debug)]
    [InlineData(1, LogLevel.Debug)]
    [InlineData(2, LogLevel.Information)]
    [InlineData(3, LogLevel.Warning)]
    [InlineData(4, LogLevel.Error)]
    public void Protocol_log_levels_map_to_logging_levels(int level, LogLevel expected) =>
        SyscallExecutor.ToLogLevel(level).Should().Be(expected);

    [Fact]
    public void Syscall_names_cover_the_common_calls()
    {
        SyscallNames.Describe(0).Should().Be("0 (read)");
        SyscallNames.Describe(257).Should().Be("257 (openat)");
        SyscallNames.Describe(99999).Should().Be("99999");
    }
}
