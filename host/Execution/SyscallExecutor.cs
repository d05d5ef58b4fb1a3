using System.Globalization;
using System.Text;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Execution;

/// <summary>What the executor saw of a keep by the time it stopped serving it.</summary>
/// <param name="ExitStatus">The exit status (0-255) of the <c>EXIT</c> item, or <see langword="null"/> when none came.</param>
/// <param name="Fault">The fault of the <c>FAULT</c> item, or <see langword="null"/> when none came.</param>
/// <param name="ProtocolViolations">How many requests broke the protocol.</param>
/// <param name="HandlerFailures">How many calls a handler failed (threw, or returned an invalid result).</param>
internal sealed record ExecutorOutcome(int? ExitStatus, KeepFault? Fault, int ProtocolViolations, int HandlerFailures)
{
    /// <summary>Whether the keep reported its end (an <c>EXIT</c> or <c>FAULT</c> item), after which it was no longer served.</summary>
    public bool EndReported => ExitStatus is not null || Fault is not null;
}

/// <summary>
/// Serves one keep: reads each request from its slots' ports, checks it, dispatches it to the handler set that
/// declared the syscall, and writes the reply. One request is in flight per slot (per keep thread) at a time, and the
/// slots are served concurrently; a handler may block its slot's thread.
/// </summary>
/// <remarks>
/// An <c>EXIT</c> or <c>FAULT</c> item is the keep's last word: it is answered, and then the keep is served no more.
/// Whatever it asks afterwards is never answered, so a workload that forged the item gains nothing by going on; the
/// caller gives the keep a short grace period to end, then kills it (<see cref="KeepGrace"/>).
/// </remarks>
internal static class SyscallExecutor
{
    /// <summary>The most characters of one shim log line that are printed.</summary>
    private const int MaxLogText = 4096;

    /// <summary>Serves <paramref name="port"/>, a keep of one slot, until the keep ends.</summary>
    /// <param name="port">The keep's syscall port.</param>
    /// <param name="dispatch">Each declared syscall with its set and declaration (<see cref="MarshallingTable.Dispatch"/>); it must match the keep's configuration page.</param>
    /// <param name="session">The keep's session, lent to every handler.</param>
    /// <param name="logger">Where protocol violations, handler failures and shim log lines go.</param>
    /// <param name="cancellationToken">Stops serving; the wait or the running handler then throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="clock">The clock of the protocol-violation rate limit (the system's by default).</param>
    /// <param name="unserved">Where the calls no handler set serves are counted (and warned about once each); a private one by default.</param>
    /// <param name="interrupter">Lends each call a token a forwarded signal cancels (the call then returns <c>-EINTR</c>); none by default.</param>
    /// <returns>The exit status or fault the keep reported, once it reported one or the port says the keep has ended.</returns>
    public static Task<ExecutorOutcome> RunAsync(
        ISyscallPort port,
        IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> dispatch,
        IKeepSession session,
        ILogger logger,
        CancellationToken cancellationToken,
        TimeProvider? clock = null,
        UnservedSyscalls? unserved = null,
        CallInterrupter? interrupter = null)
    {
        ArgumentNullException.ThrowIfNull(port);
        return RunAsync(1, _ => port, dispatch, session, logger, cancellationToken, clock, unserved, interrupter is null ? null : _ => interrupter);
    }

    /// <summary>
    /// Serves a keep of <paramref name="slotCount"/> slots until it ends: slot 0 from the start, each other slot from
    /// the <c>SLOT_OPEN</c> item that announces it, each on a thread of its own (a handler may block its thread).
    /// </summary>
    /// <param name="slotCount">How many slots the keep's block has (1 for a keep without <see cref="IThreadedKeep"/>).</param>
    /// <param name="slotPort">The port of each slot, 0 to <paramref name="slotCount"/> − 1.</param>
    /// <param name="dispatch">Each declared syscall with its set and declaration; it must match the keep's configuration page.</param>
    /// <param name="session">The keep's session, lent to every handler (concurrently, from the slots' threads).</param>
    /// <param name="logger">Where protocol violations, handler failures and shim log lines go.</param>
    /// <param name="cancellationToken">Stops serving: every wait and running handler then gives up, and the task throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="clock">The clock of the protocol-violation rate limit (the system's by default).</param>
    /// <param name="unserved">Where the calls no handler set serves are counted; a private one by default.</param>
    /// <param name="interrupter">Each slot's interrupter (a forwarded signal cancels its token), or none.</param>
    /// <param name="trace">Where <c>--strace</c> records each call served, or none.</param>
    /// <returns>The exit status or fault the keep reported (on any slot), once it reported one or the ports say the keep has ended.</returns>
    public static Task<ExecutorOutcome> RunAsync(
        int slotCount,
        Func<int, ISyscallPort> slotPort,
        IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> dispatch,
        IKeepSession session,
        ILogger logger,
        CancellationToken cancellationToken,
        TimeProvider? clock = null,
        UnservedSyscalls? unserved = null,
        Func<int, CallInterrupter?>? interrupter = null,
        SyscallTrace? trace = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentNullException.ThrowIfNull(slotPort);
        ArgumentNullException.ThrowIfNull(dispatch);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(logger);
        var server = new KeepServer(slotCount, slotPort, dispatch, session, logger, clock ?? TimeProvider.System, unserved ?? new UnservedSyscalls(), interrupter, trace, cancellationToken);
        return server.RunAsync();
    }

    /// <summary>One keep's slots, served concurrently; what they report is the keep's.</summary>
    private sealed class KeepServer
    {
        private readonly int _slotCount;
        private readonly Func<int, ISyscallPort> _slotPort;
        private readonly IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> _dispatch;
        private readonly Dictionary<int, int> _inPlaceInputs;
        private readonly IKeepSession _session;
        private readonly ILogger _logger;
        private readonly CancellationToken _stop;
        private readonly UnservedSyscalls _unserved;
        private readonly Func<int, CallInterrupter?>? _interrupter;
        private readonly SyscallTrace? _trace;
        private readonly ProtocolViolationLog _violations;
        private readonly Lock _lock = new();
        private readonly bool[] _opened;
        private readonly CancellationTokenSource _ended;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running;
        private int _handlerFailures;
        private int? _exitStatus;
        private KeepFault? _fault;
        private Exception? _failure;

        public KeepServer(
            int slotCount,
            Func<int, ISyscallPort> slotPort,
            IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> dispatch,
            IKeepSession session,
            ILogger logger,
            TimeProvider clock,
            UnservedSyscalls unserved,
            Func<int, CallInterrupter?>? interrupter,
            SyscallTrace? trace,
            CancellationToken stop)
        {
            _slotCount = slotCount;
            _slotPort = slotPort;
            _dispatch = dispatch;
            _inPlaceInputs = InPlaceInputs(dispatch);
            _session = session;
            _logger = logger;
            _stop = stop;
            _unserved = unserved;
            _interrupter = interrupter;
            _trace = trace;
            _violations = new ProtocolViolationLog(logger, clock);
            _opened = new bool[slotCount];
            _ended = CancellationTokenSource.CreateLinkedTokenSource(stop);
        }

        public async Task<ExecutorOutcome> RunAsync()
        {
            try
            {
                if (!Open(0))
                {
                    _done.TrySetResult();       // stopped before it started
                }

                await _done.Task.ConfigureAwait(false);
            }
            finally
            {
                lock (_lock)
                {
                    _violations.Finish();
                }

                _ended.Dispose();
            }

            _stop.ThrowIfCancellationRequested();
            if (_failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_failure).Throw();
            }

            return new ExecutorOutcome(_exitStatus, _fault, _violations.Total, Volatile.Read(ref _handlerFailures));
        }

        /// <summary>Starts serving <paramref name="slot"/> on a thread of its own; false when it cannot be.</summary>
        private bool Open(int slot)
        {
            lock (_lock)
            {
                if (_opened[slot])
                {
                    return true;
                }

                if (_ended.IsCancellationRequested)
                {
                    return false;
                }

                var thread = new Thread(() => Serve(slot), maxStackSize: 1024 * 1024)
                {
                    IsBackground = true,
                    Name = string.Create(CultureInfo.InvariantCulture, $"donjon slot {slot}"),
                };
                _running++;
                try
                {
                    thread.Start();
                }
                catch (OutOfMemoryException)
                {
                    _running--;
                    return false;
                }

                _opened[slot] = true;
                return true;
            }
        }

        /// <summary>
        /// Per syscall number, the mask of arguments (bit i: argument i) whose plain bytes its set reads in place: asked
        /// once per keep of each <see cref="IInPlaceInputSyscallHandlerSet"/>, for the arguments the parser may serve so.
        /// </summary>
        private static Dictionary<int, int> InPlaceInputs(IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> dispatch)
        {
            var masks = new Dictionary<int, int>();
            foreach ((int number, (ISyscallHandlerSet set, SyscallSignature signature)) in dispatch)
            {
                if (set is not IInPlaceInputSyscallHandlerSet inPlace)
                {
                    continue;
                }

                int mask = 0;
                for (int i = 0; i < signature.Arguments.Count && i < SyscallRequest.MaxArguments; i++)
                {
                    if (signature.Arguments[i] is { Kind: ArgumentKind.InputBuffer or ArgumentKind.InputIovec } && inPlace.ReadsInputInPlace(number, i))
                    {
                        mask |= 1 << i;
                    }
                }

                if (mask != 0)
                {
                    masks[number] = mask;
                }
            }

            return masks;
        }

        /// <summary>A slot's loop, on its own thread: the waits and handlers block it, never the thread pool.</summary>
        private void Serve(int slot)
        {
            try
            {
                ISyscallPort port = _slotPort(slot);
                var parser = new RequestParser(
                    number => _dispatch.TryGetValue(number, out var entry) ? entry.Signature : null,
                    number => _inPlaceInputs.GetValueOrDefault(number));
                CallInterrupter? interrupter = _interrupter?.Invoke(slot);
                CancellationToken ended = _ended.Token;
                while (!ended.IsCancellationRequested && Block(port.WaitForRequestAsync(ended)))
                {
                    // Plain-byte inputs of in-place sets are served from the block itself (IInPlaceInputSyscallHandlerSet).
                    var request = parser.ParseFromBlock(port.SharedBlock);
                    bool last = false;
                    switch (request)
                    {
                        case ParsedRequest.SyscallCall call:
                            if (!Block(ServeCallAsync(port, _dispatch, call, _session, _logger, interrupter, ended, _trace, slot)))
                            {
                                Interlocked.Increment(ref _handlerFailures);
                            }

                            break;

                        case ParsedRequest.Exit exit:
                            last = Report(exitStatus: exit.Status & 0xff, fault: null);
                            if (_logger.IsEnabled(LogLevel.Debug))
                            {
                                _logger.LogDebug("The keep reports the workload's exit with status {Status}; it is served no more", exit.Status);
                            }

                            ReplyWriter.WriteReply(port.SharedBlock.Span, exit, 0);
                            break;

                        case ParsedRequest.Fault reported:
                            var fault = ToKeepFault(reported);
                            last = Report(exitStatus: null, fault);
                            if (_logger.IsEnabled(LogLevel.Debug))
                            {
                                _logger.LogDebug("The keep reports a fault: {Fault}; it is served no more", fault.Description);
                            }

                            ReplyWriter.WriteReply(port.SharedBlock.Span, reported, 0);
                            break;

                        case ParsedRequest.SlotOpen open:
                            bool served = open.Slot > 0 && open.Slot < (uint)_slotCount && Open((int)open.Slot);
                            if (!served && _logger.IsEnabled(LogLevel.Debug))
                            {
                                _logger.LogDebug("The keep asked for slot {Slot} for its thread {Thread}; refused (the block has {Count} slots)", open.Slot, open.ThreadId, _slotCount);
                            }

                            ReplyWriter.WriteReply(port.SharedBlock.Span, open, served ? 0 : -Errno.EAGAIN);
                            break;

                        case ParsedRequest.Trace traced:
                            // Only a keep whose page asked for it sends these (run --strace); from any other it is a
                            // protocol violation, answered like any: the reply carries nothing but the doorbell.
                            if (_trace is null)
                            {
                                lock (_lock)
                                {
                                    _violations.Report($"a trace item (syscall {traced.Number}) from a keep whose configuration page did not ask for tracing");
                                }
                            }
                            else
                            {
                                _trace.ShimServed(slot, traced.Number, traced.Arguments, traced.Result);
                            }

                            ReplyWriter.WriteReply(port.SharedBlock.Span, traced, 0);
                            break;

                        case ParsedRequest.Log log:
                            var level = ToLogLevel(log.Level);
                            if (_logger.IsEnabled(level))
                            {
                                _logger.Log(level, "Shim: {Text}", Sanitize(log.Text));
                            }

                            ReplyWriter.WriteReply(port.SharedBlock.Span, log, 0);
                            break;

                        case ParsedRequest.Undeclared undeclared:
                            _unserved.Record(undeclared.Number, _logger);
                            _trace?.Unserved(slot, undeclared.Number);
                            ReplyWriter.WriteReply(port.SharedBlock.Span, undeclared, -Errno.ENOSYS);
                            break;

                        case ParsedRequest.ProtocolViolation violation:
                            lock (_lock)
                            {
                                _violations.Report(violation.Reason);
                            }

                            ReplyWriter.WriteReply(port.SharedBlock.Span, violation, -Errno.EFAULT);
                            break;

                        default:
                            throw new InvalidOperationException($"unexpected parse result {request.GetType().Name}");
                    }

                    port.CompleteRequest();
                    if (last)
                    {
                        // The keep's last word: no slot is answered again.
                        _ended.Cancel();
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (_ended.IsCancellationRequested)
            {
                // Donjon stops the keep, or another slot reported its end: this slot's call is not answered.
            }
            catch (Exception exception)
            {
                lock (_lock)
                {
                    _failure ??= exception;
                }

                _ended.Cancel();
            }
            finally
            {
                bool last;
                lock (_lock)
                {
                    last = --_running == 0;
                }

                if (last)
                {
                    _done.TrySetResult();
                }
            }
        }

        /// <summary>Records the keep's end (the first report wins); whether this one was it.</summary>
        private bool Report(int? exitStatus, KeepFault? fault)
        {
            lock (_lock)
            {
                if (_exitStatus is not null || _fault is not null)
                {
                    return true;
                }

                _exitStatus = exitStatus;
                _fault = fault;
                return true;
            }
        }

        /// <summary>Waits on the slot's own thread for a wait or handler that did not complete at once.</summary>
        private static T Block<T>(ValueTask<T> pending) =>
            pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Runs the handler and writes its reply; returns false when the handler failed.</summary>
    private static async ValueTask<bool> ServeCallAsync(
        ISyscallPort port,
        IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> dispatch,
        ParsedRequest.SyscallCall call,
        IKeepSession session,
        ILogger logger,
        CallInterrupter? interrupter,
        CancellationToken cancellationToken,
        SyscallTrace? trace = null,
        int slot = 0)
    {
        long started = trace is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        if (!dispatch.TryGetValue(call.Number, out var entry))
        {
            logger.LogError("Syscall {Number} ({Name}) has a declaration but no handler set; answering -ENOSYS", call.Number, call.Signature.Name);
            ReplyWriter.WriteReply(port.SharedBlock.Span, call, -Errno.ENOSYS);
            return false;
        }

        SyscallResult? result;
        CancellationToken callToken = interrupter?.Begin(cancellationToken) ?? cancellationToken;
        using var inCall = new CallScope(interrupter);
        try
        {
            // A direct-output set writes its outputs straight into the slot's block (no copy after it returns).
            result = entry.Set is IDirectOutputSyscallHandlerSet direct
                ? await direct.HandleAsync(call.Request, new BlockOutputRoom(port.SharedBlock, call.Reply), session, callToken).ConfigureAwait(false)
                : await entry.Set.HandleAsync(call.Request, session, callToken).ConfigureAwait(false);

            // A handler that gives up when cancelled may return (a sleep answers EINTR): when Donjon is stopping the
            // keep, that answer must not reach it, or the workload could run on and race its own end.
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (callToken.IsCancellationRequested)
        {
            // A forwarded signal interrupted the call. A restartable one is answered -ERESTARTSYS, and the shim decides
            // as Linux's signal delivery does: a restart under SA_RESTART (or when no handler runs), else EINTR. The
            // others are EINTR whatever the handler's flags (sleeps, poll, select, pause...).
            int interrupted = RestartableSyscalls.Contains(call.Number) ? -Errno.ERESTARTSYS : -Errno.EINTR;
            ReplyWriter.WriteReply(port.SharedBlock.Span, call, interrupted);
            trace?.Served(slot, call.Request, interrupted, null, SetName(entry.Set), started);
            return true;
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Handler set {Set} failed on syscall {Number} ({Name}); answering -EIO", SetName(entry.Set), call.Number, call.Signature.Name);
            ReplyWriter.WriteReply(port.SharedBlock.Span, call, -Errno.EIO);
            trace?.Served(slot, call.Request, -Errno.EIO, null, SetName(entry.Set), started);
            return false;
        }

        string? problem = ReplyWriter.WriteSyscallResult(port.SharedBlock.Span, call, result);
        if (problem is not null)
        {
            logger.LogError("Handler set {Set} returned an invalid result for syscall {Number} ({Name}): {Problem}; answering -EFAULT", SetName(entry.Set), call.Number, call.Signature.Name, problem);
            trace?.Served(slot, call.Request, -Errno.EFAULT, null, SetName(entry.Set), started);
            return false;
        }

        trace?.Served(slot, call.Request, result!.Value, result.Outputs, SetName(entry.Set), started);
        return true;
    }

    /// <summary>
    /// The calls Linux restarts under <c>SA_RESTART</c> when a signal interrupts them (it answers them
    /// <c>-ERESTARTSYS</c> inside the kernel): reads and writes, <c>ioctl</c>, opens, socket transfers and connections,
    /// <c>wait4</c>, locks. A keep never sees that value: its shim turns it into a restart or <c>EINTR</c>.
    /// </summary>
    internal static readonly System.Collections.Frozen.FrozenSet<int> RestartableSyscalls = System.Collections.Frozen.FrozenSet.ToFrozenSet(
    [
        0, 1, 2, 16, 17, 18, 19, 20, 40, 42, 43, 44, 45, 46, 47, 61, 72, 73, 85, 257, 275, 276, 288, 295, 296, 307, 326, 327, 328, 437,
    ]);

    /// <summary>Tells the interrupter when its slot's call is over, however it ends.</summary>
    private readonly struct CallScope(CallInterrupter? interrupter) : IDisposable
    {
        public void Dispose() => interrupter?.End();
    }

    private static string SetName(ISyscallHandlerSet set)
    {
        try
        {
            return set.Name ?? set.GetType().FullName ?? "?";
        }
        catch (Exception)
        {
            return set.GetType().FullName ?? "?";
        }
    }

    /// <summary>
    /// Turns a reported fault into the contract's record; its description names the signal and what it means, from
    /// the exception vector (VM keep: "SIGSEGV: #GP general protection (exception vector 13, error code 0x0)") or the
    /// si_code (process keep: "SIGSEGV: address not mapped (si_code 1)"). Address and instruction pointer are separate fields.
    /// </summary>
    internal static KeepFault ToKeepFault(ParsedRequest.Fault fault)
    {
        int? vector = fault.Vector >= 0 ? fault.Vector : null;
        string signal = FaultNames.Signal(fault.Signal);
        string description;
        if (vector is int v)
        {
            string name = FaultNames.Vector(v) is { } known ? known : "exception";
            if (v == 14)
            {
                name += ": " + FaultNames.PageFaultCause(fault.ErrorCode);
            }

            description = string.Create(CultureInfo.InvariantCulture, $"{signal}: {name} (exception vector {v}, error code 0x{fault.ErrorCode:x})");
        }
        else
        {
            long code = fault.ErrorCode <= uint.MaxValue ? (int)(uint)fault.ErrorCode : (long)fault.ErrorCode; // si_code is an int
            description = FaultNames.SignalCode(fault.Signal, code) is { } meaning
                ? string.Create(CultureInfo.InvariantCulture, $"{signal}: {meaning} (si_code {code})")
                : string.Create(CultureInfo.InvariantCulture, $"{signal} (si_code {code})");
        }

        return new KeepFault(fault.Signal, fault.Address, fault.InstructionPointer, vector, fault.ErrorCode, description);
    }

    /// <summary>Maps a protocol log level (0 debug … 4 error) to a logging level.</summary>
    internal static LogLevel ToLogLevel(int level) => level switch
    {
        <= 1 => LogLevel.Debug,
        2 => LogLevel.Information,
        3 => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    /// <summary>Escapes control characters of untrusted shim text, and shortens it, so it cannot forge log lines or drive the terminal.</summary>
    internal static string Sanitize(string untrustedText)
    {
        var builder = new StringBuilder(Math.Min(untrustedText.Length, MaxLogText) + 16);
        int shown = Math.Min(untrustedText.Length, MaxLogText);
        for (int i = 0; i < shown; i++)
        {
            char c = untrustedText[i];
            if (c == '\t' || !(char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E'))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        if (untrustedText.Length > shown)
        {
            builder.Append(CultureInfo.InvariantCulture, $"… ({untrustedText.Length - shown} more characters)");
        }

        return builder.ToString();
    }
}
