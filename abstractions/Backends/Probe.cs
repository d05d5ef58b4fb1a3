namespace Donjon.Abstractions.Backends;

/// <summary>One check of a backend's probe tree.</summary>
/// <param name="Name">What was checked, for example <c>CPUID.(EAX=7,ECX=0):EBX.SGX[bit 2]</c>.</param>
/// <param name="Outcome">Whether the check passed, failed, or only informs.</param>
/// <param name="Detail">What was found, in a sentence.</param>
/// <param name="Remedy">What to do when the check fails; <see langword="null"/> when there is nothing to do.</param>
/// <param name="Children">The checks this one is made of; the hierarchy is real, never encoded in names.</param>
public sealed record Probe(string Name, ProbeOutcome Outcome, string Detail, string? Remedy, IReadOnlyList<Probe> Children)
{
    /// <summary>A passed check without children.</summary>
    /// <param name="name">What was checked.</param>
    /// <param name="detail">What was found.</param>
    /// <returns>The check.</returns>
    public static Probe Pass(string name, string detail) => new(name, ProbeOutcome.Passed, detail, null, []);

    /// <summary>A failed check without children.</summary>
    /// <param name="name">What was checked.</param>
    /// <param name="detail">What was found.</param>
    /// <param name="remedy">What to do about it.</param>
    /// <returns>The check.</returns>
    public static Probe Fail(string name, string detail, string remedy) => new(name, ProbeOutcome.Failed, detail, remedy, []);

    /// <summary>A check that only informs: it never makes its parent fail.</summary>
    /// <param name="name">What was checked.</param>
    /// <param name="detail">What was found.</param>
    /// <returns>The check.</returns>
    public static Probe Info(string name, string detail) => new(name, ProbeOutcome.Info, detail, null, []);

    /// <summary>
    /// A check made of <paramref name="children"/>: it fails when any child fails, and passes otherwise.
    /// </summary>
    /// <param name="name">What was checked.</param>
    /// <param name="children">The checks it is made of.</param>
    /// <param name="remedy">What to do when it fails; the children's remedies are more precise.</param>
    /// <returns>The check.</returns>
    public static Probe Group(string name, IReadOnlyList<Probe> children, string? remedy = null)
    {
        ArgumentNullException.ThrowIfNull(children);
        int failed = children.Count(c => c.Outcome == ProbeOutcome.Failed);
        return failed == 0
            ? new Probe(name, ProbeOutcome.Passed, $"all {children.Count} checks passed", null, children)
            : new Probe(name, ProbeOutcome.Failed, $"{failed} of {children.Count} checks failed", remedy, children);
    }

    /// <summary>Whether this check did not fail (passed or only informs).</summary>
    public bool IsSatisfied => Outcome != ProbeOutcome.Failed;
}

/// <summary>The outcome of one check.</summary>
public enum ProbeOutcome
{
    /// <summary>The check passed.</summary>
    Passed = 0,

    /// <summary>The check failed; the backend cannot be used until the remedy is applied.</summary>
    Failed = 1,

    /// <summary>The check only reports a fact (for example, software emulation instead of KVM).</summary>
    Info = 2,
}
