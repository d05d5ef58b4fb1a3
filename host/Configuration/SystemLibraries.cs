using Donjon.Abstractions.Sessions;

namespace Donjon.Host.Configuration;

/// <summary>
/// What <c>"libraries": "system"</c> in the policy, and <c>donjon run --libraries system</c>, grant: the x86-64
/// interpreters and the system library folders of this host, read-only, each at its own path, so that a dynamically
/// linked Debian program finds its interpreter, its libraries and the interpreter's cache as natively.
/// </summary>
/// <remarks>
/// Only the paths that exist on this host are granted. The interpreter is granted as a file, not as its folder:
/// <c>/lib64/ld-linux-x86-64.so.2</c> is an absolute symbolic link on Debian, which a folder mount would refuse to
/// follow (mounts resolve beneath their folder), while a file grant is opened by the host as the admin named it.
/// <c>/usr/lib</c> (and <c>/lib</c>, the same folder on a merged-/usr system) holds the multiarch folder
/// <c>x86_64-linux-gnu</c> and the data that programs load beside their libraries (Python's standard library).
/// </remarks>
internal static class SystemLibraries
{
    /// <summary>The value of <c>policy.libraries</c> and <c>--libraries</c> that grants the system libraries.</summary>
    public const string SystemValue = "system";

    /// <summary>The interpreters granted as files, when present.</summary>
    public static readonly string[] InterpreterFiles = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-musl-x86_64.so.1", "/etc/ld.so.cache"];

    /// <summary>The library folders granted, when present.</summary>
    public static readonly string[] LibraryFolders = ["/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib"];

    /// <summary>The read-only grants for this host, skipping any keep path in <paramref name="alreadyGranted"/>.</summary>
    public static List<FileGrant> Grants(IEnumerable<string> alreadyGranted)
    {
        var taken = new HashSet<string>(alreadyGranted, StringComparer.Ordinal);
        var grants = new List<FileGrant>();
        foreach (string file in InterpreterFiles)
        {
            if (!taken.Contains(file) && File.Exists(file))
            {
                grants.Add(new FileGrant(file, FileGrantAccess.Read));
            }
        }

        foreach (string folder in LibraryFolders)
        {
            // /lib64 holds only the interpreter's link on Debian, granted above as a file.
            if (!taken.Contains(folder) && Directory.Exists(folder) && !(folder == "/lib64" && grants.Exists(g => g.Path.StartsWith("/lib64/", StringComparison.Ordinal))))
            {
                grants.Add(new FileGrant(folder, FileGrantAccess.Read));
            }
        }

        return grants;
    }
}
