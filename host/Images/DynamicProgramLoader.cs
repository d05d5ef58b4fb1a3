using Donjon.Abstractions.Sessions;
using Donjon.Host.Elf;

namespace Donjon.Host.Images;

/// <summary>
/// Before a dynamic program's keep is built: reads its interpreter (<c>PT_INTERP</c>) through the keep's mounts, and
/// checks that every library of its <c>DT_NEEDED</c> closure is there too, so that a missing grant is refused with one
/// line naming the file and the grant it needs, instead of the interpreter's error inside the keep.
/// </summary>
internal static class DynamicProgramLoader
{
    /// <summary>Reads and checks the interpreter and the libraries of <paramref name="program"/> under <paramref name="files"/>.</summary>
    /// <param name="program">The inspected program; <see cref="ElfReport.IsDynamic"/>.</param>
    /// <param name="programPath">The program's host path (for <c>$ORIGIN</c>).</param>
    /// <param name="files">The keep's file grants.</param>
    /// <param name="environment">The keep's environment.</param>
    /// <param name="problem">Why it cannot run, in one line, when the result is <see langword="null"/>.</param>
    public static InterpreterFile? Prepare(ElfReport program, string programPath, IReadOnlyList<FileGrant> files, IReadOnlyList<string> environment, out string? problem)
    {
        string interpreterPath = program.InterpreterPath!;
        var view = new KeepFileView(files);
        KeepFileRead read = view.Read(interpreterPath);
        if (read.Contents is not { } bytes)
        {
            string grant = read.IsUngranted
                ? $"run with --libraries system, or add {KeepFileRead.GrantFor(interpreterPath)} to policy.files"
                : read.IsMissing ? "install the program's C library (its interpreter), or grant the folder that holds it" : "check the grant that holds it";
            problem = $"its interpreter {interpreterPath} (PT_INTERP) is {(read.IsUngranted ? "not granted to the keep" : "not available in the keep")}: {read.Problem}; {grant}";
            return null;
        }

        ElfReport interpreter = ElfInspector.InspectInterpreter(bytes, interpreterPath);
        if (!interpreter.IsRunnable)
        {
            problem = $"its interpreter {interpreterPath} (PT_INTERP, host file {read.HostPath}) cannot be loaded: {interpreter.Verdict.RejectionReason}";
            return null;
        }

        // musl's loader is its C library too (its DT_NEEDED libc.so is itself) and searches its own path file; its
        // libraries are left to it, and a missing one is its own error line.
        bool isMusl = interpreterPath.Contains("ld-musl", StringComparison.Ordinal);
        LibraryClosure closure = isMusl ? new LibraryClosure([], []) : LibraryResolver.Resolve(program, Path.GetFullPath(programPath), view, environment);
        if (closure.Problems.Count > 0)
        {
            problem = closure.Problems[0].Describe();
            return null;
        }

        problem = null;
        return new InterpreterFile(interpreterPath, read.HostPath!, interpreter, bytes);
    }
}
