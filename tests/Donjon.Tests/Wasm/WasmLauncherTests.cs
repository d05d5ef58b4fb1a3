using System.Text;
using Donjon.Tests.Support;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Wasm;

/// <summary>
/// The exec layer's launcher run natively, case by case: what each WebAssembly case must do before it is compared with
/// a keep. Checks real behaviour: outputs computed here or by a native build of the same source, files on the host.
/// </summary>
public sealed class WasmLauncherTests
{
    [Fact]
    public void Hello_prints_its_argv_as_typed_and_exactly_the_policys_environment()
    {
        WasmCase hello = WasmCase.All["hello"];
        ChildProcess.Result result = hello.RunNatively(null);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().BeEmpty();
        result.StdoutText.Should().Be(
            "hello from WebAssembly: argc=3\n" +
            "argv[0]=hello.wasm\n" +
            "argv[1]=one\n" +
            "argv[2]=two words\n" +
            "env GREETING=hi from the policy\n" +
            "env LANG=C.UTF-8\n");
    }

    [Fact]
    public void The_modules_exit_status_passes_through()
    {
        ChildProcess.Result result = WasmCase.All["exit3"].RunNatively(null);

        result.ExitCode.Should().Be(3, result.Stderr);
        result.StdoutText.Should().Be("about to exit with 3\n");
    }

    [Fact]
    public void Files_in_a_writable_preopen_are_read_listed_and_written_on_the_host()
    {
        WasmCase files = WasmCase.All["files"];
        using TempDirectory data = files.PrepareData()!;
        ChildProcess.Result result = files.RunNatively(data);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.StdoutText.Should().StartWith(
            $"read: {WasmCase.InputText}" +
            "wrote /data/output.txt\n" +
            "listed: input.txt\n" +
            "listed: output.txt\n");
        File.ReadAllText(Path.Combine(data.Path, "output.txt")).Should().Be($"written by files.wasm after reading {WasmCase.InputText.Length} bytes\n");
    }

    [Fact]
    public void Paths_outside_the_preopens_and_writes_to_a_read_only_preopen_are_refused()
    {
        WasmCase outside = WasmCase.All["outside-preopens"];
        using TempDirectory data = outside.PrepareData()!;
        ChildProcess.Result result = outside.RunNatively(data);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.StdoutText.Should().Be(
            $"read: {WasmCase.InputText}" +
            "write to a read-only preopen /data/output.txt: refused (EPERM)\n" +
            "listed: input.txt\n" +
            "outside the preopens /etc/passwd: refused (ENOTCAPABLE)\n" +
            "escape with .. /data/../etc/passwd: refused (EPERM)\n");
        File.Exists(Path.Combine(data.Path, "output.txt")).Should().BeFalse("a read-only preopen must not create a file");
    }

    [Theory]
    [InlineData("trap-unreachable", "unreachable", "crash_unreachable")]
    [InlineData("trap-out-of-bounds", "out-of-bounds memory access", "read_out_of_bounds")]
    [InlineData("trap-stack-overflow", "stack overflow", "recurse_deeply")]
    public void A_trap_ends_with_status_123_and_one_line_naming_the_trap_and_the_function(string name, string trap, string function)
    {
        WasmCase trapping = WasmCase.All[name];
        ChildProcess.Result result = trapping.RunNatively(null);

        result.ExitCode.Should().Be(123, "a trap has its own status (docs/wasm.md)");
        result.StdoutText.Should().Be($"before the trap: {trapping.Arguments[0]}\n", "what the module wrote before the trap is kept");
        result.Stderr.Should().MatchRegex($"^donjon-wasm: trap: {trap} in function {function} \\(function [0-9]+\\) of trap\\.wasm\n$");
    }

    [Fact]
    public void The_compute_loop_prints_what_a_native_build_of_the_same_source_prints()
    {
        WasmCase compute = WasmCase.All["compute"];
        ChildProcess.Result module = compute.RunNatively(null);

        using var directory = new TempDirectory();
        string native = Path.Combine(directory.Path, "compute");
        ToolRunner.RunChecked("gcc", "-O2", "-o", native, Path.Combine(WasmModules.SourceDirectory, "compute.c"));
        ChildProcess.Result expected = ChildProcess.Run(native, compute.Arguments, new Dictionary<string, string>());

        module.ExitCode.Should().Be(0, module.Stderr);
        expected.ExitCode.Should().Be(0);
        module.StdoutText.Should().Be(expected.StdoutText).And.StartWith("rounds=2 primes below 1048576: 82025");
    }

    [Fact]
    public void Stdin_is_read_to_end_of_file()
    {
        WasmCase stdin = WasmCase.All["stdin"];
        ChildProcess.Result result = stdin.RunNatively(null);

        ulong hash = 1469598103934665603UL;
        foreach (byte b in stdin.Stdin!)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        result.ExitCode.Should().Be(0, result.Stderr);
        result.StdoutText.Should().Be($"read {stdin.Stdin!.Length} bytes to EOF, fnv1a64 {hash:x16}\n");
    }

    [Fact]
    public void A_module_that_is_missing_or_not_a_module_is_refused_with_the_reason()
    {
        using var directory = new TempDirectory();
        string text = directory.Write("text.wasm", "not a module\n");

        ChildProcess.Result missing = WasmModules.RunNatively(Path.Combine(directory.Path, "absent.wasm"), "absent.wasm", [], new Dictionary<string, string>());
        ChildProcess.Result garbage = WasmModules.RunNatively(text, "text.wasm", [], new Dictionary<string, string>());

        missing.ExitCode.Should().Be(127);
        missing.Stderr.Should().Contain("cannot open the module").And.Contain("No such file");
        garbage.ExitCode.Should().Be(126);
        garbage.Stderr.Should().StartWith("donjon-wasm: cannot compile text.wasm:");
        Encoding.UTF8.GetString(garbage.Stdout).Should().BeEmpty();
    }
}
