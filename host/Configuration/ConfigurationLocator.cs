namespace Donjon.Host.Configuration;

/// <summary>Where the configuration in force came from.</summary>
internal enum ConfigurationSource
{
    /// <summary>The <c>--config FILE</c> option.</summary>
    Option,

    /// <summary>The <c>DONJON_CONFIG</c> environment variable.</summary>
    EnvironmentVariable,

    /// <summary>The <c>plugins.json</c> in the nearest folder above the <c>donjon</c> program.</summary>
    BesideProgram,

    /// <summary>The system-wide <c>/etc/donjon/plugins.json</c>.</summary>
    System,
}

/// <summary>The configuration file in force, and why that one.</summary>
/// <param name="Path">Its absolute path.</param>
/// <param name="Source">How it was chosen.</param>
internal sealed record ConfigurationLocation(string Path, ConfigurationSource Source)
{
    /// <summary>The source in words, for the text output and the log: "--config", "$DONJON_CONFIG"...</summary>
    public string SourceText => Source switch
    {
        ConfigurationSource.Option => "--config",
        ConfigurationSource.EnvironmentVariable => "$" + ConfigurationLocator.EnvironmentVariable,
        ConfigurationSource.BesideProgram => "the nearest plugins.json above the donjon program",
        _ => "the system-wide " + ConfigurationLocator.SystemPath,
    };

    /// <summary>The source as a stable JSON token (docs/cli-json.md).</summary>
    public string SourceToken => Source switch
    {
        ConfigurationSource.Option => "option",
        ConfigurationSource.EnvironmentVariable => "environment",
        ConfigurationSource.BesideProgram => "program",
        _ => "system",
    };
}

/// <summary>Finds the admin's <c>plugins.json</c>.</summary>
/// <remarks>
/// In order: <c>--config FILE</c>; the <c>DONJON_CONFIG</c> environment variable; the <c>plugins.json</c> in the
/// nearest folder above the <c>donjon</c> program (the repository root when it runs from a build);
/// <c>/etc/donjon/plugins.json</c>. The current directory is never searched: a <c>plugins.json</c> in the user's
/// working directory must not replace the admin's policy. An explicit choice (option or variable) wins even if it
/// does not exist, so a typo is reported instead of silently falling back to another file.
/// </remarks>
internal static class ConfigurationLocator
{
    public const string EnvironmentVariable = "DONJON_CONFIG";

    /// <summary>The system-wide configuration, used when no <c>plugins.json</c> lies above the program.</summary>
    public const string SystemPath = "/etc/donjon/plugins.json";

    public static ConfigurationLocation Locate(string? explicitPath) => Locate(explicitPath, Environment.GetEnvironmentVariable(EnvironmentVariable), AppContext.BaseDirectory, SystemPath);

    /// <summary>The search, with its inputs explicit (for tests).</summary>
    internal static ConfigurationLocation Locate(string? explicitPath, string? fromEnvironment, string programDirectory, string systemPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return new ConfigurationLocation(Path.GetFullPath(explicitPath), ConfigurationSource.Option);
        }

        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return new ConfigurationLocation(Path.GetFullPath(fromEnvironment), ConfigurationSource.EnvironmentVariable);
        }

        for (DirectoryInfo? folder = new(programDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, ConfigurationLoader.FileName);
            if (File.Exists(candidate))
            {
                return new ConfigurationLocation(candidate, ConfigurationSource.BesideProgram);
            }
        }

        // Last, the system's file; if it is missing too, loading it reports that it does not exist.
        return new ConfigurationLocation(systemPath, ConfigurationSource.System);
    }
}
