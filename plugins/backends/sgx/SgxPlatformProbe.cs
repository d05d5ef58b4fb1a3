using System.Net.Sockets;
using Donjon.Abstractions.Backends;
using Donjon.Backends.Sdk.Probes;

namespace Donjon.Backends.Sgx;

/// <summary>Probes the CPU, the kernel and the AESM service for what an SGX keep needs.</summary>
/// <remarks>CPUID bits follow the Intel SDM, vol. 2A (CPUID) and vol. 3D, chapter "Enclave resource enumeration".</remarks>
internal static class SgxPlatformProbe
{
    /// <summary>The in-tree driver's enclave device (Linux 5.11 and later).</summary>
    internal const string EnclaveDevice = "/dev/sgx_enclave";

    /// <summary>The in-tree driver's provisioning device, which grants access to the PROVISIONKEY attribute.</summary>
    internal const string ProvisionDevice = "/dev/sgx_provision";

    /// <summary>The Unix socket of the Intel SGX PSW's architectural enclave service manager.</summary>
    internal const string AesmSocket = "/var/run/aesmd/aesm.socket";

    private const uint SgxLeaf = 0x12;

    private const string FirmwareRemedy =
        "Enable SGX in the BIOS/firmware (Software Guard Extensions = Enabled) and use a CPU that supports it; inside a VM " +
        "the hypervisor must expose SGX (QEMU: -cpu host,+sgx,+sgxlc with -object memory-backend-epc,id=epc0,size=64M " +
        "-M sgx-epc.0.memdev=epc0).";

    private const string VendorRemedy =
        "SGX exists only on Intel CPUs: run on an Intel CPU that has SGX with Flexible Launch Control (for example a Xeon " +
        "Scalable from Ice Lake-SP on, or a Xeon E-2100/E-2200), or use backend 'process'.";

    private const string FlcRemedy =
        "Use a CPU with SGX Flexible Launch Control and leave launch control unlocked in the firmware (often \"SGX Launch " +
        "Control Policy = Unlocked\"); the in-tree Linux driver does not enable SGX without it. Inside a VM the " +
        "hypervisor must expose it (QEMU: -cpu host,+sgx,+sgxlc).";

    private const string DriverRemedy =
        "Load the in-tree driver: Linux >= 5.11 with CONFIG_X86_SGX=y exposes /dev/sgx_enclave (check dmesg for \"sgx:\" " +
        "messages: the kernel disables SGX when the firmware left it off or launch control locked).";

    private const string DeviceAccessRemedy =
        "Give this user read-write access to the device: add it to the group that owns the node (usually 'sgx', " +
        "through the udev rules the SGX PSW installs), or run Donjon as root.";

    private const string AesmRemedy =
        "Install the Intel SGX PSW (sgx-aesm-service) and start aesmd (systemctl enable --now aesmd).";

    /// <summary>Runs every check. Never throws.</summary>
    /// <returns>The platform probe tree.</returns>
    public static Probe Run()
    {
        return Probe.Group(
            "sgx platform",
            [Guard("CPU", CheckCpu, FirmwareRemedy), Guard("Kernel", CheckKernel, DriverRemedy), Guard("AESM", () => CheckAesm(HasFlexibleLaunchControl()), AesmRemedy)],
            "Apply the remedies of the failed checks below, or choose backend 'process' (not confidential).");
    }

    /// <summary>Whether CPUID.(EAX=7,ECX=0):ECX.SGX_LC[bit 30] is set.</summary>
    private static bool HasFlexibleLaunchControl() =>
        Cpuid.IsAvailable && Cpuid.MaxBasicLeaf >= 7 && Cpuid.Bit(Cpuid.Query(7, 0).Ecx, 30);

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
        const string remedy = "Use an Intel CPU with SGX and Flexible Launch Control, enabled in the firmware; see the failed checks.";
        if (!Cpuid.IsAvailable)
        {
            return Probe.Group("CPU", [Probe.Fail("CPUID", "this process does not run on an x86 CPU, so CPUID is not available", VendorRemedy)], remedy);
        }

        var checks = new List<Probe>();
        string vendor = Cpuid.Vendor;
        uint maxBasic = Cpuid.MaxBasicLeaf;
        string vendorDetail = $"CPUID leaf 0 reports \"{vendor}\" (highest basic leaf {Cpuid.Hex(maxBasic)})";
        checks.Add(vendor == "GenuineIntel"
            ? Probe.Pass("CPU vendor", vendorDetail)
            : Probe.Fail("CPU vendor", vendorDetail + "; SGX needs \"GenuineIntel\"", VendorRemedy));

        const string sgxName = "SGX: CPUID.(EAX=7,ECX=0):EBX[bit 2]";
        const string flcName = "Flexible Launch Control: CPUID.(EAX=7,ECX=0):ECX[bit 30]";
        bool sgx = false;
        if (maxBasic < 7)
        {
            string detail = $"leaf 7 is above the highest basic leaf {Cpuid.Hex(maxBasic)}, so the CPU reports no structured extended features";
            checks.Add(Probe.Fail(sgxName, detail, FirmwareRemedy));
            checks.Add(Probe.Fail(flcName, detail, FlcRemedy));
        }
        else
        {
            CpuidRegisters leaf7 = Cpuid.Query(7, 0);
            sgx = Cpuid.Bit(leaf7.Ebx, 2);
            checks.Add(sgx
                ? Probe.Pass(sgxName, "the CPU reports SGX")
                : Probe.Fail(sgxName, "the CPU does not report SGX (absent, disabled in the firmware, or hidden by the hypervisor)", FirmwareRemedy));
            checks.Add(Cpuid.Bit(leaf7.Ecx, 30)
                ? Probe.Pass(flcName, "the CPU supports SGX launch control (whether the firmware left it unlocked is in IA32_FEATURE_CONTROL, which needs root and the msr driver to read)")
                : Probe.Fail(flcName, "the CPU does not report SGX launch control (SGX_LC)", FlcRemedy));
        }

        checks.AddRange(CheckSgxLeaf(sgx, maxBasic));
        return Probe.Group("CPU", checks, remedy);
    }

    private static IEnumerable<Probe> CheckSgxLeaf(bool sgx, uint maxBasic)
    {
        const string sgx1Name = "SGX1: CPUID.(EAX=12H,ECX=0):EAX[bit 0]";
        const string sgx2Name = "SGX2: CPUID.(EAX=12H,ECX=0):EAX[bit 1]";
        const string sizeName = "max enclave size: CPUID.(EAX=12H,ECX=0):EDX";
        const string epcName = "EPC sections: CPUID.(EAX=12H,ECX>=2)";
        string? unavailable =
            maxBasic < SgxLeaf ? $"leaf 12H is above the highest basic leaf {Cpuid.Hex(maxBasic)}, so the CPU enumerates no SGX capabilities"
            : !sgx ? "not meaningful: leaf 12H is defined only when CPUID.(EAX=7,ECX=0):EBX.SGX is 1, and it is 0"
            : null;
        if (unavailable is not null)
        {
            yield return Probe.Fail(sgx1Name, unavailable, FirmwareRemedy);
            yield return Probe.Info(sgx2Name, unavailable);
            yield return Probe.Info(sizeName, unavailable);
            yield break;
        }

        CpuidRegisters leaf = Cpuid.Query(SgxLeaf, 0);
        yield return Cpuid.Bit(leaf.Eax, 0)
            ? Probe.Pass(sgx1Name, "the SGX1 leaf functions (ECREATE, EADD, EEXTEND, EINIT, EENTER...) are available")
            : Probe.Fail(sgx1Name, "the CPU reports SGX but not the SGX1 leaf functions: SGX is not enabled", FirmwareRemedy);
        yield return Probe.Info(sgx2Name, Cpuid.Bit(leaf.Eax, 1)
            ? "SGX2 (enclave dynamic memory management: EAUG, EMODPR, EMODT) is available"
            : "SGX2 is not available; keeps need only SGX1, so enclave memory is fixed at launch");
        int bits64 = (int)((leaf.Edx >> 8) & 0xFF);
        int bits32 = (int)(leaf.Edx & 0xFF);
        yield return Probe.Info(sizeName, $"2^{bits64} bytes ({FormatBytes(bits64)}) in 64-bit mode, 2^{bits32} bytes ({FormatBytes(bits32)}) otherwise");
        yield return Probe.Info(epcName, DescribeEpc());
    }

    private static string DescribeEpc()
    {
        var sections = new List<string>();
        ulong total = 0;
        for (uint subleaf = 2; subleaf < 2 + 64; subleaf++)
        {
            CpuidRegisters r = Cpuid.Query(SgxLeaf, subleaf);
            if ((r.Eax & 0xF) != 1)
            {
                break;
            }

            ulong baseAddress = (r.Eax & 0xFFFF_F000UL) | ((ulong)(r.Ebx & 0xF_FFFF) << 32);
            ulong size = (r.Ecx & 0xFFFF_F000UL) | ((ulong)(r.Edx & 0xF_FFFF) << 32);
            total += size;
            sections.Add($"{size >> 20} MiB at 0x{baseAddress:x}");
        }

        return sections.Count == 0
            ? "the CPU enumerates no EPC section: the firmware reserved no enclave page cache"
            : $"{sections.Count} section(s), {total >> 20} MiB in all: {string.Join(", ", sections)}";
    }

    private static string FormatBytes(int log2) => log2 switch
    {
        >= 60 => $"{1UL << (log2 - 60)} EiB",
        >= 50 => $"{1UL << (log2 - 50)} PiB",
        >= 40 => $"{1UL << (log2 - 40)} TiB",
        >= 30 => $"{1UL << (log2 - 30)} GiB",
        >= 20 => $"{1UL << (log2 - 20)} MiB",
        >= 10 => $"{1UL << (log2 - 10)} KiB",
        >= 0 => $"{1UL << log2} B",
        _ => "unknown",
    };

    private static Probe CheckKernel()
    {
        DeviceOpenResult enclave = DeviceNode.Check(EnclaveDevice);
        Probe enclaveProbe = enclave.Status switch
        {
            DeviceOpenStatus.Opened => Probe.Pass(EnclaveDevice, enclave.Detail),
            DeviceOpenStatus.AccessDenied => Probe.Fail(EnclaveDevice, enclave.Detail, DeviceAccessRemedy),
            DeviceOpenStatus.NotFound => Probe.Fail(EnclaveDevice, enclave.Detail + LegacyDriverNote(), DriverRemedy),
            _ => Probe.Fail(EnclaveDevice, enclave.Detail, DriverRemedy),
        };

        const string provisionUse = "it is needed only to attest (the provisioning key), not to launch";
        DeviceOpenResult provision = DeviceNode.Check(ProvisionDevice);
        Probe provisionProbe = provision.Status == DeviceOpenStatus.Opened
            ? Probe.Pass(ProvisionDevice, provision.Detail)
            : Probe.Info(ProvisionDevice, $"{provision.Detail}; {provisionUse}");

        return Probe.Group("Kernel", [enclaveProbe, provisionProbe], DriverRemedy);
    }

    private static string LegacyDriverNote()
    {
        string[] legacy = ["/dev/isgx", "/dev/sgx/enclave"];
        string? found = legacy.FirstOrDefault(File.Exists);
        return found is null ? "" : $" ({found} exists: that is an out-of-tree Intel driver, which this backend does not use)";
    }

    private static Probe CheckAesm(bool flc)
    {
        const string name = "aesmd socket " + AesmSocket;
        string use = flc
            ? "launching enclaves on a CPU with Flexible Launch Control does not need it; attestation (quotes) does"
            : "without Flexible Launch Control every enclave needs a launch token from AESM, and attestation needs it too";

        string? problem = null;
        if (!File.Exists(AesmSocket))
        {
            problem = $"{AesmSocket} does not exist";
        }
        else
        {
            try
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
                socket.Connect(new UnixDomainSocketEndPoint(AesmSocket));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.IOPending or SocketError.InProgress)
            {
                // The listener's backlog is full: aesmd runs, it is only busy.
            }
            catch (SocketException e)
            {
                problem = $"{AesmSocket} exists but does not accept connections ({e.SocketErrorCode}: {e.Message})";
            }
        }

        Probe socketProbe = problem is null
            ? Probe.Pass(name, $"aesmd accepts connections on {AesmSocket}")
            : flc
                ? Probe.Info(name, $"{problem}; {use}. To attest: {AesmRemedy}")
                : Probe.Fail(name, $"{problem}; {use}", AesmRemedy);
        return Probe.Group("AESM", [socketProbe], AesmRemedy);
    }
}
