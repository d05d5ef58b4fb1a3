namespace Donjon.Backends.Sdk.Shims;

/// <summary>
/// Finds the shim a hardware backend measures. Its own shim, shipped beside the plugin as <c>donjon-shim</c>, comes
/// first; until the SGX and SEV-SNP shims exist, a shim built in this repository stands in for it (the VM keep's,
/// the process keep's), and the measurement's notes say so.
/// </summary>
public static class ShimLocator
{
    /// <summary>The file name of a backend's own shim, beside the plugin assembly.</summary>
    public const string ShimFileName = "donjon-shim";

    /// <summary>The process keep's shim, from a backend plugin's folder in this repository, and what it stands in for.</summary>
    public static readonly (string RelativePath, string Description) ProcessShim =
        (Path.Combine("..", "..", "process", "bin", "donjon-shim"), "the process keep's shim");

    /// <summary>The VM keep's shim, from a backend plugin's folder in this repository.</summary>
    public static readonly (string RelativePath, string Description) VmShim =
        (Path.Combine("..", "..", "vm", "bin", "donjon-vm-shim"), "the VM keep's shim");

    /// <summary>The plugin folder of the assembly that holds <paramref name="type"/>, when it was loaded from a file.</summary>
    /// <param name="type">A type of the plugin.</param>
    /// <returns>The folder; the application's base folder when the assembly has no location.</returns>
    public static string PluginDirectoryOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        string location = type.Assembly.Location;
        return string.IsNullOrEmpty(location) ? AppContext.BaseDirectory : Path.GetDirectoryName(location) ?? AppContext.BaseDirectory;
    }

    /// <summary>The places a backend's shim is looked for, in order: its own, then the stand-ins.</summary>
    /// <param name="pluginDirectory">The plugin's folder.</param>
    /// <param name="standIns">The shims that stand in, in order of preference, relative to the plugin's folder.</param>
    /// <returns>The candidate paths, each with the description of a stand-in (<see langword="null"/> for the backend's own).</returns>
    public static IReadOnlyList<(string Path, string? StandIn)> Candidates(string pluginDirectory, IReadOnlyList<(string RelativePath, string Description)> standIns) =>
    [
        (Path.GetFullPath(Path.Combine(pluginDirectory, ShimFileName)), null),
        .. standIns.Select(standIn => (Path.GetFullPath(Path.Combine(pluginDirectory, standIn.RelativePath)), (string?)standIn.Description)),
    ];

    /// <summary>Reads the first shim found.</summary>
    /// <param name="pluginDirectory">The plugin's folder.</param>
    /// <param name="backend">The backend's name, for messages.</param>
    /// <param name="standIns">The shims that stand in, in order of preference, relative to the plugin's folder.</param>
    /// <returns>The shim's path, its bytes, and what it is when it stands in (<see langword="null"/> for the backend's own).</returns>
    /// <exception cref="InvalidOperationException">No shim was found or one could not be read; the message says where it was looked for and what to do.</exception>
    public static (string Path, byte[] Bytes, string? StandIn) Read(string pluginDirectory, string backend, IReadOnlyList<(string RelativePath, string Description)> standIns)
    {
        IReadOnlyList<(string Path, string? StandIn)> candidates = Candidates(pluginDirectory, standIns);
        foreach ((string path, string? standIn) in candidates)
        {
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                return (path, File.ReadAllBytes(path), standIn);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"the '{backend}' measurement covers the keep's shim, but {path} cannot be read: {e.Message}", e);
            }
        }

        throw new InvalidOperationException(
            $"the '{backend}' measurement covers the keep's shim, and no shim was found (looked for {string.Join(", ", candidates.Select(c => c.Path))}). " +
            "Build the repository's shims ('dotnet build' at the repository root builds plugins/backends/process/bin/donjon-shim and plugins/backends/vm/bin/donjon-vm-shim), " +
            $"or put the backend's own shim beside the plugin as {ShimFileName}.");
    }
}
