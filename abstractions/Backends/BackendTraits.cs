namespace Donjon.Abstractions.Backends;

/// <summary>Properties of a backend that are fixed for its whole lifetime.</summary>
/// <param name="Shape">Whether the keep is a process or a virtual machine.</param>
/// <param name="IsConfidential">
/// Whether the keep's memory is protected from the host by hardware (SGX, SEV-SNP). A keep that is not
/// confidential still keeps the same trust boundary in software, but the host can read its memory.
/// </param>
/// <param name="Description">One line that tells an admin what the backend is.</param>
public sealed record BackendTraits(KeepShape Shape, bool IsConfidential, string Description);

/// <summary>The shape of a keep.</summary>
public enum KeepShape
{
    /// <summary>The keep is a host process (the shape of an SGX enclave).</summary>
    Process = 0,

    /// <summary>The keep is a virtual machine (the shape of an SEV guest).</summary>
    VirtualMachine = 1,
}
