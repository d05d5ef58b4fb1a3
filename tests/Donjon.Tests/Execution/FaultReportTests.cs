using Donjon.Host.Cli;
using Donjon.Host.Elf;
using Donjon.Host.Execution;
using Donjon.Host.Protocol;
using Donjon.Tests.Workloads;

namespace Donjon.Tests.Execution;

/// <summary>A fault report names the signal and what it means, and where in the program the instruction was.</summary>
public sealed class FaultReportTests
{
    [Theory]
    [InlineData(11, -1, 1UL, "SIGSEGV: address not mapped (si_code 1)")]
    [InlineData(11, -1, 2UL, "SIGSEGV: invalid permissions for mapped object (si_code 2)")]
    [InlineData(11, -1, 128UL, "SIGSEGV: general protection or another fault the kernel reports without an address (si_code 128)")]
    [InlineData(8, -1, 1UL, "SIGFPE: integer divide by zero (si_code 1)")]
    [InlineData(4, -1, 2UL, "SIGILL: illegal operand (si_code 2)")]
    [InlineData(6, -1, 0xFFFFFFFAUL, "SIGABRT: sent by tkill or tgkill (si_code -6)")]
    [InlineData(7, -1, 99UL, "SIGBUS (si_code 99)")]
    [InlineData(11, 13, 0UL, "SIGSEGV: #GP general protection (exception vector 13, error code 0x0)")]
    [InlineData(11, 14, 0x6UL, "SIGSEGV: #PF page fault: write to an unmapped address (exception vector 14, error code 0x6)")]
    [InlineData(11, 14, 0x15UL, "SIGSEGV: #PF page fault: instruction fetch from a page it may not access that way (exception vector 14, error code 0x15)")]
    [InlineData(11, 14, 0x4UL, "SIGSEGV: #PF page fault: read of an unmapped address (exception vector 14, error code 0x4)")]
    [InlineData(8, 0, 0UL, "SIGFPE: #DE divide error (exception vector 0, error code 0x0)")]
    [InlineData(11, 9, 0UL, "SIGSEGV: exception (exception vector 9, error code 0x0)")]
    public void The_description_names_the_signal_and_its_meaning(int signal, int vector, ulong code, string expected) =>
        SyscallExecutor.ToKeepFault(new ParsedRequest.Fault(1, signal, vector, 0, 0, code)).Description.Should().Be(expected);

    [Fact]
    public void The_instruction_is_located_by_symbol_relative_to_the_load_base()
    {
        string program = WorkloadBuilder.Build(Workload.GlibcStaticPieHello);
        byte[] contents = File.ReadAllBytes(program);
        ElfSymbols symbols = ElfSymbols.Read(contents);
        symbols.Any.Should().BeTrue();
        var nm = Support.ChildProcess.Run("nm", [program], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" });
        string line = nm.StdoutText.Split('\n').Single(l => l.EndsWith(" T main", StringComparison.Ordinal));
        ulong main = Convert.ToUInt64(line[..line.IndexOf(' ')], 16);

        const ulong loadBase = 0x5555_0000_0000;
        KeepVerdict.Locate("./hello", loadBase, 0x10_0000, symbols, loadBase + main + 0x1c)
            .Should().Be($"at main+0x1c in ./hello (ELF address 0x{main + 0x1c:x})");
        KeepVerdict.Locate("./hello", loadBase, 0x10_0000, symbols, 0x10)
            .Should().Be("outside ./hello's image (load base 0x555500000000)");

        ElfSymbols none = ElfSymbols.Read("not an ELF file"u8.ToArray());
        none.Any.Should().BeFalse();
        KeepVerdict.Locate("./hello", loadBase, 0x10_0000, none, loadBase + 0x1139)
            .Should().Be("at ELF address 0x1139 in ./hello (no symbol table)");
    }
}
