using System.CommandLine;
using System.Globalization;
using System.Text;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Measurement;
using Donjon.Host.Elf;
using Donjon.Host.Images;
using Donjon.Host.Measurement;
using Donjon.Host.Plugins;

namespace Donjon.Host.Cli;

/// <summary>
/// <c>donjon measure [--backend NAME] [--json] &lt;elf&gt;</c>: the launch measurement a backend's keep would have for a
/// workload (docs/measurement.md), and the workload's SHA-256. Needs no hardware.
/// </summary>
internal static class MeasureCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, Option<string?> configOption, Option<string?> logLevelOption)
    {
        var backendOption = new Option<string?>("--backend")
        {
            Description = "The backend whose measurement to compute (default: the first in plugins.json's backendOrder that computes launch measurements).",
        };
        var json = new Option<bool>("--json") { Description = "Print a stable JSON document (see docs/measurement.md)." };
        var librariesOption = new Option<string?>("--libraries")
        {
            Description = "'system': measure with the system libraries granted, as 'donjon run --libraries system' runs (a dynamic program's interpreter is read through the policy's mounts and measured with it).",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (text == Configuration.SystemLibraries.SystemValue)
                {
                    return text;
                }

                result.AddError($"--libraries expects 'system' (--libraries system), got '{text}'");
                return null;
            },
        };
        var manifestOption = new Option<string?>("--manifest")
        {
            Description = "For a dynamic program: write its trusted-library manifest to FILE (the interpreter and every library of its DT_NEEDED closure, resolved as in the keep, each a read-only grant pinning its SHA-256), and measure the keep that 'donjon run --manifest FILE' launches, whose configuration carries the manifest's digest.",
        };
        var elf = new Argument<string>("elf") { Description = "The x86-64 program to measure (static, or dynamically linked with its interpreter granted)." };
        var command = new Command(
            "measure",
            "Print the launch measurement a keep of this program would have (SGX MRENCLAVE, SEV-SNP launch digest, or the keep-image digest) and its SHA-256. Needs no hardware; nothing here is attested.")
        {
            backendOption, librariesOption, manifestOption, json, elf,
        };
        command.SetAction((parse, _) => DonjonCli.Guard(stderr, parse.GetValue(logLevelOption), parse.GetValue(configOption), environment =>
            ExecuteAsync(parse.GetValue(elf)!, parse.GetValue(backendOption), parse.GetValue(json), parse.GetValue(librariesOption) is not null, parse.GetValue(manifestOption), environment, stdout, stderr)));
        return command;
    }

    private static async Task<int> ExecuteAsync(string path, string? backendName, bool json, bool systemLibraries, string? manifestPath, CliEnvironment environment, TextWriter stdout, TextWriter stderr)
    {
        PluginCatalog catalog = environment.LoadPlugins();
        if (systemLibraries)
        {
            Configuration.DonjonConfiguration? granted = Configuration.ConfigurationLoader.WithCommandLineGrants(environment.Configuration!, [], false, out List<string> problems, systemLibraries: true);
            if (granted is null)
            {
                throw new UsageException(string.Join(Environment.NewLine + "donjon: ", problems));
            }

            environment.UseConfiguration(granted);
        }

        (WorkloadFile? workload, int status) = await WorkloadLocator.LoadAsync(path, stderr).ConfigureAwait(false);
        if (workload is null)
        {
            return status;
        }

        Wasm.WasmLaunch? launch = null;
        if (Wasm.WasmModuleInspector.HasMagic(workload.Contents.Span))
        {
            // A module's keep runs the exec layer: its image is measured, with the module's SHA-256 in the configuration page.
            (launch, status) = await Wasm.WasmExecLayer.PrepareAsync(workload, environment.Configuration!, "measured", stderr).ConfigureAwait(false);
            if (launch is null)
            {
                return status;
            }
        }
        else if (!workload.Report.IsRunnable)
        {
            await stderr.WriteLineAsync($"donjon: {path}: cannot be measured: {workload.Report.Verdict.RejectionReason}").ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }

        IBackend backend = SelectBackend(catalog, backendName);
        WorkloadFile measured = launch?.Launcher ?? workload;
        if (launch is not null)
        {
            environment.UseConfiguration(environment.Configuration! with { Policy = Wasm.WasmExecLayer.GrantModule(environment.Configuration.Policy, path, launch) });
        }

        InterpreterFile? interpreter = null;
        byte[]? manifestSha256 = null;
        if (manifestPath is not null && !measured.Report.IsDynamic)
        {
            await stderr.WriteLineAsync($"donjon: {path}: --manifest is for a dynamically linked program, and this one is static: it loads no library, and its measurement alone covers its code").ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }

        if (measured.Report.IsDynamic)
        {
            interpreter = DynamicProgramLoader.Prepare(measured.Report, measured.Path, environment.Configuration!.Policy.Files, [], out string? problem, out IReadOnlyList<ResolvedLibrary> libraries);
            if (interpreter is null)
            {
                await stderr.WriteLineAsync($"donjon: {path}: cannot be measured: {problem}").ConfigureAwait(false);
                return ExitCodes.CannotRun;
            }

            if (manifestPath is not null)
            {
                byte[] manifest = LibraryManifest.Write(Path.GetFullPath(measured.Path), measured.Report.Sha256, interpreter, libraries);
                try
                {
                    await File.WriteAllBytesAsync(manifestPath, manifest).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    await stderr.WriteLineAsync($"donjon: --manifest {manifestPath}: cannot be written ({e.Message}); give a path in a folder you may write").ConfigureAwait(false);
                    return ExitCodes.DonjonError;
                }

                manifestSha256 = LibraryManifest.Digest(manifest);
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"donjon: wrote {manifestPath}: {libraries.Count + 1} files (the interpreter and {libraries.Count} libraries), SHA-256 {Convert.ToHexStringLower(manifestSha256)}; run the program with --manifest {manifestPath} to be measured as below")).ConfigureAwait(false);
            }
        }

        KeepImage image;
        try
        {
            image = MeasurementImage.Build(measured, catalog.SyscallSets, environment.Configuration!.Policy.Limits, interpreter, manifestSha256, launch?.ModuleDigest);
        }
        catch (KeepImageException e)
        {
            await stderr.WriteLineAsync($"donjon: {path}: the keep image cannot be built: {e.Message}").ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"donjon: the loaded syscall sets cannot make a configuration page: {e.Message}").ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }

        HostLog.Workload(environment.Logger, image.Workload.Path, image.Workload.Sha256);
        LaunchMeasurement measurement;
        try
        {
            measurement = BackendMeasurement.Measure(backend, image);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await stderr.WriteLineAsync($"donjon: backend '{backend.Name}' could not measure {path}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }

        if (measurement?.Algorithm is null || measurement.Digest.IsEmpty || measurement.Regions is null || measurement.Notes is null)
        {
            await stderr.WriteLineAsync($"donjon: backend '{backend.Name}' returned an incomplete measurement (no algorithm, digest, regions or notes); report it to the plugin's authors").ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }

        IReadOnlyList<Abstractions.Sessions.FileGrant> pinned = [.. environment.Configuration!.Policy.Files.Where(f => f.Sha256 is not null)];
        MeasuredModule? module = launch is null ? null : new MeasuredModule(path, launch.Module.Sha256);
        await stdout.WriteAsync(json ? RenderJson(image, backend, measurement, pinned, module) : RenderText(image, backend, measurement, module)).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>The named backend, or the default one; throws <see cref="UsageException"/> (125) when there is none that measures.</summary>
    private static IBackend SelectBackend(PluginCatalog catalog, string? name)
    {
        if (name is null)
        {
            return BackendMeasurement.SelectDefault(catalog.OrderedBackends)
                ?? throw new UsageException(catalog.OrderedBackends.Count == 0
                    ? "no backend is loaded. Add a backend plugin to plugins.json ('donjon plugins' lists what is loaded)."
                    : $"none of the loaded backends ({string.Join(", ", catalog.OrderedBackends.Select(b => b.Name))}) computes launch measurements. Add a plugin that does, such as sgx or sev.");
        }

        IBackend? backend = catalog.OrderedBackends.FirstOrDefault(b => b.Name == name);
        if (backend is null)
        {
            string known = string.Join(", ", catalog.OrderedBackends.Select(b => b.Name));
            throw new UsageException($"--backend '{name}': no such backend (loaded: {(known.Length == 0 ? "none" : known)}). Run 'donjon plugins' to see them.");
        }

        if (!BackendMeasurement.HasMeasurement(backend))
        {
            string others = string.Join(", ", catalog.OrderedBackends.Where(BackendMeasurement.HasMeasurement).Select(b => b.Name));
            throw new UsageException($"backend '{name}' does not compute launch measurements{(others.Length == 0 ? "" : $"; these do: {others}")}.");
        }

        return backend;
    }

    internal static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    internal static string Describe(MemoryPermissions permissions) => string.Create(3, permissions, (span, p) =>
    {
        span[0] = p.HasFlag(MemoryPermissions.Read) ? 'r' : '-';
        span[1] = p.HasFlag(MemoryPermissions.Write) ? 'w' : '-';
        span[2] = p.HasFlag(MemoryPermissions.Execute) ? 'x' : '-';
    });

    internal static string Describe(KeepPageKind kind) => kind switch
    {
        KeepPageKind.Measured => "measured",
        KeepPageKind.Zero => "zero",
        KeepPageKind.Unmeasured => "unmeasured",
        KeepPageKind.ThreadControl => "tcs",
        KeepPageKind.VcpuState => "vmsa",
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };

    internal static string RenderText(KeepImage image, IBackend backend, LaunchMeasurement measurement, MeasuredModule? module = null)
    {
        var output = new StringBuilder();
        void Line(string name, string value) => output.Append(CultureInfo.InvariantCulture, $"{name + ":",-13}{value}\n");
        if (module is not null)
        {
            Line("module", module.Path);
            output.Append("module sha256: ").Append(module.Sha256).Append(" (in the measured configuration page)\n");
        }

        Line("workload", image.Workload.Path);
        Line("sha256", image.Workload.Sha256);
        Line("backend", backend.Name);
        Line("algorithm", measurement.Algorithm);
        Line("measurement", Convert.ToHexStringLower(measurement.Digest.Span));
        Line("layout seed", image.Layout.Seed.ToString(CultureInfo.InvariantCulture));
        output.Append("regions:\n");
        foreach (MeasuredRegion region in measurement.Regions)
        {
            output.Append(CultureInfo.InvariantCulture,
                $"  {Hex(region.Address),-18} {Hex(region.Size),-12} {Describe(region.Permissions)} {Describe(region.Kind),-10} {region.Name}\n");
        }

        foreach (string note in measurement.Notes)
        {
            output.Append("note: ").Append(note).Append('\n');
        }

        return output.ToString();
    }

    /// <summary>
    /// The <c>--json</c> document; <paramref name="pinned"/> are the policy's grants with a SHA-256, listed as
    /// <c>pinnedFiles</c> so that a verifier sees which host files the keep may read and what they must contain. The
    /// policy is not part of the measurement.
    /// </summary>
    internal static string RenderJson(KeepImage image, IBackend backend, LaunchMeasurement measurement, IReadOnlyList<Abstractions.Sessions.FileGrant>? pinned = null, MeasuredModule? module = null) => JsonOutput.Write(writer =>
    {
        writer.WriteString("file", image.Workload.Path);
        writer.WriteString("sha256", image.Workload.Sha256);
        if (module is null)
        {
            writer.WriteNull("module");
        }
        else
        {
            writer.WriteStartObject("module");
            writer.WriteString("file", module.Path);
            writer.WriteString("sha256", module.Sha256);
            writer.WriteString("boundAt", string.Create(CultureInfo.InvariantCulture, $"configuration page offset 0x{Donjon.Backends.Sdk.Protocol.ProtocolLayout.ConfigModuleDigestOffset:x}"));
            writer.WriteEndObject();
        }

        writer.WriteString("backend", backend.Name);
        writer.WriteString("algorithm", measurement.Algorithm);
        writer.WriteString("measurement", Convert.ToHexStringLower(measurement.Digest.Span));
        writer.WriteNumber("layoutSeed", image.Layout.Seed);
        writer.WriteStartArray("regions");
        foreach (MeasuredRegion region in measurement.Regions)
        {
            writer.WriteStartObject();
            writer.WriteString("name", region.Name);
            writer.WriteString("address", Hex(region.Address));
            writer.WriteString("size", Hex(region.Size));
            writer.WriteString("permissions", Describe(region.Permissions));
            writer.WriteString("kind", Describe(region.Kind));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("pinnedFiles");
        foreach (Abstractions.Sessions.FileGrant grant in pinned ?? [])
        {
            writer.WriteStartObject();
            writer.WriteString("host", grant.Path);
            writer.WriteString("keep", grant.EffectiveKeepPath);
            writer.WriteString("sha256", grant.Sha256);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("notes");
        foreach (string note in measurement.Notes)
        {
            writer.WriteStringValue(note);
        }

        writer.WriteEndArray();
    });
}

/// <summary>The WebAssembly module a measured exec layer runs: its path as given and its SHA-256.</summary>
/// <param name="Path">The module's path, as the user gave it.</param>
/// <param name="Sha256">Its SHA-256, lower-case hex: the configuration page's module digest.</param>
internal sealed record MeasuredModule(string Path, string Sha256);
