using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Donjon.Abstractions.Keeps;
using Donjon.Backends.Sdk.Doorbells;
using Donjon.Backends.Sdk.Memory;
using Donjon.Backends.Sdk.Spawning;
using Donjon.Backends.Vm.Interop;
using Microsoft.Extensions.Logging;

namespace Donjon.Backends.Vm;

/// <summary>
/// A running VM keep: the QEMU process, the guest RAM with the host's window on the shared block, the host's ends of
/// COM1 (console) and COM2 (doorbell), and the threads that spawned QEMU and read its output and the doorbell line.
/// </summary>
/// <remarks>
/// The block has one slot per keep thread; every slot's port shares the one doorbell line (<see cref="SerialDoorbellLine"/>),
/// whose reader demultiplexes: a byte from the guest wakes every slot that sleeps, and each looks at its own doorbell.
/// </remarks>
/// <remarks>
/// No QEMU outlives Donjon: it is spawned through donjon-vm-exec, which asks for <c>SIGKILL</c> when its parent thread
/// dies (<c>PR_SET_PDEATHSIG</c>, kept across exec), and that parent is the keeper thread, which lives exactly as long
/// as QEMU. QEMU leads its own session and process group (POSIX_SPAWN_SETSID on donjon-vm-exec, which then becomes
/// QEMU); every end of the keep kills that whole group before QEMU is reaped. Disposal kills QEMU and waits for it.
/// The guest RAM is a memfd: it disappears with the last process that holds it, so no file is ever left behind.
/// </remarks>
internal sealed class VmKeep : IInterruptibleKeep, IThreadedKeep
{
    /// <summary>The line the guest prints on COM1 just before it enters the workload (setup.c).</summary>
    public const string ReadyLine = "donjon-vm: ready";

    private const int AfUnix = 1;
    private const int SockStream = 1;
    private const int SockCloexec = 0x80000;
    private const int OCloexec = 0x80000;
    private const int MaxLineLength = 1024;
    private const int QemuLinesKept = 12;

    private readonly GuestRamFile _memory;
    private readonly SerialDoorbellLine _line;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<KeepExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _qemuLines = new();
    private readonly List<Thread> _readers = [];
    private readonly int _console;
    private readonly int _doorbell;
    private readonly int _qemuErrors;
    private readonly Lock _reaping = new();
    private int _pid;
    private int _disposed;
    private bool _reaped;

    private VmKeep(GuestRamFile memory, int slotCount, int console, int doorbell, int qemuErrors, ILogger logger)
    {
        _memory = memory;
        _console = console;
        _doorbell = doorbell;
        _qemuErrors = qemuErrors;
        _logger = logger;
        _line = new SerialDoorbellLine(memory, doorbell, slotCount, VmLayout.SlotSize);
    }

    public ISyscallPort Port => _line.Ports[0];

    public int SlotCount => _line.Ports.Count;

    public ISyscallPort GetSlotPort(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, _line.Ports.Count);
        return _line.Ports[slot];
    }

    public Task<KeepExit> Exit => _exit.Task;

    /// <summary>Completes when the guest has booted, checked its image and is about to enter the workload.</summary>
    public Task Ready => _ready.Task;

    /// <summary>QEMU's pid (for tests and logs), 0 before it started.</summary>
    public int ProcessId => _pid;

    /// <summary>QEMU's last lines on its stderr, for a message.</summary>
    public string QemuMessages
    {
        get
        {
            lock (_qemuLines)
            {
                return _qemuLines.Count == 0 ? "(none)" : string.Join(" | ", _qemuLines);
            }
        }
    }

    /// <summary>Starts QEMU on its own keeper thread and returns once it runs (or failed to start).</summary>
    /// <param name="execPath">donjon-vm-exec.</param>
    /// <param name="qemuPath">qemu-system-x86_64.</param>
    /// <param name="arguments">QEMU's arguments (<see cref="QemuLauncher.Arguments"/>).</param>
    /// <param name="memory">The guest RAM, with the blob written and the block initialized.</param>
    /// <param name="slotCount">The block's slots (<see cref="VmLayout.SlotSize"/> each).</param>
    /// <param name="logger">Where QEMU's own messages go (debug).</param>
    public static VmKeep Start(string execPath, string qemuPath, IReadOnlyList<string> arguments, GuestRamFile memory, int slotCount, ILogger logger)
    {
        (int consoleHost, int consoleQemu) = SocketPair("COM1");
        (int doorbellHost, int doorbellQemu) = SocketPair("COM2");
        (int errorsHost, int errorsQemu) = Pipe();
        var keep = new VmKeep(memory, slotCount, consoleHost, doorbellHost, errorsHost, logger);
        keep.StartReader("donjon vm console", keep.ReadConsole);
        keep.StartReader("donjon vm qemu stderr", keep.ReadQemuErrors);

        var started = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var keeper = new Thread(() => keep.KeeperThread(execPath, qemuPath, arguments, [consoleQemu, doorbellQemu, errorsQemu], started))
        {
            IsBackground = true,
            Name = "donjon vm keep",
        };
        keeper.Start();
        Exception? failure = started.Task.GetAwaiter().GetResult();
        if (failure is not null)
        {
            keep.JoinReaders();
            keep.CloseHostEnds();
            throw failure;
        }

        keep._line.Start();
        return keep;
    }

    private void KeeperThread(string execPath, string qemuPath, IReadOnlyList<string> arguments, int[] qemuEnds, TaskCompletionSource<Exception?> started)
    {
        try
        {
            _pid = QemuLauncher.Spawn(execPath, qemuPath, arguments, _memory.Descriptor, qemuEnds[0], qemuEnds[1], qemuEnds[2]);
        }
        catch (IOException e)
        {
            CloseAll(qemuEnds);
            _exit.TrySetResult(new KeepExit(null, null, e.Message));
            _line.MarkKeepEnded();
            started.SetResult(e);
            return;
        }

        // QEMU has its own copies now; without closing ours, its death would never read as end-of-file. The RAM
        // file stays open in QEMU alone, so it vanishes with QEMU.
        CloseAll(qemuEnds);
        _memory.CloseDescriptor();
        started.SetResult(null);
        ProcessGroup.WaitForEnd(_pid);
        int status;
        lock (_reaping)
        {
            // Whatever ended QEMU, its whole process group goes with it, while the zombie still holds the pid.
            ProcessGroup.Kill(_pid);
            status = ProcessGroup.Reap(_pid);
            _reaped = true;
        }

        _line.MarkKeepEnded();
        JoinReaders();
        _line.Join();
        _exit.TrySetResult(Describe(status, QemuMessages));
    }

    /// <summary>Turns QEMU's wait status into a <see cref="KeepExit"/> (docs/vm.md, "Exit status").</summary>
    internal static KeepExit Describe(int status, string qemuMessages)
    {
        if (status == -1)
        {
            return new KeepExit(null, null, "QEMU's exit status was lost (it was reaped elsewhere)");
        }

        int signal = status & 0x7f;
        if (signal != 0)
        {
            return new KeepExit(null, null, string.Create(CultureInfo.InvariantCulture, $"QEMU was killed by signal {signal}"));
        }

        int code = (status >> 8) & 0xff;
        if (code == 0)
        {
            return new KeepExit(null, null, "QEMU exited without the shim's exit status (the guest shut down or reset); QEMU said: " + qemuMessages);
        }

        if ((code & 1) == 0 || code == 1)
        {
            return new KeepExit(null, null, string.Create(CultureInfo.InvariantCulture, $"QEMU failed (status {code}): {qemuMessages}"));
        }

        int value = code >> 1;
        return value == VmLayout.ExitValueMax
            ? new KeepExit(null, null, string.Create(CultureInfo.InvariantCulture, $"the shim ended with a status of {VmLayout.ExitValueMax - VmLayout.ExitValueOffset} or more (a workload status or 128 + signal; its EXIT or FAULT item says which)"))
            : KeepExit.Exited(value - VmLayout.ExitValueOffset);
    }

    /// <summary>A byte on the doorbell line: its interrupt makes the guest shim take the forwarded signals.</summary>
    public void Interrupt()
    {
        if (!_exit.Task.IsCompleted)
        {
            _line.Send((byte)'K');
        }
    }

    public void Kill()
    {
        lock (_reaping)
        {
            // Until it is reaped QEMU's pid cannot be reused, so the group kill reaches only the keep.
            if (_pid > 0 && !_reaped)
            {
                ProcessGroup.Kill(_pid);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        await _exit.Task.ConfigureAwait(false);
        CloseHostEnds();
        _memory.Dispose();
    }

    private void StartReader(string name, Action read)
    {
        var thread = new Thread(() => read()) { IsBackground = true, Name = name };
        _readers.Add(thread);
        thread.Start();
    }

    private void JoinReaders()
    {
        // QEMU has exited, so both streams are at end-of-file; the readers finish at once.
        foreach (Thread reader in _readers)
        {
            reader.Join(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>COM1: the handshake line completes <see cref="Ready"/>; every other line (the shim's fatal messages)
    /// goes to Donjon's stderr, cleaned of control characters (the guest is untrusted).</summary>
    private void ReadConsole()
    {
        foreach (string line in Lines(_console))
        {
            if (line == ReadyLine)
            {
                _ready.TrySetResult();
                continue;
            }

            string clean = Sanitize(line);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("Guest console: {Line}", clean);
            }

            Console.Error.WriteLine(clean);
        }
    }

    private void ReadQemuErrors()
    {
        foreach (string line in Lines(_qemuErrors))
        {
            string clean = Sanitize(line);
            lock (_qemuLines)
            {
                _qemuLines.Enqueue(clean);
                while (_qemuLines.Count > QemuLinesKept)
                {
                    _qemuLines.Dequeue();
                }
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("QEMU: {Line}", clean);
            }
        }
    }

    /// <summary>The lines read from <paramref name="fd"/> until end-of-file, each cut at <see cref="MaxLineLength"/>.</summary>
    private static IEnumerable<string> Lines(int fd)
    {
        var line = new List<byte>();
        byte[] buffer = new byte[4096];
        while (true)
        {
            nint count = ReadSome(fd, buffer);
            if (count < 0 && Marshal.GetLastPInvokeError() == 4)
            {
                continue;
            }

            if (count <= 0)
            {
                break;
            }

            for (int i = 0; i < count; i++)
            {
                byte b = buffer[i];
                if (b == (byte)'\n')
                {
                    yield return Encoding.UTF8.GetString(line.ToArray()).TrimEnd('\r');
                    line.Clear();
                }
                else if (line.Count < MaxLineLength)
                {
                    line.Add(b);
                }
            }
        }

        if (line.Count > 0)
        {
            yield return Encoding.UTF8.GetString(line.ToArray());
        }
    }

    private static unsafe nint ReadSome(int fd, byte[] buffer)
    {
        // SAFETY: the buffer is pinned for the call, and read(2) writes at most its length.
        fixed (byte* start = buffer)
        {
            return Libc.Read(fd, start, (nuint)buffer.Length);
        }
    }

    internal static string Sanitize(string untrusted)
    {
        var builder = new StringBuilder(untrusted.Length);
        foreach (char c in untrusted)
        {
            if (c == '\t' || !(char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E'))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        return builder.ToString();
    }

    private void CloseHostEnds()
    {
        // After QEMU's exit the readers are at end-of-file (joined by the keeper); a reader still blocked in read()
        // would only be one whose QEMU never started, and closing the descriptor ends it.
        CloseAll([_console, _doorbell, _qemuErrors]);
    }

    private static void CloseAll(int[] fds)
    {
        foreach (int fd in fds)
        {
            if (fd >= 0)
            {
                Libc.Close(fd);
            }
        }
    }

    private static unsafe (int Host, int Qemu) SocketPair(string what)
    {
        // SAFETY: socketpair(2) writes exactly two descriptors into the two-int buffer on the stack.
        int* fds = stackalloc int[2];
        if (Libc.Socketpair(AfUnix, SockStream | SockCloexec, 0, fds) != 0)
        {
            throw new IOException($"socketpair for {what} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (fds[0], fds[1]);
    }

    private static unsafe (int Host, int Qemu) Pipe()
    {
        // SAFETY: pipe2(2) writes exactly two descriptors into the two-int buffer on the stack.
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, OCloexec) != 0)
        {
            throw new IOException($"pipe2 for QEMU's stderr failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (fds[0], fds[1]);
    }
}
