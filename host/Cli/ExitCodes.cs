namespace Donjon.Host.Cli;

/// <summary>
/// Donjon's own exit statuses. They follow the shell's conventions so that a script can tell Donjon's failures
/// from the workload's: the workload's own status passes through unchanged, and death by signal N is 128 + N.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Success (commands other than <c>run</c>).</summary>
    public const int Success = 0;

    /// <summary><c>donjon plugins --check</c> found a problem in a plugin that loaded (the report names it).</summary>
    public const int CheckFailed = 1;

    /// <summary>Donjon's own failure: bad usage, a bad <c>plugins.json</c>, a broken plugin, or no usable backend.</summary>
    public const int DonjonError = 125;

    /// <summary>The workload cannot be run: not ELF, dynamically linked, wrong machine, corrupt, or its keep failed to start.</summary>
    public const int CannotRun = 126;

    /// <summary>The workload was not found.</summary>
    public const int NotFound = 127;

    /// <summary>Added to a signal number when the workload died by that signal.</summary>
    public const int SignalBase = 128;
}

/// <summary>Which signal (SIGINT 2 or SIGTERM 15) asked Donjon to stop, so that it can exit with 128 + that signal.</summary>
internal static class Interruption
{
    private static int _signal;

    public static int Signal
    {
        get => Volatile.Read(ref _signal);
        set => Volatile.Write(ref _signal, value);
    }
}
