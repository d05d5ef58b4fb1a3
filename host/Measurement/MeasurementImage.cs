using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Elf;
using Donjon.Host.Images;
using Donjon.Host.Protocol;

namespace Donjon.Host.Measurement;

/// <summary>
/// Builds the keep image that measurements are computed from: the same path as <c>donjon run</c> (the configuration
/// page from the loaded handler sets, then <see cref="KeepImageBuilder"/>), with the layout fixed by
/// <see cref="Seed"/> and fixed runtime inputs, which no measurement covers.
/// </summary>
internal static class MeasurementImage
{
    /// <summary>The layout seed of every measured keep: a confidential keep is launched with this layout.</summary>
    public const ulong Seed = 0;

    /// <summary>Builds the measurement image of <paramref name="workload"/>.</summary>
    /// <param name="workload">The inspected workload; it must be runnable.</param>
    /// <param name="syscallSets">The loaded handler sets, in load order: they make the configuration page.</param>
    /// <param name="limits">The admin's limits: they size the stack, the heap and the <c>mmap</c> region.</param>
    /// <param name="interpreter">A dynamic program's interpreter, read through the policy (<see cref="DynamicProgramLoader"/>): it is measured with the program.</param>
    /// <param name="moduleSha256">The SHA-256 of the module the workload (an exec layer) runs, bound into the configuration page; <see langword="null"/> for none.</param>
    /// <returns>The image. Its stack holds argv = [the path as given], an empty environment, and user and group 0.</returns>
    /// <exception cref="ArgumentException">A handler set's declarations are invalid.</exception>
    /// <exception cref="KeepImageException">The limits do not fit the address space.</exception>
    /// <param name="trustedManifestSha256">The SHA-256 of the trusted-library manifest the keep runs with (<see cref="LibraryManifest"/>), carried in the configuration page; <see langword="null"/> for none.</param>
    public static KeepImage Build(WorkloadFile workload, IEnumerable<ISyscallHandlerSet> syscallSets, KeepLimits limits, InterpreterFile? interpreter = null, byte[]? trustedManifestSha256 = null, ReadOnlyMemory<byte>? moduleSha256 = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(syscallSets);
        ArgumentNullException.ThrowIfNull(limits);
        MarshallingTable table = ConfigurationPageBuilder.BuildTable(syscallSets.ToList(), limits.Threads, limits.Cpus, moduleSha256);
        return KeepImageBuilder.Build(new KeepImageRequest(
            workload.Report,
            workload.Contents,
            workload.Path,
            [workload.Path],
            [],
            UserId: 0,
            GroupId: 0,
            limits,
            Seed,
            trustedManifestSha256 is null ? table.ConfigurationPage : ConfigurationPageBuilder.WithTrustedManifest(table.ConfigurationPage, trustedManifestSha256)) { Interpreter = interpreter });
    }
}
