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
            string text = parse.GetValue(json) ? RenderJson(statuses, location) : RenderText(statuses, location);
            await stdout.WriteAsync(text).ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    internal static string RenderText(IReadOnlyList<BackendStatus> statuses, ConfigurationLocation location)
    {
        var output = new StringBuilder();
        output.Append("configuration: ").Append(location.Path).Append(" (from ").Append(location.SourceText).Append(")\n\n");
        if (statuses.Count == 0)
        {
            output.Append("No backend is loaded. Add backend plugins to plugins.json.\n");
        }

        foreach (BackendStatus status in statuses)
        {
            BackendTraits traits = status.Backend.Traits;
            output.Append(status.Backend.Name).Append(": ").Append(status.IsAvailable ? "available" : "unavailable")
                .Append(" (").Append(traits.Shape == KeepShape.Process ? "process" : "virtual machine").Append(", ")
                .Append(traits.IsConfidential ? "confidential" : "not confidential").Append(") ").Append(traits.Description).Append('\n');
            ProbeRendering.WriteTree(output, status.Platform with { Name = "platform" }, "  ", isLast: false, isRoot: true);
            ProbeRendering.WriteTree(output, status.Configuration with { Name = "configuration" }, "  ", isLast: true, isRoot: true);
            output.Append('\n');
        }

        return output.ToString();
    }

    internal static string RenderJson(IReadOnlyList<BackendStatus> statuses, ConfigurationLocation location) => JsonOutput.Write(writer =>
    {
        writer.WriteString("configuration", location.Path);
        writer.WriteString("configurationSource", location.SourceToken);
        writer.WriteString("contractVersion", PluginCatalog.HostContractVersion.ToString(2));
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
