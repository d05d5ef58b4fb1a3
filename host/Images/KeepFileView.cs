using Donjon.Abstractions.Sessions;
using Donjon.Host.Files;

namespace Donjon.Host.Images;

/// <summary>
/// The keep's files as the policy's mounts show them, read by the host before launch: a dynamic program's interpreter,
/// which the host loads into the image, and the libraries it will need, which the host checks are there (so a missing
/// grant is one clear line, not a loader error) and which <c>donjon measure --manifest</c> pins. A keep path falls
/// under its innermost mount, as in the files handler set; beneath a folder mount it is resolved by the kernel with
/// <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)</c>, so a path from a workload's headers cannot leave it.
/// </summary>
/// <param name="files">The policy's file grants (with the command line's and <c>"libraries"</c>' already added).</param>
internal sealed class KeepFileView(IReadOnlyList<FileGrant> files)
{
    /// <summary>The largest interpreter or library the host reads, in bytes (as a workload: 1 GiB).</summary>
    public const long MaxFileSize = Elf.ElfInspector.MaxFileSize;

    /// <summary>The innermost readable grant whose keep path holds <paramref name="keepPath"/>, and the path beneath it ("" for the grant itself).</summary>
    public (FileGrant Grant, string Relative)? MountOf(string keepPath)
    {
        (FileGrant Grant, string Relative)? best = null;
        int bestLength = -1;
        foreach (FileGrant grant in files)
        {
            string mount = grant.EffectiveKeepPath.TrimEnd('/');
            bool holds = keepPath == mount || mount.Length == 0 || keepPath.StartsWith(mount + "/", StringComparison.Ordinal);
            if (holds && mount.Length > bestLength)
            {
                best = (grant, keepPath == mount ? string.Empty : keepPath[(mount.Length + 1)..]);
                bestLength = mount.Length;
            }
        }

        return best;
    }

    /// <summary>Reads the file at the absolute, normalised <paramref name="keepPath"/> as the keep would see it.</summary>
    public KeepFileRead Read(string keepPath)
    {
        if (keepPath.Length == 0 || keepPath[0] != '/' || keepPath.Split('/').Any(part => part is "." or ".."))
        {
            return new KeepFileRead(keepPath, null, null, null, "it is not an absolute, normalised path");
        }

        if (MountOf(keepPath) is not { } found)
        {
            return new KeepFileRead(keepPath, null, null, null, "no mount of policy.files holds it") { IsUngranted = true };
        }

        (FileGrant grant, string relative) = found;
        if ((grant.Access & FileGrantAccess.Read) == 0)
        {
            return new KeepFileRead(keepPath, grant, null, null, $"its mount ({grant.Path}) is not readable") { IsUngranted = true };
        }

        string hostPath = relative.Length == 0 ? grant.Path : Path.Combine(grant.Path, relative);
        try
        {
            byte[]? bytes;
            if (relative.Length == 0)
            {
                bytes = RegularFile.ReadAll(grant.Path, MaxFileSize);
            }
            else
            {
                bytes = RegularFile.ReadBeneath(grant.Path, relative, MaxFileSize, out int errno);
                if (bytes is null)
                {
                    string why = errno switch
                    {
                        2 or 20 => "it does not exist under its mount",
                        18 => "it resolves outside its mount (through an absolute symbolic link or '..'), which the keep cannot follow",
                        40 => "it resolves through a symbolic link loop or a magic link",
                        13 or 1 => "the host may not read it",
                        _ => $"it cannot be opened (errno {errno})",
                    };
                    return new KeepFileRead(keepPath, grant, hostPath, null, why) { IsMissing = errno is 2 or 20 };
                }
            }

            string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            if (grant.Sha256 is { } pinned && relative.Length == 0 && !string.Equals(pinned, sha256, StringComparison.OrdinalIgnoreCase))
            {
                return new KeepFileRead(keepPath, grant, hostPath, null, $"its SHA-256 is {sha256}, but its grant pins {pinned.ToLowerInvariant()}") { IsPinMismatch = true };
            }

            return new KeepFileRead(keepPath, grant, hostPath, bytes, null);
        }
        catch (FileNotFoundException)
        {
            return new KeepFileRead(keepPath, grant, hostPath, null, "it does not exist on the host") { IsMissing = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new KeepFileRead(keepPath, grant, hostPath, null, e.Message);
        }
    }
}

/// <summary>What <see cref="KeepFileView.Read"/> found.</summary>
/// <param name="KeepPath">The keep path asked for.</param>
/// <param name="Grant">The mount it falls under, if any.</param>
/// <param name="HostPath">The host file it leads to, if it has a mount.</param>
/// <param name="Contents">The bytes, when it could be read.</param>
/// <param name="Problem">Why it could not, otherwise.</param>
internal sealed record KeepFileRead(string KeepPath, FileGrant? Grant, string? HostPath, byte[]? Contents, string? Problem)
{
    /// <summary>No readable mount holds the path: a grant is missing.</summary>
    public bool IsUngranted { get; init; }

    /// <summary>A mount holds it but the file is not there.</summary>
    public bool IsMissing { get; init; }

    /// <summary>A file grant pins another digest.</summary>
    public bool IsPinMismatch { get; init; }

    /// <summary>The policy entry that would grant the path read-only at the same keep path.</summary>
    public static string GrantFor(string keepPath) => $"{{ \"host\": \"{keepPath}\", \"keep\": \"{keepPath}\", \"access\": \"read\" }}";
}
