using System.Diagnostics;

namespace Donjon.Tests.Support;

/// <summary>Runs the real <c>donjon</c> program as a child process, as a user would.</summary>
internal static class DonjonProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The donjon.dll built beside the test assembly (the host is a project reference).</summary>
    public static string HostAssembly
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "donjon.dll");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"donjon.dll is not beside the tests ({path}); build the solution first");
            }

            return path;
        }
    }

    public static Result Run(IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? environment = null, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        start.ArgumentList.Add(HostAssembly);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("DONJON_CONFIG");
        start.Environment.Remove("DONJON_LOG_LEVEL");
        if (environment is not null)
        {
            foreach ((string key, string value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"donjon {string.Join(' ', args)} did not finish");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
