using System.Diagnostics.CodeAnalysis;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Conformance;

/// <summary>
/// A keep session for calling a handler set outside a keep: an empty policy (nothing granted), the default limits,
/// stdio on <c>/dev/null</c> and a descriptor table of its own, as the host lends every handler set.
/// </summary>
public sealed class HarnessSession : IKeepSession, IDisposable
{
    private readonly SafeFileHandle[] _stdio;

    /// <summary>Opens <c>/dev/null</c> three times for stdio.</summary>
    public HarnessSession()
    {
        _stdio = [OpenNull(FileAccess.Read), OpenNull(FileAccess.Write), OpenNull(FileAccess.Write)];
        Stdio = new KeepStdio((int)_stdio[0].DangerousGetHandle(), (int)_stdio[1].DangerousGetHandle(), (int)_stdio[2].DangerousGetHandle());
    }

    /// <inheritdoc />
    public WorkloadIdentity Workload { get; } = new("/conformance/harness", new string('0', 64), 0);

    /// <inheritdoc />
    public IFileDescriptorTable Files { get; } = new HarnessDescriptorTable();

    /// <inheritdoc />
    public KeepPolicy Policy { get; } = new([], [], new EnvironmentPolicy([], new Dictionary<string, string>()), KeepLimits.Default);

    /// <inheritdoc />
    public KeepStdio Stdio { get; }

    /// <inheritdoc />
    public ILogger Logger { get; } = NullLogger.Instance;

    /// <summary>Closes stdio and every descriptor a handler left open.</summary>
    public void Dispose()
    {
        ((HarnessDescriptorTable)Files).Dispose();
        foreach (SafeFileHandle handle in _stdio)
        {
            handle.Dispose();
        }
    }

    private static SafeFileHandle OpenNull(FileAccess access) => File.OpenHandle("/dev/null", FileMode.Open, access);

    private sealed class HarnessDescriptorTable : IFileDescriptorTable, IDisposable
    {
        private readonly Lock _lock = new();
        private readonly SortedDictionary<int, IOpenFile> _files = [];

        public int Add(IOpenFile file, int lowest = 0)
        {
            lock (_lock)
            {
                int descriptor = Math.Max(lowest, 3);
                while (_files.ContainsKey(descriptor))
                {
                    descriptor++;
                }

                if (descriptor >= KeepLimits.Default.MaxOpenFiles)
                {
                    return -1;
                }

                _files[descriptor] = file;
                return descriptor;
            }
        }

        public bool TryGet(int descriptor, [MaybeNullWhen(false)] out IOpenFile file)
        {
            lock (_lock)
            {
                return _files.TryGetValue(descriptor, out file);
            }
        }

        public bool Set(int descriptor, IOpenFile file)
        {
            lock (_lock)
            {
                if (descriptor < 0 || descriptor >= KeepLimits.Default.MaxOpenFiles)
                {
                    return false;
                }

                if (_files.Remove(descriptor, out IOpenFile? old))
                {
                    old.Dispose();
                }

                _files[descriptor] = file;
                return true;
            }
        }

        public bool Close(int descriptor)
        {
            lock (_lock)
            {
                if (!_files.Remove(descriptor, out IOpenFile? file))
                {
                    return false;
                }

                file.Dispose();
                return true;
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                foreach (IOpenFile file in _files.Values)
                {
                    file.Dispose();
                }

                _files.Clear();
            }
        }
    }
}
