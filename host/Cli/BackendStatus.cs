using Donjon.Abstractions.Backends;

namespace Donjon.Host.Cli;

/// <summary>A backend with the outcome of both its probes. A probe that throws is reported as a failed check.</summary>
internal sealed record BackendStatus(IBackend Backend, Probe Platform, Probe Configuration)
{
    public bool IsAvailable => Platform.IsSatisfied && Configuration.IsSatisfied;

    public static BackendStatus Probe(IBackend backend) =>
        new(backend, SafeProbe(backend, "platform", backend.ProbePlatform), SafeProbe(backend, "configuration", backend.ProbeConfiguration));

    private static Probe SafeProbe(IBackend backend, string what, Func<Probe> probe)
    {
        try
        {
            return probe() ?? Abstractions.Backends.Probe.Fail(what, "the probe returned nothing", $"Report this bug in the plugin that provides backend '{backend.Name}'.");
        }
        catch (Exception e)
        {
            return Abstractions.Backends.Probe.Fail(what, $"the probe threw {e.GetType().Name}: {e.Message}",
                $"Report this bug in the plugin that provides backend '{backend.Name}'.");
        }
    }

    /// <summary>One line per failed check: "check: detail (remedy)".</summary>
    public IEnumerable<string> Reasons() =>
        ProbeRendering.FailedLeaves(Platform).Concat(ProbeRendering.FailedLeaves(Configuration))
            .Select(p => p.Remedy is null ? $"{p.Name}: {p.Detail}" : $"{p.Name}: {p.Detail} (remedy: {p.Remedy})");
}
