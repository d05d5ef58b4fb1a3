using System.Diagnostics;
using System.Globalization;
using System.Text;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Plugins;

namespace Donjon.Host.Cli;

/// <summary>
/// <c>donjon plugins --check</c>: validates every loaded plugin and reports each problem. Loading has already refused
/// invalid syscall signatures, a wrong contract version and duplicate names (a configuration error, exit 125); the
/// check then asks each backend for its name, traits and both probes, and each syscall set for its name and
/// signatures. A probe that fails because the machine lacks something is not a problem: a probe that throws, that
/// takes longer than <see cref="ProbeBudget"/>, or whose failed check gives no remedy is one.
/// </summary>
internal static class PluginCheck
{
    /// <summary>How long one probe may take before the check calls it a problem: a probe that hangs, not one that is
    /// slow on a loaded machine (the vm backend's, which asks QEMU, takes 2 s on a busy 2-core machine).</summary>
    internal static readonly TimeSpan ProbeBudget = TimeSpan.FromSeconds(10);

    /// <summary>Checks <paramref name="catalog"/>; returns the report and how many problems it found.</summary>
    public static (string Report, int Problems) Run(PluginCatalog catalog)
    {
        var report = new StringBuilder();
        int problems = 0;
        void Line(bool ok, string text)
        {
            report.Append(ok ? "ok       " : "PROBLEM  ").Append(text).Append('\n');
            problems += ok ? 0 : 1;
        }

        foreach (LoadedPlugin plugin in catalog.Plugins)
        {
            report.Append(plugin.AssemblyName).Append(" (").Append(plugin.AssemblyPath).Append(")\n");
            if (plugin.Backends.Count == 0 && plugin.SyscallSets.Count == 0)
            {
                Line(false, "the plugin provides no backend and no syscall set");
            }

            foreach (IBackend backend in plugin.Backends)
            {
                CheckBackend(backend, Line);
            }

            foreach (ISyscallHandlerSet set in plugin.SyscallSets)
            {
                Line(!string.IsNullOrWhiteSpace(set.Name), $"syscall set '{set.Name}': {set.Syscalls.Count} syscalls declared, every signature valid");
            }
        }

        report.Append(CultureInfo.InvariantCulture, $"{catalog.Plugins.Count} plugins checked, {problems} problems\n");
        return (report.ToString(), problems);
    }

    private static void CheckBackend(IBackend backend, Action<bool, string> line)
    {
        string name = backend.Name;
        line(!string.IsNullOrWhiteSpace(name), $"backend '{name}': has a name");
        BackendTraits? traits = backend.Traits;
        line(traits is not null && !string.IsNullOrWhiteSpace(traits.Description), $"backend '{name}': traits with a description");
        CheckProbe(name, "ProbePlatform", backend.ProbePlatform, line);
        CheckProbe(name, "ProbeConfiguration", backend.ProbeConfiguration, line);
    }

    private static void CheckProbe(string backend, string which, Func<Probe> probe, Action<bool, string> line)
    {
        var clock = Stopwatch.StartNew();
        Probe tree;
        try
        {
            tree = probe();
        }
        catch (Exception error)
        {
            line(false, $"backend '{backend}': {which}() threw {error.GetType().Name}: {error.Message} (a probe reports a failed check, it never throws)");
            return;
        }

        clock.Stop();
        if (tree is null)
        {
            line(false, $"backend '{backend}': {which}() returned null");
            return;
        }

        string outcome = tree.IsSatisfied ? "satisfied" : "not satisfied on this machine";
        line(clock.Elapsed <= ProbeBudget, $"backend '{backend}': {which}() answered in {clock.Elapsed.TotalMilliseconds:F1} ms ({outcome})");
        foreach (string path in FailedChecksWithoutRemedy(tree, tree.Name))
        {
            line(false, $"backend '{backend}': {which}(): the failed check '{path}' gives no remedy");
        }
    }

    private static IEnumerable<string> FailedChecksWithoutRemedy(Probe probe, string path)
    {
        if (probe.Children is null || probe.Children.Count == 0)
        {
            if (probe.Outcome == ProbeOutcome.Failed && string.IsNullOrWhiteSpace(probe.Remedy))
            {
                yield return path;
            }

            yield break;
        }

        foreach (Probe child in probe.Children)
        {
            foreach (string inner in FailedChecksWithoutRemedy(child, path + " / " + child.Name))
            {
                yield return inner;
            }
        }
    }
}
