using System.Runtime.InteropServices;
using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Protocol;

namespace Donjon.Host.Execution;

/// <summary>
/// Forwards signals Donjon receives to the workload (docs/protocol.md §3, "Forwarded signals"): the signal's bit goes
/// into slot 0's <c>signals</c> word, a call the host is serving is interrupted (its handler's token is
/// cancelled, so the call returns <c>-EINTR</c>) when the workload would be interrupted by that signal, and the keep
/// is kicked so that its shim takes the bit now.
/// </summary>
/// <remarks>
/// The block's <c>interrupting</c> word, which says which signals would interrupt a blocked call (the shim writes
/// it from the workload's actions), is untrusted: a keep that lies about it only gets spurious or missing
/// <c>EINTR</c>s itself.
/// </remarks>
internal sealed class KeepSignals
{
    private readonly Func<int, Memory<byte>> _slotMemory;
    private readonly IInterruptibleKeep _keep;
    private readonly CallInterrupter?[] _calls;
    private readonly Memory<byte> _first;

    /// <param name="slotCount">How many slots the keep's block has.</param>
    /// <param name="slotMemory">Each slot's memory (its port's <c>SharedBlock</c>).</param>
    /// <param name="keep">The keep, kicked after each forwarded signal.</param>
    public KeepSignals(int slotCount, Func<int, Memory<byte>> slotMemory, IInterruptibleKeep keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        _slotMemory = slotMemory;
        _keep = keep;
        _calls = new CallInterrupter?[slotCount];
        _first = Checked(slotMemory(0));
    }

    /// <summary>The interrupter the executor gives each call it serves on <paramref name="slot"/>.</summary>
    public CallInterrupter CallsFor(int slot)
    {
        lock (_calls)
        {
            if (_calls[slot] is { } made)
            {
                return made;
            }

            Memory<byte> memory = Checked(_slotMemory(slot));
            var calls = new CallInterrupter(() => InterruptingSignalWaits(memory));
            _calls[slot] = calls;
            return calls;
        }
    }

    /// <summary>Posts <paramref name="signal"/> (1-64) for the workload and makes the keep take it now.</summary>
    /// <remarks>
    /// As Linux interrupts one thread for a process's signal, only the first slot whose call is in progress and would
    /// be interrupted by it (by that thread's word) is interrupted; the others go on.
    /// </remarks>
    public void Forward(int signal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64);
        _ = Interlocked.Or(ref Word(_first, ProtocolLayout.BlockSignalsOffset), 1UL << (signal - 1));
        CallInterrupter?[] calls;
        lock (_calls)
        {
            calls = (CallInterrupter?[])_calls.Clone();
        }

        for (int slot = 0; slot < calls.Length; slot++)
        {
            if (calls[slot] is { InCall: true } slotCalls && InterruptingSignalWaits(_slotMemory(slot)))
            {
                slotCalls.Interrupt();
                break;
            }
        }

        _keep.Interrupt();
    }

    /// <summary>Whether a forwarded signal that would interrupt the slot's blocked call waits in the block, not yet taken.</summary>
    private bool InterruptingSignalWaits(Memory<byte> slot)
    {
        ulong waiting = Volatile.Read(ref Word(_first, ProtocolLayout.BlockSignalsOffset));
        ulong untrustedInterrupting = Volatile.Read(ref Word(slot, ProtocolLayout.BlockInterruptingOffset));
        return (waiting & untrustedInterrupting) != 0;
    }

    private static Memory<byte> Checked(Memory<byte> slot) =>
        slot.Length >= ProtocolLayout.BlockHeaderSize ? slot : throw new ArgumentException("a slot is smaller than its header", nameof(slot));

    private static ref ulong Word(Memory<byte> slot, int offset) => ref MemoryMarshal.Cast<byte, ulong>(slot.Span.Slice(offset, sizeof(ulong)))[0];
}

/// <summary>
/// Lends each call the executor serves a token that a forwarded signal cancels: the handler then gives up and the
/// call returns <c>-EINTR</c>, as a blocked Linux call does when a signal comes (without <c>SA_RESTART</c> semantics:
/// docs/protocol.md says which calls restart).
/// </summary>
/// <remarks>
/// Calls share one token source, linked to the executor's stop token, until a signal interrupts one: then that source
/// is cancelled and a fresh one serves the calls after it. So a call costs no allocation (a proxied call takes a few
/// microseconds; a linked source per call was a tenth of that).
/// </remarks>
internal sealed class CallInterrupter
{
    private readonly Func<bool> _signalWaits;
    private CancellationTokenSource? _epoch;
    private CancellationToken _stop;

    /// <param name="signalWaits">Whether an interrupting signal waits in the block: a call that begins then is interrupted at once.</param>
    public CallInterrupter(Func<bool> signalWaits) => _signalWaits = signalWaits;

    private int _inCall;

    /// <summary>Whether a call is being served on this interrupter's slot.</summary>
    public bool InCall => Volatile.Read(ref _inCall) != 0;

    /// <summary>The call that <see cref="Begin"/> started is over.</summary>
    public void End() => Volatile.Write(ref _inCall, 0);

    /// <summary>The token for the call about to be served; <paramref name="stop"/> is the executor's own (the same for every call).</summary>
    public CancellationToken Begin(CancellationToken stop)
    {
        Volatile.Write(ref _inCall, 1);
        CancellationTokenSource? epoch = Volatile.Read(ref _epoch);
        if (epoch is null)
        {
            _stop = stop;
            var made = CancellationTokenSource.CreateLinkedTokenSource(stop);
            epoch = Interlocked.CompareExchange(ref _epoch, made, null) ?? made;
        }

        CancellationToken token = epoch.Token;

        // After taking the token: a signal posted before is seen here, one posted after cancels this token.
        if (_signalWaits())
        {
            Interrupt();
        }

        return token;
    }

    /// <summary>Interrupts the call in progress, if one is (and makes the next call start afresh).</summary>
    public void Interrupt()
    {
        CancellationTokenSource? epoch = Volatile.Read(ref _epoch);
        if (epoch is null)
        {
            return;         // no call has begun: the first one sees the signal waiting
        }

        var fresh = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        if (Interlocked.CompareExchange(ref _epoch, fresh, epoch) == epoch)
        {
            // The cancelled source is not disposed: a handler may still register on its token.
            epoch.Cancel();
        }
        else
        {
            fresh.Dispose();
        }
    }
}
