using Microsoft.Extensions.Logging;

namespace Donjon.Abstractions.Plugins;

/// <summary>
/// What the host gives a plugin type when it constructs it. A plugin type is a public, non-abstract class that
/// implements <see cref="Backends.IBackend"/> or <see cref="Syscalls.ISyscallHandlerSet"/> and has a public
/// constructor taking either nothing or one <see cref="IPluginContext"/>.
/// </summary>
public interface IPluginContext
{
    /// <summary>The folder the plugin's assembly was loaded from; a backend finds its shim there.</summary>
    string PluginDirectory { get; }

    /// <summary>Creates loggers that write to Donjon's stderr.</summary>
    ILoggerFactory LoggerFactory { get; }
}
