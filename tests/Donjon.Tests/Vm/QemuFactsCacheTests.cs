using System.Text.Json.Nodes;
using Donjon.Tests.Support;

namespace Donjon.Tests.Vm;

/// <summary>
/// The vm backend keeps QEMU's answers to its probe queries per binary (plugins/backends/vm/README.md, "Probes"):
/// a second run reads them instead of starting QEMU, and a changed binary is asked again.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class QemuFactsCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_run_keeps_the_answers_the_next_reads_them_and_a_changed_binary_is_asked_again()
    {
        VmPrerequisite.Require();
        string real = RealQemu();
        // A QEMU of our own: a script that runs the real one, so that its path, size and mtime are the test's.
        string qemu = _dir.Write("bin/qemu-system-x86_64", $"#!/bin/sh\nexec {real} \"$@\"\n");
        File.SetUnixFileMode(qemu, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string cache = Path.Combine(_dir.Path, "cache");
        var environment = new Dictionary<string, string> { ["DONJON_QEMU"] = qemu, ["DONJON_CACHE_DIR"] = cache };

        DonjonProcess.Result first = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        first.ExitCode.Should().Be(0, first.Stderr);
        string[] files = Directory.GetFiles(cache, "qemu-*.json");
        files.Should().ContainSingle("one file per QEMU binary");
        JsonNode kept = JsonNode.Parse(File.ReadAllText(files[0]))!;
        kept["key"]!.GetValue<string>().Should().StartWith(qemu + "|");
        kept["answers"]!.AsArray().Should().HaveCount(4);
        kept["answers"]![0]!["output"]!.GetValue<string>().Should().Contain("QEMU emulator version");

        // The kept answer is what the next run believes: an old version there fails the version probe.
        kept["answers"]![0]!["output"] = "QEMU emulator version 4.0.0\n";
        File.WriteAllText(files[0], kept.ToJsonString());
        DonjonProcess.Result cached = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        cached.Stdout.Should().Contain("4.0.0", "the second run read the kept answers instead of asking QEMU");

        // The binary changes (size and mtime): QEMU is asked again, and the file is rewritten.
        File.AppendAllText(qemu, "# changed\n");
        DonjonProcess.Result asked = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        asked.ExitCode.Should().Be(0, asked.Stderr);
        asked.Stdout.Should().NotContain("4.0.0");
        File.ReadAllText(files[0]).Should().NotContain("4.0.0");
    }

    [Fact]
    public void A_malformed_cache_file_is_ignored_and_rewritten()
    {
        VmPrerequisite.Require();
        string cache = Path.Combine(_dir.Path, "cache");
        var environment = new Dictionary<string, string> { ["DONJON_QEMU"] = RealQemu(), ["DONJON_CACHE_DIR"] = cache };
        DonjonProcess.Run(["platform", "info", "--json"], environment: environment).ExitCode.Should().Be(0);
        string file = Directory.GetFiles(cache, "qemu-*.json").Single();
        File.WriteAllText(file, "{ \"format\": 1, \"key\": 7, \"answers\": [");

        DonjonProcess.Result info = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        info.ExitCode.Should().Be(0, info.Stderr);
        JsonNode.Parse(File.ReadAllText(file))!["answers"]!.AsArray().Should().HaveCount(4);
    }

    [Fact]
    public void A_kept_answer_of_no_sandbox_is_never_believed_and_never_kept()
    {
        VmPrerequisite.Require();
        string cache = Path.Combine(_dir.Path, "cache");
        var environment = new Dictionary<string, string> { ["DONJON_QEMU"] = RealQemu(), ["DONJON_CACHE_DIR"] = cache };
        DonjonProcess.Result first = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        first.ExitCode.Should().Be(0, first.Stderr);
        first.Stdout.Should().Contain("-sandbox on", "this machine's QEMU has its seccomp sandbox (Debian's is built with it)");
        string file = Directory.GetFiles(cache, "qemu-*.json").Single();

        // A forged (or stale) file says this QEMU has no -sandbox: believed, it would run keeps without the filter.
        JsonNode kept = JsonNode.Parse(File.ReadAllText(file))!;
        kept["answers"]![3]!["problem"] = "qemu-system-x86_64: -sandbox: invalid option";
        File.WriteAllText(file, kept.ToJsonString());

        DonjonProcess.Result info = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        info.ExitCode.Should().Be(0, info.Stderr);
        info.Stdout.Should().Contain("-sandbox on", "QEMU itself was asked again").And.NotContain("has no -sandbox");
        File.ReadAllText(file).Should().NotContain("invalid option", "the file was rewritten from QEMU's own answers");
    }

    [Fact]
    public void A_link_planted_at_the_cache_file_is_replaced_not_written_through()
    {
        VmPrerequisite.Require();
        string cache = Path.Combine(_dir.Path, "cache");
        var environment = new Dictionary<string, string> { ["DONJON_QEMU"] = RealQemu(), ["DONJON_CACHE_DIR"] = cache };
        DonjonProcess.Run(["platform", "info", "--json"], environment: environment).ExitCode.Should().Be(0);
        string file = Directory.GetFiles(cache, "qemu-*.json").Single();
        ((int)File.GetUnixFileMode(cache) & 0x1FF).Should().Be(0x1C0, "the cache folder is its owner's alone (0700)");

        string victim = _dir.Write("victim", "untouched\n");
        File.Delete(file);
        File.CreateSymbolicLink(file, victim);
        DonjonProcess.Result info = DonjonProcess.Run(["platform", "info", "--json"], environment: environment);
        info.ExitCode.Should().Be(0, info.Stderr);
        File.ReadAllText(victim).Should().Be("untouched\n");
        new FileInfo(file).LinkTarget.Should().BeNull("the link was replaced by the new file (rename), not followed");
        JsonNode.Parse(File.ReadAllText(file))!["answers"]!.AsArray().Should().HaveCount(4);
        Directory.GetFiles(cache, "*.tmp").Should().BeEmpty("no temporary file is left behind");
    }

    private static string RealQemu()
    {
        string? configured = Environment.GetEnvironmentVariable("DONJON_QEMU");
        return !string.IsNullOrEmpty(configured)
            ? Path.GetFullPath(configured)
            : (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(folder => Path.Combine(folder, "qemu-system-x86_64")).First(File.Exists);
    }
}
