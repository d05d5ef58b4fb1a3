using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Doorbells;
using Donjon.Backends.Sdk.Memory;
using Donjon.Backends.Sdk.Spawning;

namespace Donjon.Backends.Process;

/// <summary>
/// A running process keep: the shim process, its shared block, and the thread that spawned it and waits for it.
/// </summary>
/// <remarks>
/// No shim outlives Donjon: the shim asks for <c>SIGKILL</c> when its parent thread dies (<c>PR_SET_PDEATHSIG</c>),
/// and that parent is the keeper thread, a thread that lives exactly as long as the shim. The shim leads its own
/// session and process group; every end of the keep (its own end, <see cref="Kill"/>, disposal) kills that whole
/// group before the shim is reaped. Disposal kills the shim and waits for it.
/// </remarks>
internal sealed class ProcessKeep : IInterruptibleKeep, IThreadedKeep
{
    private readonly SharedMemory _block;
    private readonly FutexDoorbellPort[] _ports;
    private readonly TaskCompletionSource<KeepExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _reaping = new();
    private int _pid;
    private bool _reaped;

    private ProcessKeep(SharedMemory block, int slotSize, int slotCount)
    {
        _block = block;
        _ports = new FutexDoorbellPort[slotCount];
        for (int slot = 0; slot < slotCount; slot++)
        {
            _ports[slot] = new FutexDoorbellPort(block, slot * slotSize, slotSize);
        }
    }

    public ISyscallPort Port => _ports[0];

    public int SlotCount => _ports.Length;

    public ISyscallPort GetSlotPort(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _ports.Length);
        return _ports[slot];
    }

    public Task<KeepExit> Exit => _exit.Task;

    /// <summary>Starts the shim on its own keeper thread and returns once it runs (or failed to start).</summary>
    public static ProcessKeep Start(string shimPath, int imageFd, SharedMemory block, int slotSize, int slotCount)
    {
        var keep = new ProcessKeep(block, slotSize, slotCount);
        var started = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var keeper = new Thread(() => keep.KeeperThread(shimPath, imageFd, started)) { IsBackground = true, Name = "donjon keep" };
        keeper.Start();
        Exception? failure = started.Task.GetAwaiter().GetResult();
        if (failure is not null)
        {
            throw failure;
        }

        return keep;
    }

    private void KeeperThread(string shimPath, int imageFd, TaskCompletionSource<Exception?> started)
    {
        try
        {
            _pid = ShimLauncher.Spawn(shimPath, imageFd, _block.Descriptor);
        }
        catch (IOException e)
        {
            started.SetResult(e);
            _exit.TrySetResult(new KeepExit(null, null, e.Message));
            MarkPortsEnded();
            return;
        }

        started.SetResult(null);
        ProcessGroup.WaitForEnd(_pid);
        int status;
        lock (_reaping)
        {
            // Whatever ended the shim, its whole process group goes with it, while the zombie still holds the pid.
            ProcessGroup.Kill(_pid);
            status = ProcessGroup.Reap(_pid);
            _reaped = true;
        }

        _exit.TrySetResult(Describe(status));
        MarkPortsEnded();
    }

    private void MarkPortsEnded()
    {
        foreach (var port in _ports)
        {
            port.MarkKeepEnded();
        }
    }

    /// <summary>Turns a wait status into a <see cref="KeepExit"/>; the host adds what the shim reported.</summary>
    internal static KeepExit Describe(int status)
    {
        if (status == -1)
        {
            return new KeepExit(null, null, "the shim's exit status was lost (it was reaped elsewhere)");
        }

        int signal = status & 0x7f;
        if (signal == 0)
        {
            return ShimExitStatus.Exited((status >> 8) & 0xff);
        }

        return new KeepExit(null, null, $"the shim was killed by signal {signal}") { Signal = signal };
    }

    public void Kill()
    {
        lock (_reaping)
        {
            // Until it is reaped the shim's pid cannot be reused, so the group kill reaches only the keep.
            if (_pid > 0 && !_reaped)
            {
                ProcessGroup.Kill(_pid);
            }
        }
    }

    /// <summary>Sends the shim <c>SIGURG</c>, its kick (asm/process/deliver.c): it takes the forwarded signals.</summary>
    public void Interrupt()
    {
        lock (_reaping)
        {
            if (_pid > 0 && !_reaped)
            {
                ShimLauncher.Kick(_pid);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _exit.Task.ConfigureAwait(false);
        _block.Dispose();
    }
}
