using System.ComponentModel;
using System.Diagnostics;

namespace Donjon.Tests.Workloads;

/// <summary>What a finished child process reported.</summary>
/// <param name="ExitCode">The process's exit status.</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs a command-line tool (gcc, sha256sum, readelf) for a test and captures its output. A missing tool fails
/// the test with a message that names it and the package to install, instead of skipping silently.
/// </summary>
public static class ToolRunner
{
    /// <summary>How long a tool may run before the test fails.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs <paramref name="tool"/> with <paramref name="arguments"/> and waits for it.</summary>
    /// <param name="tool">The program, looked up on PATH unless it is a path.</param>
    /// <param name="arguments">Its arguments, passed without a shell.</param>
    /// <exception cref="InvalidOperationException">The tool is missing or does not finish in time.</exception>
    public static ToolResult Run(string tool, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException(
                $"the test needs `{tool}`, which could not be started ({exception.Message}); install it (Debian: apt-get install gcc libc6-dev binutils coreutils) and run the tests again",
                exception);
        }

        using (process)
        {
            Task<string> standardOutput = process.StandardOutput.ReadToEndAsync();
            Task<string> standardError = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"`{tool} {string.Join(' ', arguments)}` did not finish within {Timeout}");
            }

            return new ToolResult(process.ExitCode, standardOutput.Result, standardError.Result);
        }
    }

    /// <summary>Runs a tool that must succeed, and returns its stdout.</summary>
    /// <exception cref="InvalidOperationException">The tool is missing, times out, or exits non-zero (its stderr is in the message).</exception>
    public static string RunChecked(string tool, params string[] arguments)
    {
        ToolResult result = Run(tool, arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"`{tool} {string.Join(' ', arguments)}` exited with status {result.ExitCode}:\n{result.StandardError}{result.StandardOutput}");
        }

        return result.StandardOutput;
    }
}
