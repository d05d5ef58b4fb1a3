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

    /// <summary>The mark of an outcome: ✔/✘/• in colour when fancy, else [ok]/[FAILED]/[info].</summary>
    public static string Mark(ProbeOutcome outcome, TerminalText style) => style.Fancy
        ? outcome switch
        {
            ProbeOutcome.Passed => style.Paint("✔", "32"),
            ProbeOutcome.Failed => style.Paint("✘", "31"),
            _ => style.Paint("•", "34"),
        }
        : "[" + OutcomeWord(outcome) + "]";

    /// <summary>
    /// Writes <paramref name="probe"/> and its children as a tree, wrapped to the style's width, with a remedy under
    /// each failed check. A remedy already given in this output is not repeated: it points at the check it was given for.
    /// </summary>
    /// <param name="output">Where the tree goes.</param>
    /// <param name="probe">The probe.</param>
    /// <param name="indent">The indentation of this probe's line.</param>
    /// <param name="isLast">Whether it is its parent's last child.</param>
    /// <param name="isRoot">Whether it is the root of a tree (drawn without a branch).</param>
    /// <param name="style">Width, symbols and colour.</param>
    /// <param name="remediesGiven">Each remedy already given in this output, with the name of the check it was given for.</param>
    public static void WriteTree(StringBuilder output, Probe probe, string indent, bool isLast, bool isRoot, TerminalText style, Dictionary<string, string> remediesGiven)
    {
        string branch = isRoot ? string.Empty : isLast ? "└─ " : "├─ ";
        string childIndent = isRoot ? indent : indent + (isLast ? "   " : "│  ");
        string below = childIndent + (probe.Children.Count > 0 ? "│  " : "   ");
        style.AppendWrapped(output, indent + branch + Mark(probe.Outcome, style) + " ", below + "  ", probe.Name + ": " + probe.Detail);
        if (probe.Outcome == ProbeOutcome.Failed && !string.IsNullOrEmpty(probe.Remedy))
        {
            if (remediesGiven.TryGetValue(probe.Remedy, out string? givenFor))
            {
                style.AppendWrapped(output, below + "  ", below + "    ", $"remedy: as for '{givenFor}' above");
            }
            else
            {
                int colon = probe.Name.IndexOf(": ", StringComparison.Ordinal);
                remediesGiven[probe.Remedy] = colon > 0 ? probe.Name[..colon] : probe.Name;
                style.AppendWrapped(output, below + "  ", below + "    ", "remedy: " + probe.Remedy);
            }
        }

        for (int i = 0; i < probe.Children.Count; i++)
        {
            WriteTree(output, probe.Children[i], childIndent, i == probe.Children.Count - 1, isRoot: false, style, remediesGiven);
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
