using Donjon.Abstractions.Sessions;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Host.Sessions;

/// <summary>
/// An open file of a keep backed by a host descriptor. It closes the descriptor when disposed only when it owns it,
/// so the wrappers of Donjon's own stdin, stdout and stderr never close them.
/// </summary>
internal sealed class HostOpenFile : IOpenFile
{
    private readonly SafeFileHandle _handle;

    /// <summary>Wraps host descriptor <paramref name="hostDescriptor"/>.</summary>
    /// <param name="hostDescriptor">The host descriptor.</param>
    /// <param name="description">What the file is, for logs: <c>stdout</c>, <c>/etc/hosts</c>...</param>
    /// <param name="ownsDescriptor">Whether disposing closes the descriptor; <see langword="false"/> for Donjon's own stdio.</param>
    public HostOpenFile(int hostDescriptor, string description, bool ownsDescriptor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hostDescriptor);
        ArgumentNullException.ThrowIfNull(description);
        _handle = new SafeFileHandle(hostDescriptor, ownsDescriptor);
        HostDescriptor = hostDescriptor;
        Description = description;
        OwnsDescriptor = ownsDescriptor;
    }

    /// <inheritdoc/>
    public int HostDescriptor { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>Whether disposing closes <see cref="HostDescriptor"/>.</summary>
    public bool OwnsDescriptor { get; }

    /// <summary>The descriptor as a handle, for .NET I/O APIs (<c>RandomAccess</c>, <c>FileStream</c>).</summary>
    public SafeFileHandle Handle => _handle;

    /// <summary>Whether the file has been disposed.</summary>
    public bool IsDisposed => _handle.IsClosed;

    /// <summary>Wraps one of Donjon's own standard streams, which disposing never closes.</summary>
    /// <param name="hostDescriptor">The host descriptor.</param>
    /// <param name="description"><c>stdin</c>, <c>stdout</c> or <c>stderr</c>.</param>
    /// <returns>The open file.</returns>
    public static HostOpenFile ForStdio(int hostDescriptor, string description) => new(hostDescriptor, description, ownsDescriptor: false);

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"{Description} (host fd {HostDescriptor})";
}
