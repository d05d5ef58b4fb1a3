using Microsoft.Extensions.Logging;

namespace Donjon.Host.Cli;

/// <summary>
/// Donjon's loggers: each entry at or above the minimum level is one <see cref="DonjonConsoleFormatter"/> line on
/// stderr (never the workload's stdout), written at once under a lock, so that lines never interleave. It replaces
/// the Generic Host with the console logger, whose set-up cost tens of milliseconds of every run's start for lines
/// that, at the default level, are never shown. Scopes are not kept; providers cannot be added.
/// </summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    private readonly object _gate = new();
    private readonly LogLevel _minimum;
    private readonly bool _timestamps;
    private readonly bool _useColor;

    /// <param name="minimum">The least level written (<see cref="LogLevel.None"/>: nothing).</param>
    /// <param name="timestamps">Whether each line starts with its UTC time.</param>
    /// <param name="useColor">Whether the level word is coloured.</param>
    public StderrLoggerFactory(LogLevel minimum, bool timestamps, bool useColor)
    {
        _minimum = minimum;
        _timestamps = timestamps;
        _useColor = useColor;
    }

    public ILogger CreateLogger(string categoryName) => new StderrLogger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Donjon's loggers write to stderr only.");

    public void Dispose()
    {
    }

    private bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= _minimum;

    private void Write(LogLevel level, string? message, Exception? exception)
    {
        string line = DonjonConsoleFormatter.Format(level, message, exception, _timestamps ? DateTimeOffset.UtcNow : null, _useColor);
        lock (_gate)
        {
            Console.Error.Write(line);
            Console.Error.Flush();
        }
    }

    private sealed class StderrLogger(StderrLoggerFactory factory) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => factory.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!factory.IsEnabled(logLevel))
            {
                return;
            }

            ArgumentNullException.ThrowIfNull(formatter);
            string? message = formatter(state, exception);
            if (message is null && exception is null)
            {
                return;
            }

            factory.Write(logLevel, message, exception);
        }
    }
}
