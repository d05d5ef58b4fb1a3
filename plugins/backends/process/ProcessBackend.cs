using System.Runtime.InteropServices;
using System.Text;
using Donjon.Backends.Sdk.Memory;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Backends.Sdk.Shims;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Plugins;
using Donjon.Backends.Process.Interop;

namespace Donjon.Backends.Process;

/// <summary>
/// The process keep: the workload runs in a shim process that traps its syscalls with seccomp and proxies them
/// through a shared memfd. It has the shape of an SGX enclave, but it is not confidential: the host can read it.
/// </summary>
public sealed class ProcessBackend : IBackend
{
    private const string ShimFileName = "donjon-shim";
    private readonly string _shimPath;

    /// <summary>Creates the backend; its shim is expected beside the plugin assembly.</summary>
    /// <param name="context">The plugin's folder and logging.</param>
    public ProcessBackend(IPluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _shimPath = Path.Combine(context.PluginDirectory, ShimFileName);
    }

    /// <inheritdoc/>
    public string Name => "process";

    /// <inheritdoc/>
    public BackendTraits Traits { get; } = new(KeepShape.Process, false, "a process keep: seccomp-trapped shim, syscalls proxied through shared memory (not confidential)");

    /// <inheritdoc/>
    public Probe ProbePlatform() => Probe.Group("platform", [
        ProbeArchitecture(),
        ProbeKernel(),
        ProbeSeccomp(),
        ProbeMemfd(),
        Probe.Info("confidentiality", "not confidential: the host (and root on this machine) can read and change the keep's memory; use sgx or sev for a confidential keep"),
    ]);

    /// <inheritdoc/>
    public Probe ProbeConfiguration() => Probe.Group("configuration", [ProbeShim()]);

    /// <inheritdoc/>
    public Task<IKeep> LaunchAsync(KeepImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        Probe shim = ProbeShim();
        if (!shim.IsSatisfied)
        {
            throw new BackendUnavailableException($"the process keep cannot start: {shim.Detail}", shim);
        }

        cancellationToken.ThrowIfCancellationRequested();
        AddressSpaceLayout layout = image.Layout;
        // The heap may grow to the memory limit (KeepImageBuilder sizes it so); the shim enforces that total
        // across brk and mmap.
        byte[] blob = ImageBlobWriter.Write(image, layout.HeapMaxSize);
        int imageFd = ImageFile.Create(blob);
        SharedMemory block;
        int slotCount = SharedBlock.ReadMaxThreads(image.Configuration.Span);
        int slotSize = ProtocolLayout.BlockDefaultSlotSize;
        try
        {
            // One slot per thread the workload may have; the memfd is sparse, so unused slots cost nothing.
            block = SharedMemory.Create("donjon-block", SharedBlock.Size(slotSize, slotCount));
        }
        catch
        {
            Libc.Close(imageFd);
            throw;
        }

        try
        {
            SharedBlock.InitializeZeroed(block.Memory, slotSize, slotCount);   // a new memfd: zero until written
            ProcessKeep keep = ProcessKeep.Start(_shimPath, imageFd, block, slotSize, slotCount);
            return Task.FromResult<IKeep>(keep);
        }
        catch
        {
            block.Dispose();
            throw;
        }
        finally
        {
            Libc.Close(imageFd);
            block.CloseDescriptor();
        }
    }

    private static Probe ProbeArchitecture() =>
        RuntimeInformation.OSArchitecture == Architecture.X64
            ? Probe.Pass("architecture", "x86-64")
            : Probe.Fail("architecture", $"{RuntimeInformation.OSArchitecture}", "Run Donjon on an x86-64 Linux machine; keeps run x86-64 programs natively.");

    private static unsafe Probe ProbeKernel()
    {
        const string Name = "kernel";
        // SAFETY: struct utsname is 6 × 65 = 390 bytes; the buffer is exactly that, and the release field read
        // below (offset 130, 65 bytes) lies inside it.
        byte* buffer = stackalloc byte[390];
        if (Libc.Uname(buffer) != 0)
        {
            return Probe.Fail(Name, "uname failed", "Run Donjon on Linux.");
        }

        // struct utsname: six 65-byte fields; release is the third.
        string release = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(buffer + 130, 65)).TrimEnd('\0');
        string[] parts = release.Split('.', '-');
        bool recent = parts.Length >= 2 && int.TryParse(parts[0], out int major) && int.TryParse(parts[1], out int minor)
            && (major > 4 || (major == 4 && minor >= 17));
        return recent
            ? Probe.Pass(Name, $"Linux {release} (needs 4.17 or later, for MAP_FIXED_NOREPLACE)")
            : Probe.Fail(Name, $"Linux {release}", "Use Linux 4.17 or later: the shim maps the keep image with MAP_FIXED_NOREPLACE.");
    }

    private static Probe ProbeSeccomp()
    {
        const string Name = "seccomp";
        const string Actions = "/proc/sys/kernel/seccomp/actions_avail";
        try
        {
            string available = File.ReadAllText(Actions).Trim();
            return available.Split(' ').Contains("trap")
                ? Probe.Pass(Name, $"seccomp filters with SECCOMP_RET_TRAP are available ({Actions}: {available})")
                : Probe.Fail(Name, $"{Actions} lacks 'trap' ({available})", "Use a kernel built with CONFIG_SECCOMP_FILTER=y.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Probe.Fail(Name, $"cannot read {Actions}: {e.Message}", "Use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER (every mainstream distribution kernel is); inside a container, allow seccomp.");
        }
    }

    private static Probe ProbeMemfd()
    {
        const string Name = "memfd";
        int fd = Libc.MemfdCreate("donjon-probe", 1);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return Probe.Fail(Name, $"memfd_create failed (errno {errno})", "Use Linux 3.17 or later; inside a container, allow memfd_create.");
        }

        Libc.Close(fd);
        return Probe.Pass(Name, "memfd_create works (the shared block and the sealed keep image use it)");
    }

    private Probe ProbeShim() => ShimNote.Check(_shimPath, ProtocolLayout.VersionMajor, ProtocolLayout.VersionMinor);
}
