using System.CommandLine;
using System.Text;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Plugins;

namespace Donjon.Host.Cli;

/// <summary><c>donjon plugins [--json] [--check]</c>: each loaded plugin and what it provides, or a check of them all.</summary>
internal static class PluginsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Option<string?> configOption, Option<string?> logLevelOption)
    {
        var json = new Option<bool>("--json") { Description = "Print a stable JSON document (see docs/cli-json.md)." };
        var check = new Option<bool>("--check") { Description = "Validate every plugin's signatures and probes; exit 1 on a problem." };
        var command = new Command("plugins", "List the loaded plugins: path, versions, and the backends and syscall sets each provides.") { json, check };
        command.SetAction((parse, _) => DonjonCli.Guard(stderr, parse.GetValue(logLevelOption), parse.GetValue(configOption), async environment =>
        {
            PluginCatalog catalog = environment.LoadPlugins();
            if (parse.GetValue(check))
            {
                (string report, int problems) = PluginCheck.Run(catalog);
                await stdout.WriteAsync(report).ConfigureAwait(false);
                return problems == 0 ? ExitCodes.Success : ExitCodes.CheckFailed;
            }

            string text = parse.GetValue(json) ? RenderJson(catalog, environment.Configuration!.FilePath) : RenderText(catalog, environment.Configuration!.FilePath);
            await stdout.WriteAsync(text).ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static string RenderText(PluginCatalog catalog, string configPath)
    {
        var output = new StringBuilder();
        output.Append("configuration: ").Append(configPath).Append('\n');
        output.Append("host contract version: ").Append(PluginCatalog.HostContractVersion.ToString(2)).Append("\n\n");
        foreach (LoadedPlugin plugin in catalog.Plugins)
        {
            output.Append(plugin.AssemblyName).Append(' ').Append(plugin.AssemblyVersion).Append('\n');
            output.Append("  path: ").Append(plugin.AssemblyPath).Append('\n');
            output.Append("  built against contract: ").Append(plugin.ContractVersion.ToString(2)).Append('\n');
            foreach (var backend in plugin.Backends)
            {
                output.Append("  backend: ").Append(backend.Name).Append(" - ").Append(backend.Traits.Description).Append('\n');
            }

            foreach (ISyscallHandlerSet set in plugin.SyscallSets)
            {
                output.Append("  syscall set: ").Append(set.Name).Append(" (").Append(set.Syscalls.Count).Append(" syscalls)\n");
                foreach (SyscallSignature signature in set.Syscalls.OrderBy(s => s.Number))
                {
                    output.Append("    ").Append(signature.Number.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(3))
                        .Append(' ').Append(signature.Name).Append('(')
                        .Append(string.Join(", ", signature.Arguments.Select(Describe))).Append(")\n");
                }
            }

            output.Append('\n');
        }

        return output.ToString();
    }

    internal static string Describe(SyscallArgument argument)
    {
        string kind = argument.Kind switch
        {
            ArgumentKind.Value => "value",
            ArgumentKind.InputBuffer => "in",
            ArgumentKind.OutputBuffer => "out",
            ArgumentKind.InOutBuffer => "inout",
            ArgumentKind.CString => "cstring",
            ArgumentKind.InputIovec => "iovec-in",
            ArgumentKind.OutputIovec => "iovec-out",
            ArgumentKind.InputArray => "array-in",
            ArgumentKind.OutputArray => "array-out",
            ArgumentKind.InOutArray => "array-inout",
            _ => argument.Kind.ToString(),
        };
        return argument.Kind is ArgumentKind.InputArray or ArgumentKind.OutputArray or ArgumentKind.InOutArray
            ? $"{kind}[arg{argument.LengthArgument}x{argument.FixedSize}]"
            : argument.FixedSize > 0 ? $"{kind}[{argument.FixedSize}]"
            : argument.LengthArgument >= 0 ? $"{kind}[arg{argument.LengthArgument}]"
            : kind;
    }

    private static string RenderJson(PluginCatalog catalog, string configPath) => JsonOutput.Write(writer =>
    {
        writer.WriteString("configuration", configPath);
        writer.WriteString("contractVersion", PluginCatalog.HostContractVersion.ToString(2));
        writer.WriteStartArray("plugins");
        foreach (LoadedPlugin plugin in catalog.Plugins)
        {
            writer.WriteStartObject();
            writer.WriteString("path", plugin.AssemblyPath);
            writer.WriteString("assembly", plugin.AssemblyName);
            writer.WriteString("version", plugin.AssemblyVersion.ToString());
            writer.WriteString("contractVersion", plugin.ContractVersion.ToString(2));
            writer.WriteStartArray("backends");
            foreach (var backend in plugin.Backends)
            {
                writer.WriteStringValue(backend.Name);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("syscallSets");
            foreach (ISyscallHandlerSet set in plugin.SyscallSets)
            {
                writer.WriteStartObject();
                writer.WriteString("name", set.Name);
                writer.WriteStartArray("syscalls");
                foreach (SyscallSignature signature in set.Syscalls.OrderBy(s => s.Number))
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("number", signature.Number);
                    writer.WriteString("name", signature.Name);
                    writer.WriteStartArray("arguments");
                    foreach (SyscallArgument argument in signature.Arguments)
                    {
                        writer.WriteStringValue(Describe(argument));
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });
}
