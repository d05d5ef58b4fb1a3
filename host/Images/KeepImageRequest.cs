using Donjon.Abstractions.Sessions;
using Donjon.Host.Elf;

namespace Donjon.Host.Images;

/// <summary>Everything <see cref="KeepImageBuilder"/> needs to prepare one launch of a workload.</summary>
/// <param name="Elf">The inspection of <paramref name="FileContents"/>; it must be runnable.</param>
/// <param name="FileContents">
/// The bytes that were inspected (<see cref="WorkloadFile.Contents"/>). The builder checks them against
/// <see cref="ElfReport.Sha256"/> and loads them, never the file again.
/// </param>
/// <param name="WorkloadPath">The workload's path as the user typed it: it becomes <c>AT_EXECFN</c>, and made absolute, <see cref="Donjon.Abstractions.Images.WorkloadIdentity.Path"/>.</param>
/// <param name="Arguments">The workload's argv, argv[0] included (by convention what the user typed as the path).</param>
/// <param name="Environment">The workload's environment as <c>NAME=VALUE</c> strings, already filtered by the policy.</param>
/// <param name="UserId">The user id the workload sees, as both <c>AT_UID</c> and <c>AT_EUID</c> (equal, so the C library does not enter secure mode).</param>
/// <param name="GroupId">The group id the workload sees, as both <c>AT_GID</c> and <c>AT_EGID</c>.</param>
/// <param name="Limits">The keep's limits: stack size and memory size shape the layout.</param>
/// <param name="Seed">The layout seed; <see langword="null"/> draws a fresh one (and makes <c>AT_RANDOM</c> truly random).</param>
/// <param name="Configuration">The keep's configuration page, passed unchanged into the image.</param>
public sealed record KeepImageRequest(
    ElfReport Elf,
    ReadOnlyMemory<byte> FileContents,
    string WorkloadPath,
    IReadOnlyList<string> Arguments,
    IReadOnlyList<string> Environment,
    uint UserId,
    uint GroupId,
    KeepLimits Limits,
    ulong? Seed,
    ReadOnlyMemory<byte> Configuration)
{
    /// <summary>The interpreter of a dynamically linked workload (its <c>PT_INTERP</c>), read by the host; required exactly when <see cref="ElfReport.IsDynamic"/>.</summary>
    public InterpreterFile? Interpreter { get; init; }
}

/// <summary>A dynamic program's interpreter, as the host read it through the keep's file policy.</summary>
/// <param name="KeepPath">The path <c>PT_INTERP</c> names, as the keep sees it.</param>
/// <param name="HostPath">The host file it was read from.</param>
/// <param name="Elf">Its inspection (<see cref="ElfInspector.InspectInterpreter"/>); it must be runnable.</param>
/// <param name="Contents">The bytes that were inspected.</param>
public sealed record InterpreterFile(string KeepPath, string HostPath, ElfReport Elf, ReadOnlyMemory<byte> Contents);
