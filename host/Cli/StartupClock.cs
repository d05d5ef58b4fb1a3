using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Cli;

/// <summary>
/// Where the time of a run's start goes: each phase (the command line, the configuration, the plugins, the backend's
/// probes, the image, the keep's launch, the workload until its end) is marked as it ends, and <see cref="Report"/>
/// writes one <c>start-up:</c> line at Debug level (<c>--log-level debug</c>) with each phase's milliseconds. The
/// first figure is the time before <c>Main</c> (the .NET runtime's own start: the host, the runtime, the assemblies
/// loaded first), from the kernel's start time of the process (a resolution of one clock tick, 10 ms). A mark costs
/// one clock read; nothing is formatted unless Debug is enabled.
/// </summary>
internal static class StartupClock
{
    /// <summary>At most this many phases are kept; later marks are dropped.</summary>
    private const int Capacity = 16;

    private static long _mainTimestamp = Stopwatch.GetTimestamp();
    private static readonly string?[] Names = new string?[Capacity];
    private static readonly long[] Timestamps = new long[Capacity];
    private static int _count;

    /// <summary>Starts the clock: called first thing in <c>Main</c>.</summary>
    public static void Start()
    {
        _mainTimestamp = Stopwatch.GetTimestamp();
        Volatile.Write(ref _count, 0);
    }

    /// <summary>Marks the end of the phase <paramref name="phase"/> (it began at the previous mark, or at <c>Main</c>).</summary>
    /// <param name="phase">A short name, for example <c>plugins</c>.</param>
    public static void Mark(string phase)
    {
        int index = Interlocked.Increment(ref _count) - 1;
        if (index < Capacity)
        {
            Timestamps[index] = Stopwatch.GetTimestamp();
            Names[index] = phase;
        }
    }

    /// <summary>Writes the <c>start-up:</c> line at Debug level, when it is enabled.</summary>
    /// <param name="logger">The CLI's logger.</param>
    public static void Report(ILogger logger)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
#pragma warning disable CA1873 // The argument is evaluated only when Debug is enabled (the test above).
            StartupLog.Breakdown(logger, Describe(BeforeMainMilliseconds()));
#pragma warning restore CA1873
        }

        // A second run in the same process (the in-process CLI tests) starts its marks afresh; its "runtime" figure
        // is then meaningless, and it has no Main of its own.
        Volatile.Write(ref _count, 0);
        _mainTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>The line's text: each phase and its milliseconds in the order they were marked, then the total.</summary>
    /// <param name="beforeMain">The milliseconds before <c>Main</c>, or null when they could not be read.</param>
    internal static string Describe(double? beforeMain)
    {
        var text = new StringBuilder();
        double total = 0;
        if (beforeMain is { } runtime)
        {
            text.Append(CultureInfo.InvariantCulture, $"runtime {runtime:0} ms, ");
            total += runtime;
        }

        long previous = _mainTimestamp;
        int count = Math.Min(Volatile.Read(ref _count), Capacity);
        for (int i = 0; i < count; i++)
        {
            if (Names[i] is not { } name)
            {
                continue;
            }

            double milliseconds = Stopwatch.GetElapsedTime(previous, Timestamps[i]).TotalMilliseconds;
            text.Append(CultureInfo.InvariantCulture, $"{name} {milliseconds:0.0} ms, ");
            total += milliseconds;
            previous = Timestamps[i];
        }

        text.Append(CultureInfo.InvariantCulture, $"total {total:0} ms");
        return text.ToString();
    }

    /// <summary>
    /// The milliseconds from the process's start (field 22 of <c>/proc/self/stat</c>, in clock ticks since boot) to
    /// <c>Main</c> (against <c>/proc/uptime</c>, also since boot); null when either cannot be read or parsed.
    /// </summary>
    private static double? BeforeMainMilliseconds()
    {
        try
        {
            double sinceMain = Stopwatch.GetElapsedTime(_mainTimestamp).TotalMilliseconds;
            string uptime = File.ReadAllText("/proc/uptime");
            string stat = File.ReadAllText("/proc/self/stat");
            return BeforeMain(stat, uptime, sinceMain);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The arithmetic of <see cref="BeforeMainMilliseconds"/>, from the two files' texts; null on a text it cannot parse.</summary>
    /// <param name="stat">The text of <c>/proc/self/stat</c>.</param>
    /// <param name="uptime">The text of <c>/proc/uptime</c>.</param>
    /// <param name="sinceMain">The milliseconds since <c>Main</c> when the files were read.</param>
    internal static double? BeforeMain(string stat, string uptime, double sinceMain)
    {
        // The command name (field 2) is in parentheses and may hold spaces and parentheses: fields count from the last ')'.
        int close = stat.LastIndexOf(')');
        int space = uptime.IndexOf(' ', StringComparison.Ordinal);
        if (close < 0 || space <= 0)
        {
            return null;
        }

        string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (the state), so field 22 (starttime) is fields[19].
        if (fields.Length < 20
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong startTicks)
            || !double.TryParse(uptime[..space], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double uptimeSeconds))
        {
            return null;
        }

        // USER_HZ, the unit of starttime, is 100 on every Linux the x86-64 ABI has.
        double runningMilliseconds = (uptimeSeconds * 1000.0) - (startTicks * 10.0);
        double beforeMain = runningMilliseconds - sinceMain;
        return beforeMain < 0 ? 0 : beforeMain;
    }
}

/// <summary>The start-up clock's log message.</summary>
internal static partial class StartupLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "start-up: {Breakdown}")]
    public static partial void Breakdown(ILogger logger, string breakdown);
}
