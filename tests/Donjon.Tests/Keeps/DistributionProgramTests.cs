using System.Text;
using Donjon.Tests.Support;
using Donjon.Tests.Vm;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Keeps;

/// <summary>
/// Debian's own binaries, unmodified, in both keeps: busybox-static (a static ET_EXEC at 0x400000) and dynamically
/// linked programs (coreutils, sqlite3, python3, jq, gzip) whose interpreter the host loads and whose libraries the
/// interpreter maps through the files set and the shims' file mappings. Every case runs the same program natively and
/// in the keep, with the same arguments and stdin, and compares stdout and the exit status byte for byte. CI installs
/// the packages (.ci/run); a missing one fails the test with the package to install.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DistributionProgramTests : IDisposable
{
    private const string Busybox = "/bin/busybox";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Backends() => new(KeepSuiteTests.Backends);

    public static TheoryData<string, string> BusyboxCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string backend in KeepSuiteTests.Backends)
        {
            foreach (string applet in new[] { "echo", "wc", "sort", "sha256sum", "expr", "seq" })
            {
                data.Add(backend, applet);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BusyboxCases))]
    public void Busybox_static_applets_behave_as_natively(string backend, string applet)
    {
        Require(Busybox, "busybox-static");
        byte[] text = Encoding.UTF8.GetBytes("pear\napple\nfig\nbanana split\n");
        (string[] args, byte[]? stdin) = applet switch
        {
            "echo" => (new[] { "echo", "hello", "from", "busybox" }, (byte[]?)null),
            "wc" => (["wc"], text),
            "sort" => (["sort", "-r"], text),
            "sha256sum" => (["sha256sum"], text),
            "expr" => (["expr", "6", "*", "7"], null),
            _ => (["seq", "2", "3", "11"], null),
        };

        var keep = SameAsNative(backend, Busybox, args, stdin, []);
        keep.StdoutText.Should().NotBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Coreutils_sha256sum_sort_wc_cat_and_head_behave_as_natively(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "data")).FullName;
        string file = Path.Combine(data, "fruit.txt");
        File.WriteAllText(file, "pear\napple\nfig\nbanana\ncherry\n");
        byte[] stdin = Encoding.UTF8.GetBytes("b\nc\na\n");
        string[] grant = ["--libraries", "system", "--mount", $"{data}:{data}:ro"];

        SameAsNative(backend, Program("sha256sum"), [file], null, grant).StdoutText.Should().EndWith($"  {file}\n");
        SameAsNative(backend, Program("sort"), [], stdin, grant).StdoutText.Should().Be("a\nb\nc\n");
        SameAsNative(backend, Program("wc"), ["-l", file], null, grant).StdoutText.Should().Be($"5 {file}\n");
        SameAsNative(backend, Program("cat"), [file], null, grant);
        SameAsNative(backend, Program("head"), ["-n", "2", file], null, grant).StdoutText.Should().Be("pear\napple\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Ls_l_of_a_granted_directory_and_date_behave_as_natively(string backend)
    {
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "listing")).FullName;
        File.WriteAllText(Path.Combine(data, "one.txt"), "1\n");
        File.WriteAllText(Path.Combine(data, "two.txt"), "22\n");
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        foreach (string entry in Directory.EnumerateFileSystemEntries(data))
        {
            File.SetLastWriteTimeUtc(entry, new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        }

        // ls names owners through /etc/passwd and /etc/group, and shows times in the zone of /etc/localtime.
        List<string> grant = ["--libraries", "system", "--mount", $"{data}:{data}:ro"];
        foreach (string etc in new[] { "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/localtime" })
        {
            if (File.Exists(etc))
            {
                grant.AddRange(["--mount", $"{etc}:{etc}:ro"]);
            }
        }

        SameAsNative(backend, Program("ls"), ["-l", data], null, [.. grant]).StdoutText.Should().Contain("one.txt\n").And.Contain("sub\n");
        SameAsNative(backend, Program("date"), ["-u", "-d", "@0"], null, ["--libraries", "system"]).StdoutText.Should().Be("Thu Jan  1 00:00:00 UTC 1970\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sqlite3_in_memory_with_sql_on_stdin_behaves_as_natively(string backend)
    {
        string sqlite = Require("/usr/bin/sqlite3", "sqlite3");
        byte[] sql = Encoding.UTF8.GetBytes(
            "create table t(n integer, name text);\n" +
            "insert into t values (1, 'one'), (2, 'two'), (3, 'three');\n" +
            "select sum(n), group_concat(name, '+') from t;\n" +
            "select name from t where n > 1 order by name;\n");

        SameAsNative(backend, sqlite, [":memory:"], sql, ["--libraries", "system"]).StdoutText.Should().Be("6|one+two+three\nthree\ntwo\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sqlite3_on_a_file_database_in_a_read_write_mount_behaves_as_natively(string backend)
    {
        // A file database takes fcntl record locks (F_SETLK, F_GETLK) on the database and its journal.
        string sqlite = Require("/usr/bin/sqlite3", "sqlite3");
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "sqlite-" + backend)).FullName;
        string database = Path.Combine(data, "db");
        byte[] sql = Encoding.UTF8.GetBytes(
            "create table if not exists t(n integer);\n" +
            "begin; insert into t values (1), (2), (3); commit;\n" +
            "select count(*), sum(n) from t;\n");

        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        // Twice each, natively and in the keep, on a database of its own: the second run finds the first one's rows.
        string nativeDatabase = Path.Combine(data, "native.db");
        string[] options = ["--libraries", "system", "--mount", $"{data}:{data}:rw"];
        foreach (string expected in new[] { "3|6\n", "6|12\n" })
        {
            var native = ChildProcess.Run(sqlite, [nativeDatabase], KeepSuiteTests.NativeEnvironment(), sql);
            var keep = KeepSuiteTests.RunInKeep(backend, sqlite, [database], sql, options);
            native.StdoutText.Should().Be(expected, native.Stderr);
            keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
            keep.StdoutText.Should().Be(native.StdoutText, keep.Stderr);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Python3_runs_a_small_computation_as_natively(string backend)
    {
        string python = Require("/usr/bin/python3", "python3-minimal");
        SameAsNative(backend, python, ["-S", "-c", "import sys; print(sum(i * i for i in range(1000)), sorted({'b': 2, 'a': 1}.items()), 2 ** 100); sys.exit(3)"],
            null, ["--libraries", "system"]).StdoutText.Should().Be("332833500 [('a', 1), ('b', 2)] 1267650600228229401496703205376\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Jq_on_a_json_file_behaves_as_natively(string backend)
    {
        string jq = Require("/usr/bin/jq", "jq");
        string data = Directory.CreateDirectory(Path.Combine(_dir.Path, "json")).FullName;
        string file = Path.Combine(data, "items.json");
        File.WriteAllText(file, "{\"items\": [{\"name\": \"a\", \"n\": 2}, {\"name\": \"b\", \"n\": 5}]}\n");

        SameAsNative(backend, jq, ["-c", "[.items[] | select(.n > 1) | .name], (.items | map(.n) | add)", file], null,
            ["--libraries", "system", "--mount", $"{data}:{data}:ro"]).StdoutText.Should().Be("[\"a\",\"b\"]\n7\n");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Gzip_and_gunzip_through_pipes_behave_as_natively(string backend)
    {
        string gzip = Require("/usr/bin/gzip", "gzip");
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} of a text that compresses well\n")));

        var compressed = SameAsNative(backend, gzip, ["-c"], text, ["--libraries", "system"]);
        compressed.Stdout.Length.Should().BeLessThan(text.Length / 4);
        SameAsNative(backend, gzip, ["-d", "-c"], compressed.Stdout, ["--libraries", "system"]).Stdout.Should().Equal(text);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_static_non_PIE_program_runs_at_its_link_address_as_natively(string backend)
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticNonPieHello);
        SameAsNative(backend, program, ["one"], null, []).StdoutText.Should().Contain("one");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_library_that_only_the_keeps_ld_so_cache_lists_is_found_before_launch_and_loads_as_natively(string backend)
    {
        // A library in a folder of its own, which no search path names: only a cache ldconfig built for that folder,
        // mounted at /etc/ld.so.cache, leads the interpreter (and the pre-launch check) to it.
        string folder = Directory.CreateDirectory(Path.Combine(_dir.Path, "custom-libs")).FullName;
        string source = Path.Combine(_dir.Path, "answer.c");
        File.WriteAllText(source, "int donjon_cache_answer(void) { return 42; }\n");
        ToolRunner.RunChecked("gcc", "-O2", "-shared", "-fPIC", "-Wl,-soname,libdonjoncache.so.1", "-o", Path.Combine(folder, "libdonjoncache.so.1"), source);
        string main = Path.Combine(_dir.Path, "main.c");
        File.WriteAllText(main, "#include <stdio.h>\nint donjon_cache_answer(void);\nint main(void) { printf(\"answer %d\\n\", donjon_cache_answer()); return 3; }\n");
        string program = Path.Combine(_dir.Path, "uses-cache");
        ToolRunner.RunChecked("gcc", "-O2", "-o", program, main, "-L" + folder, "-l:libdonjoncache.so.1");
        string conf = Path.Combine(_dir.Path, "ld.so.conf");
        File.WriteAllText(conf, folder + "\n");
        string cache = Path.Combine(_dir.Path, "ld.so.cache");
        ToolRunner.RunChecked("/usr/sbin/ldconfig", "-X", "-C", cache, "-f", conf);
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        const string interpreter = "/lib64/ld-linux-x86-64.so.2";
        string[] options = ["--mount", $"{interpreter}:{interpreter}:ro", "--mount", "/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro",
            "--mount", $"{folder}:{folder}:ro"];
        var refused = KeepSuiteTests.RunInKeep(backend, program, [], null, options);
        refused.ExitCode.Should().Be(126, "without the cache nothing leads to the folder");
        refused.Stderr.Should().Contain("its library libdonjoncache.so.1");

        var environment = KeepSuiteTests.NativeEnvironment();
        environment["LD_LIBRARY_PATH"] = folder;
        var native = ChildProcess.Run(program, [], environment, null);
        native.StdoutText.Should().Be("answer 42\n", native.Stderr);
        var keep = KeepSuiteTests.RunInKeep(backend, program, [], null, [.. options, "--mount", $"{cache}:/etc/ld.so.cache:ro"]);
        keep.ExitCode.Should().Be(native.ExitCode, keep.Stderr);
        keep.Stdout.Should().Equal(native.Stdout, keep.Stderr);
    }

    [Fact]
    public void A_program_whose_interpreter_is_not_granted_fails_with_one_line_naming_the_grant()
    {
        string sort = Program("sort");
        var keep = KeepSuiteTests.RunInKeep("process", sort, [], null);

        keep.ExitCode.Should().Be(126);
        keep.Stdout.Should().BeEmpty();
        keep.Stderr.Should().Be(
            $"donjon: {sort}: cannot be run: its interpreter /lib64/ld-linux-x86-64.so.2 (PT_INTERP) is not granted to the keep: no mount of policy.files holds it; " +
            "run with --libraries system, or add { \"host\": \"/lib64/ld-linux-x86-64.so.2\", \"keep\": \"/lib64/ld-linux-x86-64.so.2\", \"access\": \"read\" } to policy.files\n");
    }

    [Fact]
    public void A_program_whose_library_is_not_granted_fails_with_one_line_naming_the_library_and_the_grant()
    {
        string sort = Program("sort");
        const string interpreter = "/lib64/ld-linux-x86-64.so.2";
        var keep = KeepSuiteTests.RunInKeep("process", sort, [], null, ["--mount", $"{interpreter}:{interpreter}:ro"]);

        keep.ExitCode.Should().Be(126);
        keep.Stdout.Should().BeEmpty();
        keep.Stderr.Should().Be(
            $"donjon: {sort}: cannot be run: its library libc.so.6 (DT_NEEDED of {sort}) is not granted to the keep: the interpreter searches " +
            "/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib, and no mount of policy.files holds it there; it is /lib/x86_64-linux-gnu/libc.so.6 on this host: " +
            "run with --libraries system, or add { \"host\": \"/lib/x86_64-linux-gnu\", \"keep\": \"/lib/x86_64-linux-gnu\", \"access\": \"read\" } to policy.files\n");
    }

    [Fact]
    public void An_ET_EXEC_linked_where_Donjons_pieces_lie_is_refused_with_the_reason()
    {
        // An assembly _start (a C program's small code model cannot be linked that high) linked at 0x7000_0000_0000.
        string source = Path.Combine(_dir.Path, "exit.s");
        File.WriteAllText(source, ".globl _start\n_start:\n    mov $60, %eax\n    xor %edi, %edi\n    syscall\n");
        string program = Path.Combine(_dir.Path, "exit-high");
        ToolRunner.RunChecked("gcc", "-nostdlib", "-static", "-no-pie", "-Wl,-Ttext-segment=0x700000000000", "-o", program, source);

        var keep = KeepSuiteTests.RunInKeep("process", program, [], null);

        keep.ExitCode.Should().Be(126);
        keep.Stderr.Should().StartWith($"donjon: {program}: cannot be run: a non-PIE executable (e_type = ET_EXEC) is loaded at its link addresses, and PT_LOAD (program header 0) at [0x700000000000, ")
            .And.Contain("reaches [0x700000000000, 0x7ffffffff000), where Donjon places the keep's stack, its mmap region, the interpreter and, in the process keep, the shim, its shared block and the image blob; relink it");
    }

    [Fact]
    public void A_manifest_pins_the_libraries_a_changed_one_is_refused_and_its_digest_is_measured()
    {
        string sort = Program("sort");
        string manifest = Path.Combine(_dir.Path, "sort.manifest.json");
        var plain = DonjonProcess.Run(["measure", "--backend", "sev", "--libraries", "system", sort]);
        var measured = DonjonProcess.Run(["measure", "--backend", "sev", "--libraries", "system", "--manifest", manifest, sort]);
        plain.ExitCode.Should().Be(0, plain.Stderr);
        measured.ExitCode.Should().Be(0, measured.Stderr);
        string manifestSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(manifest)));
        measured.Stderr.Should().Contain($"donjon: wrote {manifest}: ").And.Contain($"SHA-256 {manifestSha256}");
        Measurement(measured.Stdout).Should().NotBe(Measurement(plain.Stdout), "the manifest's digest is part of the measured configuration page");

        using (var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest)))
        {
            var files = document.RootElement.GetProperty("files").EnumerateArray().Select(f => (Keep: f.GetProperty("keep").GetString()!, Sha256: f.GetProperty("sha256").GetString()!)).ToList();
            files.Should().Contain(("/lib64/ld-linux-x86-64.so.2", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes("/lib64/ld-linux-x86-64.so.2")))));
            files.Should().Contain(f => f.Keep == "/lib/x86_64-linux-gnu/libc.so.6");
        }

        // With the manifest alone (no folder granted) the program runs as natively.
        byte[] stdin = Encoding.UTF8.GetBytes("b\na\n");
        var pinned = KeepSuiteTests.RunInKeep("process", sort, [], stdin, ["--manifest", manifest]);
        pinned.ExitCode.Should().Be(0, pinned.Stderr);
        pinned.StdoutText.Should().Be("a\nb\n");

        // The same manifest with libc's bytes changed behind its grant: refused before launch, naming both digests.
        string changed = Path.Combine(_dir.Path, "libc.so.6");
        File.Copy("/lib/x86_64-linux-gnu/libc.so.6", changed);
        File.AppendAllText(changed, "changed");
        string changedSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(changed)));
        string tampered = Path.Combine(_dir.Path, "tampered.manifest.json");
        File.WriteAllText(tampered, File.ReadAllText(manifest).Replace("\"host\": \"/lib/x86_64-linux-gnu/libc.so.6\"", $"\"host\": \"{changed}\"", StringComparison.Ordinal));
        var refused = KeepSuiteTests.RunInKeep("process", sort, [], stdin, ["--manifest", tampered]);
        refused.ExitCode.Should().Be(126);
        refused.Stdout.Should().BeEmpty();
        refused.Stderr.Should().StartWith($"donjon: {sort}: cannot be run: its library /lib/x86_64-linux-gnu/libc.so.6 (libc.so.6, needed by {sort}) differs from the trusted digest: its SHA-256 is {changedSha256}, but its grant pins ")
            .And.EndWith("; restore the library, or measure the program again with `donjon measure --manifest` and trust the new manifest\n");
    }

    private static string Measurement(string measureOutput) =>
        measureOutput.Split('\n').First(line => line.StartsWith("measurement:", StringComparison.Ordinal));

    /// <summary>Runs natively and in the keep; asserts the same stdout bytes and status; returns the keep's run.</summary>
    private static ChildProcess.Result SameAsNative(string backend, string program, string[] args, byte[]? stdin, string[] options)
    {
        if (backend == "vm")
        {
            VmPrerequisite.Require();
        }

        var native = ChildProcess.Run(program, args, KeepSuiteTests.NativeEnvironment(), stdin);
        var keep = KeepSuiteTests.RunInKeep(backend, program, args, stdin, options);
        keep.ExitCode.Should().Be(native.ExitCode, $"{program} {string.Join(' ', args)} in the {backend} keep: {keep.Stderr}");
        keep.Stdout.Should().Equal(native.Stdout, $"{program} {string.Join(' ', args)} in the {backend} keep printed {keep.StdoutText}; natively {native.StdoutText}; {keep.Stderr}");
        return keep;
    }

    /// <summary>A coreutils program (Debian's coreutils: every system has it).</summary>
    private static string Program(string name) => Require("/usr/bin/" + name, "coreutils");

    private static string Require(string path, string package)
    {
        File.Exists(path).Should().BeTrue($"this test runs Debian's {path}: install {package} (bash .ci/run installs it)");
        return path;
    }
}
