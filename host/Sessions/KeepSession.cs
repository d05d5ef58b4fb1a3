using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Microsoft.Extensions.Logging;

namespace Donjon.Host.Sessions;

/// <summary>
/// The state of one keep that the host owns and lends to every handler set. Its descriptor table starts with 0, 1
/// and 2 on Donjon's own stdin, stdout and stderr (never closed by the keep). Its file system
/// (<see cref="IKeepFileSystem"/>) is the policy's mounts, opened when the session is made. Disposing it closes every
/// descriptor and mount and removes the keep's scratch <c>/tmp</c>.
/// </summary>
/// <remarks>Thread-safe, as its descriptor table and file system are.</remarks>
internal sealed class KeepSession : IKeepSession, IKeepFileSystem, IKeepSignalSender, IDisposable
{
    private readonly FileDescriptorTable _files;
    private readonly KeepFileSystem _fileSystem;
    private Func<int, bool>? _signalSender;

    /// <summary>Creates the session of a keep.</summary>
    /// <param name="workload">The workload the keep runs.</param>
    /// <param name="policy">What the admin granted; its limits size the descriptor table.</param>
    /// <param name="stdio">Donjon's own standard streams.</param>
    /// <param name="logger">The keep's logger (to stderr).</param>
    /// <exception cref="ArgumentException">The policy allows fewer than three descriptors.</exception>
    public KeepSession(WorkloadIdentity workload, KeepPolicy policy, KeepStdio stdio, ILogger logger)
        : this(workload, policy, stdio, logger, runtimeBase: null)
    {
    }

    /// <summary>Creates the session of a keep whose private directory goes under <paramref name="runtimeBase"/>.</summary>
    /// <param name="workload">The workload the keep runs.</param>
    /// <param name="policy">What the admin granted; its limits size the descriptor table.</param>
    /// <param name="stdio">Donjon's own standard streams.</param>
    /// <param name="logger">The keep's logger (to stderr).</param>
    /// <param name="runtimeBase">Donjon's runtime directory; the user's default when null.</param>
    internal KeepSession(WorkloadIdentity workload, KeepPolicy policy, KeepStdio stdio, ILogger logger, string? runtimeBase)
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
        _fileSystem = new KeepFileSystem(policy, logger, runtimeBase);
    }

    /// <inheritdoc/>
    public WorkloadIdentity Workload { get; }

    /// <summary>Where <see cref="Send"/> goes once the keep runs (the keep's signal forwarding); until then it says no.</summary>
    internal void ConnectSignals(Func<int, bool> sender) => Volatile.Write(ref _signalSender, sender);

    /// <inheritdoc/>
    public bool Send(int signal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64);
        return Volatile.Read(ref _signalSender) is { } sender && sender(signal);
    }

    /// <inheritdoc/>
    public IFileDescriptorTable Files => _files;

    /// <inheritdoc/>
    public KeepPolicy Policy { get; }

    /// <inheritdoc/>
    public KeepStdio Stdio { get; }

    /// <inheritdoc/>
    public ILogger Logger { get; }

    /// <inheritdoc/>
    public IReadOnlyList<KeepMount> Mounts => _fileSystem.Mounts;

    /// <inheritdoc/>
    public string WorkingDirectory => _fileSystem.WorkingDirectory;

    /// <inheritdoc/>
    public int Umask => _fileSystem.Umask;

    /// <summary>The keep's private directory on the host (skeleton root and scratch /tmp), when it has one.</summary>
    internal string? RuntimeDirectory => _fileSystem.RuntimeDirectory;

    /// <inheritdoc/>
    public void SetWorkingDirectory(string keepPath) => _fileSystem.SetWorkingDirectory(keepPath);

    /// <inheritdoc/>
    public int ExchangeUmask(int mask) => _fileSystem.ExchangeUmask(mask);

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            _files.Dispose();
        }
        finally
        {
            _fileSystem.Dispose();
        }
    }
}
