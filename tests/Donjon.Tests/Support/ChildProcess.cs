using System.Diagnostics;

namespace Donjon.Tests.Support;

/// <summary>Runs a program with exact control over its environment and stdin, capturing stdout as bytes.</summary>
internal static class ChildProcess
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
    }

    /// <param name="program">The program to start.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="environment">Its whole environment: nothing else is inherited.</param>
    /// <param name="stdin">Bytes for its stdin, which is then closed.</param>
    /// <param name="timeout">How long it may run before it is killed and the test fails.</param>
    /// <param name="workingDirectory">Where it starts (default: the repository's root).</param>
    public static Result Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, byte[]? stdin = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Clear();
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        using var stdout = new MemoryStream();
        Task copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
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
                // The program may exit without reading all of its stdin.
            }
        });
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time");
        }

        Task.WaitAll(copyOut, stderr, feed);
        return new Result(process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>The environment Donjon itself runs with in tests: enough for dotnet, nothing that leaks into keeps.</summary>
    public static Dictionary<string, string> DotnetEnvironment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in new[] { "PATH", "HOME", "DOTNET_ROOT", "DOTNET_CLI_HOME", "TMPDIR" })
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                environment[name] = value;
            }
        }

        return environment;
    }
}
