using Donjon.Abstractions.Sessions;
using Donjon.Host.Cli;
using Donjon.Host.Configuration;
using Donjon.Host.Elf;

namespace Donjon.Host.Wasm;

/// <summary>A module ready to run: the exec layer that runs it, the grants it needs and its arguments.</summary>
/// <param name="Module">The module's report.</param>
/// <param name="Launcher">The exec layer, inspected: the workload the keep really runs.</param>
internal sealed record WasmLaunch(WasmModuleReport Module, WorkloadFile Launcher)
{
    /// <summary>The module's SHA-256 as bytes, for the configuration page.</summary>
    public ReadOnlyMemory<byte> ModuleDigest => Convert.FromHexString(Module.Sha256);
}

/// <summary>
/// How <c>donjon run</c>, <c>inspect</c> and <c>measure</c> treat a WebAssembly module (docs/wasm.md): recognised by
/// its magic and version, it is run by the exec layer (<c>exec.wasm</c>, the launcher <c>donjon-wasm</c>) as the
/// keep's workload, with the module granted read-only, pinned to its SHA-256, at a keep path the host chooses.
/// </summary>
internal static class WasmExecLayer
{
    /// <summary>Where the keep sees the module: chosen by the host, never a path the workload names.</summary>
    public const string ModuleKeepPath = "/.donjon-exec/module.wasm";

    /// <summary>The exec layer's <c>argv[0]</c> in the keep.</summary>
    public const string LauncherName = "donjon-wasm";

    /// <summary>
    /// Checks the module and finds the exec layer. On failure writes why to <paramref name="stderr"/> ("cannot be run"
    /// or "cannot be measured", as <paramref name="verb"/> says) and returns the exit status with no launch.
    /// </summary>
    public static async Task<(WasmLaunch? Launch, int Status)> PrepareAsync(WorkloadFile file, DonjonConfiguration configuration, string verb, TextWriter stderr)
    {
        WasmModuleReport module = WasmModuleInspector.Inspect(file.Contents.Span);
        if (!module.IsRunnable)
        {
            await stderr.WriteLineAsync($"donjon: {file.Path}: cannot be {verb}: {module.RejectionReason}").ConfigureAwait(false);
            return (null, ExitCodes.CannotRun);
        }

        if (configuration.WasmLauncher is not { } launcherPath)
        {
            await stderr.WriteLineAsync($"donjon: {file.Path}: cannot be {verb}: it is a WebAssembly module and {configuration.FilePath} names no exec layer for it; add \"exec\": {{ \"wasm\": \"plugins/exec/wasm/bin/donjon-wasm\" }} (the launcher dotnet build makes).").ConfigureAwait(false);
            return (null, ExitCodes.CannotRun);
        }

        if (!File.Exists(launcherPath))
        {
            await stderr.WriteLineAsync($"donjon: {file.Path}: cannot be {verb}: the WebAssembly exec layer {launcherPath} (exec.wasm of {configuration.FilePath}) does not exist; build it with 'dotnet build' at the repository root.").ConfigureAwait(false);
            return (null, ExitCodes.CannotRun);
        }

        (WorkloadFile? launcher, int status) = await WorkloadLocator.LoadAsync(launcherPath, stderr).ConfigureAwait(false);
        if (launcher is null)
        {
            return (null, status);
        }

        if (!launcher.Report.IsRunnable)
        {
            await stderr.WriteLineAsync($"donjon: {file.Path}: cannot be {verb}: its exec layer {launcherPath} cannot run in a keep: {launcher.Report.Verdict.RejectionReason}").ConfigureAwait(false);
            return (null, ExitCodes.CannotRun);
        }

        return (new WasmLaunch(module, launcher), ExitCodes.Success);
    }

    /// <summary>
    /// The policy of a module's keep: the admin's, plus the module (read-only, pinned to its SHA-256, at
    /// <see cref="ModuleKeepPath"/>) and the exec layer's own folder (read-only, at its host path, so that it finds
    /// the libwasmtime.so beside it).
    /// </summary>
    public static KeepPolicy GrantModule(KeepPolicy policy, string modulePath, WasmLaunch launch)
    {
        string launcherFolder = Path.GetDirectoryName(Path.GetFullPath(launch.Launcher.Path))!;
        FileGrant module = new(Path.GetFullPath(modulePath), FileGrantAccess.Read) { KeepPath = ModuleKeepPath, Sha256 = launch.Module.Sha256 };
        FileGrant folder = new(launcherFolder, FileGrantAccess.Read);
        List<FileGrant> files = [.. policy.Files, module, folder];

        // The exec layer is a dynamic program: its interpreter and the system libraries it links (libc, libgcc_s,
        // libm) are granted read-only as "libraries": "system" does, for the launcher; they are not preopened.
        if (launch.Launcher.Report.IsDynamic)
        {
            files.AddRange(SystemLibraries.Grants(files.Select(f => f.EffectiveKeepPath)));
        }

        return policy with { Files = files };
    }

    /// <summary>
    /// The exec layer's arguments: the module's <c>argv[0]</c> as the user typed it, one preopen per directory mount
    /// of <paramref name="policy"/> (at its keep path, read-only unless the grant writes) and the scratch <c>/tmp</c>,
    /// then the module and its arguments. The preopens are exactly the policy's directory mounts, so Wasmtime's
    /// capability sandbox and Donjon's file policy agree.
    /// </summary>
    public static List<string> LauncherArguments(string moduleName, KeepPolicy policy, IReadOnlyList<string> moduleArguments)
    {
        var arguments = new List<string> { "--argv0", moduleName };
        foreach ((string keepPath, bool writable) in Preopens(policy))
        {
            arguments.AddRange(["--dir", writable ? "rw" : "ro", keepPath, keepPath]);
        }

        arguments.Add("--");
        arguments.Add(ModuleKeepPath);
        arguments.AddRange(moduleArguments);
        return arguments;
    }

    /// <summary>The directories a module's WASI context preopens: each directory mount and the scratch <c>/tmp</c>.</summary>
    public static IEnumerable<(string KeepPath, bool Writable)> Preopens(KeepPolicy policy)
    {
        foreach (FileGrant grant in policy.Files)
        {
            // A one-file mount cannot be a WASI preopen (those are directories); nor can a grant missing on the host.
            // The system libraries ("libraries": "system") are the exec layer's, not the module's.
            if (Directory.Exists(grant.Path) && !IsSystemLibraryGrant(grant))
            {
                yield return (grant.EffectiveKeepPath, grant.Access.HasFlag(FileGrantAccess.Write));
            }
        }

        if (policy.ScratchTmp)
        {
            yield return ("/tmp", true);
        }
    }

    private static bool IsSystemLibraryGrant(FileGrant grant) =>
        grant.KeepPath is null && !grant.Access.HasFlag(FileGrantAccess.Write) && SystemLibraries.LibraryFolders.Contains(grant.Path, StringComparer.Ordinal);
}
