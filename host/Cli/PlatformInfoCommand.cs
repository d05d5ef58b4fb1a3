using System.CommandLine;
using System.Text;
using Donjon.Abstractions.Backends;
using Donjon.Host.Configuration;
using Donjon.Host.Plugins;

namespace Donjon.Host.Cli;

/// <summary><c>donjon platform info [--json]</c>: every loaded backend with its tree of probes.</summary>
internal static class PlatformInfoCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Option<string?> configOption, Option<string?> logLevelOption)
    {
        var json = new Option<bool>("--json") { Description = "Print a stable JSON document (see docs/cli-json.md)." };
        var command = new Command("info", "Show every loaded backend, whether it can run here, and what to fix when it cannot.") { json };
        command.SetAction((parse, _) => DonjonCli.Guard(stderr, parse.GetValue(logLevelOption), parse.GetValue(configOption), async environment =>
        {
            PluginCatalog catalog = environment.LoadPlugins();
            List<BackendStatus> statuses = catalog.OrderedBackends.Select(BackendStatus.Probe).ToList();
            ConfigurationLocation location = environment.ConfigurationLocation!;
            string text = parse.GetValue(json) ? RenderJson(statuses, location) : RenderText(statuses, location, TerminalText.ForStdout());
            await stdout.WriteAsync(text).ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The backend <c>run</c> uses without <c>--backend</c>: the first available one in the admin's order.</summary>
    internal static BackendStatus? RunUses(IReadOnlyList<BackendStatus> statuses) => statuses.FirstOrDefault(s => s.IsAvailable);

    private static string ShapeText(BackendTraits traits) =>
        (traits.Shape == KeepShape.Process ? "process" : "virtual machine") + ", " + (traits.IsConfidential ? "confidential" : "not confidential");

    internal static string RenderText(IReadOnlyList<BackendStatus> statuses, ConfigurationLocation location, TerminalText style)
    {
        var output = new StringBuilder();
        output.Append("configuration: ").Append(location.Path).Append('\n');
        style.AppendWrapped(output, "  ", "  ", "from " + location.SourceText);
        output.Append('\n');
        if (statuses.Count == 0)
        {
            output.Append("No backend is loaded. Add backend plugins to plugins.json.\n");
            return output.ToString();
        }

        // The summary: one line per backend, in the admin's order, then the one run would use.
        int nameWidth = statuses.Max(s => s.Backend.Name.Length);
        output.Append("backends:\n");
        foreach (BackendStatus status in statuses)
        {
            string mark = style.Fancy ? ProbeRendering.Mark(status.IsAvailable ? ProbeOutcome.Passed : ProbeOutcome.Failed, style) + " " : "";
            string word = status.IsAvailable ? "available" : "unavailable";
            int failed = ProbeRendering.FailedLeaves(status.Platform).Count() + ProbeRendering.FailedLeaves(status.Configuration).Count();
            string why = status.IsAvailable ? "" : failed == 1 ? ": 1 check failed" : $": {failed} checks failed";
            style.AppendWrapped(output, "  " + mark + status.Backend.Name.PadRight(nameWidth) + "  " + word.PadRight(11) + "  ", new string(' ', nameWidth + 17 + mark.Length),
                ShapeText(status.Backend.Traits) + why);
        }

        BackendStatus? uses = RunUses(statuses);
        style.AppendWrapped(output, "", "  ", uses is null
            ? "run uses: none (no backend can run here; see the remedies below)"
            : $"run uses: {uses.Backend.Name} (the first available in backendOrder; or run --backend NAME)");
        output.Append('\n');

        // The trees: available backends first, each remedy given once.
        var remediesGiven = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (BackendStatus status in statuses.OrderBy(s => s.IsAvailable ? 0 : 1))
        {
            BackendTraits traits = status.Backend.Traits;
            style.AppendWrapped(output, "", "  ", $"{status.Backend.Name}: {(status.IsAvailable ? "available" : "unavailable")} ({ShapeText(traits)}) {traits.Description}");
            ProbeRendering.WriteTree(output, status.Platform with { Name = "platform" }, "  ", isLast: false, isRoot: true, style, remediesGiven);
            ProbeRendering.WriteTree(output, status.Configuration with { Name = "configuration" }, "  ", isLast: true, isRoot: true, style, remediesGiven);
            output.Append('\n');
        }

        return output.ToString();
    }

    internal static string RenderJson(IReadOnlyList<BackendStatus> statuses, ConfigurationLocation location) => JsonOutput.Write(writer =>
    {
        writer.WriteString("configuration", location.Path);
        writer.WriteString("configurationSource", location.SourceToken);
        writer.WriteString("contractVersion", PluginCatalog.HostContractVersion.ToString(2));
        if (RunUses(statuses) is { } uses)
        {
            writer.WriteString("runUses", uses.Backend.Name);
        }
        else
        {
            writer.WriteNull("runUses");
        }

        writer.WriteStartArray("backends");
        foreach (BackendStatus status in statuses)
        {
            writer.WriteStartObject();
            writer.WriteString("name", status.Backend.Name);
            writer.WriteBoolean("available", status.IsAvailable);
            writer.WriteString("shape", status.Backend.Traits.Shape == KeepShape.Process ? "process" : "virtual-machine");
            writer.WriteBoolean("confidential", status.Backend.Traits.IsConfidential);
            writer.WriteString("description", status.Backend.Traits.Description);
            writer.WritePropertyName("platform");
            ProbeRendering.WriteJson(writer, status.Platform);
            writer.WritePropertyName("configuration");
            ProbeRendering.WriteJson(writer, status.Configuration);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });
}
