using Donjon.Abstractions.Backends;
using Donjon.Host.Elf;
using Donjon.Host.Plugins;

namespace Donjon.Host.Cli;

/// <summary>Builds the keep image, launches the keep on the chosen backend, serves it, and turns its end into an exit status.</summary>
internal static class KeepRunner
{
    public static async Task<int> RunAsync(RunRequest request, ElfReport report, IBackend backend, PluginCatalog catalog, CliEnvironment environment, TextWriter stderr, CancellationToken cancellationToken)
    {
        _ = (request, report, catalog, environment, cancellationToken);
        await stderr.WriteLineAsync($"donjon: backend '{backend.Name}' cannot launch keeps in this build.").ConfigureAwait(false);
        return ExitCodes.DonjonError;
    }
}
