using Donjon.Abstractions.Sessions;

namespace Donjon.Host.Configuration;

/// <summary>The admin's <c>plugins.json</c>, validated: every path absolute, every value in range.</summary>
/// <param name="FilePath">The absolute path of the file it was read from.</param>
/// <param name="Plugins">The plugin assemblies to load, in file order.</param>
/// <param name="BackendOrder">Backend names, most preferred first; every name is checked against the loaded backends.</param>
/// <param name="Policy">What keeps may use. Everything not granted is denied.</param>
internal sealed record DonjonConfiguration(
    string FilePath,
    IReadOnlyList<PluginReference> Plugins,
    IReadOnlyList<string> BackendOrder,
    KeepPolicy Policy)
{
    /// <summary>
    /// Whether <c>donjon run --mount</c> and <c>--tmp</c> may add grants for one run (<c>policy.commandLineMounts</c>,
    /// default <see langword="true"/>).
    /// </summary>
    public bool AllowsCommandLineMounts { get; init; } = true;

    /// <summary>
    /// The WebAssembly exec layer (<c>exec.wasm</c>, resolved relative to the file): the launcher that runs a module
    /// in a keep (docs/wasm.md), or <see langword="null"/> when none is configured.
    /// </summary>
    public string? WasmLauncher { get; init; }

    /// <summary>
    /// Whether <c>donjon run --publish</c> and <c>--allow-connect</c> may add network grants for one run
    /// (<c>policy.commandLineNetwork</c>, default <see langword="true"/>), by the same rule as <see cref="AllowsCommandLineMounts"/>.
    /// </summary>
    public bool AllowsCommandLineNetwork { get; init; } = true;
}

/// <summary>One entry of <c>plugins</c>.</summary>
/// <param name="AssemblyPath">The plugin assembly, resolved relative to the configuration file.</param>
/// <param name="JsonPath">Where the entry is in the file, for messages.</param>
internal sealed record PluginReference(string AssemblyPath, string JsonPath);
