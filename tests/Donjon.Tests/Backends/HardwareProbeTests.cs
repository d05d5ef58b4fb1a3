using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Plugins;
using Donjon.Backends.Sev;
using Donjon.Backends.Sgx;

namespace Donjon.Tests.Backends;

/// <summary>
/// The hardware backends <c>sgx</c> and <c>sev</c>: their probe trees, checked against facts these tests read on
/// their own (CPUID, device nodes, sysfs), and their honest refusal to launch.
/// </summary>
public sealed class HardwareProbeTests
{
    private const string SgxEnclave = "/dev/sgx_enclave";
    private const string SevDevice = "/dev/sev";
    private const string KvmDevice = "/dev/kvm";
    private const string KvmAmd = "/sys/module/kvm_amd";

    public static TheoryData<string> Backends => new() { "sgx", "sev" };

    [Theory]
    [MemberData(nameof(Backends))]
    public void Probe_trees_are_real_trees(string name)
    {
        IBackend backend = Create(name);
        foreach (Probe root in new[] { backend.ProbePlatform(), backend.ProbeConfiguration() })
        {
            root.Children.Should().NotBeEmpty("a probe root is a group of checks");
            foreach (Probe node in Flatten(root))
            {
                node.Name.Should().NotBeNullOrWhiteSpace();
                node.Name.Should().Be(node.Name.Trim(), "the hierarchy is real children, never indentation in names");
                node.Detail.Should().NotBeNullOrWhiteSpace($"check '{node.Name}' says what it found");
                node.Children.Should().NotBeNull();
            }
        }

        backend.ProbePlatform().Children.Select(c => c.Name).Should().Contain(["CPU", "Kernel"]);
        backend.ProbePlatform().Children.Should().OnlyContain(c => c.Children.Count > 0, "CPU, Kernel (and AESM) are groups");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Every_failed_check_has_a_remedy_and_groups_fail_only_through_their_children(string name)
    {
        IBackend backend = Create(name);
        foreach (Probe node in Flatten(backend.ProbePlatform()).Concat(Flatten(backend.ProbeConfiguration())))
        {
            if (node.Outcome == ProbeOutcome.Failed)
            {
                node.Remedy.Should().NotBeNullOrWhiteSpace($"failed check '{node.Name}' says what to do");
            }

            if (node.Children.Count > 0)
            {
                bool anyChildFailed = node.Children.Any(c => c.Outcome == ProbeOutcome.Failed);
                node.Outcome.Should().Be(anyChildFailed ? ProbeOutcome.Failed : ProbeOutcome.Passed, $"group '{node.Name}' summarises its children");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_vendor_check_reports_the_real_vendor_string(string name)
    {
        Probe cpu = Child(Create(name).ProbePlatform(), "CPU");
        if (!X86Base.IsSupported)
        {
            cpu.Outcome.Should().Be(ProbeOutcome.Failed);
            return;
        }

        string vendor = ReadVendor();
        Probe vendorCheck = Child(cpu, "CPU vendor");
        vendorCheck.Detail.Should().Contain(vendor);
        string wanted = name == "sgx" ? "GenuineIntel" : "AuthenticAMD";
        vendorCheck.Outcome.Should().Be(vendor == wanted ? ProbeOutcome.Passed : ProbeOutcome.Failed);
    }

    [Fact]
    public void Sgx_platform_fails_exactly_when_the_hardware_or_driver_is_missing()
    {
        Probe platform = new SgxBackend().ProbePlatform();
        bool cpuid = X86Base.IsSupported;
        uint maxBasic = cpuid ? Query(0, 0).Eax : 0;
        bool sgxBit = maxBasic >= 7 && Bit(Query(7, 0).Ebx, 2);
        bool flcBit = maxBasic >= 7 && Bit(Query(7, 0).Ecx, 30);
        bool sgx1Bit = sgxBit && maxBasic >= 0x12 && Bit(Query(0x12, 0).Eax, 0);
        bool intel = cpuid && ReadVendor() == "GenuineIntel";

        // AESM can only matter without Flexible Launch Control, and then the FLC check fails anyway.
        bool expected = intel && sgxBit && flcBit && sgx1Bit && OpensReadWrite(SgxEnclave);
        platform.IsSatisfied.Should().Be(expected);
        if (!sgxBit || !File.Exists(SgxEnclave))
        {
            platform.Outcome.Should().Be(ProbeOutcome.Failed, "without SGX or /dev/sgx_enclave there is no SGX keep");
        }

        Probe cpu = Child(platform, "CPU");
        if (cpuid)
        {
            Child(cpu, "SGX:").Outcome.Should().Be(sgxBit ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "Flexible Launch Control:").Outcome.Should().Be(flcBit ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "SGX1:").Outcome.Should().Be(sgx1Bit ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "SGX2:").Outcome.Should().NotBe(ProbeOutcome.Failed, "SGX2 is optional");
        }

        Probe kernel = Child(platform, "Kernel");
        Child(kernel, SgxEnclave).Outcome.Should().Be(OpensReadWrite(SgxEnclave) ? ProbeOutcome.Passed : ProbeOutcome.Failed);
        Child(kernel, "/dev/sgx_provision").Outcome.Should().NotBe(ProbeOutcome.Failed, "provisioning is only for attestation");

        Probe aesm = Child(Child(platform, "AESM"), "aesmd socket");
        if (!File.Exists("/var/run/aesmd/aesm.socket"))
        {
            aesm.Outcome.Should().Be(flcBit ? ProbeOutcome.Info : ProbeOutcome.Failed);
            aesm.Detail.Should().Contain("attestation");
        }
    }

    [Fact]
    public void Sev_platform_fails_exactly_when_the_hardware_or_kernel_support_is_missing()
    {
        Probe platform = new SevBackend().ProbePlatform();
        bool cpuid = X86Base.IsSupported;
        bool amd = cpuid && ReadVendor() == "AuthenticAMD";
        uint maxExtended = cpuid ? Query(0x8000_0000, 0).Eax : 0;
        bool leaf = maxExtended is >= 0x8000_001F and <= 0x8000_FFFF;
        uint features = leaf ? Query(0x8000_001F, 0).Eax : 0;
        bool snpCpu = amd && Bit(features, 0) && Bit(features, 1) && Bit(features, 3) && Bit(features, 4);
        bool kvmAmd = Directory.Exists(KvmAmd) && new[] { "sev", "sev_es", "sev_snp" }.All(p => ParameterEnabled($"{KvmAmd}/parameters/{p}"));

        bool expected = snpCpu && OpensReadWrite(SevDevice) && OpensReadWrite(KvmDevice) && kvmAmd;
        platform.IsSatisfied.Should().Be(expected);
        if (!snpCpu || !File.Exists(SevDevice) || !Directory.Exists(KvmAmd))
        {
            platform.Outcome.Should().Be(ProbeOutcome.Failed, "without SEV-SNP, /dev/sev or kvm_amd there is no SEV-SNP keep");
        }

        Probe cpu = Child(platform, "CPU");
        if (cpuid)
        {
            Child(cpu, "leaf 8000001FH").Outcome.Should().Be(leaf ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "SME:").Outcome.Should().Be(Bit(features, 0) ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "SEV:").Outcome.Should().Be(Bit(features, 1) ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "SEV-ES:").Outcome.Should().Be(Bit(features, 3) ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "SEV-SNP:").Outcome.Should().Be(Bit(features, 4) ? ProbeOutcome.Passed : ProbeOutcome.Failed);
            Child(cpu, "C-bit position:").Outcome.Should().Be(ProbeOutcome.Info);
            Child(cpu, "encrypted guests:").Outcome.Should().Be(ProbeOutcome.Info);
        }

        Probe kernel = Child(platform, "Kernel");
        Child(kernel, SevDevice).Outcome.Should().Be(OpensReadWrite(SevDevice) ? ProbeOutcome.Passed : ProbeOutcome.Failed);
        bool kvmOpens = OpensReadWrite(KvmDevice);
        Child(kernel, KvmDevice).Outcome.Should().Be(kvmOpens ? ProbeOutcome.Passed : ProbeOutcome.Failed);
        Probe apiVersion = Child(kernel, "KVM API version");
        if (kvmOpens)
        {
            apiVersion.Outcome.Should().Be(ProbeOutcome.Passed, "every KVM since Linux 2.6.22 speaks API version 12");
            apiVersion.Detail.Should().Contain("12");
        }
        else
        {
            apiVersion.Outcome.Should().Be(ProbeOutcome.Info);
        }

        Probe module = Child(kernel, "kvm_amd module");
        module.Outcome.Should().Be(kvmAmd ? ProbeOutcome.Passed : ProbeOutcome.Failed);
        if (!Directory.Exists(KvmAmd))
        {
            module.Children.Should().ContainSingle().Which.Remedy.Should().Contain("modprobe kvm_amd sev=1 sev_es=1 sev_snp=1");
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Configuration_says_launching_is_not_implemented(string name)
    {
        Probe configuration = Create(name).ProbeConfiguration();
        configuration.Outcome.Should().Be(ProbeOutcome.Failed);
        Flatten(configuration).Should().Contain(p => p.Detail.Contains("not implemented in this build", StringComparison.Ordinal));
        configuration.Remedy.Should().Contain(name == "sgx" ? "'process'" : "'vm'");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task LaunchAsync_refuses_with_every_reason_and_remedy(string name)
    {
        IBackend backend = Create(name);
        Func<Task> launch = () => backend.LaunchAsync(Image(), CancellationToken.None);

        BackendUnavailableException refusal = (await launch.Should().ThrowAsync<BackendUnavailableException>()).Which;
        refusal.Message.Should().NotBeNullOrWhiteSpace().And.Contain("not implemented in this build");
        refusal.Probe.Should().NotBeNull();
        refusal.Probe!.Outcome.Should().Be(ProbeOutcome.Failed);
        foreach (Probe failedLeaf in Flatten(refusal.Probe).Where(p => p.Outcome == ProbeOutcome.Failed && p.Children.Count == 0))
        {
            refusal.Message.Should().Contain(failedLeaf.Detail).And.Contain(failedLeaf.Remedy!);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task LaunchAsync_checks_its_arguments(string name)
    {
        IBackend backend = Create(name);
        await backend.Invoking(b => b.LaunchAsync(null!, CancellationToken.None)).Should().ThrowAsync<ArgumentNullException>();
        await backend.Invoking(b => b.LaunchAsync(Image(), new CancellationToken(canceled: true))).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public void Traits_describe_confidential_process_and_vm_keeps()
    {
        var sgx = new SgxBackend();
        sgx.Name.Should().Be("sgx");
        sgx.Traits.Shape.Should().Be(KeepShape.Process);
        sgx.Traits.IsConfidential.Should().BeTrue();
        sgx.Traits.Description.Should().Contain("SGX");

        var sev = new SevBackend();
        sev.Name.Should().Be("sev");
        sev.Traits.Shape.Should().Be(KeepShape.VirtualMachine);
        sev.Traits.IsConfidential.Should().BeTrue();
        sev.Traits.Description.Should().Contain("SEV-SNP");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Probing_takes_at_most_a_few_milliseconds(string name)
    {
        IBackend backend = Create(name);
        backend.ProbePlatform();
        backend.ProbeConfiguration();

        const int rounds = 20;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < rounds; i++)
        {
            backend.ProbePlatform();
            backend.ProbeConfiguration();
        }

        (clock.Elapsed.TotalMilliseconds / rounds).Should().BeLessThan(5);
    }

    [Theory]
    [InlineData(typeof(SgxBackend))]
    [InlineData(typeof(SevBackend))]
    public void The_plugin_assembly_has_one_loadable_backend_type(Type type)
    {
        Type[] backends = type.Assembly.GetExportedTypes().Where(t => typeof(IBackend).IsAssignableFrom(t)).ToArray();
        backends.Should().ContainSingle().Which.Should().Be(type);
        type.IsAbstract.Should().BeFalse();
        bool loadable = type.GetConstructor(Type.EmptyTypes) is not null
            || type.GetConstructor([typeof(IPluginContext)]) is not null;
        loadable.Should().BeTrue();
        type.Assembly.GetReferencedAssemblies().Select(a => a.Name).Should().NotContain("Donjon.Host");
        type.Assembly.GetTypes().Where(t => t.IsPublic).Should().ContainSingle("only the backend is public; the shared helpers are internal");
    }

    private static IBackend Create(string name) => name switch
    {
        "sgx" => new SgxBackend(),
        "sev" => new SevBackend(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown backend"),
    };

    private static IEnumerable<Probe> Flatten(Probe root) => root.Children.SelectMany(Flatten).Prepend(root);

    private static Probe Child(Probe parent, string namePrefix)
    {
        parent.Children.Where(c => c.Name.StartsWith(namePrefix, StringComparison.Ordinal))
            .Should().ContainSingle($"'{parent.Name}' has one check named '{namePrefix}...'");
        return parent.Children.Single(c => c.Name.StartsWith(namePrefix, StringComparison.Ordinal));
    }

    private static (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, uint subleaf)
    {
        (int a, int b, int c, int d) = X86Base.CpuId(unchecked((int)leaf), unchecked((int)subleaf));
        return (unchecked((uint)a), unchecked((uint)b), unchecked((uint)c), unchecked((uint)d));
    }

    private static bool Bit(uint value, int bit) => (value & (1u << bit)) != 0;

    private static string ReadVendor()
    {
        var leaf0 = Query(0, 0);
        byte[] bytes = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0), leaf0.Ebx);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), leaf0.Edx);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), leaf0.Ecx);
        return Encoding.ASCII.GetString(bytes).TrimEnd('\0');
    }

    private static bool OpensReadWrite(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool ParameterEnabled(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim() is "Y" or "y" or "1";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static KeepImage Image() => new(
        new WorkloadIdentity("/nonexistent/app", new string('0', 64), 0),
        new AddressSpaceLayout(0x10000, 0x20000, 0x20000, 0x100000, 0x7f0000000000, 0x7f8000000000, 1),
        [],
        0x10000,
        new ProgramHeaderTable(0x10040, 56, 0),
        null,
        new StackImage(0x7ff000000000, 0x100000, false, 0x7ff0000ff000, ReadOnlyMemory<byte>.Empty),
        ReadOnlyMemory<byte>.Empty);
}
