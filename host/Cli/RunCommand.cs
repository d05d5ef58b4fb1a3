using System.CommandLine;
using System.Runtime.CompilerServices;
using Donjon.Abstractions.Backends;
using Donjon.Host.Elf;
using Donjon.Host.Plugins;

namespace Donjon.Host.Cli;

/// <summary>
/// <c>donjon run [--backend NAME] [--config FILE] [--env NAME=VALUE]... [--mount HOST:KEEP[:ro|:rw]]... [--libraries system] [--manifest FILE] [--tmp] [--publish [ADDR:]PORT[/udp]]... [--allow-connect HOST:PORT[/udp]]... [--seed N] [--strace[=summary]] &lt;elf&gt; [args...]</c>.
/// Options before the path belong to Donjon; everything after it belongs to the workload.
/// </summary>
internal static class RunCommand
{
    public const string StraceOptionName = "--strace";

    /// <summary>The value a bare <c>--strace</c> stands for.</summary>
    public const string StraceLines = "lines";

    public static Command Create(StrongBox<string[]> workloadArgs, TextWriter stdout, TextWriter stderr, Option<string?> configOption, Option<string?> logLevelOption)
    {
        var backendOption = new Option<string?>("--backend") { Description = "The backend to use (default: the first available one in plugins.json's backendOrder)." };
        var envOption = new Option<string[]>("--env")
        {
            Description = "Set an environment variable of the workload (repeatable). Only these and what the admin's policy grants reach it.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var mountOption = new Option<string[]>("--mount")
        {
            Description = "Mount a host path at a keep path for this run, read-only unless :rw (repeatable), as 'docker run -v' does. The admin may forbid it (policy.commandLineMounts).",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var librariesOption = new Option<string?>("--libraries")
        {
            Description = "'system': mount the interpreter and the system library folders (/lib, /usr/lib...) read-only for this run, so a dynamically linked program finds its libraries. Under the same rule as --mount (policy.commandLineMounts).",
            CustomParser = ParseLibraries,
        };
        var manifestOption = new Option<string?>("--manifest")
        {
            Description = "Run with the trusted-library manifest FILE that 'donjon measure --manifest FILE' wrote: its interpreter and libraries are granted read-only with their SHA-256 pinned (a changed one is refused), and the manifest's digest is measured with the keep. Under the same rule as --mount.",
        };
        var tmpOption = new Option<bool>("--tmp") { Description = "Give the keep a private, empty /tmp for this run, removed when it ends." };
        var publishOption = new Option<string[]>("--publish")
        {
            Description = "Let the keep listen on [ADDR:]PORT[/udp] for this run (repeatable; ADDR 0.0.0.0 by default), as 'docker run -p' publishes a port. The admin may forbid it (policy.commandLineNetwork).",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var allowConnectOption = new Option<string[]>("--allow-connect")
        {
            Description = "Let the keep connect to HOST:PORT[/udp] for this run (repeatable; HOST a name, an address or a CIDR block, PORT a port or FIRST-LAST). The admin may forbid it (policy.commandLineNetwork).",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var seedOption = new Option<ulong?>("--seed")
        {
            Description = "Seed the keep's address-space layout: a non-negative integer (default: random per launch).",
            CustomParser = ParseSeed,
        };
        var straceOption = new Option<Execution.StraceMode?>(StraceOptionName)
        {
            Description = "Print each syscall of the keep on stderr, strace-style, with where it was served: the handler set, or <shim> for the calls the shim serves itself (memory, futex, signals, arch_prctl, thread ids); --strace=summary prints a strace -c table at exit instead.",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = ParseStrace,
        };
        var elf = new Argument<string>("elf") { Description = "The x86-64 program to run (static, or dynamically linked with its interpreter and libraries granted), or a WebAssembly (WASI preview-1) module. Every argument after it is the program's." };
        var command = new Command("run", "Run a program inside a keep. Its stdout, stderr, stdin and exit status behave as if it ran directly.")
        {
            backendOption, envOption, mountOption, librariesOption, manifestOption, tmpOption, publishOption, allowConnectOption, seedOption, straceOption, elf,
        };
        command.SetAction((parse, cancellationToken) => DonjonCli.Guard(stderr, parse.GetValue(logLevelOption), parse.GetValue(configOption), async environment =>
        {
            var request = new RunRequest(
                parse.GetValue(elf)!,
                workloadArgs.Value!,
                parse.GetValue(envOption) ?? [],
                parse.GetValue(backendOption),
                parse.GetValue(seedOption))
            {
                Mounts = parse.GetValue(mountOption) ?? [],
                Tmp = parse.GetValue(tmpOption),
                SystemLibraries = parse.GetValue(librariesOption) is not null,
                Manifest = parse.GetValue(manifestOption),
                Publishes = parse.GetValue(publishOption) ?? [],
                AllowedConnects = parse.GetValue(allowConnectOption) ?? [],
                Strace = parse.GetValue(straceOption),
            };
            return await ExecuteAsync(request, environment, stderr, cancellationToken).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>The error for a value of <c>--strace</c> that is neither none nor <c>summary</c>.</summary>
    public static string StraceValueError(string text) => $"--strace takes no value, or '=summary' (--strace=summary), got '{text}'";

    /// <summary><c>--strace</c> (the lines) or <c>--strace=summary</c>; anything else names the option and its forms.</summary>
    private static Execution.StraceMode? ParseStrace(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : StraceLines;
        switch (text)
        {
            case StraceLines:
                return Execution.StraceMode.Lines;
            case "summary":
                return Execution.StraceMode.Summary;
            default:
                result.AddError(StraceValueError(text));
                return null;
        }
    }

    /// <summary><c>system</c>, the one value <c>--libraries</c> takes; anything else names the option and its form.</summary>
    private static string? ParseLibraries(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (text == Configuration.SystemLibraries.SystemValue)
        {
            return text;
        }

        result.AddError($"--libraries expects 'system' (--libraries system), got '{text}'");
        return null;
    }

    /// <summary>A decimal integer from 0 to 2^64 - 1; anything else names the option and the expected form.</summary>
    private static ulong? ParseSeed(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong seed))
        {
            return seed;
        }

        result.AddError($"--seed expects a non-negative integer (0 to {ulong.MaxValue}), got '{text}'");
        return null;
    }

    private static async Task<int> ExecuteAsync(RunRequest request, CliEnvironment environment, TextWriter stderr, CancellationToken cancellationToken)
    {
        foreach (string assignment in request.Environment)
        {
            int equals = assignment.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--env '{assignment}' is not NAME=VALUE");
            }
        }

        // Only the plugins the run needs: the handler sets now, a backend plugin when the run reaches it.
        PluginCatalog catalog = environment.LoadPlugins(deferBackends: true);
        List<Abstractions.Sessions.FileGrant>? pinned = null;
        if (request.Manifest is { } manifest)
        {
            pinned = Measurement.LibraryManifest.Read(manifest, out byte[] manifestBytes, out string? manifestProblem);
            if (pinned is null)
            {
                throw new UsageException(manifestProblem!);
            }

            request = request with { ManifestSha256 = Measurement.LibraryManifest.Digest(manifestBytes) };
        }

        if (request.Mounts.Count > 0 || request.Tmp || request.SystemLibraries || pinned is not null)
        {
            Configuration.DonjonConfiguration? granted = Configuration.ConfigurationLoader.WithCommandLineGrants(environment.Configuration!, request.Mounts, request.Tmp, out List<string> problems, request.SystemLibraries, pinned);
            if (granted is null)
            {
                throw new UsageException(string.Join(Environment.NewLine + "donjon: ", problems));
            }

            environment.UseConfiguration(granted);
        }

        if (request.Publishes.Count > 0 || request.AllowedConnects.Count > 0)
        {
            Configuration.DonjonConfiguration? granted = Configuration.ConfigurationLoader.WithCommandLineNetwork(environment.Configuration!, request.Publishes, request.AllowedConnects, out List<string> problems);
            if (granted is null)
            {
                throw new UsageException(string.Join(Environment.NewLine + "donjon: ", problems));
            }

            environment.UseConfiguration(granted);
        }

        if (request.Backend is not null && !catalog.TryLoadBackend(request.Backend))
        {
            catalog.LoadAll();
            string known = string.Join(", ", catalog.OrderedBackends.Select(b => b.Name));
            throw new UsageException($"--backend '{request.Backend}': no such backend (loaded: {(known.Length == 0 ? "none" : known)}). Run 'donjon platform info' to see them.");
        }

        StartupClock.Mark("backend plugin");

        if (ProgramSearch.IsBareName(request.ElfPath) && IsModuleInCurrentDirectory(request.ElfPath))
        {
            // A WebAssembly module is not a program on PATH: `donjon run hello.wasm` runs ./hello.wasm (docs/wasm.md).
        }
        else if (ProgramSearch.IsBareName(request.ElfPath))
        {
            IReadOnlyList<string> folders = ProgramSearch.Folders(System.Environment.GetEnvironmentVariable("PATH"));
            string? found = ProgramSearch.Find(request.ElfPath, folders);
            if (found is null)
            {
                await stderr.WriteLineAsync(
                    $"donjon: {request.ElfPath}: not found on PATH (looked in {string.Join(", ", folders)}). Give its path to run a file that is not on PATH, for example ./{request.ElfPath}.")
                    .ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            // As a shell does, the program sees the name as typed in argv[0].
            request = request with { ElfPath = found, Argv0 = request.ElfPath };
        }

        (WorkloadFile? workload, int status) = await WorkloadLocator.LoadAsync(request.ElfPath, stderr).ConfigureAwait(false);
        StartupClock.Mark("workload read");
        if (workload is null)
        {
            return status;
        }

        if (Wasm.WasmModuleInspector.HasMagic(workload.Contents.Span))
        {
            // The keep runs the exec layer, which runs the module (docs/wasm.md).
            (Wasm.WasmLaunch? launch, int wasmStatus) = await Wasm.WasmExecLayer.PrepareAsync(workload, environment.Configuration!, "run", stderr).ConfigureAwait(false);
            if (launch is null)
            {
                return wasmStatus;
            }

            Abstractions.Sessions.KeepPolicy admin = environment.Configuration!.Policy;
            List<string> launcherArguments = Wasm.WasmExecLayer.LauncherArguments(request.Argv0 ?? request.ElfPath, admin, request.Arguments);
            environment.UseConfiguration(environment.Configuration with { Policy = Wasm.WasmExecLayer.GrantModule(admin, workload.Path, launch) });
            request = request with
            {
                ElfPath = launch.Launcher.Path,
                Argv0 = Wasm.WasmExecLayer.LauncherName,
                Arguments = launcherArguments,
                ModuleSha256 = launch.ModuleDigest,
            };
            workload = launch.Launcher;
        }

        ElfReport report = workload.Report;
        if (!report.IsRunnable)
        {
            await stderr.WriteLineAsync($"donjon: {request.ElfPath}: cannot be run: {report.Verdict.RejectionReason}").ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }


        BackendStatus? selected = await SelectBackendAsync(catalog, request.Backend, stderr).ConfigureAwait(false);
        StartupClock.Mark("backend probes");
        if (selected is null)
        {
            return ExitCodes.DonjonError;
        }

        HostLog.UsingBackend(environment.Logger, selected.Backend.Name);
        return await KeepRunner.RunAsync(request, workload, selected.Backend, catalog, environment, stderr, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a bare name is a WebAssembly module in the current directory (its first bytes are <c>\0asm</c>).</summary>
    private static bool IsModuleInCurrentDirectory(string name)
    {
        if (Files.RegularFile.KindOf(name) != Files.FileKind.Regular)
        {
            return false;
        }

        try
        {
            using FileStream stream = File.OpenRead(name);
            Span<byte> magic = stackalloc byte[4];
            return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && Wasm.WasmModuleInspector.HasMagic(magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The named backend if it is available, or the first available one in the admin's order.</summary>
    private static async Task<BackendStatus?> SelectBackendAsync(PluginCatalog catalog, string? name, TextWriter stderr)
    {
        if (name is not null)
        {
            // The name was checked against the loaded backends before the workload was read.
            IBackend backend = catalog.OrderedBackends.First(b => b.Name == name);

            BackendStatus status = BackendStatus.Probe(backend);
            if (!status.IsAvailable)
            {
                await stderr.WriteLineAsync($"donjon: backend '{name}' is unavailable on this machine:").ConfigureAwait(false);
                foreach (string reason in status.Reasons())
                {
                    await stderr.WriteLineAsync($"  - {reason}").ConfigureAwait(false);
                }

                return null;
            }

            return status;
        }

        var unavailable = new List<BackendStatus>();
        foreach (IBackend backend in catalog.BackendsToTry())
        {
            BackendStatus status = BackendStatus.Probe(backend);
            if (status.IsAvailable)
            {
                return status;
            }

            unavailable.Add(status);
        }

        await stderr.WriteLineAsync(unavailable.Count == 0
            ? "donjon: no backend is loaded. Add a backend plugin to plugins.json ('donjon plugins' lists what is loaded)."
            : "donjon: no backend can run a keep on this machine:").ConfigureAwait(false);
        foreach (BackendStatus status in unavailable)
        {
            await stderr.WriteLineAsync($"  {status.Backend.Name}:").ConfigureAwait(false);
            foreach (string reason in status.Reasons())
            {
                await stderr.WriteLineAsync($"    - {reason}").ConfigureAwait(false);
            }
        }

        return null;
    }
}

/// <summary>What the user asked <c>run</c> to do.</summary>
/// <param name="ElfPath">The workload's path: as typed, or where a bare name was found on PATH.</param>
/// <param name="Arguments">The workload's arguments after its path.</param>
/// <param name="Environment">The <c>--env NAME=VALUE</c> assignments, in order.</param>
/// <param name="Backend">The backend named by <c>--backend</c>, if any.</param>
/// <param name="Seed">The layout seed from <c>--seed</c>, if any.</param>
/// <param name="Argv0">The workload's <c>argv[0]</c> when it is not <paramref name="ElfPath"/>: the bare name as typed.</param>
internal sealed record RunRequest(string ElfPath, IReadOnlyList<string> Arguments, IReadOnlyList<string> Environment, string? Backend, ulong? Seed, string? Argv0 = null)
{
    /// <summary>The <c>--mount HOST:KEEP[:ro|:rw]</c> values, in order.</summary>
    public IReadOnlyList<string> Mounts { get; init; } = [];

    /// <summary>Whether <c>--tmp</c> was given.</summary>
    public bool Tmp { get; init; }

    /// <summary>Whether <c>--libraries system</c> was given.</summary>
    public bool SystemLibraries { get; init; }

    /// <summary>The <c>--manifest FILE</c>, if given.</summary>
    public string? Manifest { get; init; }

    /// <summary>The SHA-256 of the manifest's bytes, once read: it goes into the configuration page.</summary>
    public byte[]? ManifestSha256 { get; init; }

    /// <summary>The <c>--publish [ADDR:]PORT[/udp]</c> values, in order.</summary>
    public IReadOnlyList<string> Publishes { get; init; } = [];

    /// <summary>The <c>--allow-connect HOST:PORT[/udp]</c> values, in order.</summary>
    public IReadOnlyList<string> AllowedConnects { get; init; } = [];

    /// <summary>What <c>--strace</c> asked for, if it was given.</summary>
    public Execution.StraceMode? Strace { get; init; }

    /// <summary>When the workload is an exec layer: the SHA-256 of the module it runs, bound into the configuration page.</summary>
    public ReadOnlyMemory<byte>? ModuleSha256 { get; init; }
}
