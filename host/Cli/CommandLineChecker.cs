using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace Donjon.Host.Cli;

/// <summary>
/// Walks a command line against the command tree before System.CommandLine parses it, so that a mistake is
/// blamed on the token that made it: an unknown option or command names itself (with the nearest valid one, by
/// edit distance), and a command that needs a subcommand gets its short usage. It also finds where
/// <c>run</c>'s program path is: Donjon's options come before it, and every token after it is the program's.
/// </summary>
internal static class CommandLineChecker
{
    /// <summary>The outcome of the walk.</summary>
    /// <param name="Error">The usage error's message (without the "donjon: " prefix), or null.</param>
    /// <param name="Command">The deepest command reached, for the "Try 'donjon ... --help'" line.</param>
    /// <param name="CommandPath">That command as typed, for example "donjon run".</param>
    /// <param name="ProgramIndex">The index of <c>run</c>'s program path in the arguments, or -1.</param>
    /// <param name="NeedsSubcommand">True when the line ends at a command that only groups subcommands.</param>
    /// <param name="AfterSeparator">True when the program path came after a "--".</param>
    internal sealed record Outcome(string? Error, Command Command, string CommandPath, int ProgramIndex, bool NeedsSubcommand, bool AfterSeparator = false);

    public static Outcome Check(RootCommand root, IReadOnlyList<string> args)
    {
        Command current = root;
        string path = "donjon";
        var ancestors = new List<Command>();
        bool helpOrVersion = false;
        int positionals = 0;
        for (int i = 0; i < args.Count; i++)
        {
            string token = args[i];
            if (token == "--")
            {
                // Everything after "--" is an argument; for run, the first of them is the program.
                int index = current.Name == "run" && i + 1 < args.Count ? i + 1 : -1;
                return new Outcome(null, current, path, index, false, AfterSeparator: true);
            }

            if (token.Length > 1 && token[0] == '-')
            {
                int equals = token.IndexOfAny(['=', ':']);
                string name = equals > 0 ? token[..equals] : token;
                Option? option = FindOption(current, ancestors, name);
                if (option is null)
                {
                    string message = $"unknown option '{name}' for '{path}'";
                    string? suggestion = Nearest(name, OptionNames(current, ancestors));
                    message += suggestion is null
                        ? $". Its options: {string.Join(", ", VisibleOptionNames(current, ancestors))}."
                        : $"; did you mean '{suggestion}'?";
                    return new Outcome(message, current, path, -1, false);
                }

                if (option is HelpOption or VersionOption)
                {
                    helpOrVersion = true;
                }

                if (equals < 0 && TakesValue(option))
                {
                    i++; // its value (a missing one is System.CommandLine's to report)
                }

                continue;
            }

            if (current.Subcommands.Count > 0)
            {
                Command? next = current.Subcommands.FirstOrDefault(c => c.Name == token || c.Aliases.Contains(token));
                if (next is null)
                {
                    string message = $"unknown command '{token}'";
                    message += current == root ? "" : $" for '{path}'";
                    string? suggestion = Nearest(token, current.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
                    message += suggestion is null
                        ? $". The commands: {string.Join(", ", current.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}."
                        : $"; did you mean '{suggestion}'?";
                    return new Outcome(message, current, path, -1, false);
                }

                ancestors.Add(current);
                current = next;
                path += " " + next.Name;
                continue;
            }

            positionals++;
            if (current.Name == "run")
            {
                // The program's path: what follows is the program's, even when it looks like an option.
                return new Outcome(null, current, path, i, false);
            }
        }

        bool needsSubcommand = !helpOrVersion && current.Subcommands.Count > 0 && current.Action is null;
        Argument? missing = current.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0).Skip(positionals).FirstOrDefault();
        if (!helpOrVersion && missing is not null)
        {
            return new Outcome($"'{path}' needs its <{missing.Name}> argument: {missing.Description}", current, path, -1, false);
        }

        return new Outcome(null, current, path, -1, needsSubcommand);
    }

    /// <summary>The short usage of a command that groups subcommands: one line per subcommand.</summary>
    public static string ShortUsage(Command command, string path)
    {
        var text = new StringBuilder();
        text.Append("Usage: ").Append(path).Append(" <command> [options]\n\nCommands:\n");
        List<Command> commands = command.Subcommands.Where(c => !c.Hidden).ToList();
        int width = commands.Max(c => c.Name.Length) + 2;
        foreach (Command sub in commands)
        {
            string description = sub.Description ?? "";
            int stop = description.IndexOf(". ", StringComparison.Ordinal);
            if (stop > 0)
            {
                description = description[..(stop + 1)];
            }

            text.Append("  ").Append(sub.Name.PadRight(width)).Append(description).Append('\n');
        }

        text.Append("\nRun '").Append(path).Append(" <command> --help' for a command's options.\n");
        return text.ToString();
    }

    /// <summary>Whether the next token is the option's value. An option whose value is optional (<c>--strace</c>,
    /// <c>--strace=summary</c>) takes one only after '=', so the program path after it stays the program.</summary>
    private static bool TakesValue(Option option) =>
        option.Arity.MaximumNumberOfValues > 0 && option.ValueType != typeof(bool)
        && !(option.Arity.MinimumNumberOfValues == 0 && option.Arity.MaximumNumberOfValues == 1);

    private static Option? FindOption(Command current, List<Command> ancestors, string name) =>
        CandidateOptions(current, ancestors).FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));

    private static IEnumerable<Option> CandidateOptions(Command current, List<Command> ancestors) =>
        current.Options.Concat(ancestors.SelectMany(a => a.Options).Where(o => o.Recursive));

    private static IEnumerable<string> OptionNames(Command current, List<Command> ancestors) =>
        CandidateOptions(current, ancestors).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal));

    private static IEnumerable<string> VisibleOptionNames(Command current, List<Command> ancestors) =>
        CandidateOptions(current, ancestors).Where(o => !o.Hidden).Select(o => o.Name).Distinct();

    /// <summary>The candidate nearest to <paramref name="typed"/>, when it is near enough to be a slip of the keyboard.</summary>
    internal static string? Nearest(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates.Distinct())
        {
            int distance = EditDistance(typed, candidate);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        string bare = typed.TrimStart('-');
        int allowed = Math.Max(1, Math.Min(3, bare.Length / 3));
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    internal static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
