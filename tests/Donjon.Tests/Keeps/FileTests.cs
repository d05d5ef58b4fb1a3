using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// The keep's file system under the admin's policy, in both keeps: real files in temporary directories, the same
/// program run natively and in the keep with identical stdout and status where the native run can be compared, and
/// exact expected output where the policy makes the keep differ on purpose (read-only mounts, ungranted paths, pinned
/// digests, escapes).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, Toolchain> CToolchains() => KeepSuiteTests.CToolchains();

    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Create_write_read_rename_list_stat_link_and_delete_in_a_read_write_mount_as_natively(string backend, Toolchain toolchain)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string config = Config(backend, [new { path = data, access = "read-write" }]);
        string program = SuiteWorkloads.Build("files", toolchain);

        var native = ChildProcess.Run(program, [data], KeepSuiteTests.NativeEnvironment());
        Directory.EnumerateFileSystemEntries(data).Should().BeEmpty("the program removes what it made");
        var keep = RunInKeep(backend, config, program, [data]);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().Contain("read: appended\n").And.Contain("list: hard link renamed.txt sub\n")
            .And.Contain("31's F_GETFD: 1\n").And.Contain("getcwd is the directory: 1\n").And.EndWith("unlink missing: -1 No such file or directory\n");
        keep.Stderr.Should().BeEmpty("nothing the program did was denied");
        Directory.EnumerateFileSystemEntries(data).Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Pipes_poll_with_timeouts_and_the_built_in_devices_as_natively(string backend, Toolchain toolchain)
    {
        string config = Config(backend, []);
        string program = SuiteWorkloads.Build("pipes", toolchain);
        var native = ChildProcess.Run(program, [], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, config, program, []);

        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().Contain("poll an empty pipe for 60 ms: 0\nwaited at least 50 ms: 1\n")
            .And.Contain("POLLHUP 1\n").And.Contain("/dev/full write: -1 No space left on device\n").And.EndWith("via /dev/stdout\nstdout still open: yes\n");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Every_write_form_on_a_read_only_mount_is_EROFS_and_the_files_stay_as_they_were(string backend, Toolchain toolchain)
    {
        string ro = Directory.CreateDirectory(Path.Combine(_dir.Path, "ro")).FullName;
        Directory.CreateDirectory(Path.Combine(ro, "dir"));
        string data = Path.Combine(ro, "data.txt");
        File.WriteAllText(data, "read-only data\n");
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        DateTime written = File.GetLastWriteTimeUtc(data);

        var keep = RunInKeep(backend, Config(backend, [new { path = ro, access = "read" }]), SuiteWorkloads.Build("readonly", toolchain), [ro]);

        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(
            "open for reading: ok\nread: ok\n[read-only data\n]\nwrite to a read-only descriptor: Bad file descriptor\n" +
            "fchmod: Read-only file system\nftruncate: Invalid argument\naccess R_OK: ok\naccess W_OK: Read-only file system\n" +
            "open O_WRONLY: Read-only file system\nopen O_RDWR: Read-only file system\nopen O_RDONLY|O_TRUNC: Read-only file system\n" +
            "open O_CREAT existing: Read-only file system\nopen O_CREAT new: Read-only file system\ncreat: Read-only file system\n" +
            "open O_TMPFILE: Read-only file system\nunlink: Read-only file system\nrmdir: Read-only file system\nmkdir: Read-only file system\n" +
            "mkdir existing: File exists\nrename: Read-only file system\nlink: Read-only file system\nsymlink: Read-only file system\n" +
            "chmod: Read-only file system\nutimensat: Read-only file system\ntruncate: Read-only file system\n" +
            "chown: Operation not permitted\nfopen append: Read-only file system\nfopen read: ok\n");
        keep.Stderr.Should().Contain($"donjon: warning: denied unlink of {data}: it is on a read-only mount (EROFS); set \"access\": \"read-write\" in policy.files[0] (host {ro}, keep {ro})");
        File.ReadAllText(data).Should().Be("read-only data\n");
        File.GetLastWriteTimeUtc(data).Should().Be(written);
        File.GetUnixFileMode(data).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Directory.EnumerateFileSystemEntries(ro).Select(Path.GetFileName).Should().BeEquivalentTo(["data.txt", "dir"]);
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Fopen_of_an_ungranted_path_is_ENOENT_and_the_warning_names_the_entry_that_would_grant_it(string backend, Toolchain toolchain)
    {
        string secret = _dir.Write("secret.txt", "not granted\n");
        var keep = RunInKeep(backend, Config(backend, []), SuiteWorkloads.Build("cat", toolchain), [secret]);

        keep.ExitCode.Should().Be(1, keep.Stderr);
        keep.StdoutText.Should().Be($"cwd /\nfopen {secret}: No such file or directory\n");
        keep.Stderr.Should().Contain(
            $"donjon: warning: denied open of {secret}: no mount of policy.files holds it, so it does not exist in the keep (ENOENT); " +
            $"to grant it, add {{ \"host\": \"{secret}\", \"keep\": \"{secret}\", \"access\": \"read\" }} to policy.files");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_host_directory_is_seen_at_its_keep_path_and_the_working_directory_is_the_policys(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "srv")).FullName;
        File.WriteAllText(Path.Combine(data, "hello.txt"), "mounted elsewhere\n");
        string config = Config(backend, [new { host = data, keep = "/data", access = "read" }], workingDirectory: "/data");
        var keep = RunInKeep(backend, config, SuiteWorkloads.Build("cat", Toolchain.Glibc), ["hello.txt", "/data/hello.txt", data + "/hello.txt"]);

        keep.ExitCode.Should().Be(1, keep.Stderr);
        keep.StdoutText.Should().Be($"cwd /data\nmounted elsewhere\nmounted elsewhere\nfopen {data}/hello.txt: No such file or directory\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_pinned_file_opens_with_the_right_digest_and_is_EACCES_with_a_wrong_one(string backend)
    {
        string file = _dir.Write("trusted.txt", "trusted contents\n");
        string right = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        string wrong = new('0', 64);
        string program = SuiteWorkloads.Build("cat", Toolchain.Glibc);

        var good = RunInKeep(backend, Config(backend, [new { host = file, keep = "/etc/trusted.txt", access = "read", sha256 = right.ToUpperInvariant() }]), program, ["/etc/trusted.txt"]);
        good.ExitCode.Should().Be(0, good.Stderr);
        good.StdoutText.Should().Be("cwd /\ntrusted contents\n");

        var bad = RunInKeep(backend, Config(backend, [new { host = file, keep = "/etc/trusted.txt", access = "read", sha256 = wrong }]), program, ["/etc/trusted.txt"]);
        bad.ExitCode.Should().Be(1, bad.Stderr);
        bad.StdoutText.Should().Be("cwd /\nfopen /etc/trusted.txt: Permission denied\n");
        bad.Stderr.Should().Contain($"denied open of /etc/trusted.txt: {file} has SHA-256 {right}, but policy.files[0] pins {wrong} (EACCES)");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_scratch_tmp_is_private_writable_and_removed_when_the_keep_ends_and_abandoned_ones_at_the_next_start(string backend)
    {
        string runtime = Directory.CreateDirectory(Path.Combine(_dir.Path, "xdg")).FullName;
        string donjonDir = Directory.CreateDirectory(Path.Combine(runtime, "donjon")).FullName;
        File.SetUnixFileMode(donjonDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // A keep of a Donjon that was killed: its pid is gone and nobody holds its lock.
        string abandoned = Directory.CreateDirectory(Path.Combine(donjonDir, "keep-2147483647-0123456789abcdef", "tmp", "left")).FullName;
        File.WriteAllText(Path.Combine(abandoned, "file.txt"), "left behind\n");
        File.SetUnixFileMode(abandoned, UnixFileMode.None);

        string config = Config(backend, [], tmp: true);
        var environment = ChildProcess.DotnetEnvironment();
        environment["XDG_RUNTIME_DIR"] = runtime;
        string program = SuiteWorkloads.Build("files", Toolchain.Glibc);
        var keep = ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", config, program, "/tmp"], environment);

        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Contain("list: hard link renamed.txt sub\n");
        Directory.EnumerateFileSystemEntries(donjonDir).Should().BeEmpty("the keep's own directory is removed at its end, and the abandoned one at its start");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public async Task The_escape_suite_holds(string backend, Toolchain toolchain)
    {
        string outside = _dir.Path;
        string secret = _dir.Write("secret.txt", "SECRET 7d3a\n");
        string data = Directory.CreateDirectory(Path.Combine(outside, "data")).FullName;
        File.CreateSymbolicLink(Path.Combine(data, "planted"), secret);
        File.CreateSymbolicLink(Path.Combine(data, "planteddir"), outside);
        string raceDirectory = Directory.CreateDirectory(Path.Combine(data, "race-dir")).FullName;
        File.WriteAllText(Path.Combine(raceDirectory, "secret.txt"), "inside\n");
        string raceLink = Path.Combine(data, "race-link");
        File.CreateSymbolicLink(raceLink, outside);
        string race = Path.Combine(data, "race");

        // The host swaps "race" between a directory inside the mount and a symbolic link to the outside, while the keep opens through it.
        using var stop = new CancellationTokenSource();
        int swaps = 0;
        var swapper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Directory.Move(raceDirectory, race);
                Directory.Move(race, raceDirectory);
                Directory.Move(raceLink, race);
                Directory.Move(race, raceLink);
                swaps++;
            }
        });

        ChildProcess.Result keep;
        try
        {
            keep = RunInKeep(backend, Config(backend, [new { host = data, keep = "/data", access = "read-write" }]), SuiteWorkloads.Build("escapefs", toolchain), ["/data", secret, outside]);
        }
        finally
        {
            await stop.CancelAsync();
            await swapper;
        }

        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().NotContain("SECRET").And.NotContain("OPENED").And.NotContain("LINKED").And.NotContain("MADE").And.NotContain("REMOVED");
        keep.StdoutText.Should().Be(
            "the secret by its host path: No such file or directory\n" +
            "../ from the mount: No such file or directory\n" +
            "a ../ chain to the root: No such file or directory\n" +
            "a relative ../ chain: No such file or directory\n" +
            "an absolute symlink planted in the mount: No such file or directory\n" +
            "a relative symlink pointing outside: No such file or directory\n" +
            "a symlink to the outside directory: No such file or directory\n" +
            "the host's own planted symlink: No such file or directory\n" +
            "through the host's planted directory symlink: No such file or directory\n" +
            "/proc/self/root: No such file or directory\n" +
            "/proc/self/fd/0: No such file or directory\n" +
            "a symlink to /proc/self/root: No such file or directory\n" +
            "hard link to the host file: No such file or directory\n" +
            "the hard link: No such file or directory\n" +
            "O_CREAT through a dangling absolute symlink: No such file or directory\n" +
            "O_CREAT through a dangling relative symlink: No such file or directory\n" +
            "mkdir through the directory symlink: No such file or directory\n" +
            "unlink through the directory symlink: No such file or directory\n" +
            "rename out through the directory symlink: No such file or directory\n" +
            "chmod through the absolute symlink: No such file or directory\n" +
            "truncate through the absolute symlink: No such file or directory\n" +
            "chdir out: No such file or directory\n" +
            "getcwd after chdir(\"/..\"): /\n" +
            "stat through the directory symlink: No such file or directory\n" +
            "readlink of the planted link: its target, as stored\n" +
            "race: 0 leaks in 10000 opens\n");
        swaps.Should().BeGreaterThan(0, "the race must really have raced");
        keep.Stderr.Should().MatchRegex(@"race: [1-9][0-9]* opens reached the inside file", "some opens went through the inside directory, so the race was real");
        keep.Stderr.Should().Contain("denied open of /data/planted: resolving it leaves policy.files[0] (keep /data) through a symbolic link or '..'");
        File.ReadAllText(secret).Should().Be("SECRET 7d3a\n");
        File.GetUnixFileMode(secret).Should().NotHaveFlag(UnixFileMode.OtherWrite);
        File.Exists(Path.Combine(outside, "created-by-the-keep.txt")).Should().BeFalse();
        Directory.Exists(Path.Combine(outside, "made")).Should().BeFalse();
        File.Exists(Path.Combine(outside, "moved")).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Mount_and_tmp_on_the_command_line_add_grants_for_one_run(string backend)
    {
        string input = Directory.CreateDirectory(Path.Combine(_dir.Path, "in")).FullName;
        File.WriteAllText(Path.Combine(input, "note.txt"), "from --mount\n");
        string work = Directory.CreateDirectory(Path.Combine(_dir.Path, "work")).FullName;
        string config = Config(backend, []);

        var read = RunInKeep(backend, config, SuiteWorkloads.Build("cat", Toolchain.Glibc), ["/in/note.txt"], ["--mount", $"{input}:/in"]);
        read.ExitCode.Should().Be(0, read.Stderr);
        read.StdoutText.Should().Be("cwd /\nfrom --mount\n");

        var files = RunInKeep(backend, config, SuiteWorkloads.Build("files", Toolchain.Glibc), ["/work"], ["--mount", $"{work}:/work:rw", "--tmp"]);
        files.ExitCode.Should().Be(0, files.Stderr);
        files.StdoutText.Should().Contain("list: hard link renamed.txt sub\n");

        var readOnly = RunInKeep(backend, config, SuiteWorkloads.Build("files", Toolchain.Glibc), ["/work"], ["--mount", $"{work}:/work:ro"]);
        readOnly.ExitCode.Should().Be(1, "a mount is read-only unless :rw");
        readOnly.StdoutText.Should().Be("fopen w: Read-only file system\n");
        Directory.EnumerateFileSystemEntries(work).Should().BeEmpty();
    }

    [Fact]
    public void Mount_fails_with_125_when_the_admin_forbids_it_or_its_form_is_wrong()
    {
        string config = Config("process", [], commandLineMounts: false);
        string program = SuiteWorkloads.Build("cat", Toolchain.Glibc);
        var forbidden = RunInKeep("process", config, program, [], ["--mount", $"{_dir.Path}:/data"]);
        forbidden.ExitCode.Should().Be(125);
        forbidden.Stdout.Should().BeEmpty("the workload never ran");
        forbidden.Stderr.Should().Contain($"--mount, --libraries, --manifest and --tmp are forbidden by the admin (policy.commandLineMounts is false in {config})");
        RunInKeep("process", config, program, [], ["--tmp"]).ExitCode.Should().Be(125);

        var malformed = RunInKeep("process", Config("process", []), program, [], ["--mount", "relative:/data", "--mount", $"{_dir.Path}:/dev/null:rw", "--mount", "/a:/b:rx"]);
        malformed.ExitCode.Should().Be(125);
        malformed.Stderr.Should().Contain("donjon: --mount 'relative:/data': 'relative' is not an absolute path")
            .And.Contain($"donjon: --mount '{_dir.Path}:/dev/null:rw': '/dev/null' is one of the keep's built-in devices")
            .And.Contain("donjon: --mount '/a:/b:rx' is not HOST:KEEP[:ro|:rw]");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void A_blocking_FIFO_open_waits_for_the_other_end_without_stalling_other_threads_as_natively(string backend, Toolchain toolchain)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string fifo = MakeFifo(Path.Combine(data, "fifo"));
        string program = SuiteWorkloads.Build("fifo", toolchain);

        var native = ChildProcess.Run(program, [fifo, "threads"], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [fifo, "threads"]);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().StartWith("writer still waiting for a reader: 1\n")
            .And.Contain("main read: from the writer thread\nreader O_NONBLOCK: 0\nreader still waiting for a writer: 1\nreader thread read: from the main thread\n")
            .And.Contain("O_WRONLY|O_NONBLOCK with no reader: -1 No such device or address\n").And.EndWith("/dev/null O_NONBLOCK: 0\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_waiting_FIFO_open_is_EINTR_after_a_forwarded_signal_as_natively(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string fifo = MakeFifo(Path.Combine(data, "fifo"));
        string program = SuiteWorkloads.Build("fifo", Toolchain.Glibc);
        string config = Config(backend, [new { path = data, access = "read-write" }]);

        string native = Interrupted(StartReady(program, [fifo, "signal"]), fifo, writeAfter: null);
        string keep = Interrupted(StartInKeep(backend, config, program, [fifo, "signal"]), fifo, writeAfter: null);

        native.Should().Be("open: failed, EINTR 1, signal 10\n");
        keep.Should().Be(native);
        ProbeFifo(program, fifo).Should().Be("a reader is left: No such device or address\n", "the interrupted open left no host descriptor behind");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Under_SA_RESTART_a_waiting_FIFO_open_goes_on_after_the_handler_as_natively(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string fifo = MakeFifo(Path.Combine(data, "fifo"));
        string program = SuiteWorkloads.Build("fifo", Toolchain.Glibc);
        string config = Config(backend, [new { path = data, access = "read-write" }]);

        string native = Interrupted(StartReady(program, [fifo, "restart"]), fifo, writeAfter: "late\n");
        string keep = Interrupted(StartInKeep(backend, config, program, [fifo, "restart"]), fifo, writeAfter: "late\n");

        native.Should().Be("open: ok, EINTR 0, signal 10\nread: late\n");
        keep.Should().Be(native);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_keep_that_exits_while_a_thread_waits_in_a_FIFO_open_ends_and_leaves_no_reader(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string fifo = MakeFifo(Path.Combine(data, "fifo"));
        string program = SuiteWorkloads.Build("fifo", Toolchain.Glibc);

        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [fifo, "exit"]);

        keep.ExitCode.Should().Be(3, keep.Stderr);
        keep.StdoutText.Should().Be("exiting while a thread waits\n", "the waiting open never returned into the keep");
        ProbeFifo(program, fifo).Should().Be("a reader is left: No such device or address\n", "the waiting open's host descriptor went with the keep");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Openat2_checks_open_how_and_honours_every_resolve_flag_relative_to_the_keeps_dirfd_as_natively(string backend, Toolchain toolchain)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string program = SuiteWorkloads.Build("openat2", toolchain);

        var native = ChildProcess.Run(program, [data], KeepSuiteTests.NativeEnvironment());
        Directory.EnumerateFileSystemEntries(data).Should().BeEmpty("the program removes what it made");
        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [data]);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().StartWith("size 0: EINVAL\nsize 23: EINVAL\nsize 24: ok [outer]\n")
            .And.Contain("size 64, non-zero extension: E2BIG\nsize 4097: E2BIG\n")
            .And.Contain("CACHED with O_CREAT: EAGAIN\n")
            .And.Contain("BENEATH up (a link out of the dirfd): EXDEV\n").And.Contain("no flags, up: ok [outer]\n")
            .And.Contain("IN_ROOT abs: ok [inner f]\n").And.Contain("NO_SYMLINKS rel: ELOOP\n")
            .And.EndWith("a missing file: ENOENT\n");
        keep.Stderr.Should().BeEmpty("nothing the program did was denied");
        Directory.EnumerateFileSystemEntries(data).Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Openat2_stays_inside_the_mount_whatever_its_resolve_flags(string backend)
    {
        File.WriteAllText(Path.Combine(_dir.Path, "outer.txt"), "outer\n");
        string inner = Directory.CreateDirectory(Path.Combine(_dir.Path, "inner")).FullName;
        File.WriteAllText(Path.Combine(inner, "f.txt"), "inner f\n");
        File.CreateSymbolicLink(Path.Combine(inner, "up"), "../outer.txt");
        File.CreateSymbolicLink(Path.Combine(inner, "abs"), "/f.txt");
        string program = SuiteWorkloads.Build("openat2", Toolchain.Glibc);

        var native = ChildProcess.Run(program, [inner, "escape"], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, Config(backend, [new { path = inner, access = "read" }]), program, [inner, "escape"]);

        native.StdoutText.Should().Contain("up: ok [outer]\n").And.Contain("../outer.txt: ok [outer]\n", "natively the links and '..' reach the outer file");
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(
            "up: ENOENT\n" +
            "up, BENEATH: EXDEV\n" +
            "up, IN_ROOT: ENOENT\n" +
            "up, NO_XDEV: EXDEV\n" +
            "../outer.txt: ENOENT\n" +
            "../outer.txt, IN_ROOT: ENOENT\n" +
            "abs: ENOENT\n" +
            "abs, IN_ROOT: ok [inner f]\n" +
            "f.txt, IN_ROOT: ok [inner f]\n");
        keep.StdoutText.Should().NotContain("outer]");
        keep.Stderr.Should().Contain($"denied open of {inner}/up: resolving it leaves policy.files[0]");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Reads_and_writes_with_a_bad_buffer_are_0_at_end_of_file_and_EFAULT_otherwise_as_natively(string backend, Toolchain toolchain)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = Path.Combine(data, "file");
        string program = SuiteWorkloads.Build("badbuffer", toolchain);

        var native = ChildProcess.Run(program, [file], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [file]);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().StartWith("read at EOF, bad buffer: 0\nread of 0 bytes, bad buffer: 0\npread at EOF, bad buffer: 0\n")
            .And.Contain("pread before EOF, bad buffer: -1 EFAULT\n").And.Contain("readv at EOF, bad base: 0\n")
            .And.Contain("pread of 3 bytes into 3 valid ones, asking 100: 3\nthey are: abc\n")
            .And.Contain("read of a pipe with no writer, bad buffer: 0\n").And.EndWith("read of /dev/null, bad buffer: 0\n");
        File.Exists(file).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Vector_reads_and_writes_and_getdents64_are_byte_exact_as_natively(string backend, Toolchain toolchain)
    {
        // The calls whose outputs the host writes straight into the block, and whose plain inputs it serves from it.
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string program = SuiteWorkloads.Build("vectors", toolchain);

        var native = ChildProcess.Run(program, [data], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [data]);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().StartWith("writev of 64 pieces: 189\n  total 189\nreadv into 9 iovecs of 253 bytes: 189\n  iov 0 [B]\n  iov 1 []\n")
            .And.Contain("  iov 7 [MMMMNNNNNNPQQRRRSSSST]\n  iov 8 [TTTTUUUUUUWXXYYYZZZZAAAAABBBBBBDEEFFFGGG]\n  the last iovec's bytes after the data untouched: 1\n")
            .And.Contain("readv of 10 into 4+4+4: 10\n  a [0123]\n  b [4567]\n  c [89..]\nwritev with a bad first element: -1 Bad address\nreadv at end of pipe: 0\n")
            .And.Contain("pwritev of 5+1+300000+5 at 5: 300011\n  size 300016\npreadv into 7+3+299998+8 from 0: 300016\n  head zeros 0 0 0 0 0 then [he]\n  mid [llo]\n")
            .And.Contain("  rest fnv 0d8511d8\n  last b6 bd c4 then [world]\npreadv of 10 at size - 4: 4\n  head [orld...]\n  mid [...]\npreadv at the end: 0\n")
            .And.Contain("preadv with a bad first element: -1 Bad address\n")
            .And.Contain("getdents64 in 96-byte buffers: 32 names, more than 10 calls 1, bytes after each answer untouched 1\n  . .. entry-00 entry-01 ")
            .And.EndWith(" entry-29\ngetdents64 into 10 bytes: -1 Invalid argument\n");
        Directory.EnumerateFileSystemEntries(data).Should().BeEmpty("the program removes what it made");
    }

    [Theory]
    [MemberData(nameof(CToolchains))]
    public void Record_locks_POSIX_and_OFD_with_a_waiting_thread_lockf_and_bad_arguments_as_natively(string backend, Toolchain toolchain)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = Path.Combine(data, "locked");
        string program = SuiteWorkloads.Build("locks", toolchain);

        var native = ChildProcess.Run(program, [file], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [file]);

        native.ExitCode.Should().Be(0, native.StdoutText);
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        keep.StdoutText.Should().Contain("F_OFD_GETLK write 0-19 from b: F_WRLCK start 0 len 15 pid mine\n")
            .And.Contain("F_OFD_GETLK read 20-39 from b: F_WRLCK start 20 len 10 pid -1\n")
            .And.Contain("thread still waiting: 1\nF_OFD_SETLK unlock 0-9 on a: 0\nthread F_OFD_SETLKW: 0\n")
            .And.Contain("F_OFD_GETLK write 0-9 from b after closing a dup: F_UNLCK\n")
            .And.Contain("F_SETLK l_whence 9: -1 EINVAL\n").And.Contain("F_SETLK on a closed descriptor: -1 EBADF\n")
            .And.Contain("F_SETLK NULL: -1 EFAULT\n").And.EndWith("F_OFD_SETLKW bad pointer: -1 EFAULT\nF_GETFL still a value: 2\n");
        File.Exists(file).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_lock_another_process_holds_refuses_the_keeps_lock_and_F_GETLK_reports_it(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = Path.Combine(data, "locked");
        string program = SuiteWorkloads.Build("locks", Toolchain.Glibc);
        using var holder = Hold(program, file);

        var native = ChildProcess.Run(program, [file, "probe"], KeepSuiteTests.NativeEnvironment());
        var keep = RunInKeep(backend, Config(backend, [new { path = data, access = "read-write" }]), program, [file, "probe"]);

        const string Refused = "F_SETLK write 10-19: EAGAIN or EACCES\nF_OFD_SETLK read 0-0: EAGAIN\n";
        native.StdoutText.Should().Be(Refused + "F_GETLK read 50-149: F_WRLCK start 0 len 100 pid other\n" +
            "F_OFD_GETLK write 100-199: F_UNLCK\nF_SETLK write 100-199: 0\n");
        keep.ExitCode.Should().Be(0, keep.Stderr);
        keep.StdoutText.Should().Be(
            Refused + "F_GETLK read 50-149: F_WRLCK start 0 len 100 pid 0\n" + "F_OFD_GETLK write 100-199: F_UNLCK\nF_SETLK write 100-199: 0\n",
            "the holder is outside the keep, so its pid is 0, as for a holder outside a pid namespace");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_waiting_F_SETLKW_is_EINTR_after_a_forwarded_signal_as_natively(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = Path.Combine(data, "locked");
        string program = SuiteWorkloads.Build("locks", Toolchain.Glibc);
        string config = Config(backend, [new { path = data, access = "read-write" }]);
        using var holder = Hold(program, file);

        string native = InterruptedLock(StartReady(program, [file, "signal"]), release: null);
        string keep = InterruptedLock(StartInKeep(backend, config, program, [file, "signal"]), release: null);

        native.Should().Be("F_SETLKW: EINTR, signal 10\n");
        keep.Should().Be(native);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Under_SA_RESTART_a_waiting_F_SETLKW_goes_on_after_the_handler_and_is_granted_as_natively(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = Path.Combine(data, "locked");
        string program = SuiteWorkloads.Build("locks", Toolchain.Glibc);
        string config = Config(backend, [new { path = data, access = "read-write" }]);

        string native, keep;
        using (var holder = Hold(program, file))
        {
            native = InterruptedLock(StartReady(program, [file, "restart"]), release: holder);
        }

        using (var holder = Hold(program, file))
        {
            keep = InterruptedLock(StartInKeep(backend, config, program, [file, "restart"]), release: holder);
        }

        native.Should().Be("F_SETLKW: granted, signal 10\n");
        keep.Should().Be(native);
    }

    /// <summary>A native process that holds a POSIX write lock on bytes 0-99 of <paramref name="file"/> until it is disposed.</summary>
    private static System.Diagnostics.Process Hold(string program, string file)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(file);
        start.ArgumentList.Add("hold");
        var process = System.Diagnostics.Process.Start(start)!;
        process.StandardOutput.ReadLine().Should().Be("held");
        return process;
    }

    /// <summary>
    /// Signals a program waiting in F_SETLKW until it answers (without SA_RESTART: a signal every 3 s, as one that comes
    /// before the wait only runs the handler), or twice and then ends <paramref name="release"/>'s lock (under SA_RESTART).
    /// </summary>
    private static string InterruptedLock(System.Diagnostics.Process process, System.Diagnostics.Process? release)
    {
        using (process)
        {
            string pid = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Task<string?> answer = process.StandardOutput.ReadLineAsync();
            for (int sent = 0; sent < (release is null ? 40 : 2); sent++)
            {
                using (var kill = System.Diagnostics.Process.Start("kill", ["-10", pid])!)
                {
                    kill.WaitForExit();
                }

                if (answer.Wait(release is null ? 3000 : 500))
                {
                    break;
                }
            }

            if (release is not null)
            {
                process.HasExited.Should().BeFalse("under SA_RESTART the lock waits again");
                release.StandardInput.Close();
                release.WaitForExit(10_000).Should().BeTrue();
            }

            process.WaitForExit(60_000).Should().BeTrue("the wait returns once the handler ran");
            answer.Wait(10_000).Should().BeTrue();
            string rest = answer.Result + "\n" + process.StandardOutput.ReadToEnd();
            process.ExitCode.Should().Be(0, rest);
            return rest;
        }
    }

    private static string MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit(10_000).Should().BeTrue();
        mkfifo.ExitCode.Should().Be(0);
        return path;
    }

    private static string ProbeFifo(string program, string fifo)
    {
        var probe = ChildProcess.Run(program, [fifo, "probe"], KeepSuiteTests.NativeEnvironment());
        probe.ExitCode.Should().Be(0);
        return probe.StdoutText;
    }

    /// <summary>Sends SIGUSR1 to a program that said "ready" and waits in a FIFO open; writes <paramref name="writeAfter"/> into the FIFO then; returns what it printed after "ready".</summary>
    private static string Interrupted(System.Diagnostics.Process process, string fifo, string? writeAfter)
    {
        using (process)
        {
            // A signal that came before the open began only runs the handler, and the next one interrupts the open; so
            // without SA_RESTART a signal is sent every 3 s until the program prints its answer (only then: a signal
            // that reached Donjon as its keep ended would end Donjon), and under SA_RESTART twice.
            string pid = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Task<string?> answer = process.StandardOutput.ReadLineAsync();
            for (int sent = 0; sent < (writeAfter is null ? 40 : 2); sent++)
            {
                using (var kill = System.Diagnostics.Process.Start("kill", ["-10", pid])!)
                {
                    kill.WaitForExit();
                }

                if (answer.Wait(writeAfter is null ? 3000 : 500))
                {
                    break;
                }
            }

            if (writeAfter is not null)
            {
                process.HasExited.Should().BeFalse("under SA_RESTART the open waits again for a writer");
                File.WriteAllText(fifo, writeAfter);  // blocks until the restarted open is the reader
            }

            process.WaitForExit(60_000).Should().BeTrue("the open returns once the handler ran");
            answer.Wait(10_000).Should().BeTrue();
            string rest = answer.Result + "\n" + process.StandardOutput.ReadToEnd();
            process.ExitCode.Should().Be(42, rest);
            return rest;
        }
    }

    private static System.Diagnostics.Process StartInKeep(string backend, string config, string program, string[] args)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        return StartReady("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", config, program, .. args]);
    }

    private static System.Diagnostics.Process StartReady(string program, string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in ChildProcess.DotnetEnvironment())
        {
            start.Environment[name] = value;
        }

        var process = System.Diagnostics.Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.StandardOutput.ReadLine().Should().Be("ready", "the program starts");
        return process;
    }

    private static ChildProcess.Result RunInKeep(string backend, string config, string program, string[] args, string[]? options = null)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        return ChildProcess.Run("dotnet", [DonjonProcess.HostAssembly, "run", "--backend", backend, "--config", config, .. options ?? [], program, .. args], ChildProcess.DotnetEnvironment());
    }

    /// <summary>A configuration with the repository's plugins and a policy of <paramref name="files"/>.</summary>
    private string Config(string backend, object[] files, bool tmp = false, string? workingDirectory = null, bool commandLineMounts = true)
    {
        string[] plugins =
        [
            $"plugins/backends/{backend}/bin/Donjon.Backends.{char.ToUpperInvariant(backend[0])}{backend[1..]}.dll",
            "plugins/syscalls/core/bin/Donjon.Syscalls.Core.dll",
            "plugins/syscalls/files/bin/Donjon.Syscalls.Files.dll",
        ];
        var policy = new Dictionary<string, object>
        {
            ["files"] = files,
            ["tmp"] = tmp,
            ["commandLineMounts"] = commandLineMounts,
            ["environment"] = new { set = new Dictionary<string, string> { ["LANG"] = "C.UTF-8" } },
        };
        if (workingDirectory is not null)
        {
            policy["workingDirectory"] = workingDirectory;
        }

        var document = new
        {
            plugins = plugins.Select(p => new { path = Repository.PathOf(p) }).ToArray(),
            backendOrder = new[] { backend },
            policy,
        };
        string path = Path.Combine(_dir.Path, $"plugins-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(document), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }
}
