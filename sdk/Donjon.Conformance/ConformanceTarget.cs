namespace Donjon.Conformance;

/// <summary>What a conformance suite runs against: a <c>donjon</c> command, a configuration and a backend.</summary>
/// <param name="Donjon">The <c>donjon</c> to run: a path to <c>donjon.dll</c> (run with <c>dotnet</c>), a path to an
/// executable, or a command name looked up on <c>PATH</c>.</param>
/// <param name="Configuration">The <c>plugins.json</c> that lists the backend's plugin and the syscall sets.</param>
/// <param name="Backend">The backend's name, as <c>IBackend.Name</c> gives it.</param>
public sealed record ConformanceTarget(string Donjon, string Configuration, string Backend)
{
    /// <summary>The environment variable that names the <c>donjon</c> to run (default: <c>donjon</c> on <c>PATH</c>).</summary>
    public const string DonjonVariable = "DONJON_CONFORMANCE_DONJON";

    /// <summary>The environment variable that names the configuration (default: <c>plugins.json</c> in the working directory).</summary>
    public const string ConfigurationVariable = "DONJON_CONFORMANCE_CONFIG";

    /// <summary>A target for <paramref name="backend"/> whose command and configuration come from the environment.</summary>
    /// <param name="backend">The backend's name.</param>
    /// <returns>The target.</returns>
    public static ConformanceTarget FromEnvironment(string backend) => new(
        Environment.GetEnvironmentVariable(DonjonVariable) is { Length: > 0 } donjon ? donjon : "donjon",
        Path.GetFullPath(Environment.GetEnvironmentVariable(ConfigurationVariable) is { Length: > 0 } config ? config : "plugins.json"),
        backend);
}
