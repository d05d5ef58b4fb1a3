using System.Runtime.InteropServices;
using System.Text;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Host.Sessions;

/// <summary>
/// A keep's file system as the host owns it: each of the policy's file grants opened once as an <c>O_PATH</c>
/// descriptor, the optional scratch <c>/tmp</c>, the read-only skeleton root, the working directory and the umask.
/// Handler sets resolve keep paths beneath these descriptors with <c>openat2</c>; nothing here resolves a keep path.
/// </summary>
/// <remarks>
/// Thread-safe: the mounts never change after construction, and the working directory and the umask are changed under
/// one lock. Disposing closes every mount's descriptor and removes the keep's runtime directory (skeleton and /tmp).
/// </remarks>
internal sealed class KeepFileSystem : IKeepFileSystem, IDisposable
{
    private const int OpenPath = 0x200000;
    private const int OpenDirectory = 0x10000;
    private const int OpenCloseOnExec = 0x80000;

    /// <summary>The names served under <c>/dev</c>, listed in the skeleton's <c>/dev</c>.</summary>
    public static readonly string[] DeviceNames = ["null", "zero", "full", "random", "urandom", "stdin", "stdout", "stderr"];

    private readonly Lock _gate = new();
    private readonly KeepRuntimeDirectory? _runtime;
    private string _workingDirectory;
    private int _umask = 0x12; // 022

    /// <summary>Opens the mounts of <paramref name="policy"/>.</summary>
    /// <param name="policy">The admin's policy (already validated: absolute, normalised keep paths).</param>
    /// <param name="logger">Where a grant that cannot be opened now is reported; that mount is then absent.</param>
    /// <param name="runtimeBase">Donjon's runtime directory; <see cref="KeepRuntimeDirectory.BaseDirectory"/> when null.</param>
    public KeepFileSystem(KeepPolicy policy, ILogger logger, string? runtimeBase = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(logger);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("keeps run on Linux only");
        }

        var mounts = new List<KeepMount>();
        for (int index = 0; index < policy.Files.Count; index++)
        {
            FileGrant grant = policy.Files[index];
            string source = $"policy.files[{index}]";
            SafeFileHandle? root = OpenRoot(grant.Path, out bool isDirectory, out int errno);
            if (root is null)
            {
                logger.LogWarning("{Source}: the host path {Path} cannot be opened (errno {Errno}); the keep does not see {KeepPath}", source, grant.Path, errno, grant.EffectiveKeepPath);
                continue;
            }

            mounts.Add(new KeepMount(ToKeep(grant.EffectiveKeepPath), grant.Path, grant.Access, isDirectory, root, source)
            {
                Sha256 = grant.Sha256,
                SameFileSystem = grant.SameFileSystem,
            });
        }

        bool needsRoot = !mounts.Exists(m => m.KeepPath == "/");
        if (needsRoot || policy.ScratchTmp)
        {
            try
            {
                _runtime = KeepRuntimeDirectory.Create(runtimeBase ?? KeepRuntimeDirectory.BaseDirectory());
                if (policy.ScratchTmp)
                {
                    Directory.CreateDirectory(_runtime.Tmp);
                    File.SetUnixFileMode(_runtime.Tmp, (UnixFileMode)0x3FF | UnixFileMode.StickyBit);
                    SafeFileHandle? tmp = OpenRoot(_runtime.Tmp, out _, out int errno) ?? throw new IOException($"{_runtime.Tmp}: cannot be opened (errno {errno})");
                    mounts.Add(new KeepMount("/tmp", _runtime.Tmp, FileGrantAccess.Read | FileGrantAccess.Write, true, tmp, "policy.tmp") { IsBuiltIn = true });
                }

                if (needsRoot)
                {
                    BuildSkeleton(_runtime.Root, policy, mounts);
                    SafeFileHandle? root = OpenRoot(_runtime.Root, out _, out int errno) ?? throw new IOException($"{_runtime.Root}: cannot be opened (errno {errno})");
                    mounts.Add(new KeepMount("/", _runtime.Root, FileGrantAccess.Read, true, root, "built-in root") { IsBuiltIn = true });
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("the keep's private directory could not be made ({Message}); the keep sees no /tmp and an empty root", e.Message);
            }
        }

        // Longest keep path first, so that the first mount a path falls under is the innermost one; the root is last.
        mounts.Sort((a, b) => b.KeepPath.Length.CompareTo(a.KeepPath.Length));
        Mounts = mounts.AsReadOnly();
        _workingDirectory = ToKeep(policy.WorkingDirectory);
    }

    /// <inheritdoc/>
    public IReadOnlyList<KeepMount> Mounts { get; }

    /// <summary>The keep's runtime directory on the host, when it has one (for tests).</summary>
    internal string? RuntimeDirectory => _runtime?.Path;

    /// <inheritdoc/>
    public string WorkingDirectory
    {
        get
        {
            lock (_gate)
            {
                return _workingDirectory;
            }
        }
    }

    /// <inheritdoc/>
    public int Umask
    {
        get
        {
            lock (_gate)
            {
                return _umask;
            }
        }
    }

    /// <inheritdoc/>
    public void SetWorkingDirectory(string keepPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(keepPath);
        if (keepPath[0] != '/')
        {
            throw new ArgumentException("the working directory is an absolute keep path", nameof(keepPath));
        }

        lock (_gate)
        {
            _workingDirectory = keepPath;
        }
    }

    /// <inheritdoc/>
    public int ExchangeUmask(int mask)
    {
        lock (_gate)
        {
            int previous = _umask;
            _umask = mask & 0x1FF;
            return previous;
        }
    }

    /// <summary>Closes every mount and removes the keep's runtime directory.</summary>
    public void Dispose()
    {
        foreach (KeepMount mount in Mounts)
        {
            mount.Root.Dispose();
        }

        _runtime?.Dispose();
    }

    /// <summary>A configuration keep path (UTF-16) as the keep's bytes, one per char (see <see cref="IKeepFileSystem"/>).</summary>
    internal static string ToKeep(string path) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(path));

    private static SafeFileHandle? OpenRoot(string hostPath, out bool isDirectory, out int errno)
    {
        isDirectory = false;
        int fd = FileCalls.Open(hostPath, OpenPath | OpenCloseOnExec);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FileCalls.Fstat(fd, out StatBuffer status) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            return null;
        }

        isDirectory = (status.Mode & 0xF000) == 0x4000;
        if (isDirectory)
        {
            // Reopen with O_DIRECTORY: a directory mount's descriptor is certainly a directory for openat2.
            int directory = FileCalls.Open($"/proc/self/fd/{fd}", OpenPath | OpenDirectory | OpenCloseOnExec);
            if (directory >= 0)
            {
                handle.Dispose();
                return new SafeFileHandle(directory, ownsHandle: true);
            }
        }

        return handle;
    }

    /// <summary>
    /// The read-only skeleton of the keep's root: an empty directory for each mount point's parents and directory
    /// mount points, an empty file for each one-file mount point, <c>/dev</c> with the served device names,
    /// <c>/tmp</c> when there is a scratch one, and the synthesised <c>/etc/hosts</c> and <c>/etc/resolv.conf</c> when the
    /// policy grants any network endpoint (<see cref="KeepNameFiles"/>). Listing <c>/</c> then shows what the keep may reach, and nothing else exists.
    /// </summary>
    private static void BuildSkeleton(string root, KeepPolicy policy, List<KeepMount> mounts)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("keeps run on Linux only");
        }

        Directory.CreateDirectory(root);
        foreach (FileGrant grant in policy.Files)
        {
            string keep = grant.EffectiveKeepPath;
            if (keep == "/")
            {
                continue;
            }

            string target = root + keep;
            bool isDirectory = mounts.Find(m => m.HostPath == grant.Path)?.IsDirectory ?? true;
            Directory.CreateDirectory(isDirectory ? target : Path.GetDirectoryName(target)!);
            if (!isDirectory && !Path.Exists(target))
            {
                File.WriteAllBytes(target, []);
            }
        }

        string dev = Path.Combine(root, "dev");
        Directory.CreateDirectory(dev);
        foreach (string name in DeviceNames)
        {
            string device = Path.Combine(dev, name);
            if (!Path.Exists(device))
            {
                File.WriteAllBytes(device, []);
            }
        }

        if (policy.ScratchTmp)
        {
            Directory.CreateDirectory(Path.Combine(root, "tmp"));
        }

        KeepNameFiles.Write(root, policy.Network);

        foreach (string directory in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Append(root))
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0x16D); // 0555
        }
    }
}
