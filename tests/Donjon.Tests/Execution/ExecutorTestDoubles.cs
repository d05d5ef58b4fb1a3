using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Tests.Protocol;
using Microsoft.Extensions.Logging;

namespace Donjon.Tests.Execution;

/// <summary>
/// A transport-only test double: a real byte block, initialized by the host's code, into which each scripted
/// request is written the way the shim writes it. It records a copy of the block at every completed reply.
/// </summary>
internal sealed class FakeSyscallPort(int blockSize = 8192) : ISyscallPort
{
    private readonly byte[] _block = InitializedBlock(blockSize);
    private readonly Queue<byte[]> _requests = new();
    private uint _sequence;
    private bool _inFlight;

    public Memory<byte> SharedBlock => _block;

    /// <summary>For each completed request: the block before the host touched it, and after its reply.</summary>
    public List<(byte[] Request, byte[] Reply)> Exchanges { get; } = [];

    private byte[]? _pendingSnapshot;

    public FakeSyscallPort Enqueue(params byte[][] items)
    {
        _requests.Enqueue(TestShim.Concat(items));
        return this;
    }

    public ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_inFlight)
        {
            throw new InvalidOperationException("the executor waited for a new request before completing the last one");
        }

        if (!_requests.TryDequeue(out var items))
        {
            return ValueTask.FromResult(false);
        }

        TestShim.Send(_block, items, ++_sequence);
        _pendingSnapshot = (byte[])_block.Clone();
        _inFlight = true;
        return ValueTask.FromResult(true);
    }

    public void CompleteRequest()
    {
        if (!_inFlight)
        {
            throw new InvalidOperationException("CompleteRequest without a request");
        }

        _inFlight = false;
        Exchanges.Add((_pendingSnapshot!, (byte[])_block.Clone()));
    }

    private static byte[] InitializedBlock(int size)
    {
        var block = new byte[size];
        global::Donjon.Backends.Sdk.Protocol.SharedBlock.Initialize(block.AsMemory());
        return block;
    }
}

/// <summary>A clock that moves only when told to.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>A <see cref="FakeSyscallPort"/> whose clock advances by a fixed step before each request.</summary>
internal sealed class SteppingPort(ManualClock clock, TimeSpan step) : ISyscallPort
{
    private readonly FakeSyscallPort _inner = new();

    public Memory<byte> SharedBlock => _inner.SharedBlock;

    public List<(byte[] Request, byte[] Reply)> Exchanges => _inner.Exchanges;

    public void Enqueue(byte[] item) => _inner.Enqueue(item);

    public ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken)
    {
        clock.Advance(step);
        return _inner.WaitForRequestAsync(cancellationToken);
    }

    public void CompleteRequest() => _inner.CompleteRequest();
}

/// <summary>A keep with no process: it ends when <see cref="End"/> or <see cref="Kill"/> is called.</summary>
internal sealed class FakeKeep : IKeep
{
    private readonly TaskCompletionSource<KeepExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ISyscallPort Port { get; } = new FakeSyscallPort();

    public Task<KeepExit> Exit => _exit.Task;

    public int Kills { get; private set; }

    public void End(KeepExit exit) => _exit.TrySetResult(exit);

    public void Kill()
    {
        Kills++;
        _exit.TrySetResult(new KeepExit(null, null, "killed") { Signal = 9 });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A handler set for the executor tests.</summary>
internal sealed class TestHandlerSet : ISyscallHandlerSet
{
    public string Name => "testset";

    public IReadOnlyList<SyscallSignature> Syscalls { get; } =
    [
        TestShim.Signature("read"),
        TestShim.Signature("write"),
        TestShim.Signature("getpid"),
        TestShim.Signature("clock_gettime"),
        TestShim.Signature("nanosleep"),
        TestShim.Signature("poll"),
    ];

    public List<byte[]> Written { get; } = [];

    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        switch (request.Signature.Name)
        {
            case "write":
                Written.Add(request.Input(1).ToArray());
                return ValueTask.FromResult(SyscallResult.Success(request.Input(1).Length));
            case "read":
                var data = "abcdef"u8.ToArray().AsMemory(0, Math.Min(6, request.OutputCapacity(1)));
                return ValueTask.FromResult(SyscallResult.Success(data.Length, 1, data));
            case "getpid":
                throw new InvalidOperationException("the handler broke");
            case "clock_gettime":
                return ValueTask.FromResult(SyscallResult.Success(0, 0, new byte[16])); // argument 0 is a value: a handler bug
            case "nanosleep":
                return ValueTask.FromResult(SyscallResult.Success(0, 1, new byte[17])); // capacity is 16: a handler bug
            case "poll":
                return Slow(request, cancellationToken);
            default:
                return ValueTask.FromResult(SyscallResult.Error(38));
        }
    }

    private static async ValueTask<SyscallResult> Slow(SyscallRequest request, CancellationToken cancellationToken)
    {
        await Task.Delay(10, cancellationToken);
        var data = request.Input(0).ToArray();
        Array.Reverse(data);
        return SyscallResult.Success(1, 0, data);
    }
}

/// <summary>A logger that keeps every line.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message, Exception? Exception)> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Add((logLevel, formatter(state, exception), exception));
}

/// <summary>A session for tests: a plain descriptor table, deny-all policy.</summary>
internal sealed class TestSession(ILogger logger) : IKeepSession
{
    public Abstractions.Images.WorkloadIdentity Workload { get; } = new("/bin/test", new string('0', 64), 0);

    public IFileDescriptorTable Files { get; } = new Host.Sessions.FileDescriptorTable(16);

    public KeepPolicy Policy => KeepPolicy.DenyAll;

    public KeepStdio Stdio { get; } = new(0, 1, 2);

    public ILogger Logger => logger;
}
