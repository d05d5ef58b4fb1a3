namespace Donjon.Backends.Shared;

/// <summary>
/// Finds the shim a hardware backend measures. Its own shim, shipped beside the plugin as <c>donjon-shim</c>, comes
/// first; until the SGX and VM shims exist, the process keep's shim built in this repository
/// (<c>plugins/backends/process/bin/donjon-shim</c>) stands in for it, and the measurement's notes say so.
/// </summary>
internal static class ShimLocator
{
    /// <summary>The file name of a backend's shim, beside the plugin assembly.</summary>
    public const string ShimFileName = "donjon-shim";

    /// <summary>The plugin folder of the assembly that holds <paramref name="type"/>, when it was loaded from a file.</summary>
    /// <param name="type">A type of the plugin.</param>
    /// <returns>The folder; the application's base folder when the assembly has no location.</returns>
    public static string PluginDirectoryOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        string location = type.Assembly.Location;
        return string.IsNullOrEmpty(location) ? AppContext.BaseDirectory : Path.GetDirectoryName(location) ?? AppContext.BaseDirectory;
    }

    /// <summary>The places a backend's shim is looked for, in order, with whether each is a stand-in.</summary>
    /// <param name="pluginDirectory">The plugin's folder.</param>
    /// <returns>The candidate paths.</returns>
    public static IReadOnlyList<(string Path, bool IsStandIn)> Candidates(string pluginDirectory) =>
    [
        (Path.GetFullPath(Path.Combine(pluginDirectory, ShimFileName)), false),
        (Path.GetFullPath(Path.Combine(pluginDirectory, "..", "..", "process", "bin", ShimFileName)), true),
    ];

    /// <summary>Reads the first shim found.</summary>
    /// <param name="pluginDirectory">The plugin's folder.</param>
    /// <param name="backend">The backend's name, for messages.</param>
    /// <returns>The shim's path, its bytes, and whether it is the process keep's shim standing in.</returns>
    /// <exception cref="InvalidOperationException">No shim was found or one could not be read; the message says where it was looked for and what to do.</exception>
    public static (string Path, byte[] Bytes, bool IsStandIn) Read(string pluginDirectory, string backend)
    {
        IReadOnlyList<(string Path, bool IsStandIn)> candidates = Candidates(pluginDirectory);
        foreach ((string path, bool isStandIn) in candidates)
        {
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                return (path, File.ReadAllBytes(path), isStandIn);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"the '{backend}' measurement covers the keep's shim, but {path} cannot be read: {e.Message}", e);
            }
        }

        throw new InvalidOperationException(
            $"the '{backend}' measurement covers the keep's shim, and no shim was found (looked for {string.Join(" and ", candidates.Select(c => c.Path))}). " +
            "Build the process keep's shim ('dotnet build' at the repository root builds plugins/backends/process/bin/donjon-shim), " +
            $"or put the backend's own shim beside the plugin as {ShimFileName}.");
    }
}
