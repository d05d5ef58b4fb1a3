using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Donjon.Host.Execution;

/// <summary>
/// How <c>run --strace</c> shows a call the shim served itself (a TRACE item): the shim sends only the six argument
/// values and the result, never workload memory, so pointers are shown as addresses and flags by their names, as
/// strace decodes them.
/// </summary>
internal static class ShimCallFormat
{
    /// <summary>How one argument (or the result) is shown.</summary>
    internal enum Shown
    {
        /// <summary>An <c>int</c> (the low 32 bits), in decimal.</summary>
        Int,

        /// <summary>A size or count, in decimal.</summary>
        Size,

        /// <summary>An address: <c>NULL</c> or hex.</summary>
        Pointer,

        /// <summary>A value strace would not type: small ones in decimal, others in hex.</summary>
        Value,

        /// <summary><c>PROT_*</c> flags.</summary>
        Protection,

        /// <summary><c>MAP_*</c> flags.</summary>
        MapFlags,

        /// <summary>A signal number, by name.</summary>
        Signal,

        /// <summary><c>SIG_BLOCK</c>, <c>SIG_UNBLOCK</c>, <c>SIG_SETMASK</c>.</summary>
        SignalHow,

        /// <summary><c>ARCH_SET_FS</c> and the other <c>arch_prctl</c> codes.</summary>
        ArchCode,

        /// <summary>A <c>futex</c> operation and its flags.</summary>
        FutexOperation,
    }

    private static readonly FrozenDictionary<uint, (Shown[] Arguments, bool AddressResult)> Calls = new Dictionary<uint, (Shown[], bool)>
    {
        [9] = ([Shown.Pointer, Shown.Size, Shown.Protection, Shown.MapFlags, Shown.Int, Shown.Value], true),
        [10] = ([Shown.Pointer, Shown.Size, Shown.Protection], false),
        [11] = ([Shown.Pointer, Shown.Size], false),
        [12] = ([Shown.Pointer], true),
        [13] = ([Shown.Signal, Shown.Pointer, Shown.Pointer, Shown.Size], false),
        [14] = ([Shown.SignalHow, Shown.Pointer, Shown.Pointer, Shown.Size], false),
        [15] = ([], false),
        [24] = ([], false),
        [25] = ([Shown.Pointer, Shown.Size, Shown.Size, Shown.Value, Shown.Pointer], true),
        [28] = ([Shown.Pointer, Shown.Size, Shown.Int], false),
        [34] = ([], false),
        [60] = ([Shown.Int], false),
        [62] = ([Shown.Int, Shown.Signal], false),
        [127] = ([Shown.Pointer, Shown.Size], false),
        [128] = ([Shown.Pointer, Shown.Pointer, Shown.Pointer, Shown.Size], false),
        [130] = ([Shown.Pointer, Shown.Size], false),
        [131] = ([Shown.Pointer, Shown.Pointer], false),
        [158] = ([Shown.ArchCode, Shown.Pointer], false),
        [186] = ([], false),
        [200] = ([Shown.Int, Shown.Signal], false),
        [202] = ([Shown.Pointer, Shown.FutexOperation, Shown.Value, Shown.Pointer, Shown.Pointer, Shown.Value], false),
        [218] = ([Shown.Pointer], false),
        [231] = ([Shown.Int], false),
        [234] = ([Shown.Int, Shown.Int, Shown.Signal], false),
        [273] = ([Shown.Pointer, Shown.Size], false),
        [318] = ([Shown.Pointer, Shown.Size, Shown.Value], false),
        [334] = ([Shown.Pointer, Shown.Size, Shown.Value, Shown.Value], false),
    }.ToFrozenDictionary();

    private static readonly string[] SignalNames =
    [
        "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
        "SIGSYS",
    ];

    /// <summary>
    /// Appends <c>name(arguments)</c> for syscall <paramref name="number"/> with the values the shim sent. A number
    /// this table does not know shows all six values.
    /// </summary>
    /// <returns>Whether the result is an address (shown in hex on success).</returns>
    public static bool AppendCall(StringBuilder line, uint number, IReadOnlyList<ulong> arguments)
    {
        line.Append(SyscallNames.Find(number) ?? string.Create(CultureInfo.InvariantCulture, $"syscall_{number}")).Append('(');
        bool known = Calls.TryGetValue(number, out var call);
        int count = known ? call.Arguments.Length : Math.Min(6, arguments.Count);
        for (int i = 0; i < count && i < arguments.Count; i++)
        {
            if (i > 0)
            {
                line.Append(", ");
            }

            Append(line, known ? call.Arguments[i] : Shown.Value, arguments[i]);
        }

        line.Append(')');
        return known && call.AddressResult;
    }

    /// <summary>Appends one value as <paramref name="shown"/> says.</summary>
    public static void Append(StringBuilder line, Shown shown, ulong raw)
    {
        switch (shown)
        {
            case Shown.Int:
                line.Append(((int)raw).ToString(CultureInfo.InvariantCulture));
                break;
            case Shown.Size:
                line.Append(raw.ToString(CultureInfo.InvariantCulture));
                break;
            case Shown.Pointer:
                line.Append(raw == 0 ? "NULL" : string.Create(CultureInfo.InvariantCulture, $"0x{raw:x}"));
                break;
            case Shown.Protection:
                AppendFlags(line, raw, [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")], "PROT_NONE");
                break;
            case Shown.MapFlags:
                AppendMapFlags(line, raw);
                break;
            case Shown.Signal:
                line.Append(raw < (ulong)SignalNames.Length ? SignalNames[raw] : raw <= 64 ? string.Create(CultureInfo.InvariantCulture, $"SIGRT_{raw - 32}") : raw.ToString(CultureInfo.InvariantCulture));
                break;
            case Shown.SignalHow:
                line.Append(raw switch { 0 => "SIG_BLOCK", 1 => "SIG_UNBLOCK", 2 => "SIG_SETMASK", _ => raw.ToString(CultureInfo.InvariantCulture) });
                break;
            case Shown.ArchCode:
                line.Append(raw switch
                {
                    0x1001 => "ARCH_SET_GS",
                    0x1002 => "ARCH_SET_FS",
                    0x1003 => "ARCH_GET_FS",
                    0x1004 => "ARCH_GET_GS",
                    _ => string.Create(CultureInfo.InvariantCulture, $"0x{raw:x}"),
                });
                break;
            case Shown.FutexOperation:
                AppendFutexOperation(line, (uint)raw);
                break;
            default:
                AppendValue(line, raw);
                break;
        }
    }

    private static void AppendValue(StringBuilder line, ulong raw)
    {
        long signed = (long)raw;
        line.Append(signed is > -65536 and < 1 << 20 ? signed.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"0x{raw:x}"));
    }

    private static void AppendFlags(StringBuilder line, ulong raw, ReadOnlySpan<(ulong Bit, string Name)> names, string none)
    {
        if (raw == 0)
        {
            line.Append(none);
            return;
        }

        bool first = true;
        foreach ((ulong bit, string name) in names)
        {
            if ((raw & bit) != 0)
            {
                line.Append(first ? string.Empty : "|").Append(name);
                raw &= ~bit;
                first = false;
            }
        }

        if (raw != 0)
        {
            line.Append(first ? string.Empty : "|").Append(CultureInfo.InvariantCulture, $"0x{raw:x}");
        }
    }

    private static void AppendMapFlags(StringBuilder line, ulong raw)
    {
        string type = (raw & 0x3) switch { 1 => "MAP_SHARED", 2 => "MAP_PRIVATE", 3 => "MAP_SHARED_VALIDATE", _ => "0" };
        line.Append(type);
        ulong rest = raw & ~0x3UL;
        if (rest != 0)
        {
            line.Append('|');
            AppendFlags(line, rest, [(0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"), (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x1000, "MAP_EXECUTABLE"), (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"), (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"), (0x40000, "MAP_HUGETLB"), (0x100000, "MAP_FIXED_NOREPLACE")], "0");
        }
    }

    private static void AppendFutexOperation(StringBuilder line, uint raw)
    {
        string[] commands = ["FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI", "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2"];
        uint command = raw & 0x7f;
        line.Append(command < commands.Length ? commands[command] : command.ToString(CultureInfo.InvariantCulture));
        if ((raw & 0x80) != 0)
        {
            line.Append("_PRIVATE");
        }

        if ((raw & 0x100) != 0)
        {
            line.Append("|FUTEX_CLOCK_REALTIME");
        }

        uint rest = raw & ~0x1ffu;
        if (rest != 0)
        {
            line.Append(CultureInfo.InvariantCulture, $"|0x{rest:x}");
        }
    }
}
