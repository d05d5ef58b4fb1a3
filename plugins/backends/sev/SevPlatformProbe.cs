using Donjon.Abstractions.Backends;
using Donjon.Backends.Sdk.Probes;
using Donjon.Backends.Sev.Interop;
using Microsoft.Win32.SafeHandles;

namespace Donjon.Backends.Sev;

/// <summary>Probes the CPU and the kernel for what an SEV-SNP keep needs.</summary>
/// <remarks>
/// CPUID bits follow the AMD64 Architecture Programmer's Manual, vol. 3, "CPUID Fn8000_001F Encrypted Memory
/// Capabilities"; ioctl numbers and VM types follow the Linux UAPI headers <c>linux/kvm.h</c> and <c>asm/kvm.h</c>.
/// </remarks>
internal static class SevPlatformProbe
{
    /// <summary>The PSP driver's SEV device (the <c>ccp</c> module).</summary>
    internal const string SevDevice = "/dev/sev";

    /// <summary>The KVM system device.</summary>
    internal const string KvmDevice = "/dev/kvm";

    /// <summary>Where the loaded <c>kvm_amd</c> module exposes itself.</summary>
    internal const string KvmAmdModule = "/sys/module/kvm_amd";

    /// <summary>The AMD encrypted-memory capabilities leaf.</summary>
    internal const uint EncryptedMemoryLeaf = 0x8000_001F;

    /// <summary><c>KVM_GET_API_VERSION</c> = <c>_IO(KVMIO, 0x00)</c>.</summary>
    internal const nuint KvmGetApiVersion = 0xAE00;

    /// <summary><c>KVM_CHECK_EXTENSION</c> = <c>_IO(KVMIO, 0x03)</c>.</summary>
    internal const nuint KvmCheckExtension = 0xAE03;

    /// <summary>The only KVM API version there has ever been (since Linux 2.6.22).</summary>
    internal const int KvmApiVersion = 12;

    /// <summary><c>KVM_CAP_VM_TYPES</c>: a bit mask of the VM types KVM can create (Linux 6.8 and later).</summary>
    internal const nint KvmCapVmTypes = 235;

    /// <summary><c>KVM_X86_SNP_VM</c>: the VM type of an SEV-SNP guest (Linux 6.11 and later).</summary>
    internal const int KvmX86SnpVm = 4;

    private const string VendorRemedy =
        "SEV-SNP exists only on AMD EPYC CPUs (7003 \"Milan\" or later): run on such a host, or use backend 'vm' (not confidential).";

    private const string FirmwareRemedy =
        "Use an AMD EPYC 7003 or later and enable SME, SEV, SEV-ES and SEV-SNP in the BIOS/firmware (settings such as " +
        "\"SMEE\", \"SEV-ES ASID Space Limit\", \"SNP Memory Coverage\", \"SEV-SNP Support\"); an SEV-SNP host must run on " +
        "bare metal, not inside another VM.";

    private const string ModuleRemedy =
        "modprobe kvm_amd sev=1 sev_es=1 sev_snp=1 on an AMD EPYC host with SNP enabled in firmware.";

    private const string ParameterRemedy =
        "Reload kvm_amd with the feature on (modprobe -r kvm_amd && modprobe kvm_amd sev=1 sev_es=1 sev_snp=1); if it " +
        "stays off, the firmware or the PSP firmware does not enable it: check the \"SEV\" lines of dmesg.";

    private const string SevDeviceRemedy =
        "Load the PSP driver (modprobe ccp; CONFIG_CRYPTO_DEV_SP_PSP=y) on an AMD EPYC host with SEV enabled in the " +
        "firmware; /dev/sev appears once the PSP firmware initialises (check dmesg for \"ccp\" and \"SEV\").";

    private const string KvmRemedy =
        "Load KVM for AMD (modprobe kvm_amd); on bare metal enable SVM (AMD-V) in the firmware.";

    private const string AccessRemedy =
        "Give this user read-write access to the device (for /dev/kvm, the 'kvm' group; /dev/sev is usually root-only), " +
        "or run Donjon as root.";

    private const string KernelRemedy =
        "Run a Linux >= 6.11 host kernel with kvm_amd and the ccp driver loaded and SEV-SNP enabled; see the failed checks.";

    /// <summary>Runs every check. Never throws.</summary>
    /// <returns>The platform probe tree.</returns>
    public static Probe Run() => Probe.Group(
        "sev platform",
        [Guard("CPU", CheckCpu, FirmwareRemedy), Guard("Kernel", CheckKernel, KernelRemedy)],
        "Apply the remedies of the failed checks below, or choose backend 'vm' (not confidential).");

    private static Probe Guard(string name, Func<Probe> check, string remedy)
    {
        try
        {
            return check();
        }
        catch (Exception e)
        {
            return Probe.Group(name, [Probe.Fail($"{name} probe", $"the probe itself failed: {e.GetType().Name}: {e.Message}", remedy)], remedy);
        }
    }

    private static Probe CheckCpu()
    {
        const string remedy = "Use an AMD EPYC CPU with SEV-SNP enabled in the firmware; see the failed checks.";
        if (!Cpuid.IsAvailable)
        {
            return Probe.Group("CPU", [Probe.Fail("CPUID", "this process does not run on an x86 CPU, so CPUID is not available", VendorRemedy)], remedy);
        }

        var checks = new List<Probe>();
        string vendor = Cpuid.Vendor;
        string vendorDetail = $"CPUID leaf 0 reports \"{vendor}\"";
        checks.Add(vendor == "AuthenticAMD"
            ? Probe.Pass("CPU vendor", vendorDetail)
            : Probe.Fail("CPU vendor", vendorDetail + "; SEV-SNP needs \"AuthenticAMD\"", VendorRemedy));

        uint maxExtended = Cpuid.MaxExtendedLeaf;
        bool leafAvailable = maxExtended >= EncryptedMemoryLeaf && maxExtended <= Cpuid.ExtendedBase + 0xFFFF;
        string leafName = $"leaf {Cpuid.Hex(EncryptedMemoryLeaf)}: CPUID.(EAX=80000000H):EAX >= {Cpuid.Hex(EncryptedMemoryLeaf)}";
        checks.Add(leafAvailable
            ? Probe.Pass(leafName, $"the highest extended leaf is {Cpuid.Hex(maxExtended)}, so the CPU enumerates its encrypted-memory capabilities")
            : Probe.Fail(leafName, $"the highest extended leaf is {Cpuid.Hex(maxExtended)}: the CPU has no encrypted-memory capabilities leaf", VendorRemedy));

        CpuidRegisters leaf = leafAvailable ? Cpuid.Query(EncryptedMemoryLeaf) : default;
        string absent = $"not reported: leaf {Cpuid.Hex(EncryptedMemoryLeaf)} is not available";
        checks.Add(Feature(leafAvailable, leaf.Eax, 0, "SME", "Secure Memory Encryption", absent));
        checks.Add(Feature(leafAvailable, leaf.Eax, 1, "SEV", "Secure Encrypted Virtualization", absent));
        checks.Add(Feature(leafAvailable, leaf.Eax, 3, "SEV-ES", "SEV with Encrypted State", absent));
        checks.Add(Feature(leafAvailable, leaf.Eax, 4, "SEV-SNP", "SEV with Secure Nested Paging", absent));

        string ebx = $"C-bit position: CPUID.(EAX={Cpuid.Hex(EncryptedMemoryLeaf)}):EBX[5:0]";
        string ecx = $"encrypted guests: CPUID.(EAX={Cpuid.Hex(EncryptedMemoryLeaf)}):ECX";
        if (leafAvailable)
        {
            checks.Add(Probe.Info(ebx, $"page-table bit {leaf.Ebx & 0x3F} marks a page encrypted; physical addresses lose {(leaf.Ebx >> 6) & 0x3F} bit(s) when encryption is on"));
            checks.Add(Probe.Info(ecx, $"{leaf.Ecx} encrypted guest(s) at once; SEV guests without SEV-ES use ASIDs from {leaf.Edx} up (CPUID EDX)"));
        }
        else
        {
            checks.Add(Probe.Info(ebx, absent));
            checks.Add(Probe.Info(ecx, absent));
        }

        return Probe.Group("CPU", checks, remedy);
    }

    private static Probe Feature(bool leafAvailable, uint eax, int bit, string shortName, string longName, string absent)
    {
        string name = $"{shortName}: CPUID.(EAX={Cpuid.Hex(EncryptedMemoryLeaf)}):EAX[bit {bit}]";
        if (!leafAvailable)
        {
            return Probe.Fail(name, absent, FirmwareRemedy);
        }

        return Cpuid.Bit(eax, bit)
            ? Probe.Pass(name, $"the CPU reports {shortName} ({longName})")
            : Probe.Fail(name, $"the CPU does not report {shortName} ({longName}): absent, or disabled in the firmware", FirmwareRemedy);
    }

    private static Probe CheckKernel()
    {
        var checks = new List<Probe>();

        DeviceOpenResult sev = DeviceNode.Check(SevDevice);
        checks.Add(DeviceProbe(SevDevice, sev, SevDeviceRemedy));

        DeviceOpenResult kvm = DeviceNode.TryOpen(KvmDevice, out SafeFileHandle? kvmHandle);
        using (kvmHandle)
        {
            checks.Add(DeviceProbe(KvmDevice, kvm, KvmRemedy));
            checks.Add(CheckApiVersion(kvmHandle));
            checks.Add(CheckSnpVmType(kvmHandle));
        }

        checks.Add(CheckKvmAmd());
        return Probe.Group("Kernel", checks, KernelRemedy);
    }

    private static Probe DeviceProbe(string path, DeviceOpenResult result, string remedy) => result.Status switch
    {
        DeviceOpenStatus.Opened => Probe.Pass(path, result.Detail),
        DeviceOpenStatus.AccessDenied => Probe.Fail(path, result.Detail, AccessRemedy),
        _ => Probe.Fail(path, result.Detail, remedy),
    };

    private static Probe CheckApiVersion(SafeFileHandle? kvm)
    {
        const string name = "KVM API version: ioctl(KVM_GET_API_VERSION) == 12";
        const string remedy = "Use a Linux kernel whose KVM speaks API version 12 (every mainline kernel since 2.6.22).";
        if (kvm is null)
        {
            return Probe.Info(name, $"not checked: {KvmDevice} did not open");
        }

        if (!TryIoctl(kvm, KvmGetApiVersion, 0, out int version, out string error))
        {
            return Probe.Fail(name, $"KVM_GET_API_VERSION failed: {error}", remedy);
        }

        return version == KvmApiVersion
            ? Probe.Pass(name, $"KVM API version {version}")
            : Probe.Fail(name, $"KVM reports API version {version}, not {KvmApiVersion}", remedy);
    }

    private static Probe CheckSnpVmType(SafeFileHandle? kvm)
    {
        const string name = "KVM VM types: ioctl(KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES) has KVM_X86_SNP_VM";
        const string remedy =
            "Run a Linux >= 6.11 host kernel (SEV-SNP host support) with kvm_amd loaded as sev_snp=1 on an AMD EPYC host with SNP enabled in firmware.";
        if (kvm is null)
        {
            return Probe.Info(name, $"not checked: {KvmDevice} did not open");
        }

        if (!TryIoctl(kvm, KvmCheckExtension, KvmCapVmTypes, out int types, out string error))
        {
            return Probe.Fail(name, $"KVM_CHECK_EXTENSION failed: {error}", remedy);
        }

        if (types == 0)
        {
            return Probe.Fail(name, "this KVM does not report KVM_CAP_VM_TYPES (it predates Linux 6.8), so it cannot create SEV-SNP VMs", remedy);
        }

        return (types & (1 << KvmX86SnpVm)) != 0
            ? Probe.Pass(name, $"KVM can create SEV-SNP VMs (VM type mask 0x{types:x})")
            : Probe.Fail(name, $"KVM cannot create SEV-SNP VMs (VM type mask 0x{types:x} lacks bit {KvmX86SnpVm})", remedy);
    }

    private static bool TryIoctl(SafeFileHandle device, nuint request, nint argument, out int result, out string error)
    {
        try
        {
            result = Libc.IoctlWithInteger(device, request, argument, out int errno);
            error = result < 0 ? $"errno {errno}" : "";
            return result >= 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            result = -1;
            error = $"the C library's ioctl could not be called ({e.Message})";
            return false;
        }
    }

    private static Probe CheckKvmAmd()
    {
        const string name = "kvm_amd module";
        if (!Directory.Exists(KvmAmdModule))
        {
            return Probe.Group(
                name,
                [Probe.Fail(KvmAmdModule, $"{KvmAmdModule} does not exist: the kvm_amd module is not loaded", ModuleRemedy)],
                ModuleRemedy);
        }

        return Probe.Group(
            name,
            [
                Probe.Pass(KvmAmdModule, "the kvm_amd module is loaded"),
                Parameter("sev", "Linux 4.16"),
                Parameter("sev_es", "Linux 5.11"),
                Parameter("sev_snp", "Linux 6.11"),
            ],
            ModuleRemedy);
    }

    private static Probe Parameter(string parameter, string since)
    {
        string path = $"{KvmAmdModule}/parameters/{parameter}";
        if (!File.Exists(path))
        {
            return Probe.Fail(path, $"{path} does not exist: this kvm_amd has no '{parameter}' parameter (it arrived in {since})",
                $"Run a Linux >= 6.11 host kernel, then {ModuleRemedy}");
        }

        if (!SysfsFile.TryRead(path, out string value, out string error))
        {
            return Probe.Fail(path, error, "Make /sys/module readable to this user (sysfs normally is), or run Donjon as root.");
        }

        return SysfsFile.IsEnabled(value)
            ? Probe.Pass(path, $"{parameter} = {value}: enabled")
            : Probe.Fail(path, $"{parameter} = {value}: disabled", ParameterRemedy);
    }
}
