using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Syscalls;

// Test doubles for the session state the host owns. The host's own FileDescriptorTable / KeepSession did not exist
// when these tests were written; once they do, these doubles can give way to them.

/// <summary>A keep session over a <see cref="TestDescriptorTable"/>, with the deny-all policy.</summary>
internal sealed class TestKeepSession : IKeepSession, IDisposable
{
    public TestKeepSession(bool withStdio = true, KeepPolicy? policy = null)
    {
        Policy = policy ?? KeepPolicy.DenyAll;
        Table = new TestDescriptorTable(Policy.Limits.MaxOpenFiles);
        if (withStdio)
        {
            Table.Add(new TestOpenFile(0, "stdin"));
            Table.Add(new TestOpenFile(1, "stdout"));
            Table.Add(new TestOpenFile(2, "stderr"));
        }
    }

    public const string WorkloadPath = "/opt/keeps/hello-static";

    public WorkloadIdentity Workload { get; } = new(WorkloadPath, new string('0', 64), 4096);

    public TestDescriptorTable Table { get; }

    public IFileDescriptorTable Files => Table;

    public KeepPolicy Policy { get; }

    public KeepStdio Stdio { get; } = new(0, 1, 2);

    public ILogger Logger => NullLogger.Instance;

    public void Dispose() => Table.Dispose();
}

/// <summary>A minimal thread-safe descriptor table: an open file is disposed when its last number is closed.</summary>
internal sealed class TestDescriptorTable(int limit) : IFileDescriptorTable, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, IOpenFile> _entries = [];

    public int Add(IOpenFile file, int lowest = 0)
    {
        lock (_gate)
        {
            for (int number = Math.Max(0, lowest); number < limit; number++)
            {
                if (_entries.TryAdd(number, file))
                {
                    return number;
                }
            }

            return -1;
        }
    }

    public bool TryGet(int descriptor, [MaybeNullWhen(false)] out IOpenFile file)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(descriptor, out file);
        }
    }

    public bool Set(int descriptor, IOpenFile file)
    {
        lock (_gate)
        {
            if (descriptor < 0 || descriptor >= limit)
            {
                return false;
            }

            _entries.TryGetValue(descriptor, out IOpenFile? previous);
            _entries[descriptor] = file;
            if (previous is not null)
            {
                ReleaseIfUnused(previous);
            }

            return true;
        }
    }

    public bool Close(int descriptor)
    {
        lock (_gate)
        {
            if (!_entries.Remove(descriptor, out IOpenFile? file))
            {
                return false;
            }

            ReleaseIfUnused(file);
            return true;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (IOpenFile file in _entries.Values.Distinct().ToList())
            {
                file.Dispose();
            }

            _entries.Clear();
        }
    }

    private void ReleaseIfUnused(IOpenFile file)
    {
        if (!_entries.ContainsValue(file))
        {
            file.Dispose();
        }
    }
}

/// <summary>An open file over a host descriptor, owning it through a handle when one is given.</summary>
internal sealed class TestOpenFile : IOpenFile
{
    private readonly SafeHandle? _owner;

    /// <summary>Borrows <paramref name="hostDescriptor"/> (Donjon's stdio): disposing never closes it.</summary>
    public TestOpenFile(int hostDescriptor, string description)
    {
        HostDescriptor = hostDescriptor;
        Description = description;
    }

    /// <summary>Owns <paramref name="handle"/>: disposing closes the host descriptor.</summary>
    public TestOpenFile(SafeHandle handle, string description)
    {
        _owner = handle;
        HostDescriptor = (int)handle.DangerousGetHandle();
        Description = description;
    }

    public int HostDescriptor { get; }

    public string Description { get; }

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        IsDisposed = true;
        _owner?.Dispose();
    }
}
