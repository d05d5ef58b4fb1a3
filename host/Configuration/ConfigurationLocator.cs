namespace Donjon.Host.Configuration;

/// <summary>Finds the admin's <c>plugins.json</c>.</summary>
/// <remarks>
/// In order: <c>--config FILE</c>; the <c>DONJON_CONFIG</c> environment variable; <c>plugins.json</c> in the
/// current directory; <c>plugins.json</c> in the nearest folder above the <c>donjon</c> program (the repository
/// root when it runs from a build). The first that is given wins, even if it does not exist, so a typo is reported
/// instead of silently falling back to another file.
/// </remarks>
internal static class ConfigurationLocator
{
    public const string EnvironmentVariable = "DONJON_CONFIG";

    public static string Locate(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return Path.GetFullPath(explicitPath);
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        string inCurrent = Path.GetFullPath(ConfigurationLoader.FileName);
        if (File.Exists(inCurrent))
        {
            return inCurrent;
        }

        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, ConfigurationLoader.FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return inCurrent;
    }
}
