using Microsoft.Extensions.Logging;

namespace Donjon.Host.Cli;

/// <summary>The CLI's log messages, generated so that a disabled level costs nothing.</summary>
internal static partial class HostLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Configuration in force: {Path} (from {Source})")]
    public static partial void ReadingConfiguration(ILogger logger, string path, string source);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Loaded {Count} plugins")]
    public static partial void LoadedPlugins(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Configuration rejected with {Count} errors")]
    public static partial void ConfigurationRejected(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workload {Path} sha256 {Sha256}")]
    public static partial void Workload(ILogger logger, string path, string sha256);

    [LoggerMessage(Level = LogLevel.Information, Message = "Using backend {Backend}")]
    public static partial void UsingBackend(ILogger logger, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Summary}")]
    public static partial void UnservedSummary(ILogger logger, string summary);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void KeepReportDisagreed(ILogger logger, string warning);
}
