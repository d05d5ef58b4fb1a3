using Microsoft.Win32.SafeHandles;

namespace Donjon.Abstractions.Sessions;

/// <summary>
/// The keep's view of files, owned by the host: the admin's mounts, each opened once as a host descriptor, the
/// working directory and the file-mode creation mask. An <see cref="IKeepSession"/> may implement it; a handler set
/// type-tests for it. <b>Default when a session does not implement it:</b> the keep has no file system, and a handler
/// answers every path <c>ENOENT</c>.
/// </summary>
/// <remarks>
/// Implementations are safe to use from several threads: the working directory and the mask are read and changed
/// atomically. Keep paths are byte strings: here each <see cref="char"/> of a keep path holds one byte (Latin-1), so
/// that any path the keep sends round-trips exactly.
/// </remarks>
public interface IKeepFileSystem
{
    /// <summary>
    /// The mounts, the longest keep path first. The last one is always the root <c>/</c>: the admin's own mount of
    /// <c>/</c>, or else a read-only, empty skeleton of directories that holds only the mount points, so that
    /// <c>/</c>, <c>/dev</c> and the parents of mount points exist and nothing else does.
    /// </summary>
    IReadOnlyList<KeepMount> Mounts { get; }

    /// <summary>The keep's working directory: an absolute, normalised keep path.</summary>
    string WorkingDirectory { get; }

    /// <summary>Changes the working directory; the caller has checked that the path names a directory.</summary>
    /// <param name="keepPath">An absolute, normalised keep path.</param>
    void SetWorkingDirectory(string keepPath);

    /// <summary>The file-mode creation mask (<c>umask</c>), 0 to 0777; it starts at 022.</summary>
    int Umask { get; }

    /// <summary>Sets the file-mode creation mask and returns the previous one, atomically (<c>umask(2)</c>).</summary>
    /// <param name="mask">The new mask; only its low nine bits are kept.</param>
    /// <returns>The previous mask.</returns>
    int ExchangeUmask(int mask);
}

/// <summary>One mount of a keep: a host directory or file seen at a keep path.</summary>
/// <param name="KeepPath">The absolute, normalised keep path (Latin-1 bytes, see <see cref="IKeepFileSystem"/>); <c>/</c> for the root.</param>
/// <param name="HostPath">The host path, for messages only: handlers resolve beneath <paramref name="Root"/>, never by this string.</param>
/// <param name="Access">What the keep may do beneath it.</param>
/// <param name="IsDirectory">Whether the mount is a directory (otherwise one file, reached by its exact keep path only).</param>
/// <param name="Root">
/// The host descriptor of the mount, opened once with <c>O_PATH | O_CLOEXEC</c> (and <c>O_DIRECTORY</c> for a
/// directory); owned by the session, which closes it when the keep ends. Handlers must not dispose it.
/// </param>
/// <param name="Source">Which policy entry made the mount, for messages: <c>policy.files[2]</c>, <c>policy.tmp</c>, <c>built-in root</c>.</param>
public sealed record KeepMount(string KeepPath, string HostPath, FileGrantAccess Access, bool IsDirectory, SafeFileHandle Root, string Source)
{
    /// <summary>The SHA-256 a one-file mount's contents must have (64 lowercase hex digits), or <see langword="null"/>.</summary>
    public string? Sha256 { get; init; }

    /// <summary>Whether resolution beneath the mount may not cross host file systems (<c>RESOLVE_NO_XDEV</c>).</summary>
    public bool SameFileSystem { get; init; }

    /// <summary>Whether the mount is Donjon's own (the skeleton root or the scratch <c>/tmp</c>) rather than an admin's grant.</summary>
    public bool IsBuiltIn { get; init; }
}
