using System.Collections.Concurrent;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Sessions;
using Donjon.Host.Sessions;
using Donjon.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Donjon.Tests.Execution;

/// <summary>The host's side of the keep's file system: mounts, the skeleton root, the scratch /tmp, descriptor flags, thread safety.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KeepFileSystemTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string RuntimeBase()
    {
        string path = Path.Combine(_dir.Path, "runtime");
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private KeepSession Session(KeepPolicy policy, string runtime) =>
        new(new WorkloadIdentity("/w", new string('0', 64), 1), policy, new KeepStdio(0, 1, 2), NullLogger.Instance, runtime);

    [Fact]
    public void Mounts_are_longest_first_with_a_read_only_skeleton_root_that_holds_only_the_mount_points()
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = _dir.Write("one.txt", "one");
        var policy = KeepPolicy.DenyAll with
        {
            Files = [new FileGrant(data, FileGrantAccess.Read) { KeepPath = "/srv/data" }, new FileGrant(file, FileGrantAccess.Read) { KeepPath = "/etc/one.txt" }],
        };
        string runtime = RuntimeBase();
        string keepDirectory;
        using (KeepSession session = Session(policy with { ScratchTmp = true }, runtime))
        {
            session.Mounts.Select(m => m.KeepPath).Should().Equal("/etc/one.txt", "/srv/data", "/tmp", "/");
            session.Mounts[0].IsDirectory.Should().BeFalse();
            session.Mounts[^1].Should().Match<KeepMount>(m => m.IsBuiltIn && m.Access == FileGrantAccess.Read && m.Source == "built-in root");
            session.Mounts[2].Access.Should().Be(FileGrantAccess.Read | FileGrantAccess.Write);
            session.WorkingDirectory.Should().Be("/");
            keepDirectory = session.RuntimeDirectory!;
            string root = Path.Combine(keepDirectory, "root");
            Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Should().BeEquivalentTo(["dev", "etc", "srv", "tmp"]);
            Directory.EnumerateFileSystemEntries(Path.Combine(root, "dev")).Select(Path.GetFileName).Should().BeEquivalentTo(["null", "zero", "full", "random", "urandom", "stdin", "stdout", "stderr"]);
            File.GetUnixFileMode(root).Should().Be((UnixFileMode)0x16D, "the skeleton is read-only (0555)");
            File.WriteAllText(Path.Combine(keepDirectory, "tmp", "scratch"), "x");
        }

        Directory.Exists(keepDirectory).Should().BeFalse("disposing the session removes the keep's directory, its /tmp included");
    }

    [Fact]
    public void A_grant_that_cannot_be_opened_is_absent_and_the_rest_still_mount()
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "there")).FullName;
        var policy = KeepPolicy.DenyAll with { Files = [new FileGrant("/no/such/dir", FileGrantAccess.Read), new FileGrant(data, FileGrantAccess.Read)] };
        using KeepSession session = Session(policy, RuntimeBase());
        session.Mounts.Select(m => m.KeepPath).Should().Equal(data, "/");
        session.Mounts[0].Source.Should().Be("policy.files[1]");
    }

    [Fact]
    public void An_abandoned_keep_directory_is_removed_and_a_live_ones_kept()
    {
        string runtime = RuntimeBase();
        string abandoned = Directory.CreateDirectory(Path.Combine(runtime, "keep-2147483647-00", "tmp", "locked")).FullName;
        File.SetUnixFileMode(abandoned, UnixFileMode.None);
        string live = Directory.CreateDirectory(Path.Combine(runtime, $"keep-{Environment.ProcessId}-11")).FullName;
        string other = Directory.CreateDirectory(Path.Combine(runtime, "unrelated")).FullName;

        using (Session(KeepPolicy.DenyAll, runtime))
        {
            Directory.Exists(Path.Combine(runtime, "keep-2147483647-00")).Should().BeFalse();
            Directory.Exists(live).Should().BeTrue("its process lives");
            Directory.Exists(other).Should().BeTrue("only keep-* directories are Donjon's");
        }
    }

    [Fact]
    public void A_runtime_directory_open_to_others_is_refused_and_the_keep_gets_no_tmp()
    {
        string runtime = Path.Combine(_dir.Path, "shared");
        Directory.CreateDirectory(runtime);
        File.SetUnixFileMode(runtime, (UnixFileMode)0x1FF);
        using KeepSession session = Session(KeepPolicy.DenyAll with { ScratchTmp = true }, runtime);
        session.Mounts.Should().BeEmpty("no private directory could be made, so no /tmp and no skeleton");
        session.RuntimeDirectory.Should().BeNull();
    }

    [Fact]
    public void The_working_directory_and_the_umask_change_atomically_from_many_threads()
    {
        using KeepSession session = Session(KeepPolicy.DenyAll, RuntimeBase());
        session.Umask.Should().Be(0x12);
        var seen = new ConcurrentBag<int>();
        Parallel.For(0, 1000, i =>
        {
            seen.Add(session.ExchangeUmask(i & 0x1FF));
            session.SetWorkingDirectory(i % 2 == 0 ? "/a" : "/b");
        });
        seen.Should().HaveCount(1000);
        session.WorkingDirectory.Should().BeOneOf("/a", "/b");
        FluentActions.Invoking(() => session.SetWorkingDirectory("relative")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Descriptor_flags_are_per_number_and_cleared_by_close_and_replacement()
    {
        using var table = new FileDescriptorTable(8);
        var file = new HostOpenFile(0, "stdin", ownsDescriptor: false);
        int first = table.Add(file);
        int second = table.Add(file);
        table.GetDescriptorFlags(first).Should().Be(0);
        table.SetDescriptorFlags(first, 1 | 2).Should().BeTrue();
        table.GetDescriptorFlags(first).Should().Be(1, "only FD_CLOEXEC is kept");
        table.GetDescriptorFlags(second).Should().Be(0, "flags belong to the number, not the file");
        table.Set(first, new HostOpenFile(1, "stdout", ownsDescriptor: false)).Should().BeTrue();
        table.GetDescriptorFlags(first).Should().Be(0, "a number given another file starts without flags");
        table.SetDescriptorFlags(second, 1);
        table.Close(second).Should().BeTrue();
        table.GetDescriptorFlags(second).Should().Be(-1);
        table.SetDescriptorFlags(second, 1).Should().BeFalse();
        table.Add(new HostOpenFile(2, "stderr", ownsDescriptor: false)).Should().Be(second);
        table.GetDescriptorFlags(second).Should().Be(0, "a reused number starts without flags");
        table.GetDescriptorFlags(-1).Should().Be(-1);
        table.GetDescriptorFlags(int.MaxValue).Should().Be(-1);
    }
}
