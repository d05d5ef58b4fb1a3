using Donjon.Host.Files;

namespace Donjon.Host.Cli;

/// <summary>
/// Finds the program <c>run</c> was given as a shell does: a name with a '/' is a path; a bare name is looked up
/// in each folder of <c>$PATH</c> in turn (an empty entry is the current directory), and the first regular file
/// this user may execute is the program.
/// </summary>
internal static class ProgramSearch
{
    /// <summary>The search path when PATH is unset (as a POSIX shell's default).</summary>
    public const string DefaultPath = "/usr/local/bin:/usr/bin:/bin";

    /// <summary>Whether <paramref name="name"/> is looked up on PATH (it has no '/').</summary>
    public static bool IsBareName(string name) => name.Length > 0 && !name.Contains('/', StringComparison.Ordinal);

    /// <summary>The folders searched, in order.</summary>
    public static IReadOnlyList<string> Folders(string? path) =>
        (path ?? DefaultPath).Split(':').Select(folder => folder.Length == 0 ? "." : folder).ToList();

    /// <summary>The first executable regular file named <paramref name="name"/> in <paramref name="folders"/>, or null.</summary>
    public static string? Find(string name, IReadOnlyList<string> folders)
    {
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, name);
            if (RegularFile.KindOf(candidate) == FileKind.Regular && Interop.Access.IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
