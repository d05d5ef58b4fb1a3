namespace Donjon.Abstractions.Backends;

/// <summary>Thrown by <see cref="IBackend.LaunchAsync"/> when the backend cannot launch a keep on this machine.</summary>
public sealed class BackendUnavailableException : Exception
{
    /// <summary>Creates the exception with no probe.</summary>
    public BackendUnavailableException() : this("the backend is unavailable", (Exception?)null) { }

    /// <summary>Creates the exception with a message and no probe.</summary>
    /// <param name="message">What is missing.</param>
    public BackendUnavailableException(string message) : this(message, (Exception?)null) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What is missing.</param>
    /// <param name="innerException">The cause.</param>
    public BackendUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from the probe that failed.</summary>
    /// <param name="message">What is missing.</param>
    /// <param name="probe">The probe tree that explains why, with remedies.</param>
    public BackendUnavailableException(string message, Probe probe) : base(message) => Probe = probe;

    /// <summary>The probe tree that explains why, with remedies, when one is known.</summary>
    public Probe? Probe { get; }
}
