using Donjon.Abstractions.Sessions;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Syscalls.Files;

/// <summary>
/// An open file the files set made: a host descriptor it owns, and where the keep opened it (a mount and a keep
/// path), so that <c>openat</c> relative to a directory descriptor, <c>fchdir</c> and the write checks of
/// <c>fchmod</c>/<c>futimens</c> know its mount. Pipes and devices have no mount.
/// </summary>
/// <remarks>Immutable; disposing closes the host descriptor once (the table disposes it when its last number goes).</remarks>
internal sealed class KeepFile : IOpenFile
{
    private readonly SafeFileHandle _handle;

    /// <summary>Wraps host descriptor <paramref name="hostDescriptor"/>, which it now owns.</summary>
    public KeepFile(int hostDescriptor, string description, string? keepPath, KeepMount? mount, bool isDirectory)
    {
        _handle = new SafeFileHandle(hostDescriptor, ownsHandle: true);
        HostDescriptor = hostDescriptor;
        Description = description;
        KeepPath = keepPath;
        Mount = mount;
        IsDirectory = isDirectory;
    }

    /// <inheritdoc/>
    public int HostDescriptor { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>The normalised keep path it was opened by; <see langword="null"/> for a pipe.</summary>
    public string? KeepPath { get; }

    /// <summary>The mount it lies in; <see langword="null"/> for a pipe or a device.</summary>
    public KeepMount? Mount { get; }

    /// <summary>Whether it is a directory (then it may be a <c>dirfd</c> or a <c>fchdir</c> target).</summary>
    public bool IsDirectory { get; }

    /// <summary>Whether the keep may change the file's metadata through it (a writable mount's file, or a pipe).</summary>
    public bool IsWritableMount => Mount is { } mount && (mount.Access & FileGrantAccess.Write) != 0;

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"{Description} (host fd {HostDescriptor})";
}
