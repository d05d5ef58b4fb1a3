using System.Runtime.CompilerServices;
using Donjon.Abstractions.Sessions;
using Microsoft.Extensions.Logging;

namespace Donjon.Syscalls.Files;

/// <summary>
/// Says every denial of the file policy at the default log level, one warning each: the operation, the keep path,
/// why, and the policy entry that would grant it. A hostile keep cannot flood Donjon's stderr: each path and
/// operation is said once, at most <see cref="MaxWarnings"/> in all, then one line says that the rest are not.
/// </summary>
/// <remarks>Thread-safe: one lock per keep.</remarks>
internal sealed class Denials
{
    /// <summary>The most denial warnings one keep logs.</summary>
    public const int MaxWarnings = 32;

    private static readonly ConditionalWeakTable<IKeepSession, Denials> PerKeep = new();

    private readonly Lock _gate = new();
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);
    private bool _silenced;

    /// <summary>The denials of <paramref name="session"/>.</summary>
    public static Denials Of(IKeepSession session) => PerKeep.GetValue(session, _ => new Denials());

    /// <summary>A path outside every mount: it does not exist for the keep.</summary>
    public void Ungranted(IKeepSession session, string operation, Location location, bool write)
    {
        string path = KeepPaths.Display(location.KeepPath);
        if (IsKernelView(path))
        {
            // /proc and /sys describe a process and a machine: granting the host's would show Donjon's own, so no
            // grant is suggested, and runtimes that probe them (Rust's std reads /proc/self/maps) fall back quietly.
            if (session.Logger.IsEnabled(LogLevel.Debug))
            {
                session.Logger.LogDebug("The keep has no {Path} (/proc and /sys are not offered in a keep); {Operation} answered ENOENT", path, operation);
            }

            return;
        }

        Say(session, operation, path,
            $"denied {operation} of {path}: no mount of policy.files holds it, so it does not exist in the keep (ENOENT); " +
            $"to grant it, add {{ \"host\": \"{path}\", \"keep\": \"{path}\", \"access\": \"{(write ? "read-write" : "read")}\" }} to policy.files");
    }

    private static bool IsKernelView(string path) =>
        path is "/proc" or "/sys" or LoaderPreload || path.StartsWith("/proc/", StringComparison.Ordinal) || path.StartsWith("/sys/", StringComparison.Ordinal);

    /// <summary>
    /// glibc's interpreter looks for this file at every start; it is absent on nearly every host, and absent quietly
    /// here too (a grant of it would make every dynamic program load the libraries it names).
    /// </summary>
    private const string LoaderPreload = "/etc/ld.so.preload";

    /// <summary>A write-like call beneath a read-only mount.</summary>
    public void ReadOnly(IKeepSession session, string operation, Location location)
    {
        string path = KeepPaths.Display(location.KeepPath);
        KeepMount mount = location.Mount!;
        string remedy = mount.IsBuiltIn
            ? $"the keep's root holds only its mount points; mount a host directory at {KeepPaths.Display(ParentOf(location.KeepPath))} with \"access\": \"read-write\" in policy.files"
            : $"set \"access\": \"read-write\" in {mount.Source} (host {mount.HostPath}, keep {KeepPaths.Display(mount.KeepPath)})";
        Say(session, operation, path, $"denied {operation} of {path}: it is on a read-only mount (EROFS); {remedy}");
    }

    /// <summary>A read beneath a write-only mount.</summary>
    public void WriteOnly(IKeepSession session, string operation, Location location)
    {
        string path = KeepPaths.Display(location.KeepPath);
        Say(session, operation, path, $"denied {operation} of {path}: {location.Mount!.Source} grants writing only (EACCES); set \"access\": \"read-write\" there");
    }

    /// <summary>A path that left its mount through <c>..</c> or a symbolic link, which the host kernel refused.</summary>
    public void Escape(IKeepSession session, string operation, Location location)
    {
        string path = KeepPaths.Display(location.KeepPath);
        KeepMount mount = location.Mount!;
        Say(session, operation, path,
            $"denied {operation} of {path}: resolving it leaves {mount.Source} (keep {KeepPaths.Display(mount.KeepPath)}) through a symbolic link or '..', " +
            "which the kernel refuses beneath a mount (ENOENT); make the link relative and inside the mount, or mount its target");
    }

    /// <summary>A pinned file whose contents do not have the digest the policy gives.</summary>
    public static void DigestMismatch(IKeepSession session, Location location, string actual)
    {
        KeepMount mount = location.Mount!;
        session.Logger.LogError(
            "denied open of {Path}: {HostPath} has SHA-256 {Actual}, but {Source} pins {Expected} (EACCES); restore the file, or update the digest in the policy",
            KeepPaths.Display(location.KeepPath), mount.HostPath, actual, mount.Source, mount.Sha256);
    }

    private static string ParentOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    private void Say(IKeepSession session, string operation, string path, string message)
    {
        bool silenceNow = false;
        lock (_gate)
        {
            if (_silenced || !_said.Add(operation + " " + path))
            {
                return;
            }

            if (_said.Count > MaxWarnings)
            {
                _silenced = silenceNow = true;
            }
        }

        if (silenceNow)
        {
            session.Logger.LogWarning("more file-policy denials: not logged ({Max} said already)", MaxWarnings);
            return;
        }

        session.Logger.LogWarning("{Message}", message);
    }
}
