using System.Globalization;
using Donjon.Abstractions.Keeps;
using Donjon.Host.Execution;

namespace Donjon.Host.Cli;

/// <summary>Donjon's exit status for a run, the lines it prints on stderr, and the warnings it logs.</summary>
/// <param name="Status">Donjon's exit status.</param>
/// <param name="Messages">Lines for stderr, in order.</param>
/// <param name="Warnings">Warnings for the log (the keep's report disagreed with how its process ended).</param>
internal sealed record Verdict(int Status, IReadOnlyList<string> Messages, IReadOnlyList<string> Warnings);

/// <summary>
/// Turns how a keep ended into Donjon's verdict. The keep's items are the keep's word, and in a process keep the
/// workload can write them itself; so when the backend knows how the keep's process ended (its wait status: an exit
/// status, or <see cref="KeepExit.Signal"/>), that decides, and a report that disagrees only earns a warning. Items
/// decide only when the backend knows no status (a VM keep whose status did not fit QEMU's exit code).
/// </summary>
internal static class KeepVerdict
{
    /// <summary>SIGSYS: what the process shim dies of when its seccomp filter kills it.</summary>
    public const int SigSys = 31;

    /// <summary>SIGKILL: a keep that dies of it was killed from outside (its default action cannot be chosen).</summary>
    public const int SigKill = 9;

    /// <summary>Decides the verdict.</summary>
    /// <param name="elf">The workload's path as typed.</param>
    /// <param name="outcome">What the executor saw, or <see langword="null"/> when it was cancelled.</param>
    /// <param name="exit">How the backend says the keep ended.</param>
    /// <param name="interruptedBy">The signal (SIGINT, SIGTERM) that made Donjon stop the keep, if one did.</param>
    /// <param name="killedAfterReport">Whether the keep had to be killed after its grace period (<see cref="KeepGrace"/>).</param>
    /// <param name="locate">Where an instruction address lies in the program ("at main+0x1c in ./hello"), for the fault line; none by default.</param>
    public static Verdict Decide(string elf, ExecutorOutcome? outcome, KeepExit exit, int? interruptedBy, bool killedAfterReport, Func<ulong, string>? locate = null)
    {
        ArgumentNullException.ThrowIfNull(exit);
        var messages = new List<string>();
        var warnings = new List<string>();
        KeepFault? fault = outcome?.Fault;
        int? reportedStatus = outcome?.ExitStatus;
        string? report = fault is not null
            ? string.Create(CultureInfo.InvariantCulture, $"a fault ({fault.Description}, signal {fault.Signal})")
            : reportedStatus is int r ? string.Create(CultureInfo.InvariantCulture, $"an exit with status {r}") : null;

        if (interruptedBy is int interrupt && report is null)
        {
            messages.Add(string.Create(CultureInfo.InvariantCulture, $"donjon: {elf}: interrupted by signal {interrupt}; the keep was stopped"));
            return new Verdict(ExitCodes.SignalBase + interrupt, messages, warnings);
        }

        if (killedAfterReport)
        {
            messages.Add(string.Create(CultureInfo.InvariantCulture,
                $"donjon: the keep of {elf} reported {report} but did not end within {KeepGrace.Period.TotalSeconds:0} s; Donjon stopped serving it and killed it"));
        }

        if (exit.Signal is int signal)
        {
            if (fault is not null && fault.Signal == signal)
            {
                messages.Add(FaultLine(elf, fault, locate) + " (reported by the keep)");
                return new Verdict(ExitCodes.SignalBase + signal, messages, warnings);
            }

            if (report is not null)
            {
                warnings.Add(Disagreement(report, string.Create(CultureInfo.InvariantCulture, $"its process was killed by signal {signal}")));
            }
            else if (signal == SigSys)
            {
                messages.Add($"donjon: {elf}: the keep was killed by its seccomp filter (SIGSYS): the program, or code it jumped into, made a system call the shim may not make");
                return new Verdict(ExitCodes.SignalBase + signal, messages, warnings);
            }

            // The program died of a signal's default action (abort, SIGPIPE, an unhandled SIGINT...): silent, as a
            // shell's pipeline is and as the VM keep is. SIGKILL can only come from outside: say so.
            if (!killedAfterReport && signal == SigKill)
            {
                messages.Add(string.Create(CultureInfo.InvariantCulture, $"donjon: the keep of {elf} was killed by signal {signal} (SIGKILL), from outside the keep"));
            }

            return new Verdict(ExitCodes.SignalBase + signal, messages, warnings);
        }

        if (exit.ExitStatus is int status)
        {
            if (fault is not null && status == ExitCodes.SignalBase + fault.Signal)
            {
                // A shim that reports a fault and then exits with 128 + its signal (the VM shim does).
                messages.Add(FaultLine(elf, fault, locate));
                return new Verdict(status, messages, warnings);
            }

            if (report is not null)
            {
                if (fault is not null || reportedStatus != status)
                {
                    warnings.Add(Disagreement(report, string.Create(CultureInfo.InvariantCulture, $"its process exited with status {status}")));
                }

                return new Verdict(status, messages, warnings);
            }

            // What a shim's own status means is its backend's knowledge (the process backend's ShimExitStatus): the
            // backend says it in the reason.
            messages.Add(exit.Reason is string reason
                ? $"donjon: {reason}"
                : string.Create(CultureInfo.InvariantCulture, $"donjon: the keep of {elf} ended with status {status} without the workload reporting an exit"));
            return new Verdict(ExitCodes.CannotRun, messages, warnings);
        }

        // The backend knows no status (a VM keep's status too large for QEMU's exit code): the keep's items decide.
        if (fault is not null)
        {
            messages.Add(FaultLine(elf, fault, locate));
            return new Verdict(ExitCodes.SignalBase + fault.Signal, messages, warnings);
        }

        if (reportedStatus is int reported)
        {
            return new Verdict(reported & 0xff, messages, warnings);
        }

        messages.Add($"donjon: the keep of {elf} ended abnormally: {exit.Reason ?? "no reason given"}");
        return new Verdict(ExitCodes.CannotRun, messages, warnings);
    }

    private static string FaultLine(string elf, KeepFault fault, Func<ulong, string>? locate) => string.Create(CultureInfo.InvariantCulture,
        $"donjon: {elf} faulted in the keep: {fault.Description} (signal {fault.Signal}, address 0x{fault.Address:x}, instruction 0x{fault.InstructionPointer:x}){(locate is null ? "" : " " + locate(fault.InstructionPointer))}");

    /// <summary>
    /// Where <paramref name="instruction"/> lies: "at main+0x1c in ./hello (ELF address 0x1139)" with the nearest
    /// symbol, "at ELF address 0x1139 in ./hello (no symbol table)" without, or "outside ./hello's image".
    /// </summary>
    /// <param name="elf">The program's path as typed.</param>
    /// <param name="loadBase">Where the program's virtual address 0 was loaded.</param>
    /// <param name="imageEnd">The end of its highest segment, as an ELF virtual address.</param>
    /// <param name="symbols">Its symbols.</param>
    /// <param name="instruction">The faulting instruction's address.</param>
    public static string Locate(string elf, ulong loadBase, ulong imageEnd, Elf.ElfSymbols symbols, ulong instruction)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        if (instruction < loadBase || instruction - loadBase >= imageEnd)
        {
            return $"outside {elf}'s image (load base 0x{loadBase:x})";
        }

        ulong address = instruction - loadBase;
        if (symbols.Find(address) is ({ } name, ulong offset))
        {
            return string.Create(CultureInfo.InvariantCulture, $"at {name}+0x{offset:x} in {elf} (ELF address 0x{address:x})");
        }

        return string.Create(CultureInfo.InvariantCulture, $"at ELF address 0x{address:x} in {elf} ({(symbols.Any ? "no symbol covers it" : "no symbol table")})");
    }

    private static string Disagreement(string report, string truth) =>
        $"The keep's report disagreed with how its process ended: it reported {report}, but {truth}; Donjon trusts the process status";
}
