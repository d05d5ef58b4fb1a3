namespace Donjon.Host.Images;

/// <summary>
/// A keep image cannot be built for a workload that was accepted as runnable, because of what the user or the
/// admin asked for (arguments too large for the stack, limits that do not fit the address space). The message
/// says what was wrong and what to change; the CLI reports it as "cannot run" (126).
/// </summary>
public sealed class KeepImageException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public KeepImageException()
        : base("the keep image cannot be built")
    {
    }

    /// <summary>Creates the exception with a message that says what was wrong and what to change.</summary>
    public KeepImageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public KeepImageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
