using System.Text;

namespace Donjon.Syscalls.Files;

/// <summary>
/// Keep paths as the host handles them: byte strings held one byte per <see cref="char"/> (Latin-1), so that any path
/// round-trips exactly, normalised in the host (the shim only copies strings).
/// </summary>
/// <remarks>
/// Normalisation is lexical, as in Plan 9 and Go's <c>path.Clean</c>: <c>.</c> and empty components go, <c>..</c>
/// removes the component before it and stays at <c>/</c> at the root. It only decides which mount a path falls under
/// and what is left beneath it; it is <em>not</em> what confines the keep: the rest is resolved by the host kernel
/// beneath the mount's descriptor (<c>RESOLVE_BENEATH</c>), which no symbolic link or rename can leave. A
/// consequence, documented in the README: <c>link/..</c> is the directory holding <c>link</c>, not the parent of its
/// target.
/// </remarks>
internal static class KeepPaths
{
    /// <summary><c>PATH_MAX</c>: the longest path, NUL included.</summary>
    public const int MaxPath = 4096;

    /// <summary>
    /// Normalises <paramref name="path"/>, relative to <paramref name="baseDirectory"/> when it does not start with
    /// <c>/</c>.
    /// </summary>
    /// <param name="baseDirectory">An absolute, normalised keep path: the working directory or a directory descriptor's path.</param>
    /// <param name="path">The keep's bytes, without their NUL; not empty.</param>
    /// <param name="mustBeDirectory">Whether the path ended in <c>/</c>, <c>/.</c> or <c>/..</c>, so that it must name a directory.</param>
    /// <returns>The absolute, normalised path: <c>/</c> or <c>/a/b</c>; <see langword="null"/> when it is longer than <see cref="MaxPath"/> − 1.</returns>
    public static string? Normalise(string baseDirectory, ReadOnlySpan<byte> path, out bool mustBeDirectory)
    {
        var parts = new List<string>();
        if (path.IsEmpty || path[0] != (byte)'/')
        {
            parts.AddRange(baseDirectory.Split('/', StringSplitOptions.RemoveEmptyEntries));
        }

        Walk(path, parts, out mustBeDirectory);
        string normalised = "/" + string.Join('/', parts);
        return normalised.Length >= MaxPath ? null : normalised;
    }

    /// <summary>
    /// Normalises <paramref name="path"/> as <c>openat2</c>'s <c>RESOLVE_BENEATH</c> or <c>RESOLVE_IN_ROOT</c> sees it,
    /// relative to its starting directory and never above it: with <paramref name="inRoot"/> an absolute path is
    /// relative to that directory and a <c>..</c> there stays there; without, either is an escape.
    /// </summary>
    /// <param name="path">The keep's bytes, without their NUL; not empty.</param>
    /// <param name="inRoot">Whether the starting directory is the root (<c>RESOLVE_IN_ROOT</c>) rather than a floor (<c>RESOLVE_BENEATH</c>).</param>
    /// <param name="mustBeDirectory">Whether the path ended in <c>/</c>, <c>/.</c> or <c>/..</c>.</param>
    /// <param name="escapes">Whether, without <paramref name="inRoot"/>, the path is absolute or climbs above its start.</param>
    /// <returns>The components beneath the starting directory joined by <c>/</c> (empty for the directory itself).</returns>
    public static string Beneath(ReadOnlySpan<byte> path, bool inRoot, out bool mustBeDirectory, out bool escapes)
    {
        var parts = new List<string>();
        bool climbedAbove = Walk(path, parts, out mustBeDirectory);
        escapes = !inRoot && ((!path.IsEmpty && path[0] == (byte)'/') || climbedAbove);
        return string.Join('/', parts);
    }

    /// <summary>
    /// The lexical walk both normalisations share: appends <paramref name="path"/>'s components to
    /// <paramref name="parts"/>, dropping <c>.</c> and empty ones, and letting <c>..</c> remove the last part.
    /// </summary>
    /// <param name="path">The keep's bytes, without their NUL.</param>
    /// <param name="parts">The components so far (a base directory's, or none); the walk's result.</param>
    /// <param name="mustBeDirectory">Whether the path ended in <c>/</c>, <c>/.</c> or <c>/..</c>.</param>
    /// <returns>Whether some <c>..</c> found no part to remove (it would climb above where the walk started).</returns>
    private static bool Walk(ReadOnlySpan<byte> path, List<string> parts, out bool mustBeDirectory)
    {
        bool climbedAbove = false;
        mustBeDirectory = false;
        int start = 0;
        while (start <= path.Length)
        {
            int slash = path[start..].IndexOf((byte)'/');
            int end = slash < 0 ? path.Length : start + slash;
            ReadOnlySpan<byte> part = path[start..end];
            bool last = slash < 0;
            if (part.SequenceEqual(".."u8))
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                else
                {
                    climbedAbove = true;
                }

                mustBeDirectory = last;
            }
            else if (part.SequenceEqual("."u8))
            {
                mustBeDirectory = last;
            }
            else if (!part.IsEmpty)
            {
                parts.Add(Encoding.Latin1.GetString(part));
                mustBeDirectory = false;
            }
            else if (last)
            {
                mustBeDirectory = path.Length > 0;
            }

            start = end + 1;
        }

        return climbedAbove;
    }

    /// <summary>Whether keep path <paramref name="path"/> is <paramref name="mount"/> or beneath it.</summary>
    /// <param name="mount">A mount's normalised keep path.</param>
    /// <param name="path">A normalised keep path.</param>
    /// <param name="relative">What is left beneath the mount: <c>.</c> for the mount itself, else <c>a/b</c>.</param>
    /// <returns>Whether the path falls under the mount.</returns>
    public static bool IsBeneath(string mount, string path, out string relative)
    {
        if (path == mount)
        {
            relative = ".";
            return true;
        }

        if (mount == "/")
        {
            relative = path[1..];
            return true;
        }

        if (path.Length > mount.Length && path[mount.Length] == '/' && path.StartsWith(mount, StringComparison.Ordinal))
        {
            relative = path[(mount.Length + 1)..];
            return true;
        }

        relative = string.Empty;
        return false;
    }

    /// <summary>A keep path (Latin-1 chars) as the NUL-terminated bytes a host call takes.</summary>
    /// <param name="path">The path.</param>
    /// <returns>Its bytes and a NUL.</returns>
    public static byte[] ToHost(string path)
    {
        byte[] bytes = new byte[path.Length + 1];
        Encoding.Latin1.GetBytes(path, bytes);
        return bytes;
    }

    /// <summary>A keep path as readable text for a log line: its bytes as UTF-8 where they are.</summary>
    /// <param name="path">The path.</param>
    /// <returns>The text.</returns>
    public static string Display(string path) => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(path));

    /// <summary>Splits a relative path beneath a mount into its parent (<c>.</c> at the top) and its last name.</summary>
    /// <param name="relative">A relative path other than <c>.</c>.</param>
    /// <param name="parent">The parent's relative path.</param>
    /// <returns>The last name: no <c>/</c>, never <c>.</c> nor <c>..</c>.</returns>
    public static string Split(string relative, out string parent)
    {
        int slash = relative.LastIndexOf('/');
        parent = slash < 0 ? "." : relative[..slash];
        return slash < 0 ? relative : relative[(slash + 1)..];
    }
}
