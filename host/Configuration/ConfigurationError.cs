namespace Donjon.Host.Configuration;

/// <summary>One mistake in the admin's configuration: what, where, and what to do.</summary>
/// <param name="File">The configuration file.</param>
/// <param name="Location">Where in it: a JSON path such as <c>$.plugins[1].path</c>, or <c>line 4, column 7</c>.</param>
/// <param name="Problem">What is wrong.</param>
/// <param name="Remedy">What to do about it.</param>
internal sealed record ConfigurationError(string File, string Location, string Problem, string Remedy)
{
    public override string ToString() => $"{File}: {Location}: {Problem}. {Remedy}";
}

/// <summary>Thrown when the configuration cannot be used; carries every mistake found, not only the first.</summary>
internal sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<ConfigurationError> errors)
        : base(string.Join(Environment.NewLine, errors.Select(e => e.ToString()))) => Errors = errors;

    public ConfigurationException(ConfigurationError error) : this([error]) { }

    public IReadOnlyList<ConfigurationError> Errors { get; }
}
