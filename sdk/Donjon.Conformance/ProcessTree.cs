using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Donjon.Conformance;

/// <summary>The processes below a process, read from <c>/proc</c>: how the lifecycle checks find a keep's processes.</summary>
public static class ProcessTree
{
    /// <summary>Every live descendant of <paramref name="pid"/> (children, their children, ...).</summary>
    /// <param name="pid">The ancestor.</param>
    /// <returns>Their process ids.</returns>
    public static IReadOnlyList<int> DescendantsOf(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int id) && ParentOf(id) is int parent)
            {
                parents[id] = parent;
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([pid]);
        while (frontier.TryDequeue(out int current))
        {
            foreach (var (child, parent) in parents)
            {
                if (parent == current && !found.Contains(child))
                {
                    found.Add(child);
                    frontier.Enqueue(child);
                }
            }
        }

        return found;
    }

    /// <summary>Whether <paramref name="pid"/> is alive (a zombie is not).</summary>
    /// <param name="pid">The process.</param>
    /// <returns>True while it runs or sleeps.</returns>
    public static bool IsAlive(int pid) => Stat(pid) is string stat && StateOf(stat) is not ('Z' or 'X');

    /// <summary>Waits up to 10 s for every process of <paramref name="processes"/> to be gone, then asserts it.</summary>
    internal static void AssertAllGone(IEnumerable<int> processes, string when)
    {
        ArgumentNullException.ThrowIfNull(processes);
        var clock = Stopwatch.StartNew();
        List<int> alive;
        do
        {
            alive = processes.Where(IsAlive).ToList();
            if (alive.Count == 0)
            {
                return;
            }

            Thread.Sleep(50);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(10));
        string names = string.Join(", ", alive.Select(p => $"{p} ({Command(p)})"));
        Assert.Fail($"{alive.Count} keep processes are still alive 10 s {when}: {names}");
    }

    private static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "gone";
        }
    }

    private static int? ParentOf(int pid)
    {
        string? stat = Stat(pid);
        if (stat is null)
        {
            return null;
        }

        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], CultureInfo.InvariantCulture);
    }

    private static char StateOf(string stat) => stat[stat.LastIndexOf(')') + 2];

    private static string? Stat(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
