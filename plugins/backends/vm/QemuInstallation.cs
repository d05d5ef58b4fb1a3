using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Donjon.Abstractions.Backends;

namespace Donjon.Backends.Vm;

/// <summary>The accelerator QEMU runs the guest with.</summary>
internal enum Accelerator
{
    /// <summary>Software emulation (QEMU's tiny code generator), with <c>-cpu max</c>.</summary>
    Tcg = 0,

    /// <summary>The kernel's hypervisor, with <c>-cpu host</c>.</summary>
    Kvm = 1,
}

/// <summary>
/// What this machine's QEMU is and can do, found once per backend instance (each check starts QEMU, so the four run
/// in parallel, and their answers are kept per binary by <see cref="QemuFactsCache"/>): the binary, its version, <c>microvm</c> with a RAM backend, <c>memory-backend-file</c> with
/// <c>share</c>, and which accelerator to use.
/// </summary>
/// <remarks>
/// Environment overrides: <c>DONJON_QEMU</c> names the QEMU binary (default: <c>qemu-system-x86_64</c> on
/// <c>PATH</c>); <c>DONJON_VM_ACCEL</c> = <c>kvm</c> or <c>tcg</c> forces the accelerator.
/// </remarks>
internal sealed partial class QemuInstallation
{
    private const string BinaryName = "qemu-system-x86_64";
    private const string InstallRemedy = "Install QEMU: apt-get install --no-install-recommends qemu-system-x86 (Debian, Ubuntu), or set DONJON_QEMU to a qemu-system-x86_64 binary.";
    private static readonly Version MinimumVersion = new(5, 0);
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    private QemuInstallation()
    {
    }

    /// <summary>The QEMU binary, or <see langword="null"/> when none was found.</summary>
    public string? Path { get; private init; }

    /// <summary>The accelerator keeps will use.</summary>
    public Accelerator Accelerator { get; private init; }

    /// <summary>Whether QEMU has its seccomp sandbox (<c>-sandbox on</c>), which keeps use when it does.</summary>
    public bool HasSandbox { get; private init; }

    /// <summary>The checks, as the probe tree shows them.</summary>
    public required IReadOnlyList<Probe> Checks { get; init; }

    /// <summary>Whether every required check passed.</summary>
    public bool IsUsable => Path is not null && Checks.All(c => c.IsSatisfied);

    /// <summary>Finds QEMU and checks it. Never throws.</summary>
    public static QemuInstallation Discover()
    {
        string? path = FindBinary(out Probe binary);
        if (path is null)
        {
            return new QemuInstallation { Checks = [binary, ProbeAccelerator(out _)], Accelerator = Accelerator.Tcg };
        }

        // The answers depend on the binary only: kept per binary (path, size, mtime) by QemuFactsCache. A kept
        // "no -sandbox" is never believed (a forged or stale file must not turn QEMU's seccomp filter off): QEMU is
        // asked again, and such an answer is never kept either.
        (string Output, string? Problem)[]? answers = QemuFactsCache.TryRead(path, 4);
        if (answers is not null && !SaysSandbox(answers[3]))
        {
            answers = null;
        }

        if (answers is null)
        {
            Task<(string Output, string? Problem)> versionQuery = Task.Run(() => Query(path, "--version"));
            Task<(string Output, string? Problem)> backendQuery = Task.Run(() => Query(path, "-object", "memory-backend-file,help"));
            Task<(string Output, string? Problem)> machineQuery = Task.Run(() => Query(path, "-machine", "microvm,help"));
            Task<(string Output, string? Problem)> sandboxQuery = Task.Run(() => Query(path, "-sandbox", "help"));
            Task.WaitAll(versionQuery, backendQuery, machineQuery, sandboxQuery);
            answers = [versionQuery.Result, backendQuery.Result, machineQuery.Result, sandboxQuery.Result];
            // Only a complete set is kept: the first three answered, and -sandbox (an error status either way) said
            // something, so that a QEMU that did not start or answer in time is asked again next run.
            if (answers[0].Problem is null && answers[1].Problem is null && answers[2].Problem is null
                && !string.IsNullOrEmpty(answers[3].Problem) && !answers[3].Problem!.Contains("did not", StringComparison.Ordinal)
                && SaysSandbox(answers[3]) && OperatingSystem.IsLinux())
            {
                QemuFactsCache.Write(path, answers);
            }
        }

        (string Output, string? Problem) version = answers[0], backend = answers[1], machine = answers[2], sandbox = answers[3];

        Probe accelerator = ProbeAccelerator(out Accelerator chosen);
        bool hasSandbox = SaysSandbox(sandbox);
        return new QemuInstallation
        {
            Path = path,
            Accelerator = chosen,
            HasSandbox = hasSandbox,
            Checks =
            [
                binary,
                ProbeVersion(path, version),
                Probe.Group("QEMU features", [
                        ProbeMicrovm(machine),
                        ProbeMemoryBackend(backend),
                        hasSandbox
                            ? Probe.Pass("seccomp sandbox", "-sandbox on: QEMU runs with a seccomp filter (no exec, no privilege changes)")
                            : Probe.Info("seccomp sandbox", "this QEMU has no -sandbox (built without seccomp); keeps run without it"),
                    ],
                    "Use QEMU 5.0 or later built with the microvm machine: " + InstallRemedy),
                accelerator,
            ],
        };
    }

    /// <summary>
    /// Whether QEMU's answer to <c>-sandbox help</c> shows the seccomp sandbox: QEMU answers it with an error in both
    /// cases, and only a QEMU without seccomp support does not know the option at all.
    /// </summary>
    private static bool SaysSandbox((string Output, string? Problem) answer) =>
        !answer.Problem?.Contains("invalid option", StringComparison.Ordinal) ?? true;

    private static string? FindBinary(out Probe probe)
    {
        const string Name = "QEMU binary";
        string? configured = Environment.GetEnvironmentVariable("DONJON_QEMU");
        if (!string.IsNullOrEmpty(configured))
        {
            if (File.Exists(configured))
            {
                probe = Probe.Pass(Name, $"{configured} (from DONJON_QEMU)");
                return System.IO.Path.GetFullPath(configured);
            }

            probe = Probe.Fail(Name, $"DONJON_QEMU names {configured}, which does not exist", "Point DONJON_QEMU at a qemu-system-x86_64 binary, or unset it to use the one on PATH.");
            return null;
        }

        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = System.IO.Path.Combine(folder, BinaryName);
            if (File.Exists(candidate))
            {
                probe = Probe.Pass(Name, $"{candidate} (on PATH)");
                return candidate;
            }
        }

        probe = Probe.Fail(Name, $"{BinaryName} is not on PATH", InstallRemedy);
        return null;
    }

    private static Probe ProbeVersion(string path, (string Output, string? Problem) query)
    {
        const string Name = "QEMU version";
        if (query.Problem is not null)
        {
            return Probe.Fail(Name, $"'{path} --version' failed: {query.Problem}", InstallRemedy);
        }

        Match match = VersionPattern().Match(query.Output);
        if (!match.Success || !Version.TryParse(match.Groups[1].Value, out Version? version))
        {
            return Probe.Fail(Name, $"'{path} --version' printed no version: {FirstLine(query.Output)}", InstallRemedy);
        }

        return version >= MinimumVersion
            ? Probe.Pass(Name, $"{FirstLine(query.Output)} (needs {MinimumVersion.ToString(2)} or later; tested with 7.2)")
            : Probe.Fail(Name, $"QEMU {version} is older than {MinimumVersion.ToString(2)} (the microvm machine with a RAM backend)", InstallRemedy);
    }

    private static Probe ProbeMicrovm((string Output, string? Problem) query)
    {
        const string Name = "microvm machine";
        if (query.Problem is not null)
        {
            return Probe.Fail(Name, $"'-machine microvm,help' failed: {query.Problem}", InstallRemedy);
        }

        string[] needed = ["memory-backend", "pic", "isa-serial", "x-option-roms"];
        string[] missing = needed.Where(option => !query.Output.Contains(option + "=", StringComparison.Ordinal)).ToArray();
        return missing.Length == 0
            ? Probe.Pass(Name, "microvm has the options the keep uses: " + string.Join(", ", needed))
            : Probe.Fail(Name, "microvm lacks the options " + string.Join(", ", missing), InstallRemedy);
    }

    private static Probe ProbeMemoryBackend((string Output, string? Problem) query)
    {
        const string Name = "memory-backend-file";
        if (query.Problem is not null)
        {
            return Probe.Fail(Name, $"'-object memory-backend-file,help' failed: {query.Problem}", InstallRemedy);
        }

        bool ok = query.Output.Contains("mem-path=", StringComparison.Ordinal) && query.Output.Contains("share=", StringComparison.Ordinal);
        return ok
            ? Probe.Pass(Name, "memory-backend-file with mem-path and share: the guest RAM is a file the host maps too")
            : Probe.Fail(Name, "memory-backend-file lacks mem-path or share", InstallRemedy);
    }

    private static Probe ProbeAccelerator(out Accelerator accelerator)
    {
        const string Name = "accelerator";
        string? forced = Environment.GetEnvironmentVariable("DONJON_VM_ACCEL");
        if (string.Equals(forced, "tcg", StringComparison.OrdinalIgnoreCase))
        {
            accelerator = Accelerator.Tcg;
            return Probe.Info(Name, "tcg (software emulation, -cpu max), as DONJON_VM_ACCEL asks");
        }

        string? problem = KvmProblem();
        if (problem is null && Directory.Exists(PvmModule))
        {
            problem = "/dev/kvm is served by kvm-pvm, a paravirtual hypervisor for PVM-aware guest kernels: it enters a plain "
                + "guest's SYSCALL handler without raising the privilege level and stops on SSE instructions it has to emulate, "
                + "so the keep's guest cannot run on it";
        }

        if (problem is null)
        {
            accelerator = Accelerator.Kvm;
            return Probe.Info(Name, "kvm: /dev/kvm opens read-write; keeps run with -accel kvm -cpu host");
        }

        if (string.Equals(forced, "kvm", StringComparison.OrdinalIgnoreCase))
        {
            accelerator = Accelerator.Kvm;
            return Probe.Fail(Name, $"DONJON_VM_ACCEL asks for kvm, but {problem}", "Give this user access to /dev/kvm (the kvm group), load kvm_intel or kvm_amd, or unset DONJON_VM_ACCEL to use software emulation.");
        }

        accelerator = Accelerator.Tcg;
        return Probe.Info(Name, $"tcg: software emulation (-accel tcg -cpu max), slower, because {problem}");
    }

    /// <summary>Present when /dev/kvm belongs to kvm-pvm (PVM), not to kvm_intel or kvm_amd.</summary>
    private const string PvmModule = "/sys/module/kvm_pvm";

    private static string? KvmProblem()
    {
        const string Device = "/dev/kvm";
        if (!File.Exists(Device))
        {
            return $"{Device} does not exist (no hardware virtualization here, or kvm is not loaded)";
        }

        try
        {
            using var handle = File.OpenHandle(Device, FileMode.Open, FileAccess.ReadWrite);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"{Device} does not open read-write for this user (join the kvm group)";
        }
        catch (IOException e)
        {
            return $"{Device} does not open: {e.Message}";
        }
    }

    /// <summary>Runs QEMU with <paramref name="arguments"/> and returns its output, or why it failed. Never throws.</summary>
    private static (string Output, string? Problem) Query(string path, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(path)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start);
            if (process is null)
            {
                return (string.Empty, "it did not start");
            }

            process.StandardInput.Close();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(QueryTimeout))
            {
                process.Kill();
                return (string.Empty, $"it did not answer within {QueryTimeout.TotalSeconds} s");
            }

            string text = output.GetAwaiter().GetResult();
            return process.ExitCode == 0
                ? (text, null)
                : (text, string.Create(CultureInfo.InvariantCulture, $"exit status {process.ExitCode}: {FirstLine(error.GetAwaiter().GetResult())}"));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return (string.Empty, e.Message);
        }
    }

    private static string FirstLine(string text)
    {
        string trimmed = text.Trim();
        int end = trimmed.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? trimmed : trimmed[..end].TrimEnd();
    }

    [GeneratedRegex(@"version ([0-9]+\.[0-9]+(?:\.[0-9]+)?)")]
    private static partial Regex VersionPattern();
}
