using System.Diagnostics;
using System.Globalization;
using System.Text;
using Donjon.Abstractions.Syscalls;

namespace Donjon.Host.Execution;

/// <summary>What <c>run --strace</c> prints.</summary>
internal enum StraceMode
{
    /// <summary>One line per proxied syscall, as it completes.</summary>
    Lines,

    /// <summary>A <c>strace -c</c> table at exit.</summary>
    Summary,
}

/// <summary>
/// <c>run --strace</c>: every syscall of the keep, one line each in strace's style —
/// <c>[slot 0] write(1, "hi\n", 3) = 3 &lt;core&gt;</c> — or counted for a table at exit: those the host serves (those
/// that reach a handler set, and undeclared ones), and those the shim serves itself (memory, futex, signals, thread
/// ids, marked <c>&lt;shim&gt;</c>), which the shim reports in TRACE items when the configuration page asks it to.
/// </summary>
/// <remarks>
/// The keep is untrusted: every byte it sent is shown escaped (no control character reaches the terminal), and a
/// buffer is cut at <see cref="MaxShown"/> bytes, as strace's default <c>-s 32</c> does.
/// </remarks>
internal sealed class SyscallTrace(TextWriter output, StraceMode mode)
{
    /// <summary>The most bytes of one buffer a line shows.</summary>
    public const int MaxShown = 32;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Counts> _counts = new(StringComparer.Ordinal);

    public StraceMode Mode => mode;

    /// <summary>A call a handler set answered: its arguments as the shim sent them, its outputs as the set returned them.</summary>
    public void Served(int slot, SyscallRequest request, long value, IReadOnlyList<SyscallOutput>? outputs, string servedBy, long startTimestamp)
    {
        long elapsed = Stopwatch.GetTimestamp() - startTimestamp;
        if (mode == StraceMode.Summary)
        {
            Count($"{request.Signature.Name} ({servedBy})", value, elapsed);
            return;
        }

        var line = new StringBuilder(96);
        line.Append(CultureInfo.InvariantCulture, $"[slot {slot}] ").Append(request.Signature.Name).Append('(');
        IReadOnlyList<SyscallArgument> arguments = request.Signature.Arguments;
        for (int i = 0; i < arguments.Count; i++)
        {
            if (i > 0)
            {
                line.Append(", ");
            }

            AppendArgument(line, arguments[i], request, i, outputs, value);
        }

        line.Append(") = ");
        AppendResult(line, value);
        line.Append(" <").Append(servedBy).Append('>');
        Write(line.ToString());
    }

    /// <summary>
    /// A call the shim served itself (a TRACE item): its number, arguments and result are the keep's word, shown as
    /// values (the shim sends no memory), marked <c>&lt;shim&gt;</c>. The shim sends it after the call, on the
    /// caller's slot, so it comes in order with that thread's proxied calls. Its time is not known, so the summary
    /// counts it with no time.
    /// </summary>
    public void ShimServed(int slot, uint number, IReadOnlyList<ulong> arguments, long value)
    {
        if (mode == StraceMode.Summary)
        {
            string name = SyscallNames.Find(number) ?? string.Create(CultureInfo.InvariantCulture, $"syscall_{number}");
            Count($"{name} (shim)", value, 0);
            return;
        }

        var line = new StringBuilder(96);
        line.Append(CultureInfo.InvariantCulture, $"[slot {slot}] ");
        bool address = ShimCallFormat.AppendCall(line, number, arguments);
        line.Append(" = ");
        if (address && value is not (< 0 and >= -4095))
        {
            line.Append(CultureInfo.InvariantCulture, $"0x{(ulong)value:x}");
        }
        else
        {
            AppendResult(line, value);
        }

        line.Append(" <shim>");
        Write(line.ToString());
    }

    /// <summary>A call no handler set declares, answered ENOSYS; the host does not decode its arguments.</summary>
    public void Unserved(int slot, uint number)
    {
        string name = SyscallNames.Find(number) ?? string.Create(CultureInfo.InvariantCulture, $"syscall_{number}");
        if (mode == StraceMode.Summary)
        {
            Count($"{name} (unserved)", -38, 0);
            return;
        }

        Write(string.Create(CultureInfo.InvariantCulture, $"[slot {slot}] {name}(...) = -1 ENOSYS (Function not implemented) <unserved>"));
    }

    /// <summary>The <c>strace -c</c> table (for <see cref="StraceMode.Summary"/>); nothing in the line mode.</summary>
    public void WriteSummary()
    {
        if (mode != StraceMode.Summary)
        {
            return;
        }

        List<(string Name, Counts Counts)> rows;
        lock (_lock)
        {
            rows = _counts.Select(pair => (pair.Key, pair.Value)).OrderByDescending(row => row.Value.Ticks).ThenByDescending(row => row.Value.Calls).ThenBy(row => row.Key, StringComparer.Ordinal).ToList();
        }

        long totalTicks = rows.Sum(row => row.Counts.Ticks);
        long totalCalls = rows.Sum(row => row.Counts.Calls);
        long totalErrors = rows.Sum(row => row.Counts.Errors);
        var text = new StringBuilder();
        const string Rule = "------ ----------- ----------- --------- --------- ----------------";
        text.Append("% time     seconds  usecs/call     calls    errors syscall (served by)\n").Append(Rule).Append('\n');
        foreach ((string name, Counts counts) in rows)
        {
            double share = totalTicks == 0 ? 0 : 100.0 * counts.Ticks / totalTicks;
            double seconds = (double)counts.Ticks / Stopwatch.Frequency;
            long perCall = counts.Calls == 0 ? 0 : (long)(seconds * 1e6 / counts.Calls);
            string errors = counts.Errors == 0 ? string.Empty : counts.Errors.ToString(CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"{share,6:0.00} {seconds,11:0.000000} {perCall,11} {counts.Calls,9} {errors,9} {name}\n");
        }

        text.Append(Rule).Append('\n');
        double totalSeconds = (double)totalTicks / Stopwatch.Frequency;
        long totalPerCall = totalCalls == 0 ? 0 : (long)(totalSeconds * 1e6 / totalCalls);
        string totalErrorText = totalErrors == 0 ? string.Empty : totalErrors.ToString(CultureInfo.InvariantCulture);
        text.Append(CultureInfo.InvariantCulture, $"{100.0,6:0.00} {totalSeconds,11:0.000000} {totalPerCall,11} {totalCalls,9} {totalErrorText,9} total\n");
        lock (_lock)
        {
            output.Write(text.ToString());
            output.Flush();
        }
    }

    private void Count(string key, long value, long ticks)
    {
        lock (_lock)
        {
            if (!_counts.TryGetValue(key, out Counts? counts))
            {
                counts = new Counts();
                _counts[key] = counts;
            }

            counts.Calls++;
            counts.Ticks += ticks;
            if (value is < 0 and >= -4095)
            {
                counts.Errors++;
            }
        }
    }

    private void Write(string line)
    {
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private static void AppendArgument(StringBuilder line, SyscallArgument argument, SyscallRequest request, int index, IReadOnlyList<SyscallOutput>? outputs, long value)
    {
        switch (argument.Kind)
        {
            case ArgumentKind.Value:
            case ArgumentKind.ValueResultLength when request.Input(index).Length == 0:
                AppendValue(line, request.Argument(index));
                break;

            case ArgumentKind.CString:
                AppendBytes(line, TrimNul(request.Input(index).Span), MaxShown * 8);
                break;

            case ArgumentKind.InputBuffer when argument.FixedSize > 0 && request.Input(index).Length == 0:
                line.Append("NULL");        // a buffer of fixed size that came empty: the pointer was NULL
                break;

            case ArgumentKind.InputBuffer:
            case ArgumentKind.InputIovec:
            case ArgumentKind.InputArray:
                AppendBytes(line, request.Input(index).Span, MaxShown);
                break;

            default:
                // Output or in-out: strace shows what the call left there, here what the handler set returned. A
                // failed call leaves nothing.
                ReadOnlyMemory<byte>? returned = null;
                foreach (SyscallOutput o in outputs ?? [])
                {
                    if (o.ArgumentIndex == index)
                    {
                        returned = o.Data;
                    }
                }

                if (returned is { } data && value >= 0)
                {
                    AppendBytes(line, data.Span, MaxShown);
                }
                else if (request.Input(index).Length > 0)
                {
                    AppendBytes(line, request.Input(index).Span, MaxShown);
                }
                else
                {
                    line.Append("...");
                }

                break;
        }
    }

    /// <summary>A value as strace shows an integer it cannot type: small ones (and small negatives, such as AT_FDCWD) in decimal, the rest in hex.</summary>
    private static void AppendValue(StringBuilder line, ulong raw)
    {
        long signed = (long)raw;
        if (signed is > -65536 and < 1 << 20)
        {
            line.Append(signed.ToString(CultureInfo.InvariantCulture));
        }
        else if ((int)raw is var narrow && narrow is > -65536 and < 0 && raw >> 32 == 0)
        {
            line.Append(narrow.ToString(CultureInfo.InvariantCulture));  // an int argument passed in a 32-bit register
        }
        else
        {
            line.Append(CultureInfo.InvariantCulture, $"0x{raw:x}");
        }
    }

    private static ReadOnlySpan<byte> TrimNul(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return nul >= 0 ? bytes[..nul] : bytes;
    }

    /// <summary>Bytes as a C string literal, as strace prints them: printable ASCII as is, the rest escaped.</summary>
    internal static void AppendBytes(StringBuilder line, ReadOnlySpan<byte> bytes, int max)
    {
        line.Append('"');
        int shown = Math.Min(bytes.Length, max);
        for (int i = 0; i < shown; i++)
        {
            byte b = bytes[i];
            switch (b)
            {
                case (byte)'"': line.Append("\\\""); break;
                case (byte)'\\': line.Append("\\\\"); break;
                case (byte)'\n': line.Append("\\n"); break;
                case (byte)'\t': line.Append("\\t"); break;
                case (byte)'\r': line.Append("\\r"); break;
                case >= 0x20 and < 0x7f: line.Append((char)b); break;
                default: line.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}"); break;
            }
        }

        line.Append('"');
        if (bytes.Length > shown)
        {
            line.Append("...");
        }
    }

    private static void AppendResult(StringBuilder line, long value)
    {
        if (value is < 0 and >= -4095)
        {
            int errno = (int)-value;
            line.Append("-1 ").Append(ErrnoNames.Name(errno));
            if (ErrnoNames.Meaning(errno) is { } meaning)
            {
                line.Append(" (").Append(meaning).Append(')');
            }
        }
        else
        {
            AppendValue(line, (ulong)value);
        }
    }

    private sealed class Counts
    {
        public long Calls;
        public long Errors;
        public long Ticks;
    }
}

/// <summary>Linux's errno names and messages, for <c>--strace</c>.</summary>
internal static class ErrnoNames
{
    private static readonly Dictionary<int, (string Name, string Meaning)> Known = new()
    {
        [1] = ("EPERM", "Operation not permitted"),
        [2] = ("ENOENT", "No such file or directory"),
        [3] = ("ESRCH", "No such process"),
        [4] = ("EINTR", "Interrupted system call"),
        [5] = ("EIO", "Input/output error"),
        [6] = ("ENXIO", "No such device or address"),
        [7] = ("E2BIG", "Argument list too long"),
        [9] = ("EBADF", "Bad file descriptor"),
        [10] = ("ECHILD", "No child processes"),
        [11] = ("EAGAIN", "Resource temporarily unavailable"),
        [12] = ("ENOMEM", "Cannot allocate memory"),
        [13] = ("EACCES", "Permission denied"),
        [14] = ("EFAULT", "Bad address"),
        [16] = ("EBUSY", "Device or resource busy"),
        [17] = ("EEXIST", "File exists"),
        [18] = ("EXDEV", "Invalid cross-device link"),
        [19] = ("ENODEV", "No such device"),
        [20] = ("ENOTDIR", "Not a directory"),
        [21] = ("EISDIR", "Is a directory"),
        [22] = ("EINVAL", "Invalid argument"),
        [23] = ("ENFILE", "Too many open files in system"),
        [24] = ("EMFILE", "Too many open files"),
        [25] = ("ENOTTY", "Inappropriate ioctl for device"),
        [27] = ("EFBIG", "File too large"),
        [28] = ("ENOSPC", "No space left on device"),
        [29] = ("ESPIPE", "Illegal seek"),
        [30] = ("EROFS", "Read-only file system"),
        [31] = ("EMLINK", "Too many links"),
        [32] = ("EPIPE", "Broken pipe"),
        [33] = ("EDOM", "Numerical argument out of domain"),
        [34] = ("ERANGE", "Numerical result out of range"),
        [36] = ("ENAMETOOLONG", "File name too long"),
        [38] = ("ENOSYS", "Function not implemented"),
        [39] = ("ENOTEMPTY", "Directory not empty"),
        [40] = ("ELOOP", "Too many levels of symbolic links"),
        [61] = ("ENODATA", "No data available"),
        [75] = ("EOVERFLOW", "Value too large for defined data type"),
        [88] = ("ENOTSOCK", "Socket operation on non-socket"),
        [95] = ("EOPNOTSUPP", "Operation not supported"),
        [97] = ("EAFNOSUPPORT", "Address family not supported by protocol"),
        [98] = ("EADDRINUSE", "Address already in use"),
        [104] = ("ECONNRESET", "Connection reset by peer"),
        [107] = ("ENOTCONN", "Transport endpoint is not connected"),
        [110] = ("ETIMEDOUT", "Connection timed out"),
        [111] = ("ECONNREFUSED", "Connection refused"),
        [115] = ("EINPROGRESS", "Operation now in progress"),
        [512] = ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    };

    public static string Name(int errno) => Known.TryGetValue(errno, out var known) ? known.Name : string.Create(CultureInfo.InvariantCulture, $"E{errno}");

    public static string? Meaning(int errno) => Known.TryGetValue(errno, out var known) ? known.Meaning : null;
}
