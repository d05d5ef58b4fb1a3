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

    private async Task<ExecutorOutcome> Run(FakeSyscallPort port, UnservedSyscalls? unserved = null, CancellationToken cancellationToken = default)
    {
        var table = ConfigurationPageBuilder.BuildTable([_set]);
        return await SyscallExecutor.RunAsync(port, table.Dispatch, new TestSession(_logger), _logger, cancellationToken, unserved: unserved);
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
    public async Task Undeclared_syscalls_get_ENOSYS_and_one_warning_per_number()
    {
        var openat = TestShim.RawSyscallItem(257, 1, new ulong[6], new (uint, uint)[6], []);
        var unknown = TestShim.RawSyscallItem(4000, 0, new ulong[6], new (uint, uint)[6], []);
        var port = new FakeSyscallPort().Enqueue(openat).Enqueue(openat).Enqueue(unknown);
        var unserved = new UnservedSyscalls();
        await Run(port, unserved: unserved);

        port.Exchanges.Should().HaveCount(3);
        foreach (var exchange in port.Exchanges)
        {
            ShouldBeReply(exchange, -38, new uint[6]);
        }

        _logger.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).Should().Equal(
            "the program called openat (257), which no loaded handler set serves; answered ENOSYS",
            "the program called syscall 4000, which no loaded handler set serves; answered ENOSYS");
        unserved.Summary().Should().Be(
            "unserved syscalls, each answered ENOSYS: openat (257) 2 times, syscall 4000 once. Add a handler set that serves them to plugins.json ('donjon plugins' lists what is served)");
    }

    [Fact]
    public void Unserved_syscalls_are_warned_and_counted_within_bounds()
    {
        var unserved = new UnservedSyscalls();
        unserved.Summary().Should().BeNull();
        for (uint number = 1000; number < 1100; number++)
        {
            unserved.Record(number, _logger);
            unserved.Record(number, _logger);
        }

        var warnings = _logger.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToList();
        warnings.Should().HaveCount(UnservedSyscalls.MaxWarned + 1);
        warnings[^1].Should().StartWith("the program called more than 16 different syscalls that no loaded handler set serves");
        string summary = unserved.Summary()!;
        summary.Should().Contain("syscall 1063 2 times").And.NotContain("syscall 1064 ").And.Contain(", and 72 times more of other numbers.");
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
    public async Task After_an_exit_item_nothing_more_is_served()
    {
        var port = new FakeSyscallPort()
            .Enqueue(TestShim.ExitItem(300))
            .Enqueue(Call("write", [1, 0, 0, 0, 0, 0], null, "late"u8.ToArray()));
        var outcome = await Run(port);

        outcome.ExitStatus.Should().Be(300 & 0xff);
        outcome.EndReported.Should().BeTrue();
        port.Exchanges.Should().ContainSingle("the request after the EXIT item is never answered");
        var (request, reply) = port.Exchanges[0];
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(0x28), 1);
        reply.Should().Equal(request, "an exit reply changes only the reply sequence");
        _set.Written.Should().BeEmpty("the write after the EXIT item never reaches its handler");
    }

    [Fact]
    public async Task After_a_fault_item_nothing_more_is_served()
    {
        var port = new FakeSyscallPort()
            .Enqueue(Call("write", [1, 0, 0, 0, 0, 0], null, "early"u8.ToArray()))
            .Enqueue(TestShim.FaultItem(11, -1, 0x10, 0x5555_0000_1234, 1))
            .Enqueue(TestShim.ExitItem(0))
            .Enqueue(Call("write", [1, 0, 0, 0, 0, 0], null, "late"u8.ToArray()));
        var outcome = await Run(port);

        outcome.Fault!.Signal.Should().Be(11);
        outcome.ExitStatus.Should().BeNull("the EXIT item after the FAULT item is not read");
        port.Exchanges.Should().HaveCount(2);
        _set.Written.Should().ContainSingle().Which.Should().Equal("early"u8.ToArray());
    }

    [Fact]
    public async Task A_flood_of_protocol_violations_is_logged_in_full_five_times_then_once_a_second_then_in_total()
    {
        var clock = new ManualClock();
        var port = new SteppingPort(clock, TimeSpan.FromMilliseconds(1));
        byte[] bad = Call("write", [1, 0, 0, 0, 0, 0], null, "hello"u8.ToArray());
        BinaryPrimitives.WriteUInt64LittleEndian(bad.AsSpan(0x10 + 16), 6); // the length argument lies
        for (int i = 0; i < 3000; i++)
        {
            port.Enqueue(bad);
        }

        var table = ConfigurationPageBuilder.BuildTable([_set]);
        var outcome = await SyscallExecutor.RunAsync(port, table.Dispatch, new TestSession(_logger), _logger, CancellationToken.None, clock);

        outcome.ProtocolViolations.Should().Be(3000);
        port.Exchanges.Should().HaveCount(3000, "every violation is still answered -EFAULT");
        var warnings = _logger.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToList();
        warnings.Take(5).Should().OnlyContain(m => m.StartsWith("Protocol violation by the keep: ", StringComparison.Ordinal) && m.Contains("length argument"));

        // 3000 requests 1 ms apart: 5 in full, then a summary after each further second (two) and one for the rest at the end.
        var summaries = warnings.Skip(5).SkipLast(1).ToList();
        summaries.Should().HaveCount(3);
        summaries.Should().OnlyContain(m => m.Contains(" more protocol violations in the last second"));
        summaries.Sum(m => int.Parse(m.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).Should().Be(2995);
        warnings[^1].Should().Be("The keep broke the protocol 3000 times in all (5 shown in full); each was answered -EFAULT");
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
        var act = () => Run(new FakeSyscallPort().Enqueue(TestShim.ExitItem(0)), cancellationToken: cancellation.Token);
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
