using System.Text;
using System.Text.Json;
using Donjon.Abstractions.Backends;

namespace Donjon.Host.Cli;

/// <summary>Renders probe trees for people (an indented tree) and for programs (stable JSON, see docs/cli-json.md).</summary>
internal static class ProbeRendering
{
    public static string OutcomeWord(ProbeOutcome outcome) => outcome switch
    {
        ProbeOutcome.Passed => "ok",
        ProbeOutcome.Failed => "FAILED",
        ProbeOutcome.Info => "info",
        _ => outcome.ToString(),
    };

    /// <summary>Writes <paramref name="probe"/> and its children as a tree, with a remedy under each failed check.</summary>
    public static void WriteTree(StringBuilder output, Probe probe, string indent, bool isLast, bool isRoot)
    {
        string branch = isRoot ? string.Empty : isLast ? "└─ " : "├─ ";
        output.Append(indent).Append(branch).Append('[').Append(OutcomeWord(probe.Outcome)).Append("] ")
            .Append(probe.Name).Append(": ").Append(probe.Detail).Append('\n');
        string childIndent = isRoot ? indent : indent + (isLast ? "   " : "│  ");
        if (probe.Outcome == ProbeOutcome.Failed && !string.IsNullOrEmpty(probe.Remedy))
        {
            output.Append(childIndent).Append(probe.Children.Count > 0 ? "│  " : "   ").Append("remedy: ").Append(probe.Remedy).Append('\n');
        }

        for (int i = 0; i < probe.Children.Count; i++)
        {
            WriteTree(output, probe.Children[i], childIndent, i == probe.Children.Count - 1, isRoot: false);
        }
    }

    /// <summary>Writes a probe as <c>{ name, outcome, detail, remedy, children }</c>.</summary>
    public static void WriteJson(Utf8JsonWriter writer, Probe probe)
    {
        writer.WriteStartObject();
        writer.WriteString("name", probe.Name);
        writer.WriteString("outcome", probe.Outcome switch
        {
            ProbeOutcome.Passed => "passed",
            ProbeOutcome.Failed => "failed",
            _ => "info",
        });
        writer.WriteString("detail", probe.Detail);
        if (probe.Remedy is null)
        {
            writer.WriteNull("remedy");
        }
        else
        {
            writer.WriteString("remedy", probe.Remedy);
        }

        writer.WriteStartArray("children");
        foreach (Probe child in probe.Children)
        {
            WriteJson(writer, child);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Lists the failed leaves of a tree, each with its remedy, for one-line-per-reason messages.</summary>
    public static IEnumerable<Probe> FailedLeaves(Probe probe) =>
        probe.Outcome != ProbeOutcome.Failed ? []
        : probe.Children.Count == 0 ? [probe]
        : probe.Children.SelectMany(FailedLeaves) is var leaves && leaves.Any() ? leaves : [probe];
}
