using Microsoft.Extensions.Logging;

namespace Donjon.Abstractions.Sessions;

/// <summary>
/// The state of one keep that the host owns and lends to every handler set: one descriptor table for all of them,
/// the admin's policy, the keep's stdio and a logger.
/// </summary>
public interface IKeepSession
{
    /// <summary>The workload the keep runs.</summary>
    Images.WorkloadIdentity Workload { get; }

    /// <summary>The keep's descriptor table, shared by every handler set (stdio, files, sockets...).</summary>
    IFileDescriptorTable Files { get; }

    /// <summary>The policy the admin granted this keep. Everything it does not grant is denied.</summary>
    KeepPolicy Policy { get; }

    /// <summary>Donjon's own standard streams, which the keep's descriptors 0, 1 and 2 start as.</summary>
    KeepStdio Stdio { get; }

    /// <summary>The keep's logger; it writes to Donjon's stderr, never to the workload's stdout.</summary>
    ILogger Logger { get; }
}

/// <summary>Donjon's own standard streams as host descriptors.</summary>
/// <param name="Input">The host descriptor of Donjon's stdin.</param>
/// <param name="Output">The host descriptor of Donjon's stdout.</param>
/// <param name="Error">The host descriptor of Donjon's stderr.</param>
public sealed record KeepStdio(int Input, int Output, int Error);
