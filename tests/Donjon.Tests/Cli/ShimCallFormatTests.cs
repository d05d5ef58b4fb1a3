using System.Text;
using Donjon.Host.Execution;

namespace Donjon.Tests.Cli;

/// <summary>How <c>--strace</c> decodes the values of a call the shim served itself (a TRACE item): strace's names for flags, addresses in hex.</summary>
public sealed class ShimCallFormatTests
{
    private static (string Call, bool AddressResult) Format(uint number, params ulong[] arguments)
    {
        var line = new StringBuilder();
        bool address = ShimCallFormat.AppendCall(line, number, arguments);
        return (line.ToString(), address);
    }

    [Theory]
    [InlineData(202u, new ulong[] { 0x7f0000001000, 0x80, 2, 0, 0, 0 }, "futex(0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0)")]
    [InlineData(202u, new ulong[] { 0x1000, 0x81, 1, 0, 0, 0 }, "futex(0x1000, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0)")]
    [InlineData(14u, new ulong[] { 2, 0x2000, 0, 8, 0, 0 }, "rt_sigprocmask(SIG_SETMASK, 0x2000, NULL, 8)")]
    [InlineData(13u, new ulong[] { 10, 0x3000, 0, 8, 0, 0 }, "rt_sigaction(SIGUSR1, 0x3000, NULL, 8)")]
    [InlineData(158u, new ulong[] { 0x1002, 0x4000, 0, 0, 0, 0 }, "arch_prctl(ARCH_SET_FS, 0x4000)")]
    [InlineData(10u, new ulong[] { 0x5000, 4096, 0, 0, 0, 0 }, "mprotect(0x5000, 4096, PROT_NONE)")]
    [InlineData(9u, new ulong[] { 0x6000, 8192, 5, 0x12, 3, 4096 }, "mmap(0x6000, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED, 3, 4096)")]
    [InlineData(186u, new ulong[] { 7, 7, 7, 7, 7, 7 }, "gettid()")]
    [InlineData(234u, new ulong[] { 1, 2, 40, 0, 0, 0 }, "tgkill(1, 2, SIGRT_8)")]
    [InlineData(900u, new ulong[] { 1, 0xffffffffffffffff, 0x123456789, 0, 0, 0 }, "syscall_900(1, -1, 0x123456789, 0, 0, 0)")]
    public void Each_argument_is_shown_by_its_meaning(uint number, ulong[] arguments, string expected) =>
        Format(number, arguments).Call.Should().Be(expected);

    [Theory]
    [InlineData(9u, true)]
    [InlineData(12u, true)]
    [InlineData(25u, true)]
    [InlineData(11u, false)]
    [InlineData(202u, false)]
    public void Only_memory_calls_return_an_address(uint number, bool address) =>
        Format(number, new ulong[6]).AddressResult.Should().Be(address);
}
