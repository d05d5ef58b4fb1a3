using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Sessions;

/// <summary>
/// The state of one keep that the host owns and lends to every handler set. Its descriptor table starts with 0, 1
/// and 2 on Donjon's own stdin, stdout and stderr (never closed by the keep). Disposing it closes every descriptor.
/// </summary>
internal sealed class KeepSession : IKeepSession, IDisposable
{
    private readonly FileDescriptorTable _files;

    /// <summary>Creates the session of a keep.</summary>
    /// <param name="workload">The workload the keep runs.</param>
    /// <param name="policy">What the admin granted; its limits size the descriptor table.</param>
    /// <param name="stdio">Donjon's own standard streams.</param>
    /// <param name="logger">The keep's logger (to stderr).</param>
    /// <exception cref="ArgumentException">The policy allows fewer than three descriptors.</exception>
    public KeepSession(WorkloadIdentity workload, KeepPolicy policy, KeepStdio stdio, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(stdio);
        ArgumentNullException.ThrowIfNull(logger);
        if (policy.Limits.MaxOpenFiles < 3)
        {
            throw new ArgumentException($"the keep's descriptor limit is {policy.Limits.MaxOpenFiles}; it must be at least 3 (stdin, stdout, stderr)", nameof(policy));
        }

        Workload = workload;
        Policy = policy;
        Stdio = stdio;
        Logger = logger;
        _files = new FileDescriptorTable(policy.Limits.MaxOpenFiles);
        _files.Set(0, HostOpenFile.ForStdio(stdio.Input, "stdin"));
        _files.Set(1, HostOpenFile.ForStdio(stdio.Output, "stdout"));
        _files.Set(2, HostOpenFile.ForStdio(stdio.Error, "stderr"));
    }

    /// <inheritdoc/>
    public WorkloadIdentity Workload { get; }

    /// <inheritdoc/>
    public IFileDescriptorTable Files => _files;

    /// <inheritdoc/>
    public KeepPolicy Policy { get; }

    /// <inheritdoc/>
    public KeepStdio Stdio { get; }

    /// <inheritdoc/>
    public ILogger Logger { get; }

    /// <inheritdoc/>
    public void Dispose() => _files.Dispose();
}
