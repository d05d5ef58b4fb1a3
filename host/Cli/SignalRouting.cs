namespace Donjon.Host.Cli;

/// <summary>
/// Where the signals Donjon receives go: to the keep that runs, when one does and can take them (KeepRunner routes
/// them there), else Donjon's own handling (Program: SIGINT and SIGTERM stop it, the others take their default).
/// </summary>
/// <remarks>
/// Donjon forwards SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM and SIGWINCH, as a container's init does. A second
/// SIGINT or SIGTERM, or a workload that does not end within <see cref="StopGracePeriod"/> of the first, is stopped.
/// </remarks>
internal static class SignalRouting
{
    /// <summary>How long a workload has to end after a forwarded SIGINT or SIGTERM before Donjon stops its keep.</summary>
    public static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    /// <summary>The signals Donjon forwards to a running workload.</summary>
    public static readonly int[] Forwarded = [1, 2, 3, 10, 12, 15, 28];

    private static Func<int, bool>? _target;

    /// <summary>Sends the signals to <paramref name="target"/> (which returns false to decline one) until disposed.</summary>
    public static IDisposable Route(Func<int, bool> target)
    {
        Volatile.Write(ref _target, target);
        return new Registration(target);
    }

    /// <summary>Gives <paramref name="signal"/> to the running keep; false when there is none, or it declined.</summary>
    public static bool TryForward(int signal) => Volatile.Read(ref _target)?.Invoke(signal) ?? false;

    private sealed class Registration(Func<int, bool> target) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref _target, null, target);
    }
}
