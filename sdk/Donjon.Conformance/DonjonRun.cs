using System.Diagnostics;
using System.Text;

namespace Donjon.Conformance;

/// <summary>How one run of a program (Donjon, or a workload natively) ended.</summary>
/// <param name="ExitCode">The exit status.</param>
/// <param name="Stdout">Everything it wrote to stdout.</param>
/// <param name="Stderr">Everything it wrote to stderr, as text.</param>
public sealed record RunResult(int ExitCode, byte[] Stdout, string Stderr)
{
    /// <summary>stdout as UTF-8 text.</summary>
    public string StdoutText => Encoding.UTF8.GetString(Stdout);
}

/// <summary>Runs <c>donjon</c> commands and workloads for the suites.</summary>
public static class DonjonRun
{
    /// <summary>How long one run may take before it is killed and the check fails.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Starts <c>donjon</c> of <paramref name="target"/> with <paramref name="arguments"/>, stdio redirected.</summary>
    /// <param name="target">The command and configuration (the configuration is passed as <c>--config</c>).</param>
    /// <param name="arguments">The subcommand and its arguments, for example <c>run --backend process ./hello</c>.</param>
    /// <returns>The started process; the caller disposes it.</returns>
    public static Process Start(ConformanceTarget target, IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        var info = target.Donjon.EndsWith(".dll", StringComparison.Ordinal)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { target.Donjon } }
            : new ProcessStartInfo(target.Donjon);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // --config goes after the subcommand: it is an option of every subcommand.
        info.ArgumentList.Insert(info.ArgumentList.Count - arguments.Count + 1, "--config");
        info.ArgumentList.Insert(info.ArgumentList.Count - arguments.Count + 1, target.Configuration);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {target.Donjon}");
    }

    /// <summary>Runs a <c>donjon</c> subcommand to its end.</summary>
    /// <param name="target">The command and configuration.</param>
    /// <param name="arguments">The subcommand and its arguments.</param>
    /// <param name="stdin">Bytes for its stdin, or null for an empty stdin.</param>
    /// <returns>How it ended.</returns>
    public static RunResult Donjon(ConformanceTarget target, IReadOnlyList<string> arguments, byte[]? stdin = null)
    {
        using Process process = Start(target, arguments);
        return Finish(process, stdin, string.Join(' ', arguments));
    }

    /// <summary>Runs a workload natively, as the keep's result is compared with it.</summary>
    /// <param name="program">The workload.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="stdin">Bytes for its stdin, or null for an empty stdin.</param>
    /// <returns>How it ended; death by signal N is reported as 128 + N, as a shell and Donjon report it.</returns>
    public static RunResult Native(string program, IReadOnlyList<string> arguments, byte[]? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        // Through sh, so that a death by signal is 128 + N, the way Donjon reports a keep that died by one.
        var info = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "\"$0\" \"$@\"", program } };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        return Finish(process, stdin, program);
    }

    private static RunResult Finish(Process process, byte[]? stdin, string what)
    {
        var stdout = new MemoryStream();
        Task copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> readErr = process.StandardError.ReadToEndAsync();
        Task feed = Task.Run(() =>
        {
            try
            {
                if (stdin is not null)
                {
                    process.StandardInput.BaseStream.Write(stdin);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The program exited without reading all of its stdin.
            }
        });
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{what}' did not end within {Timeout.TotalSeconds} s");
        }

        Task.WaitAll(copyOut, readErr, feed);
        return new RunResult(process.ExitCode, stdout.ToArray(), readErr.Result);
    }
}
