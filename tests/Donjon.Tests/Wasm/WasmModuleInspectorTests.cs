using Donjon.Abstractions.Sessions;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Host.Protocol;
using Donjon.Host.Wasm;
using Donjon.Tests.Support;

namespace Donjon.Tests.Wasm;

/// <summary>The host's reading of a <c>.wasm</c> file (untrusted input) and the exec layer's arguments.</summary>
public sealed class WasmModuleInspectorTests
{
    [Fact]
    public void A_built_command_module_is_runnable_with_only_wasi_preview1_imports()
    {
        byte[] hello = File.ReadAllBytes(WasmModules.Build("hello"));

        WasmModuleReport report = WasmModuleInspector.Inspect(hello);

        report.IsRunnable.Should().BeTrue(report.RejectionReason);
        report.Kind.Should().Be("module");
        report.FunctionExports.Should().Contain("_start");
        report.Imports.Should().NotBeEmpty().And.OnlyContain(i => i.Module == WasmModuleInspector.WasiPreview1 && WasmModuleInspector.WasiPreview1Functions.Contains(i.Name));
    }

    [Fact]
    public void Every_cut_of_a_module_is_a_report_with_a_reason_never_an_exception()
    {
        byte[] hello = File.ReadAllBytes(WasmModules.Build("exit3"));
        int[] cuts = [0, 3, 4, 7, 8, 9, 10, 11, 12, 20, 40, 100, 200, hello.Length / 2, hello.Length - 1];

        foreach (int cut in cuts.Where(c => c < hello.Length))
        {
            WasmModuleReport report = WasmModuleInspector.Inspect(hello.AsSpan(0, cut));
            if (cut >= 8 && report.IsRunnable)
            {
                continue;   // a cut at a section boundary after the export section is still a well-formed prefix
            }

            report.IsRunnable.Should().BeFalse($"a module cut at {cut} bytes");
            report.RejectionReason.Should().NotBeNullOrEmpty();
        }
    }

    [Fact]
    public void A_section_longer_than_the_file_is_malformed_with_its_offset()
    {
        byte[] module = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x02, 0xFF, 0xFF, 0x03, 0x00];

        WasmModuleReport report = WasmModuleInspector.Inspect(module);

        report.RejectionReason.Should().Be("malformed module: section 2 at offset 8 runs past the end of the file");
    }

    [Fact]
    public void An_unknown_binary_version_is_refused_with_it()
    {
        WasmModuleReport report = WasmModuleInspector.Inspect([0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00]);

        report.RejectionReason.Should().Be("WebAssembly binary version 2; only version 1 (a core module) runs");
    }

    [Fact]
    public void A_module_exporting_no_start_is_not_a_command()
    {
        // The header, then an export section with one function "main".
        byte[] module = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x07, 0x08, 0x01, 0x04, (byte)'m', (byte)'a', (byte)'i', (byte)'n', 0x00, 0x00];

        WasmModuleReport report = WasmModuleInspector.Inspect(module);

        report.FunctionExports.Should().Equal("main");
        report.RejectionReason.Should().Be("not a command module: it exports no _start function");
    }

    [Fact]
    public void The_preopens_are_exactly_the_policys_directory_mounts_and_the_scratch_tmp()
    {
        using var read = new TempDirectory();
        using var write = new TempDirectory();
        string file = read.Write("key.pem", "a key\n");
        KeepPolicy policy = KeepPolicy.DenyAll with
        {
            Files =
            [
                new FileGrant(read.Path, FileGrantAccess.Read) { KeepPath = "/data" },
                new FileGrant(write.Path, FileGrantAccess.Read | FileGrantAccess.Write),
                new FileGrant(file, FileGrantAccess.Read) { KeepPath = "/etc/key.pem" },
                new FileGrant(Path.Combine(read.Path, "absent"), FileGrantAccess.Read) { KeepPath = "/absent" },
            ],
            ScratchTmp = true,
        };

        List<string> arguments = WasmExecLayer.LauncherArguments("app.wasm", policy, ["one", "--dir"]);

        arguments.Should().Equal(
            "--argv0", "app.wasm",
            "--dir", "ro", "/data", "/data",
            "--dir", "rw", write.Path, write.Path,
            "--dir", "rw", "/tmp", "/tmp",
            "--", WasmExecLayer.ModuleKeepPath, "one", "--dir");
    }

    [Fact]
    public void The_module_is_granted_read_only_and_pinned_at_the_host_chosen_keep_path()
    {
        string hello = WasmModules.Build("hello");
        WasmModuleReport report = WasmModuleInspector.Inspect(File.ReadAllBytes(hello));
        Donjon.Host.Elf.WorkloadFile launcher = Donjon.Host.Elf.ElfInspector.Load(WasmModules.Launcher);

        KeepPolicy policy = WasmExecLayer.GrantModule(KeepPolicy.DenyAll, hello, new WasmLaunch(report, launcher));

        launcher.Report.IsDynamic.Should().BeTrue("the launcher links libwasmtime.so");
        policy.Files.Should().Contain(g => g.Path == "/lib64/ld-linux-x86-64.so.2" || g.Path == "/usr/lib", "a dynamic exec layer gets the system libraries");
        FileGrant module = policy.Files[0];
        module.Path.Should().Be(Path.GetFullPath(hello));
        module.EffectiveKeepPath.Should().Be("/.donjon-exec/module.wasm");
        module.Access.Should().Be(FileGrantAccess.Read);
        module.Sha256.Should().Be(report.Sha256);
        policy.Files[1].Should().Be(new FileGrant(Path.GetDirectoryName(WasmModules.Launcher)!, FileGrantAccess.Read));
    }

    [Fact]
    public void The_configuration_page_carries_the_module_digest_at_0x20_and_zero_without_one()
    {
        byte[] digest = Convert.FromHexString(WasmModuleInspector.Inspect(File.ReadAllBytes(WasmModules.Build("hello"))).Sha256);

        byte[] with = ConfigurationPageBuilder.BuildTable([], moduleSha256: digest).ConfigurationPage.ToArray();
        byte[] without = ConfigurationPageBuilder.BuildTable([]).ConfigurationPage.ToArray();

        with.AsSpan(ProtocolLayout.ConfigModuleDigestOffset, ProtocolLayout.ConfigModuleDigestSize).ToArray().Should().Equal(digest);
        without.AsSpan(ProtocolLayout.ConfigModuleDigestOffset, ProtocolLayout.ConfigModuleDigestSize).ToArray().Should().OnlyContain(b => b == 0);
        with.AsSpan(0, ProtocolLayout.ConfigModuleDigestOffset).ToArray().Should().Equal(without.AsSpan(0, ProtocolLayout.ConfigModuleDigestOffset).ToArray());
        FluentActions.Invoking(() => ConfigurationPageBuilder.BuildTable([], moduleSha256: new byte[31])).Should().Throw<ArgumentException>().WithMessage("*32 bytes*");
    }
}
