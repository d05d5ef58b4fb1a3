using System.Text.RegularExpressions;
using Donjon.Abstractions.Syscalls;
using Donjon.Host.Protocol;
using Donjon.Tests.Support;

namespace Donjon.Tests.Protocol;

/// <summary>
/// The host's list of shim-served syscalls (<see cref="ShimServedSyscalls"/>) against the shims' own tables, read from
/// the assembly sources, so that the three cannot drift apart.
/// </summary>
public sealed partial class ShimServedSyscallsTests
{
    [GeneratedRegex(@"^\s*#define\s+LX_NR_(\w+)\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex NumberDefine();

    [GeneratedRegex(@"^\s*KEEP\s+LX_NR_(\w+)\s*,", RegexOptions.Multiline)]
    private static partial Regex KeepLine();

    [GeneratedRegex(@"^\s*cmp\s+r12,\s*LX_NR_(\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ProcessEarlyDispatch();

    /// <summary>LX_NR_ names to numbers, from linux.h and the VM shim's vm.h.</summary>
    private static Dictionary<string, int> Numbers()
    {
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string header in new[] { "asm/include/linux.h", "asm/vm/vm.h" })
        {
            foreach (Match match in NumberDefine().Matches(File.ReadAllText(Repository.PathOf(header))))
            {
                numbers.TryAdd(match.Groups[1].Value, int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return numbers;
    }

    private static SortedDictionary<int, string> Served(string source, Regex extra)
    {
        Dictionary<string, int> numbers = Numbers();
        string text = File.ReadAllText(Repository.PathOf(source));
        var served = new SortedDictionary<int, string>();
        foreach (Match match in KeepLine().Matches(text).Concat(extra.Matches(text)))
        {
            string name = match.Groups[1].Value;
            numbers.Should().ContainKey(name, $"{source} uses LX_NR_{name}, which the headers define");
            served[numbers[name]] = name.ToLowerInvariant();
        }

        served.Should().NotBeEmpty($"{source} has KEEP lines");
        return served;
    }

    private static SortedDictionary<int, string> HostList(ServedIn keep) =>
        new(ShimServedSyscalls.All.Where(s => s.Keeps.HasFlag(keep)).ToDictionary(s => s.Number, s => s.Name));

    [Fact]
    public void The_process_shims_table_is_the_hosts_list()
    {
        // sigsys.S dispatches rt_sigreturn and sigaltstack before dj_keep_table (they need the ucontext).
        var served = Served("asm/process/sigsys.S", ProcessEarlyDispatch());
        served.Should().ContainKey(15, "the early dispatch of rt_sigreturn is read too");
        HostList(ServedIn.Process).Should().Equal(served);
    }

    [Fact]
    public void The_vm_shims_table_is_the_hosts_list()
    {
        // syscall.S dispatches clone and clone3 before dj_keep_table (they need the whole user context).
        var served = Served("asm/vm/syscall.S", new Regex(@"^\s*cmp\s+eax,\s*LX_NR_(\w+)\s*$", RegexOptions.Multiline));
        served.Should().ContainKey(56, "the early dispatch of clone is read too");
        HostList(ServedIn.Vm).Should().Equal(served);
    }

    [Fact]
    public void Only_getrandom_stays_declarable_and_only_because_the_vm_shim_falls_back_to_the_host()
    {
        ShimServedSyscalls.All.Where(s => s.Declarable).Select(s => s.Name).Should().Equal("getrandom");
        ShimServedSyscalls.Refusing(318).Should().BeNull();
        File.ReadAllText(Repository.PathOf("asm/vm/random.c")).Should().Contain("dj_marshal_syscall", "the VM shim's getrandom falls back to the host");
    }

    [Theory]
    [InlineData(12, "brk")]
    [InlineData(231, "exit_group")]
    [InlineData(15, "rt_sigreturn")]
    public void A_served_syscall_is_not_declarable(int number, string name)
    {
        SignatureValidator.Problem(new SyscallSignature(number, name, [])).Should().Contain($"the shims serve {name} (syscall {number}) themselves");
    }
}
