namespace Donjon.Host.Cli;

/// <summary>
/// Splits a <c>run</c> command line in two: the options before the workload's path belong to Donjon, and
/// everything after the path belongs to the workload, even when it looks like a Donjon option.
/// </summary>
internal static class RunArguments
{
    /// <summary>Donjon options of <c>run</c> that take a value (so the value is not mistaken for the path).</summary>
    private static readonly HashSet<string> OptionsWithValue = new(StringComparer.Ordinal)
    {
        "--backend", "--config", "--env", "--seed", "--log-level",
    };

    /// <summary>
    /// Finds the workload path in <paramref name="args"/> (which start with <c>run</c>).
    /// </summary>
    /// <returns>The arguments for Donjon's parser (up to and including the path) and the workload's arguments.</returns>
    public static (string[] DonjonArgs, string[] WorkloadArgs) Split(string[] args)
    {
        int runIndex = Array.IndexOf(args, "run");
        if (runIndex < 0)
        {
            return (args, []);
        }

        for (int i = runIndex + 1; i < args.Length; i++)
        {
            string token = args[i];
            if (token == "--")
            {
                // "run [options] -- <elf> args...": the path is the token after "--".
                if (i + 1 >= args.Length)
                {
                    return (args, []);
                }

                return ([.. args[..i], args[i + 1]], args[(i + 2)..]);
            }

            if (OptionsWithValue.Contains(token))
            {
                i++;
                continue;
            }

            if (token.StartsWith('-'))
            {
                continue;
            }

            return (args[..(i + 1)], args[(i + 1)..]);
        }

        return (args, []);
    }
}
