using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Execution;

/// <summary>
/// The syscalls a keep made that no loaded handler set serves (each answered <c>-ENOSYS</c>): a warning the first
/// time each is called, and the counts for a summary at exit. The numbers are the workload's choice, so what is
/// kept and logged is bounded: <see cref="MaxWarned"/> warnings one by one, <see cref="MaxCounted"/> numbers counted
/// one by one, and the rest counted together.
/// </summary>
internal sealed class UnservedSyscalls
{
    /// <summary>The most distinct syscalls warned about one by one.</summary>
    public const int MaxWarned = 16;

    /// <summary>The most distinct syscalls counted one by one in the summary.</summary>
    public const int MaxCounted = 64;

    private readonly Lock _lock = new();
    private readonly List<uint> _order = [];
    private readonly Dictionary<uint, long> _counts = [];
    private long _otherCalls;
    private bool _saidNoMore;

    /// <summary>Whether the keep made any unserved call.</summary>
    public bool Any
    {
        get
        {
            lock (_lock)
            {
                return _order.Count > 0;
            }
        }
    }

    /// <summary>"clone (56)", or "syscall 4242" when the name is not known.</summary>
    public static string Label(uint number) =>
        SyscallNames.Find(number) is { } name
            ? string.Create(CultureInfo.InvariantCulture, $"{name} ({number})")
            : string.Create(CultureInfo.InvariantCulture, $"syscall {number}");

    /// <summary>Counts one call of <paramref name="number"/>, and warns the first time it is called.</summary>
    public void Record(uint number, ILogger logger)
    {
        string? warning = null;
        lock (_lock)
        {
            if (_counts.TryGetValue(number, out long count))
            {
                _counts[number] = count + 1;
                return;
            }

            if (_order.Count >= MaxCounted)
            {
                _otherCalls++;
            }
            else
            {
                _order.Add(number);
                _counts[number] = 1;
            }

            if (_order.Count <= MaxWarned && _otherCalls == 0)
            {
                warning = $"the program called {Label(number)}, which no loaded handler set serves; answered ENOSYS";
            }
            else if (!_saidNoMore)
            {
                _saidNoMore = true;
                warning = string.Create(CultureInfo.InvariantCulture,
                    $"the program called more than {MaxWarned} different syscalls that no loaded handler set serves; the rest are answered ENOSYS without a warning each, and counted in the summary at exit");
            }
        }

        if (warning is not null)
        {
            logger.LogWarning("{Warning}", warning);
        }
    }

    /// <summary>The summary line, or <see langword="null"/> when every call was served.</summary>
    public string? Summary()
    {
        lock (_lock)
        {
            if (_order.Count == 0)
            {
                return null;
            }

            var text = new StringBuilder("unserved syscalls, each answered ENOSYS: ");
            text.AppendJoin(", ", _order.Select(n => $"{Label(n)} {Times(_counts[n])}"));
            if (_otherCalls > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $", and {Times(_otherCalls)} more of other numbers");
            }

            text.Append(". Add a handler set that serves them to plugins.json ('donjon plugins' lists what is served)");
            return text.ToString();
        }
    }

    private static string Times(long count) => count == 1 ? "once" : string.Create(CultureInfo.InvariantCulture, $"{count} times");
}
