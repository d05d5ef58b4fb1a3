using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Donjon.Abstractions.Keeps;
using Donjon.Tests.Support;

namespace Donjon.Tests.Vm;

/// <summary>
/// Keeps the vm plugin's <c>VmLayout</c> equal to the "Shared with the host" section of <c>asm/vm/vm.h</c>, the one
/// source of the guest-physical layout, ports and exit encoding (docs/vm.md), and checks how the plugin reads QEMU's
/// exit status.
/// </summary>
public sealed partial class VmLayoutTests
{
    [Fact]
    public void Every_shared_constant_of_vm_h_has_the_same_value_in_VmLayout()
    {
        Dictionary<string, ulong> header = SharedDefines();
        Dictionary<string, ulong> csharp = VmPlugin.Type("VmLayout")
            .GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => "DJ_VM_" + SnakeCase(f.Name), f => Convert.ToUInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture), StringComparer.Ordinal);

        header.Should().NotBeEmpty();
        csharp.Keys.Should().BeEquivalentTo(header.Keys, "every DJ_VM_ constant shared with the host has a VmLayout twin, and no other");
        foreach ((string name, ulong value) in header)
        {
            csharp[name].Should().Be(value, $"{name} in asm/vm/vm.h");
        }
    }

    [Theory]
    [InlineData(0, 3, "Exited", 0)]               // the guest wrote 1: status 0
    [InlineData(0, 15, "Exited", 6)]              // wrote 7: status 6
    [InlineData(0, 253, "Exited", 125)]           // wrote 126: status 125 (the shim's internal error)
    [InlineData(0, 243, "Exited", 120)]           // wrote 121: status 120 (bad boot information)
    [InlineData(0, 255, "Reason", 0)]             // wrote 127: 126 or more, the EXIT or FAULT item says which
    [InlineData(0, 1, "Reason", 0)]               // QEMU's own failure
    [InlineData(0, 0, "Reason", 0)]               // QEMU ended without the shim's status
    [InlineData(9, 0, "Reason", 0)]               // QEMU killed by SIGKILL
    public void QEMUs_exit_status_is_decoded_as_docs_vm_md_says(int signal, int code, string kind, int status)
    {
        MethodInfo describe = VmPlugin.Type("VmKeep").GetMethod("Describe", BindingFlags.NonPublic | BindingFlags.Static)!;
        var exit = (KeepExit)describe.Invoke(null, [signal | (code << 8), "qemu said this"])!;
        if (kind == "Exited")
        {
            exit.ExitStatus.Should().Be(status);
            exit.Reason.Should().BeNull();
        }
        else
        {
            exit.ExitStatus.Should().BeNull();
            exit.Reason.Should().NotBeNullOrEmpty();
        }
    }

    [Fact]
    public void Guest_RAM_follows_limits_memorySize()
    {
        MethodInfo ramSize = VmPlugin.Type("VmBackend").GetMethod("RamSize", BindingFlags.NonPublic | BindingFlags.Static)!;
        string program = Workloads.SuiteWorkloads.Build("hello", Workloads.Toolchain.Assembly);
        Host.Elf.WorkloadFile workload = Host.Elf.ElfInspector.Load(program);
        ulong RamFor(ulong memorySize)
        {
            var limits = Abstractions.Sessions.KeepLimits.Default with { MemorySize = memorySize };
            Abstractions.Images.KeepImage image = Host.Images.KeepImageBuilder.Build(new Host.Images.KeepImageRequest(
                workload.Report, workload.Contents, program, [program], [], 1000, 1000, limits, 1, ReadOnlyMemory<byte>.Empty));
            image.Layout.HeapMaxSize.Should().Be(memorySize, "the heap may grow to the whole limit");
            return (ulong)ramSize.Invoke(null, [image, 1UL << 20])!;
        }

        const ulong MiB = 1UL << 20;
        ulong small = RamFor(256 * MiB);
        ulong large = RamFor(768 * MiB);
        small.Should().BeGreaterThan(256 * MiB, "the guest holds the whole limit, the image and the stack");
        (large - small).Should().BeInRange(512 * MiB, 514 * MiB, "512 MiB more of limit is 512 MiB more of guest RAM, plus 1/512 of it for page tables");
    }

    private static Dictionary<string, ulong> SharedDefines()
    {
        string text = File.ReadAllText(Repository.PathOf("asm/vm/vm.h"));
        int start = text.IndexOf("/* ---- Shared with the host", StringComparison.Ordinal);
        int end = text.IndexOf("/* ----", start + 10, StringComparison.Ordinal);
        start.Should().BePositive("asm/vm/vm.h has a 'Shared with the host' section");
        var defines = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (Match match in Define().Matches(text[start..end]))
        {
            string literal = match.Groups[2].Value;
            defines[match.Groups[1].Value] = literal.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.Parse(literal[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : ulong.Parse(literal, CultureInfo.InvariantCulture);
        }

        return defines;
    }

    private static string SnakeCase(string name) => CapitalAfterLower().Replace(name, "$1_$2").ToUpperInvariant();

    [GeneratedRegex(@"^#define\s+(DJ_VM_\w+)\s+(0x[0-9A-Fa-f]+|[0-9]+)\b", RegexOptions.Multiline)]
    private static partial Regex Define();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex CapitalAfterLower();
}
