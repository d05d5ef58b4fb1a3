using System.CommandLine;
using System.Globalization;
using System.Text;
using Donjon.Host.Elf;

namespace Donjon.Host.Cli;

/// <summary><c>donjon inspect [--json] &lt;elf&gt;</c>: what Donjon sees in a binary, and whether it can run it.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Option<string?> configOption, Option<string?> logLevelOption)
    {
        var json = new Option<bool>("--json") { Description = "Print a stable JSON document (see docs/cli-json.md)." };
        var elf = new Argument<string>("elf") { Description = "The binary (an ELF program or a WebAssembly module) to inspect." };
        var command = new Command("inspect", "Show the ELF headers, program headers, SHA-256 and verdict of a binary. Exits 0 when it is runnable, 126 when not, 127 when it does not exist.") { json, elf };
        command.SetAction((parse, _) => DonjonCli.Guard(stderr, parse.GetValue(logLevelOption), null, async environment =>
        {
            string path = parse.GetValue(elf)!;
            (WorkloadFile? workload, int status) = await WorkloadLocator.LoadAsync(path, stderr).ConfigureAwait(false);
            if (workload is null)
            {
                return status;
            }

            if (Wasm.WasmModuleInspector.HasMagic(workload.Contents.Span))
            {
                Wasm.WasmModuleReport module = Wasm.WasmModuleInspector.Inspect(workload.Contents.Span);
                await stdout.WriteAsync(parse.GetValue(json) ? RenderModuleJson(path, module) : RenderModuleText(path, module)).ConfigureAwait(false);
                return module.IsRunnable ? ExitCodes.Success : ExitCodes.CannotRun;
            }

            ElfReport report = workload.Report;
            LibraryPolicyView? libraries = report.IsDynamic && report.IsRunnable ? LibraryPolicyView.Of(report, path, parse.GetValue(configOption)) : null;

            await stdout.WriteAsync(parse.GetValue(json) ? RenderJson(report, libraries) : RenderText(report, libraries)).ConfigureAwait(false);
            return report.IsRunnable ? ExitCodes.Success : ExitCodes.CannotRun;
        }));
        return command;
    }

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    internal static string RenderText(ElfReport report, LibraryPolicyView? libraries = null)
    {
        var output = new StringBuilder();
        void Line(string name, string value) => output.Append(CultureInfo.InvariantCulture, $"{name + ":",-16}{value}\n");
        Line("file", report.DisplayName);
        Line("size", $"{report.FileSize} bytes");
        Line("sha256", report.Sha256);
        if (report.Header is { } header)
        {
            Line("class", header.Class);
            Line("data", header.DataEncoding);
            Line("machine", $"{header.Machine} ({header.MachineValue})");
            Line("type", $"{header.Type} ({header.TypeValue})");
            Line("entry", Hex(header.Entry));
            Line("phdrs", $"{header.ProgramHeaderCount} at offset {header.ProgramHeaderOffset}, {header.ProgramHeaderEntrySize} bytes each");
        }

        if (report.InterpreterPath is not null)
        {
            Line("interpreter", libraries is { } view ? $"{report.InterpreterPath} ({view.InterpreterStatus})" : report.InterpreterPath);
        }

        if (report.NeededLibraries.Count > 0)
        {
            Line("needed", string.Join(", ", report.NeededLibraries));
        }

        if (libraries is not null)
        {
            Line("policy", libraries.PolicySource);
            foreach ((string name, string? keepPath, string? problem) in libraries.Libraries)
            {
                Line("library", keepPath is not null ? $"{name} => {keepPath}" : $"{name}: {problem}");
            }
        }

        if (report.ProgramHeaders.Count > 0)
        {
            output.Append(CultureInfo.InvariantCulture, $"  {"type",-16} {"offset",-12} {"vaddr",-12} {"filesz",-12} {"memsz",-12} {"flags",-6} align\n");
            foreach (ElfProgramHeader ph in report.ProgramHeaders)
            {
                output.Append(CultureInfo.InvariantCulture,
                    $"  {ph.Type,-16} {Hex(ph.Offset),-12} {Hex(ph.VirtualAddress),-12} {Hex(ph.FileSize),-12} {Hex(ph.MemorySize),-12} {ph.Flags,-6} {Hex(ph.Alignment)}\n");
            }
        }

        Line("static PIE", report.IsStaticPie ? "yes" : "no");
        Line("verdict", report.IsRunnable ? "runnable" : "not runnable: " + report.Verdict.RejectionReason);
        return output.ToString();
    }

    internal static string RenderJson(ElfReport report, LibraryPolicyView? libraries = null) => JsonOutput.Write(writer =>
    {
        writer.WriteString("file", report.DisplayName);
        writer.WriteNumber("size", report.FileSize);
        writer.WriteString("sha256", report.Sha256);
        if (report.Header is { } header)
        {
            writer.WriteString("class", header.Class);
            writer.WriteString("data", header.DataEncoding);
            writer.WriteString("machine", header.Machine);
            writer.WriteString("type", header.Type);
            writer.WriteString("entry", Hex(header.Entry));
        }
        else
        {
            writer.WriteNull("class");
            writer.WriteNull("data");
            writer.WriteNull("machine");
            writer.WriteNull("type");
            writer.WriteNull("entry");
        }

        if (report.InterpreterPath is null)
        {
            writer.WriteNull("interpreter");
        }
        else
        {
            writer.WriteString("interpreter", report.InterpreterPath);
        }

        writer.WriteStartArray("needed");
        foreach (string name in report.NeededLibraries)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        if (libraries is null)
        {
            writer.WriteNull("libraries");
        }
        else
        {
            writer.WriteStartObject("libraries");
            writer.WriteString("policy", libraries.PolicySource);
            writer.WriteString("interpreter", libraries.InterpreterStatus);
            writer.WriteStartArray("resolved");
            foreach ((string name, string? keepPath, string? problem) in libraries.Libraries)
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteString("keepPath", keepPath);
                writer.WriteString("problem", problem);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteStartArray("programHeaders");
        foreach (ElfProgramHeader ph in report.ProgramHeaders)
        {
            writer.WriteStartObject();
            writer.WriteString("type", ph.Type);
            writer.WriteString("offset", Hex(ph.Offset));
            writer.WriteString("vaddr", Hex(ph.VirtualAddress));
            writer.WriteString("filesz", Hex(ph.FileSize));
            writer.WriteString("memsz", Hex(ph.MemorySize));
            writer.WriteString("flags", ph.Flags);
            writer.WriteString("align", Hex(ph.Alignment));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteBoolean("staticPie", report.IsStaticPie);
        writer.WriteBoolean("runnable", report.IsRunnable);
        if (report.Verdict.RejectionReason is null)
        {
            writer.WriteNull("reason");
        }
        else
        {
            writer.WriteString("reason", report.Verdict.RejectionReason);
        }
    });

    internal static string RenderModuleText(string path, Wasm.WasmModuleReport module)
    {
        var output = new StringBuilder();
        void Line(string name, string value) => output.Append(CultureInfo.InvariantCulture, $"{name + ":",-16}{value}\n");
        Line("file", path);
        Line("size", $"{module.Size} bytes");
        Line("sha256", module.Sha256);
        Line("format", module.Kind == "module" ? $"WebAssembly module (binary version {module.Version})" : $"WebAssembly {module.Kind} (version {module.Version})");
        if (module.Kind == "module")
        {
            int wasi = module.Imports.Count(i => i.Module == Wasm.WasmModuleInspector.WasiPreview1);
            Line("imports", $"{module.Imports.Count} ({wasi} from {Wasm.WasmModuleInspector.WasiPreview1})");
            foreach (Wasm.WasmImport import in module.Imports.Where(i => i.Module != Wasm.WasmModuleInspector.WasiPreview1))
            {
                output.Append(CultureInfo.InvariantCulture, $"  {import.Kind} {import.Module}::{import.Name}\n");
            }

            Line("exports", module.FunctionExports.Count == 0 ? "no functions" : string.Join(", ", module.FunctionExports));
        }

        Line("verdict", module.IsRunnable ? "runnable (a WASI preview-1 command, run by the exec layer: docs/wasm.md)" : "not runnable: " + module.RejectionReason);
        return output.ToString();
    }

    internal static string RenderModuleJson(string path, Wasm.WasmModuleReport module) => JsonOutput.Write(writer =>
    {
        writer.WriteString("file", path);
        writer.WriteNumber("size", module.Size);
        writer.WriteString("sha256", module.Sha256);
        writer.WriteString("format", "wasm");
        writer.WriteString("kind", module.Kind);
        writer.WriteNumber("version", module.Version);
        writer.WriteStartArray("imports");
        foreach (Wasm.WasmImport import in module.Imports)
        {
            writer.WriteStartObject();
            writer.WriteString("module", import.Module);
            writer.WriteString("name", import.Name);
            writer.WriteString("kind", import.Kind);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("exports");
        foreach (string name in module.FunctionExports)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteBoolean("runnable", module.IsRunnable);
        if (module.RejectionReason is null)
        {
            writer.WriteNull("reason");
        }
        else
        {
            writer.WriteString("reason", module.RejectionReason);
        }
    });
}

/// <summary>For <c>inspect</c>: whether a dynamic program's interpreter and libraries resolve under the policy in force.</summary>
/// <param name="PolicySource">Which configuration file's policy was used, or why none could be.</param>
/// <param name="InterpreterStatus">"granted", or why the keep would not find it.</param>
/// <param name="Libraries">Each library of the closure: its keep path, or the problem.</param>
internal sealed record LibraryPolicyView(string PolicySource, string InterpreterStatus, IReadOnlyList<(string Name, string? KeepPath, string? Problem)> Libraries)
{
    /// <summary>Resolves <paramref name="report"/>'s closure under the policy of the configuration <c>run</c> would use.</summary>
    public static LibraryPolicyView Of(ElfReport report, string path, string? configPath)
    {
        Configuration.DonjonConfiguration configuration;
        try
        {
            Configuration.ConfigurationLocation location = Configuration.ConfigurationLocator.Locate(configPath);
            configuration = Configuration.ConfigurationLoader.Load(location.Path);
        }
        catch (Exception e) when (e is Configuration.ConfigurationException or IOException or UnauthorizedAccessException)
        {
            return new LibraryPolicyView($"none: the configuration cannot be read ({e.Message})", "unknown", []);
        }

        var view = new Images.KeepFileView(configuration.Policy.Files);
        Images.KeepFileRead interpreter = view.Read(report.InterpreterPath!);
        string status = interpreter.Contents is not null ? $"granted: host file {interpreter.HostPath}" : $"not available in the keep: {interpreter.Problem}";
        Images.LibraryClosure closure = Images.LibraryResolver.Resolve(report, Path.GetFullPath(path), view, []);
        var libraries = closure.Libraries.Select(l => (l.Name, (string?)l.KeepPath, (string?)null))
            .Concat(closure.Problems.Select(p => (p.Name, (string?)null, (string?)p.Describe())))
            .ToList();
        return new LibraryPolicyView(configuration.FilePath, status, libraries);
    }
}
