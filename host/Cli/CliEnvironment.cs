using Donjon.Host.Configuration;
using Donjon.Host.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Donjon.Host.Cli;

/// <summary>
/// What one command needs: the logging host (to stderr only, never the workload's stdout), and on demand the
/// validated configuration and the loaded plugins.
/// </summary>
internal sealed class CliEnvironment : IDisposable
{
    public const string LogLevelVariable = "DONJON_LOG_LEVEL";

    private readonly IHost _host;
    private PluginCatalog? _catalog;

    private CliEnvironment(IHost host, string? configPath)
    {
        _host = host;
        ConfigPath = configPath;
        LoggerFactory = host.Services.GetRequiredService<ILoggerFactory>();
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
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(level);
        builder.Logging.AddConsole(options => options.FormatterName = DonjonConsoleFormatter.FormatterName);
        builder.Logging.AddConsoleFormatter<DonjonConsoleFormatter, DonjonConsoleFormatterOptions>(options =>
        {
            options.Timestamps = timestamps;
            options.UseColor = DonjonConsoleFormatter.ColorAllowed();
        });
        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        return new CliEnvironment(builder.Build(), configPath);
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

    /// <summary>Loads and validates the configuration, then every plugin it lists. Throws <see cref="ConfigurationException"/>.</summary>
    public PluginCatalog LoadPlugins()
    {
        if (_catalog is not null)
        {
            return _catalog;
        }

        ConfigurationLocation location = ConfigurationLocator.Locate(ConfigPath);
        ConfigurationLocation = location;
        HostLog.ReadingConfiguration(Logger, location.Path, location.SourceText);
        Configuration = ConfigurationLoader.Load(location.Path);
        _catalog = PluginCatalog.Load(Configuration, LoggerFactory);
        HostLog.LoadedPlugins(Logger, _catalog.Plugins.Count);
        return _catalog;
    }

    public void Dispose()
    {
        _catalog?.Dispose();
        _host.Dispose();
    }
}

/// <summary>A mistake in how Donjon was invoked; exit status 125.</summary>
internal sealed class UsageException(string message) : Exception(message);
