namespace Donjon.Abstractions.Keeps;

/// <summary>A running keep: an isolated environment executing one workload.</summary>
/// <remarks>
/// Disposing the keep kills it if it still runs and releases everything the backend made for it
/// (processes, shared memory, files). No process of the keep may outlive its disposal.
/// </remarks>
public interface IKeep : IAsyncDisposable
{
    /// <summary>The port through which the keep's proxied syscalls reach the host.</summary>
    ISyscallPort Port { get; }

    /// <summary>Completes when the keep has ended, with how it ended.</summary>
    Task<KeepExit> Exit { get; }

    /// <summary>Ends the keep at once. Safe to call more than once, and after the keep has ended.</summary>
    void Kill();
}
