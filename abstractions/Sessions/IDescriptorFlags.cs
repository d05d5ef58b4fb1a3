namespace Donjon.Abstractions.Sessions;

/// <summary>
/// The per-number descriptor flags of a descriptor table (<c>FD_CLOEXEC</c>), which <c>fcntl(F_GETFD/F_SETFD)</c>
/// read and write. An <see cref="IFileDescriptorTable"/> may implement it. <b>Default when a table does not:</b>
/// <c>F_GETFD</c> answers 0 and <c>F_SETFD</c> is accepted without effect (a keep never executes another program).
/// </summary>
/// <remarks>
/// Implementations are safe to use from several threads. A number's flags are cleared whenever the number is
/// closed or made to refer to another file (<see cref="IFileDescriptorTable.Set"/>, <see cref="IFileDescriptorTable.Add"/>).
/// </remarks>
public interface IDescriptorFlags
{
    /// <summary>The flags of <paramref name="descriptor"/>.</summary>
    /// <param name="descriptor">The keep descriptor number, untrusted.</param>
    /// <returns>The flags, or -1 when the number is not open.</returns>
    int GetDescriptorFlags(int descriptor);

    /// <summary>Sets the flags of <paramref name="descriptor"/>.</summary>
    /// <param name="descriptor">The keep descriptor number, untrusted.</param>
    /// <param name="flags">The flags (<c>FD_CLOEXEC</c> is 1).</param>
    /// <returns>Whether the number is open.</returns>
    bool SetDescriptorFlags(int descriptor, int flags);
}
