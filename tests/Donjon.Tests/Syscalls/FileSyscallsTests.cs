using System.Buffers.Binary;
using System.Text;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;
using Donjon.Host.Sessions;
using Donjon.Syscalls.Files;
using Donjon.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Syscalls;

/// <summary>
/// The <c>files</c> set against untrusted requests, on the host's own <see cref="KeepSession"/> with a real mount in
/// a temporary directory. The session's stdio is /dev/null, so nothing a fuzzed call does can reach the test runner's
/// own streams.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FileSyscallsTests : IDisposable
{
    private const int ENOENT = 2, EBADF = 9, EFAULT = 14, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EINVAL = 22, EMFILE = 24, EROFS = 30, ERANGE = 34;
    private const ulong AtFdCwd = unchecked((ulong)-100L);

    private readonly FileSyscalls _set = new();
    private readonly TempDirectory _dir = new();
    private readonly FileStream[] _null;
    private readonly KeepSession _session;
    private readonly string _data;

    public FileSyscallsTests()
    {
        _null = [.. Enumerable.Range(0, 3).Select(_ => new FileStream("/dev/null", FileMode.Open, FileAccess.ReadWrite))];
        _data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string ro = Directory.CreateDirectory(Path.Combine(_dir.Path, "ro")).FullName;
        File.WriteAllText(Path.Combine(ro, "kept.txt"), "kept");
        string runtime = Path.Combine(_dir.Path, "runtime");
        Directory.CreateDirectory(runtime, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var policy = KeepPolicy.DenyAll with
        {
            Files = [new FileGrant(_data, FileGrantAccess.Read | FileGrantAccess.Write) { KeepPath = "/data" }, new FileGrant(ro, FileGrantAccess.Read) { KeepPath = "/ro" }],
            Limits = new KeepLimits(1UL << 30, 8UL << 20, 16),
        };
        var stdio = new KeepStdio(Fd(_null[0]), Fd(_null[1]), Fd(_null[2]));
        _session = new KeepSession(new WorkloadIdentity("/w", new string('0', 64), 1), policy, stdio, NullLogger.Instance, runtime);
    }

    public void Dispose()
    {
        _session.Dispose();
        foreach (FileStream stream in _null)
        {
            stream.Dispose();
        }

        _dir.Dispose();
    }

    [Fact]
    public void The_set_declares_each_number_once_none_the_shims_serve_and_only_well_formed_signatures()
    {
        _set.Name.Should().Be("files");
        _set.Syscalls.Select(s => s.Number).Should().OnlyHaveUniqueItems();
        _set.Syscalls.Select(s => s.Number).Should().NotIntersectWith(ShimServedSyscalls.All.Where(s => !s.Declarable).Select(s => s.Number));
        _set.Syscalls.Select(s => s.Number).Should().NotIntersectWith(new Donjon.Syscalls.Core.CoreSyscalls().Syscalls.Select(s => s.Number));
        foreach (SyscallSignature signature in _set.Syscalls)
        {
            SignatureValidator.Problem(signature).Should().BeNull(signature.Name);
        }
    }

    [Fact]
    public async Task Open_write_and_stat_land_in_the_mounts_host_directory()
    {
        SyscallResult opened = await Call(257, [AtFdCwd, 0, 0x41 | 0x200, 0x1A4], path: (1, "/data/new.txt")); // O_WRONLY|O_CREAT|O_TRUNC, 0644
        opened.Value.Should().BeGreaterThanOrEqualTo(3);
        _session.Files.TryGet((int)opened.Value, out IOpenFile? file).Should().BeTrue();
        File.Exists(Path.Combine(_data, "new.txt")).Should().BeTrue();
        file!.Description.Should().Be("/data/new.txt");

        SyscallResult stat = await Call(4, [0, 0], path: (0, "/data/new.txt"));
        stat.Value.Should().Be(0);
        (BinaryPrimitives.ReadUInt32LittleEndian(stat.Outputs.Single().Data.Span[24..]) & 0xF000).Should().Be(0x8000);
    }

    [Fact]
    public async Task Bad_paths_descriptors_and_sizes_are_errnos()
    {
        (await Call(2, [0, 0, 0], inputs: new() { [0] = [] })).Value.Should().Be(-EFAULT, "a NULL path");
        (await Call(2, [0, 0, 0], path: (0, ""))).Value.Should().Be(-ENOENT, "an empty path");
        (await Call(2, [0, 0, 0], path: (0, "/nowhere/at/all"))).Value.Should().Be(-ENOENT);
        (await Call(257, [99, 0, 0, 0], path: (1, "relative"))).Value.Should().Be(-EBADF, "a dirfd that is not open");
        (await Call(257, [unchecked((ulong)-5L), 0, 0, 0], path: (1, "relative"))).Value.Should().Be(-EBADF);
        (await Call(257, [0, 0, 0, 0], path: (1, "relative"))).Value.Should().Be(-ENOTDIR, "stdin is not a directory");
        (await Call(257, [0, 0, 0, 0], path: (1, "/data"))).Value.Should().BeGreaterThanOrEqualTo(0, "an absolute path ignores dirfd");
        (await Call(2, [0, 3, 0], path: (0, "/data"))).Value.Should().Be(-EINVAL, "O_ACCMODE 3");
        (await Call(2, [0, 0, 0], path: (0, "/data/" + new string('a', 4089)))).Value.Should().BeNegative("a 4 KiB name");
        (await Call(2, [0, 0x41, 0x1A4], path: (0, "/ro/new"))).Value.Should().Be(-EROFS);
        (await Call(2, [0, 0x41, 0x1A4], path: (0, "/new-at-the-root"))).Value.Should().Be(-EROFS, "the skeleton root is read-only");
        (await Call(83, [0, 0x1ED], path: (0, "/data"))).Value.Should().Be(-EEXIST, "a mount point exists");
        (await Call(82, [0, 0], paths: [(0, "/ro/kept.txt"), (1, "/data/kept.txt")])).Value.Should().Be(-EXDEV, "a rename between mounts");
        (await Call(86, [0, 0], paths: [(0, "/ro/kept.txt"), (1, "/data/kept.txt")])).Value.Should().Be(-EXDEV, "a hard link between mounts");
        (await Call(89, [0, 0, 0], path: (0, "/data"))).Value.Should().Be(-EINVAL, "bufsiz 0");
        (await Call(79, [0, 1], capacities: new() { [0] = 1 })).Value.Should().Be(-ERANGE, "getcwd into one byte");
        (await Call(79, [0, 0], capacities: new() { [0] = 0 })).Value.Should().Be(-ERANGE);
        (await Call(79, [0, 4096])).Value.Should().Be(2, "\"/\" and its NUL");
        (await Call(293, [0, 0x1], capacities: new() { [0] = 8 })).Value.Should().Be(-EINVAL, "an unknown pipe2 flag");
        (await Call(293, [0, 0], capacities: new() { [0] = 4 })).Value.Should().Be(-EFAULT, "a short fds array");
        (await Call(72, [0, 9999, 0])).Value.Should().Be(-EINVAL, "an unknown fcntl command");
        (await Call(72, [0, 5, 0])).Value.Should().Be(-EFAULT, "F_GETLK with no struct flock (a NULL pointer)");
        (await Call(72, [0, 0, unchecked((ulong)-1L)])).Value.Should().Be(-EINVAL, "F_DUPFD below 0");
        (await Call(72, [0, 0, 16])).Value.Should().Be(-EINVAL, "F_DUPFD at the table's limit");
        (await Call(72, [77, 1, 0])).Value.Should().Be(-EBADF);
        (await Call(436, [5, 4, 0])).Value.Should().Be(-EINVAL, "close_range with first above last");
        (await Call(436, [0, 0, 0x1])).Value.Should().Be(-EINVAL, "an unknown close_range flag");
        (await Call(332, [AtFdCwd, 0, 0, 0x7FF, 0], path: (1, "/data"), capacities: new() { [4] = 100 })).Value.Should().Be(-EFAULT, "a short statx buffer");
        (await Call(280, [AtFdCwd, 0, 0, 0], path: (1, "/data"), inputs: new() { [2] = new byte[7] })).Value.Should().Be(-EFAULT, "a short times array");
        (await Call(88, [0, 0], paths: [(0, ""), (1, "/data/l")])).Value.Should().Be(-ENOENT, "an empty symlink target");
    }

    [Fact]
    public async Task A_full_table_is_EMFILE_and_leaks_no_host_descriptor()
    {
        // Count only descriptors that name this test's own directory: the runner opens and closes its own
        // descriptors concurrently, so the process-wide count is not stable.
        int before = DescriptorsInto(_dir.Path);
        var opened = new List<long>();
        for (int i = 0; i < 20; i++)
        {
            opened.Add((await Call(2, [0, 0, 0], path: (0, "/data"))).Value);
        }

        opened.Should().Contain(-EMFILE);
        DescriptorsInto(_dir.Path).Should().BeGreaterThan(before, "the count sees the descriptors the opens made");
        (await Call(293, [0, 0], capacities: new() { [0] = 8 })).Value.Should().Be(-EMFILE, "no room for a pipe");
        foreach (long descriptor in opened.Where(d => d >= 3))
        {
            _session.Files.Close((int)descriptor).Should().BeTrue();
        }

        DescriptorsInto(_dir.Path).Should().Be(before, "every host descriptor the set opened was closed");
    }

    private static int DescriptorsInto(string directory)
    {
        int count = 0;
        // GetFileSystemEntries, not GetFiles: a link to a directory (every mount descriptor) is not a "file".
        foreach (string link in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(link).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed between the listing and the read
            }

            if (target is not null && (target == directory || target.StartsWith(directory + "/", StringComparison.Ordinal)))
            {
                count++;
            }
        }

        return count;
    }

    [Fact]
    public async Task A_session_without_a_file_system_has_no_paths()
    {
        var bare = new BareSession(_session);
        (await _set.HandleAsync(Request(2, [0, 0, 0], new() { [0] = CString("/data") }, null), bare, default)).Value.Should().Be(-ENOENT);
        (await _set.HandleAsync(Request(79, [0, 4096], null, null), bare, default)).Value.Should().Be(2, "the working directory is /");
    }

    [Fact]
    public async Task Fuzzed_requests_never_throw_and_never_exceed_an_outputs_capacity()
    {
        var random = new Random(1010);
        string[] paths = ["/data", "/data/x", "/data/../ro/kept.txt", "/ro", "/ro/kept.txt", "/", "/dev/null", "/dev/stdout", "", "x", "../..", "/proc/self/root", "/data/x/y/"];
        for (int round = 0; round < 4000; round++)
        {
            SyscallSignature signature = _set.Syscalls[random.Next(_set.Syscalls.Count)];
            var values = new ulong[6];
            var inputs = new Dictionary<int, byte[]>();
            var capacities = new Dictionary<int, int>();
            for (int i = 0; i < signature.Arguments.Count; i++)
            {
                values[i] = random.Next(4) switch
                {
                    0 => (ulong)random.Next(-3, 20),
                    1 => AtFdCwd,
                    2 => (ulong)random.NextInt64(),
                    _ => (ulong)random.Next(0, 0x1000),
                };
                SyscallArgument argument = signature.Arguments[i];
                switch (argument.Kind)
                {
                    case ArgumentKind.CString:
                        inputs[i] = random.Next(10) == 0 ? [] : CString(paths[random.Next(paths.Length)]);
                        break;
                    case ArgumentKind.InputBuffer or ArgumentKind.InOutBuffer or ArgumentKind.InputIovec:
                        inputs[i] = new byte[random.Next(3) == 0 ? argument.FixedSize : random.Next(0, 64)];
                        random.NextBytes(inputs[i]);
                        break;
                    case ArgumentKind.OutputBuffer or ArgumentKind.OutputIovec:
                        capacities[i] = random.Next(3) == 0 ? argument.FixedSize : random.Next(0, 300);
                        break;
                }
            }

            // Never on the session's stdio descriptors' host side: they are /dev/null here.
            SyscallRequest request = Request(signature.Number, values, inputs, capacities);
            SyscallResult result = await _set.HandleAsync(request, _session, default);
            foreach (SyscallOutput output in result.Outputs)
            {
                output.Data.Length.Should().BeLessThanOrEqualTo(request.OutputCapacity(output.ArgumentIndex), signature.Name);
            }
        }

        File.ReadAllText(Path.Combine(_dir.Path, "ro", "kept.txt")).Should().Be("kept", "nothing reached the read-only mount");
        Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["data", "ro", "runtime"], "nothing was made outside the mounts");
    }

    private Task<SyscallResult> Call(int number, ulong[] arguments, (int Index, string Text)? path = null, (int Index, string Text)[]? paths = null,
        Dictionary<int, byte[]>? inputs = null, Dictionary<int, int>? capacities = null)
    {
        inputs ??= [];
        if (path is { } one)
        {
            inputs[one.Index] = CString(one.Text);
        }

        foreach ((int index, string text) in paths ?? [])
        {
            inputs[index] = CString(text);
        }

        return _set.HandleAsync(Request(number, arguments, inputs, capacities), _session, default).AsTask();
    }

    /// <summary>A request as the host's parser builds it: fixed-size inputs and outputs of their size unless given.</summary>
    private SyscallRequest Request(int number, ulong[] arguments, Dictionary<int, byte[]>? inputs, Dictionary<int, int>? capacities)
    {
        SyscallSignature signature = _set.Syscalls.Single(s => s.Number == number);
        var values = new ulong[6];
        arguments.CopyTo(values, 0);
        var inputBytes = new ReadOnlyMemory<byte>[6];
        var outputCapacities = new int[6];
        for (int i = 0; i < signature.Arguments.Count; i++)
        {
            SyscallArgument argument = signature.Arguments[i];
            if (inputs is not null && inputs.TryGetValue(i, out byte[]? bytes))
            {
                inputBytes[i] = bytes;
            }

            if (argument.Kind is ArgumentKind.InOutBuffer)
            {
                outputCapacities[i] = inputBytes[i].Length;
            }

            if (argument.Kind is ArgumentKind.OutputBuffer or ArgumentKind.OutputIovec)
            {
                outputCapacities[i] = capacities is not null && capacities.TryGetValue(i, out int capacity)
                    ? capacity
                    : argument.FixedSize > 0 ? argument.FixedSize : (int)Math.Min(values[argument.LengthArgument], 1 << 16);
            }
        }

        return new SyscallRequest(signature, values, inputBytes, outputCapacities);
    }

    private static byte[] CString(string text) => [.. Encoding.UTF8.GetBytes(text), 0];

    private static int Fd(FileStream stream) => (int)stream.SafeFileHandle.DangerousGetHandle();

    /// <summary>A session that is not an <see cref="IKeepFileSystem"/>: the documented default is no paths at all.</summary>
    private sealed class BareSession(IKeepSession inner) : IKeepSession
    {
        public WorkloadIdentity Workload => inner.Workload;

        public IFileDescriptorTable Files => inner.Files;

        public KeepPolicy Policy => inner.Policy;

        public KeepStdio Stdio => inner.Stdio;

        public Microsoft.Extensions.Logging.ILogger Logger => inner.Logger;
    }
}
