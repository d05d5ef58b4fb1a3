using System.Collections.Frozen;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Syscalls.Core.Handlers;
using Donjon.Syscalls.Core.Interop;

namespace Donjon.Syscalls.Core;

/// <summary>
/// The <c>core</c> handler set: descriptor I/O on whatever the keep's table holds, <c>fstat</c>, terminal queries,
/// polling, identity, clocks and sleeps, randomness, resource limits and <c>/proc/self/exe</c>. See the plugin's README for
/// the table of calls and the choices each one makes.
/// </summary>
/// <remarks>
/// The set is stateless apart from when it first served each keep (for the CPU-time clocks), so one instance may
/// serve several keeps, from several threads at once. It never throws for anything the keep sends: a bad
/// descriptor, clock, size or flag is an errno.
/// </remarks>
public sealed class CoreSyscalls : IDirectOutputSyscallHandlerSet, IInPlaceInputSyscallHandlerSet
{
    private readonly TimeCalls _time = new();
    private readonly IntervalTimerCalls _timers = new();
    private readonly PosixTimerCalls _posixTimers = new();
    private readonly ProcessCalls _process = new();
    private readonly FrozenDictionary<int, Handler> _handlers;

    /// <summary>Creates the set.</summary>
    public CoreSyscalls()
    {
        List<(SyscallSignature Signature, Handler Handler)> table = Table();
        Syscalls = table.ConvertAll(entry => entry.Signature).AsReadOnly();
        _handlers = table.ToFrozenDictionary(entry => entry.Signature.Number, entry => entry.Handler);
    }

    private delegate ValueTask<SyscallResult> Handler(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken);

    /// <inheritdoc />
    public string Name => "core";

    /// <inheritdoc />
    public IReadOnlyList<SyscallSignature> Syscalls { get; }

    /// <inheritdoc />
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(session);

        _time.Observe(session);
        return _handlers.TryGetValue(request.Number, out Handler? handler)
            ? handler(request, session, cancellationToken)
            : new ValueTask<SyscallResult>(SyscallResult.Error(Errno.ENOSYS));
    }

    /// <summary>
    /// Handles one proxied syscall with room in the shared block for its outputs: <c>read</c>, <c>pread64</c> and
    /// <c>readv</c> read straight into it; every other call is served as by <see cref="HandleAsync(SyscallRequest, IKeepSession, CancellationToken)"/>.
    /// </summary>
    /// <param name="request">The call.</param>
    /// <param name="outputRoom">The call's output room.</param>
    /// <param name="session">The keep's state.</param>
    /// <param name="cancellationToken">Cancelled when the keep ends or a forwarded signal interrupts the call.</param>
    /// <returns>The call's result and output bytes.</returns>
    public ValueTask<SyscallResult> HandleAsync(SyscallRequest request, ISyscallOutputRoom outputRoom, IKeepSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outputRoom);
        ArgumentNullException.ThrowIfNull(session);
        switch (request.Number)
        {
            case 0:
                _time.Observe(session);
                return new ValueTask<SyscallResult>(DescriptorCalls.Read(request, session, outputRoom.For(1), cancellationToken));
            case 17:
                _time.Observe(session);
                return new ValueTask<SyscallResult>(DescriptorCalls.PositionalRead(request, session, outputRoom.For(1)));
            case 19:
                _time.Observe(session);
                return new ValueTask<SyscallResult>(DescriptorCalls.ReadVector(request, session, outputRoom.For(1), cancellationToken));
            default:
                return HandleAsync(request, session, cancellationToken);
        }
    }

    /// <summary>
    /// The data of <c>write</c>, <c>pwrite64</c> and <c>writev</c> (argument 1): bytes handed to the host call as they
    /// are, never parsed, so the host may serve them from the shared block without copying them first.
    /// </summary>
    /// <param name="number">A declared syscall number.</param>
    /// <param name="argumentIndex">The argument index.</param>
    /// <returns>Whether that argument is plain bytes this set only passes on.</returns>
    public bool ReadsInputInPlace(int number, int argumentIndex) => argumentIndex == 1 && number is 1 or 18 or 20;

    private List<(SyscallSignature, Handler)> Table()
    {
        SyscallArgument value = SyscallArgument.Value;
        SyscallArgument path = SyscallArgument.CString;
        SyscallArgument timespecIn = SyscallArgument.InputOfSize(Timespec.Size);
        SyscallArgument timespecOut = SyscallArgument.OutputOfSize(Timespec.Size);
        SyscallArgument timevalOut = SyscallArgument.OutputOfSize(16);
        SyscallArgument stat = SyscallArgument.OutputOfSize(Interop.LibC.StatSize);
        SyscallArgument rlimitIn = SyscallArgument.InputOfSize(16);
        SyscallArgument rlimitOut = SyscallArgument.OutputOfSize(16);
        var fdSet = new SyscallArgument(ArgumentKind.InOutBuffer, -1, SelectCalls.SetSize);
        var iovecIn = new SyscallArgument(ArgumentKind.InputIovec, LengthArgument: 2);
        var iovecOut = new SyscallArgument(ArgumentKind.OutputIovec, LengthArgument: 2);

        return
        [
            Interruptible(0, "read", DescriptorCalls.Read, value, SyscallArgument.Output(2), value),
            Interruptible(1, "write", DescriptorCalls.Write, value, SyscallArgument.Input(2), value),
            Sync(3, "close", DescriptorCalls.Close, value),
            Sync(5, "fstat", StatCalls.FStat, value, stat),
            (new(7, "poll", [SyscallArgument.InOutArray(1, LibC.PollFdSize), value, value]), PollCalls.PollAsync),
            Sync(8, "lseek", DescriptorCalls.Seek, value, value, value),
            Sync(16, "ioctl", IoctlCalls.Ioctl, value, value, SyscallArgument.OutputOfSize(IoctlCalls.ArgumentSize)),
            Sync(17, "pread64", DescriptorCalls.PositionalRead, value, SyscallArgument.Output(2), value, value),
            Sync(18, "pwrite64", DescriptorCalls.PositionalWrite, value, SyscallArgument.Input(2), value, value),
            Interruptible(19, "readv", DescriptorCalls.ReadVector, value, iovecOut, value),
            Interruptible(20, "writev", DescriptorCalls.WriteVector, value, iovecIn, value),
            (new(23, "select", [value, fdSet, fdSet, fdSet, new SyscallArgument(ArgumentKind.InOutBuffer, -1, 16)]), SelectCalls.SelectAsync),
            Sync(32, "dup", DescriptorCalls.Duplicate, value),
            Sync(33, "dup2", DescriptorCalls.DuplicateTo, value, value),
            (new(35, "nanosleep", [timespecIn, timespecOut]), (request, _, token) => TimeCalls.NanosleepAsync(request, token)),
            Sync(36, "getitimer", _timers.GetInterval, value, SyscallArgument.OutputOfSize(IntervalTimerCalls.IntervalSize)),
            Sync(37, "alarm", _timers.Alarm, value),
            Sync(38, "setitimer", _timers.SetInterval, value, SyscallArgument.InputOfSize(IntervalTimerCalls.IntervalSize), SyscallArgument.OutputOfSize(IntervalTimerCalls.IntervalSize)),
            Sync(39, "getpid", (_, _) => IdentityCalls.ProcessId()),
            Sync(63, "uname", (request, _) => IdentityCalls.Uname(request), SyscallArgument.OutputOfSize(Interop.LibC.UtsNameSize)),
            Sync(96, "gettimeofday", (request, _) => TimeCalls.GetTimeOfDay(request), timevalOut, SyscallArgument.OutputOfSize(8)),
            Sync(97, "getrlimit", LimitCalls.GetLimit, value, rlimitOut),
            Sync(99, "sysinfo", SystemInfoCalls.SysInfo, SyscallArgument.OutputOfSize(LibC.SysInfoSize)),
            Sync(102, "getuid", (_, _) => IdentityCalls.UserId()),
            Sync(104, "getgid", (_, _) => IdentityCalls.GroupId()),
            Sync(107, "geteuid", (_, _) => IdentityCalls.EffectiveUserId()),
            Sync(108, "getegid", (_, _) => IdentityCalls.EffectiveGroupId()),
            Sync(110, "getppid", (_, _) => IdentityCalls.ParentProcessId()),
            Sync(157, "prctl", _process.Control, value, new SyscallArgument(ArgumentKind.InOutBuffer, -1, ProcessCalls.NameSize), value, value, value),
            Sync(201, "time", (request, _) => TimeCalls.Time(request), SyscallArgument.OutputOfSize(8)),
            Sync(204, "sched_getaffinity", (request, _) => ProcessCalls.GetAffinity(request), value, value, SyscallArgument.Output(1)),
            Sync(222, "timer_create", _posixTimers.Create, value, SyscallArgument.InputOfSize(PosixTimerCalls.SigeventSize), SyscallArgument.OutputOfSize(4)),
            Sync(223, "timer_settime", _posixTimers.Set, value, value, SyscallArgument.InputOfSize(PosixTimerCalls.SpecSize), SyscallArgument.OutputOfSize(PosixTimerCalls.SpecSize)),
            Sync(224, "timer_gettime", _posixTimers.Get, value, SyscallArgument.OutputOfSize(PosixTimerCalls.SpecSize)),
            Sync(225, "timer_getoverrun", _posixTimers.Overrun, value),
            Sync(226, "timer_delete", _posixTimers.Delete, value),
            Sync(228, "clock_gettime", _time.GetTime, value, timespecOut),
            Sync(229, "clock_getres", (request, _) => TimeCalls.GetResolution(request), value, timespecOut),
            (new(230, "clock_nanosleep", [value, value, timespecIn, timespecOut]), (request, _, token) => TimeCalls.ClockNanosleepAsync(request, token)),
            (new(270, "pselect6", [value, fdSet, fdSet, fdSet, SyscallArgument.InOutOfSize(Timespec.Size), SyscallArgument.SignalMaskPair]),
                SelectCalls.PselectAsync),
            (new(271, "ppoll", [SyscallArgument.InOutArray(1, LibC.PollFdSize), value, SyscallArgument.InOutOfSize(Timespec.Size), SyscallArgument.SignalMask(4), value]),
                PollCalls.PpollAsync),
            Sync(292, "dup3", DescriptorCalls.DuplicateToWithFlags, value, value, value),
            Sync(302, "prlimit64", LimitCalls.ProcessLimit, value, value, rlimitIn, rlimitOut),
            Sync(318, "getrandom", (request, _) => RandomCalls.GetRandom(request), SyscallArgument.Output(1), value, value),
        ];
    }

    /// <summary>A synchronous handler that waits in a way its token interrupts (<see cref="Readiness"/>).</summary>
    private static (SyscallSignature, Handler) Interruptible(int number, string name, Func<SyscallRequest, IKeepSession, CancellationToken, SyscallResult> handle, params SyscallArgument[] arguments) =>
        (new SyscallSignature(number, name, arguments), (request, session, token) => new ValueTask<SyscallResult>(handle(request, session, token)));

    private static (SyscallSignature, Handler) Sync(int number, string name, Func<SyscallRequest, IKeepSession, SyscallResult> handle, params SyscallArgument[] arguments) =>
        (new SyscallSignature(number, name, arguments), (request, session, _) => new ValueTask<SyscallResult>(handle(request, session)));
}
