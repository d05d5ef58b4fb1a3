using System.Text;
using Donjon.Abstractions.Backends;

namespace Donjon.Backends.Sdk.Probes;

/// <summary>Turns a probe tree into the message of a <see cref="BackendUnavailableException"/>.</summary>
public static class ProbeReport
{
    /// <summary>Lists the failed checks that have no failed children: the precise causes, each with its path.</summary>
    /// <param name="root">The tree.</param>
    /// <returns>Each failed leaf with the names of its ancestors below the root, joined by <c> / </c>.</returns>
    public static IReadOnlyList<(string Path, Probe Probe)> FailedLeaves(Probe root)
    {
        var found = new List<(string, Probe)>();
        if (root.Children.Count == 0)
        {
            if (root.Outcome == ProbeOutcome.Failed)
            {
                found.Add((root.Name, root));
            }

            return found;
        }

        foreach (Probe child in root.Children.Where(c => c.Outcome == ProbeOutcome.Failed))
        {
            Walk(child, child.Name, found);
        }

        return found;
    }

    /// <summary>Builds the message that says why a backend cannot launch and what to do about it.</summary>
    /// <param name="backend">The backend's name.</param>
    /// <param name="tree">The probe tree that explains why.</param>
    /// <returns>A message of several lines: one per failed check, with its detail and remedy.</returns>
    public static string DescribeUnavailable(string backend, Probe tree)
    {
        var text = new StringBuilder();
        text.Append("The '").Append(backend).Append("' backend cannot launch a keep on this machine. What is missing:");
        foreach ((string path, Probe probe) in FailedLeaves(tree))
        {
            text.AppendLine().Append("  - ").Append(path).Append(": ").Append(probe.Detail);
            if (!string.IsNullOrEmpty(probe.Remedy))
            {
                text.AppendLine().Append("    remedy: ").Append(probe.Remedy);
            }
        }

        return text.ToString();
    }

    private static void Walk(Probe node, string path, List<(string, Probe)> found)
    {
        bool failedChild = false;
        foreach (Probe child in node.Children)
        {
            if (child.Outcome == ProbeOutcome.Failed)
            {
                failedChild = true;
                Walk(child, $"{path} / {child.Name}", found);
            }
        }

        if (node.Outcome == ProbeOutcome.Failed && !failedChild)
        {
            found.Add((path, node));
        }
    }
}
