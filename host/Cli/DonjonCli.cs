using System.CommandLine;
using System.Reflection;
using System.Runtime.CompilerServices;
using Donjon.Host.Configuration;

namespace Donjon.Host.Cli;

/// <summary>The <c>donjon</c> command line: its commands, options and exit statuses.</summary>
internal static class DonjonCli
{
    private static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "The plugins.json to use (default: $DONJON_CONFIG, else the nearest plugins.json above the donjon program, else /etc/donjon/plugins.json; never the current directory).",
        Recursive = true,
    };

    private static readonly Option<string?> LogLevelOption = new("--log-level")
    {
        Description = "trace, debug, info, warning (default), error, critical or none; also $DONJON_LOG_LEVEL. Logs go to stderr.",
        Recursive = true,
    };

    private static readonly Option<bool> LogTimestampsOption = new("--log-timestamps")
    {
        Description = "Start each log line with its UTC time.",
        Recursive = true,
    };

    /// <summary>Whether this invocation asked for <c>--log-timestamps</c> (read by <see cref="Guard"/>).</summary>
    private static bool _logTimestamps;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // The tree is built once: checked against the line (which finds run's program path), then given the program's
        // arguments (which run's action reads when it runs) and parsed.
        var workloadArgs = new StrongBox<string[]>([]);
        RootCommand root = Build(workloadArgs, stdout, stderr);
        CommandLineChecker.Outcome outcome = CommandLineChecker.Check(root, args);
        if (outcome.Error is not null)
        {
            return await UsageErrorAsync(stderr, [outcome.Error], outcome.CommandPath).ConfigureAwait(false);
        }

        if (outcome.NeedsSubcommand)
        {
            await stderr.WriteAsync(CommandLineChecker.ShortUsage(outcome.Command, outcome.CommandPath)).ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }

        string[] donjonArgs = args;
        if (outcome.ProgramIndex >= 0)
        {
            int program = outcome.ProgramIndex;
            donjonArgs = outcome.AfterSeparator ? [.. args[..(program - 1)], args[program]] : args[..(program + 1)];

            // A bare --strace takes no value: System.CommandLine would take the next token (the program) as one.
            for (int i = 0; i < donjonArgs.Length - 1; i++)
            {
                if (donjonArgs[i] == RunCommand.StraceOptionName)
                {
                    donjonArgs[i] = RunCommand.StraceOptionName + "=" + RunCommand.StraceLines;
                }
                else if (donjonArgs[i] == RunCommand.StraceOptionName + "=")
                {
                    // An empty value: System.CommandLine would take the program as the value.
                    return await UsageErrorAsync(stderr, [RunCommand.StraceValueError(string.Empty)], outcome.CommandPath).ConfigureAwait(false);
                }
            }
            workloadArgs.Value = args[(program + 1)..];
        }

        ParseResult parse = root.Parse(donjonArgs, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            return await UsageErrorAsync(stderr, parse.Errors.Select(e => e.Message), outcome.CommandPath).ConfigureAwait(false);
        }

        _logTimestamps = parse.GetValue(LogTimestampsOption);
        StartupClock.Mark("command line");

        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task<int> UsageErrorAsync(TextWriter stderr, IEnumerable<string> messages, string commandPath)
    {
        foreach (string message in messages.Distinct())
        {
            await stderr.WriteLineAsync($"donjon: {message.TrimEnd('.')}").ConfigureAwait(false);
        }

        await stderr.WriteLineAsync($"Try '{commandPath} --help'.").ConfigureAwait(false);
        return ExitCodes.DonjonError;
    }

    public static string Version =>
        typeof(DonjonCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static RootCommand Build(StrongBox<string[]> workloadArgs, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Donjon runs one unmodified static-PIE x86-64 Linux program inside an isolated keep.");
        root.Add(ConfigOption);
        root.Add(LogLevelOption);
        root.Add(LogTimestampsOption);

        root.Add(RunCommand.Create(workloadArgs, stdout, stderr, ConfigOption, LogLevelOption));
        root.Add(InspectCommand.Create(stdout, stderr, ConfigOption, LogLevelOption));
        root.Add(PluginsCommand.Create(stdout, stderr, ConfigOption, LogLevelOption));
        root.Add(MeasureCommand.Create(stdout, stderr, ConfigOption, LogLevelOption));
        var platform = new Command("platform", "Facts about this machine.");
        platform.Add(PlatformInfoCommand.Create(stdout, stderr, ConfigOption, LogLevelOption));
        root.Add(platform);
        return root;
    }

    /// <summary>
    /// Runs a command body with the failures every command shares turned into messages and exit statuses:
    /// usage (125), configuration (125).
    /// </summary>
    public static async Task<int> Guard(TextWriter stderr, string? logLevel, string? configPath, Func<CliEnvironment, Task<int>> body)
    {
        CliEnvironment environment;
        try
        {
            environment = CliEnvironment.Create(logLevel, configPath, _logTimestamps);
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"donjon: {e.Message}").ConfigureAwait(false);
            return ExitCodes.DonjonError;
        }

        using (environment)
        {
            try
            {
                return await body(environment).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                await stderr.WriteLineAsync($"donjon: {e.Message}").ConfigureAwait(false);
                return ExitCodes.DonjonError;
            }
            catch (ConfigurationException e)
            {
                await stderr.WriteLineAsync(e.Errors.Count == 1 ? "donjon: the configuration cannot be used:" : $"donjon: the configuration has {e.Errors.Count} problems:").ConfigureAwait(false);
                foreach (ConfigurationError error in e.Errors)
                {
                    await stderr.WriteLineAsync($"  {error}").ConfigureAwait(false);
                }

                HostLog.ConfigurationRejected(environment.Logger, e.Errors.Count);
                return ExitCodes.DonjonError;
            }
        }
    }
}
