using Donjon.Host.Elf;
using Donjon.Host.Files;

namespace Donjon.Host.Cli;

/// <summary>Finds and inspects a workload path the user gave, with the exit status for each way it can fail.</summary>
internal static class WorkloadLocator
{
    /// <summary>
    /// Reads and inspects <paramref name="path"/> (once: the bytes inspected are the bytes loaded). When it is missing (127) or not a file (126), writes why to
    /// <paramref name="stderr"/> and returns no report.
    /// </summary>
    public static async Task<(WorkloadFile? Workload, int Status)> LoadAsync(string path, TextWriter stderr)
    {
        FileKind? kind = RegularFile.KindOf(path);
        if (kind == FileKind.Directory)
        {
            await stderr.WriteLineAsync($"donjon: {path}: is a directory, not a program. Give the path of a static-PIE x86-64 executable.").ConfigureAwait(false);
            return (null, ExitCodes.CannotRun);
        }

        if (kind is { } other && other != FileKind.Regular)
        {
            // Opening a FIFO or a device to read it could block Donjon for ever; it is refused without opening it.
            await stderr.WriteLineAsync($"donjon: {path}: is {RegularFile.Describe(other)}, not a regular file. Give the path of a static-PIE x86-64 executable.").ConfigureAwait(false);
            return (null, ExitCodes.CannotRun);
        }

        if (kind is null)
        {
            await stderr.WriteLineAsync($"donjon: {path}: no such file. Check the path (it is relative to the current directory: {Environment.CurrentDirectory}).").ConfigureAwait(false);
            return (null, ExitCodes.NotFound);
        }

        WorkloadFile workload;
        try
        {
            workload = ElfInspector.Load(path);
        }
        catch (FileNotFoundException)
        {
            await stderr.WriteLineAsync($"donjon: {path}: no such file.").ConfigureAwait(false);
            return (null, ExitCodes.NotFound);
        }

        return (workload, ExitCodes.Success);
    }
}
