namespace Donjon.Abstractions.Keeps;

/// <summary>
/// The host's side of a keep's shared block: the memory that carries syscall requests and replies,
/// and the doorbells that signal them. Its layout is defined in <c>docs/protocol.md</c>.
/// </summary>
/// <remarks>
/// Everything in <see cref="SharedBlock"/> is untrusted: the keep may change it at any moment. The host
/// copies a request out before it checks it, and never follows a pointer found in it.
/// </remarks>
public interface ISyscallPort
{
    /// <summary>The shared block. Untrusted, and writable by the keep at any time.</summary>
    Memory<byte> SharedBlock { get; }

    /// <summary>
    /// Waits until the keep rings the host's doorbell. Spins briefly, then blocks without burning a core.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns><see langword="true"/> when a request is ready; <see langword="false"/> when the keep has ended.</returns>
    ValueTask<bool> WaitForRequestAsync(CancellationToken cancellationToken);

    /// <summary>Rings the keep's doorbell: the reply in <see cref="SharedBlock"/> is complete.</summary>
    void CompleteRequest();
}
