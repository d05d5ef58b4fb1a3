using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Cli;

/// <summary>
/// Donjon's log line: <c>donjon: warning: message</c>, one line (an exception follows, indented), no category and
/// no event id; a UTC timestamp first only under <c>--log-timestamps</c>; the level coloured only on a terminal.
/// <see cref="StderrLoggerFactory"/> writes it.
/// </summary>
internal static class DonjonConsoleFormatter
{
    /// <summary>Whether colour may be used on stderr: it is a terminal and NO_COLOR is unset or empty (no-color.org).</summary>
    public static bool ColorAllowed() =>
        !Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => level.ToString().ToLowerInvariant(),
    };

    private static string? Color(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "\u001b[2m",
        LogLevel.Information => "\u001b[32m",
        LogLevel.Warning => "\u001b[33m",
        LogLevel.Error or LogLevel.Critical => "\u001b[1;31m",
        _ => null,
    };

    /// <summary>The text of one entry, newline included.</summary>
    internal static string Format(LogLevel level, string? message, Exception? exception, DateTimeOffset? timestamp, bool useColor)
    {
        var line = new System.Text.StringBuilder();
        if (timestamp is { } time)
        {
            line.Append(time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        }

        line.Append("donjon: ");
        string name = LevelName(level);
        if (useColor && Color(level) is { } color)
        {
            line.Append(color).Append(name).Append("\u001b[0m");
        }
        else
        {
            line.Append(name);
        }

        line.Append(": ").Append(OneLine(message ?? ""));
        line.Append('\n');
        if (exception is not null)
        {
            foreach (string exceptionLine in exception.ToString().Split('\n'))
            {
                line.Append("    ").Append(exceptionLine.TrimEnd('\r')).Append('\n');
            }
        }

        return line.ToString();
    }

    /// <summary>A message's line breaks become spaces, so one entry is one line.</summary>
    private static string OneLine(string message) =>
        message.Contains('\n', StringComparison.Ordinal) ? message.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ') : message;
}
