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
/// Serves one keep: reads each request from its port, checks it, dispatches it to the handler set that declared
/// the syscall, and writes the reply. One request is in flight at a time; a handler may block.
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

    /// <summary>Serves <paramref name="port"/> until the keep ends.</summary>
    /// <param name="port">The keep's syscall port.</param>
    /// <param name="dispatch">Each declared syscall with its set and declaration (<see cref="MarshallingTable.Dispatch"/>); it must match the keep's configuration page.</param>
    /// <param name="session">The keep's session, lent to every handler.</param>
    /// <param name="logger">Where protocol violations, handler failures and shim log lines go.</param>
    /// <param name="cancellationToken">Stops serving; the wait or the running handler then throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="clock">The clock of the protocol-violation rate limit (the system's by default).</param>
    /// <param name="unserved">Where the calls no handler set serves are counted (and warned about once each); a private one by default.</param>
    /// <param name="interrupter">Lends each call a token a forwarded signal cancels (the call then returns <c>-EINTR</c>); none by default.</param>
    /// <returns>The exit status or fault the keep reported, once it reported one or the port says the keep has ended.</returns>
    public static async Task<ExecutorOutcome> RunAsync(
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
        ArgumentNullException.ThrowIfNull(dispatch);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(logger);

        var parser = new RequestParser(number => dispatch.TryGetValue(number, out var entry) ? entry.Signature : null);
        unserved ??= new UnservedSyscalls();
        int? exitStatus = null;
        KeepFault? fault = null;
        var violations = new ProtocolViolationLog(logger, clock ?? TimeProvider.System);
        int handlerFailures = 0;

        try
        {
            // After an EXIT or FAULT item the loop ends: the keep is not served again.
            while (exitStatus is null && fault is null && await port.WaitForRequestAsync(cancellationToken).ConfigureAwait(false))
            {
                var request = parser.Parse(port.SharedBlock.Span);
                switch (request)
                {
                    case ParsedRequest.SyscallCall call:
                        if (!await ServeCallAsync(port, dispatch, call, session, logger, interrupter, cancellationToken).ConfigureAwait(false))
                        {
                            handlerFailures++;
                        }

                        break;

                    case ParsedRequest.Exit exit:
                        exitStatus = exit.Status & 0xff;
                        if (logger.IsEnabled(LogLevel.Debug))
                        {
                            logger.LogDebug("The keep reports the workload's exit with status {Status}; it is served no more", exit.Status);
                        }

                        ReplyWriter.WriteReply(port.SharedBlock.Span, exit, 0);
                        break;

                    case ParsedRequest.Fault reported:
                        fault = ToKeepFault(reported);
                        if (logger.IsEnabled(LogLevel.Debug))
                        {
                            logger.LogDebug("The keep reports a fault: {Fault}; it is served no more", fault.Description);
                        }

                        ReplyWriter.WriteReply(port.SharedBlock.Span, reported, 0);
                        break;

                    case ParsedRequest.Log log:
                        var level = ToLogLevel(log.Level);
                        if (logger.IsEnabled(level))
                        {
                            logger.Log(level, "Shim: {Text}", Sanitize(log.Text));
                        }

                        ReplyWriter.WriteReply(port.SharedBlock.Span, log, 0);
                        break;

                    case ParsedRequest.Undeclared undeclared:
                        unserved.Record(undeclared.Number, logger);

                        ReplyWriter.WriteReply(port.SharedBlock.Span, undeclared, -Errno.ENOSYS);
                        break;

                    case ParsedRequest.ProtocolViolation violation:
                        violations.Report(violation.Reason);
                        ReplyWriter.WriteReply(port.SharedBlock.Span, violation, -Errno.EFAULT);
                        break;

                    default:
                        throw new InvalidOperationException($"unexpected parse result {request.GetType().Name}");
                }

                port.CompleteRequest();
            }
        }
        finally
        {
            violations.Finish();
        }

        return new ExecutorOutcome(exitStatus, fault, violations.Total, handlerFailures);
    }

    /// <summary>Runs the handler and writes its reply; returns false when the handler failed.</summary>
    private static async ValueTask<bool> ServeCallAsync(
        ISyscallPort port,
        IReadOnlyDictionary<int, (ISyscallHandlerSet Set, SyscallSignature Signature)> dispatch,
        ParsedRequest.SyscallCall call,
        IKeepSession session,
        ILogger logger,
        CallInterrupter? interrupter,
        CancellationToken cancellationToken)
    {
        if (!dispatch.TryGetValue(call.Number, out var entry))
        {
            logger.LogError("Syscall {Number} ({Name}) has a declaration but no handler set; answering -ENOSYS", call.Number, call.Signature.Name);
            ReplyWriter.WriteReply(port.SharedBlock.Span, call, -Errno.ENOSYS);
            return false;
        }

        SyscallResult? result;
        CancellationToken callToken = interrupter?.Begin(cancellationToken) ?? cancellationToken;
        try
        {
            result = await entry.Set.HandleAsync(call.Request, session, callToken).ConfigureAwait(false);

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
            // A forwarded signal interrupted the call: EINTR, and the shim delivers the signal on the way back.
            ReplyWriter.WriteReply(port.SharedBlock.Span, call, -Errno.EINTR);
            return true;
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Handler set {Set} failed on syscall {Number} ({Name}); answering -EIO", SetName(entry.Set), call.Number, call.Signature.Name);
            ReplyWriter.WriteReply(port.SharedBlock.Span, call, -Errno.EIO);
            return false;
        }

        string? problem = ReplyWriter.WriteSyscallResult(port.SharedBlock.Span, call, result);
        if (problem is not null)
        {
            logger.LogError("Handler set {Set} returned an invalid result for syscall {Number} ({Name}): {Problem}; answering -EFAULT", SetName(entry.Set), call.Number, call.Signature.Name, problem);
            return false;
        }

        return true;
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
