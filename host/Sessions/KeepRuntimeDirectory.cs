using System.Globalization;
using System.Runtime.InteropServices;
using Donjon.Host.Interop;

namespace Donjon.Host.Sessions;

/// <summary>
/// A keep's private directory on the host: <c>keep-PID-RANDOM</c> under Donjon's runtime directory
/// (<c>$XDG_RUNTIME_DIR/donjon</c>, else <c>$TMPDIR/donjon-UID</c>, mode 0700, owned by Donjon's user). It holds the
/// skeleton of the keep's root (<c>root/</c>) and its scratch <c>/tmp</c> (<c>tmp/</c>), and a <c>lock</c> file that
/// the owning Donjon holds locked for the keep's whole life.
/// </summary>
/// <remarks>
/// Disposing removes the directory. A Donjon killed with SIGKILL (or crashed) cannot do that: the next keep that
/// starts removes every <c>keep-*</c> directory whose lock nobody holds and whose process is gone, so scratch files
/// never pile up. Nothing here follows a symbolic link the workload planted: the removal walks the tree without
/// following links.
/// </remarks>
internal sealed class KeepRuntimeDirectory : IDisposable
{
    private const string Prefix = "keep-";
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly FileStream _lock;
    private int _disposed;

    private KeepRuntimeDirectory(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    /// <summary>The keep's directory.</summary>
    public string Path { get; }

    /// <summary>The skeleton of the keep's root.</summary>
    public string Root => System.IO.Path.Combine(Path, "root");

    /// <summary>The scratch <c>/tmp</c>.</summary>
    public string Tmp => System.IO.Path.Combine(Path, "tmp");

    /// <summary>Donjon's runtime directory for this user (not created).</summary>
    public static string BaseDirectory()
    {
        string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtime) && System.IO.Path.IsPathFullyQualified(runtime) && Directory.Exists(runtime))
        {
            return System.IO.Path.Combine(runtime, "donjon");
        }

        return System.IO.Path.Combine(System.IO.Path.GetTempPath(), "donjon-" + Ids.GetUserId().ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Makes a fresh keep directory under <paramref name="baseDirectory"/>, first removing those of keeps that are gone.</summary>
    /// <param name="baseDirectory">Donjon's runtime directory (<see cref="BaseDirectory"/>).</param>
    /// <returns>The directory, locked.</returns>
    /// <exception cref="IOException">The runtime directory is not Donjon's own, or the keep's cannot be made; the message says why.</exception>
    public static KeepRuntimeDirectory Create(string baseDirectory)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("keeps run on Linux only");
        }

        EnsurePrivateDirectory(baseDirectory);
        RemoveAbandoned(baseDirectory);
        string path = System.IO.Path.Combine(baseDirectory, $"{Prefix}{Environment.ProcessId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16]}");
        Directory.CreateDirectory(path, Private);

        // FileShare.None takes an exclusive flock(2) on Unix: held until this Donjon closes it or dies.
        var lockFile = new FileStream(System.IO.Path.Combine(path, "lock"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        return new KeepRuntimeDirectory(path, lockFile);
    }

    /// <summary>Removes every <c>keep-*</c> directory whose owner is gone: its lock is free and its process does not exist.</summary>
    /// <param name="baseDirectory">Donjon's runtime directory.</param>
    public static void RemoveAbandoned(string baseDirectory)
    {
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateDirectories(baseDirectory, Prefix + "*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (string directory in candidates)
        {
            string name = System.IO.Path.GetFileName(directory);
            string[] parts = name[Prefix.Length..].Split('-');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            if (Directory.Exists($"/proc/{pid}"))
            {
                continue; // its Donjon (or a process that reused its pid) lives: leave it
            }

            try
            {
                string lockPath = System.IO.Path.Combine(directory, "lock");
                using (File.Exists(lockPath) ? new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None) : null)
                {
                    RemoveTree(directory);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Locked by a live Donjon after all, or half removed by another starting one: leave it.
            }
        }
    }

    /// <summary>
    /// Removes <paramref name="path"/> and everything under it, whatever modes the workload gave its directories,
    /// never following a symbolic link (a link is removed, not its target).
    /// </summary>
    /// <param name="path">The directory.</param>
    public static void RemoveTree(string path)
    {
        var root = new DirectoryInfo(path);
        if (!root.Exists || root.LinkTarget is not null)
        {
            return;
        }

        MakeRemovable(root);
        root.Delete(recursive: true);
    }

    private static void MakeRemovable(DirectoryInfo directory)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("keeps run on Linux only");
        }

        directory.UnixFileMode = Private;
        foreach (DirectoryInfo child in directory.EnumerateDirectories())
        {
            if (child.LinkTarget is null)
            {
                MakeRemovable(child);
            }
        }
    }

    /// <summary>Makes <paramref name="path"/> if needed, and checks it is a real directory of Donjon's user that no one else may enter.</summary>
    private static void EnsurePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("keeps run on Linux only");
        }

        if (FileCalls.Lstat(path, out _) != 0)
        {
            Directory.CreateDirectory(path, Private);
        }

        if (FileCalls.Lstat(path, out StatBuffer status) != 0)
        {
            throw new IOException($"{path}: cannot be examined (errno {Marshal.GetLastPInvokeError()})");
        }

        if ((status.Mode & 0xF000) != 0x4000)
        {
            throw new IOException($"{path} is not a directory (a symbolic link or a file is there); remove it, Donjon makes its runtime directory itself");
        }

        if (status.Owner != Ids.GetUserId() || (status.Mode & 0x3F) != 0)
        {
            throw new IOException($"{path} belongs to another user or is open to others (mode {Convert.ToString(status.Mode & 0xFFF, 8)}); remove it, Donjon makes its runtime directory with mode 0700");
        }
    }

    /// <summary>Releases the lock and removes the directory.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            RemoveTree(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next start removes it.
        }
        finally
        {
            _lock.Dispose();
        }
    }
}

