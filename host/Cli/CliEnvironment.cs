using Donjon.Host.Configuration;
using Donjon.Host.Plugins;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Cli;

/// <summary>
/// What one command needs: the loggers (to stderr only, never the workload's stdout), and on demand the validated
/// configuration and the loaded plugins.
/// </summary>
internal sealed class CliEnvironment : IDisposable
{
    public const string LogLevelVariable = "DONJON_LOG_LEVEL";

    private PluginCatalog? _catalog;

    private CliEnvironment(ILoggerFactory loggerFactory, string? configPath)
    {
        ConfigPath = configPath;
        LoggerFactory = loggerFactory;
        Logger = LoggerFactory.CreateLogger("donjon");
    }

    public string? ConfigPath { get; }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    public DonjonConfiguration? Configuration { get; private set; }

    /// <summary>Replaces the loaded configuration for this run (<c>run --mount</c> and <c>--tmp</c> add grants to its policy).</summary>
    /// <param name="configuration">The configuration to run with.</param>
    public void UseConfiguration(DonjonConfiguration configuration) => Configuration = configuration;

    /// <summary>The configuration file in force and how it was chosen, once <see cref="LoadPlugins"/> ran.</summary>
    public ConfigurationLocation? ConfigurationLocation { get; private set; }

    /// <summary>Creates the environment; <paramref name="logLevel"/> (or DONJON_LOG_LEVEL) sets the level, Warning by default.</summary>
    /// <param name="logLevel">The level's name, or null.</param>
    /// <param name="configPath">The <c>--config</c> path, or null.</param>
    /// <param name="timestamps">Whether log lines start with their UTC time (<c>--log-timestamps</c>).</param>
    public static CliEnvironment Create(string? logLevel, string? configPath, bool timestamps = false)
    {
        LogLevel level = ParseLogLevel(logLevel ?? Environment.GetEnvironmentVariable(LogLevelVariable));
        // Colour is looked up only when a line can be written at all (Console.IsErrorRedirected costs a system call).
        bool useColor = level != LogLevel.None && DonjonConsoleFormatter.ColorAllowed();
        return new CliEnvironment(new StderrLoggerFactory(level, timestamps, useColor), configPath);
    }

    /// <summary>Parses a level name (trace, debug, information/info, warning/warn, error, critical, none).</summary>
    public static LogLevel ParseLogLevel(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        null or "" => LogLevel.Warning,
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "INFO" or "INFORMATION" => LogLevel.Information,
        "WARN" or "WARNING" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "CRITICAL" => LogLevel.Critical,
        "NONE" => LogLevel.None,
        _ => throw new UsageException($"unknown log level '{text}'; use trace, debug, info, warning, error, critical or none"),
    };

    /// <summary>
    /// Loads and validates the configuration, then every plugin it lists, or with <paramref name="deferBackends"/> only
    /// those a run needs at first (<see cref="PluginCatalog.LoadForRun"/>). Throws <see cref="ConfigurationException"/>.
    /// </summary>
    public PluginCatalog LoadPlugins(bool deferBackends = false)
    {
        if (_catalog is not null)
        {
            return _catalog;
        }

        ConfigurationLocation location = ConfigurationLocator.Locate(ConfigPath);
        ConfigurationLocation = location;
        HostLog.ReadingConfiguration(Logger, location.Path, location.SourceText);
        Configuration = ConfigurationLoader.Load(location.Path);
        StartupClock.Mark("configuration");
        _catalog = deferBackends ? PluginCatalog.LoadForRun(Configuration, LoggerFactory) : PluginCatalog.Load(Configuration, LoggerFactory);
        StartupClock.Mark("plugins");
        HostLog.LoadedPlugins(Logger, _catalog.Plugins.Count);
        return _catalog;
    }

    public void Dispose()
    {
        _catalog?.Dispose();
        LoggerFactory.Dispose();
    }
}

/// <summary>A mistake in how Donjon was invoked; exit status 125.</summary>
internal sealed class UsageException(string message) : Exception(message);
