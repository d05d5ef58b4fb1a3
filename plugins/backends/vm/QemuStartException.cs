namespace Donjon.Backends.Vm;

/// <summary>QEMU failed before the guest booted; <see cref="VmBackend"/> tries again.</summary>
internal sealed class QemuStartException : Exception
{
    public QemuStartException()
    {
    }

    public QemuStartException(string message) : base(message)
    {
    }

    public QemuStartException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
