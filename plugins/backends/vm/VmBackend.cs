using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Backends.Sdk.Shims;
using Donjon.Abstractions.Backends;
using Donjon.Abstractions.Images;
using Donjon.Abstractions.Keeps;
using Donjon.Abstractions.Plugins;
using Donjon.Backends.Sdk.Memory;
using Donjon.Backends.Vm.Interop;
using Microsoft.Extensions.Logging;

namespace Donjon.Backends.Vm;

/// <summary>
/// The VM keep: the workload runs in ring 3 under a tiny guest kernel (donjon-vm-shim, asm/vm) that QEMU boots in a
/// <c>microvm</c> machine; its syscalls reach the host through a shared block in guest RAM. It has the shape of an
/// SEV guest, but it is not confidential: the host can read and change the guest's memory. docs/vm.md describes it.
/// </summary>
public sealed class VmBackend : IBackend
{
    private const string ShimFileName = "donjon-vm-shim";
    private const string ExecFileName = "donjon-vm-exec";
    private const ulong Mebibyte = 1UL << 20;
    private const ulong TwoMebibytes = 2UL << 20;

    /// <summary>How long QEMU gets to boot the shim and hear its handshake, per attempt.</summary>
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How many more times a start that QEMU itself failed (<see cref="QemuStartException"/>) is tried.</summary>
    private const int StartRetries = 2;

    /// <summary>The pause before each retry.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly string _shimPath;
    private readonly string _execPath;
    private readonly ILogger _logger;
    private readonly Lazy<QemuInstallation> _qemu = new(QemuInstallation.Discover);

    /// <summary>Creates the backend; its shim and launcher are expected beside the plugin assembly.</summary>
    /// <param name="context">The plugin's folder and logging.</param>
    public VmBackend(IPluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _shimPath = Path.Combine(context.PluginDirectory, ShimFileName);
        _execPath = Path.Combine(context.PluginDirectory, ExecFileName);
        _logger = context.LoggerFactory.CreateLogger("donjon.backend.vm");
    }

    /// <inheritdoc/>
    public string Name => "vm";

    /// <inheritdoc/>
    public BackendTraits Traits { get; } = new(KeepShape.VirtualMachine, false, "a VM keep: a tiny guest kernel under QEMU microvm, syscalls proxied through guest RAM (not confidential)");

    /// <inheritdoc/>
    public Probe ProbePlatform() => Probe.Group("platform", [
        ProbeArchitecture(),
        .. _qemu.Value.Checks,
        ProbeRamFile(),
        Probe.Info("confidentiality", "not confidential: the host (and root on this machine) can read and change the guest's memory; use sev for a confidential VM keep"),
    ]);

    /// <inheritdoc/>
    public Probe ProbeConfiguration() => Probe.Group("configuration", [ProbeShim(), ProbeExec()]);

    /// <inheritdoc/>
    public async Task<IKeep> LaunchAsync(KeepImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        QemuInstallation qemu = _qemu.Value;
        Probe configuration = ProbeConfiguration();
        if (!qemu.IsUsable || !configuration.IsSatisfied)
        {
            Probe why = qemu.IsUsable ? configuration : Probe.Group("platform", qemu.Checks);
            throw new BackendUnavailableException($"the vm keep cannot start: {FirstFailure(why)}", why);
        }

        // The heap may grow to the memory limit (KeepImageBuilder sizes it so); the shim enforces that total across
        // brk and mmap, as the process keep does.
        byte[] blob = ImageBlobWriter.Write(image, image.Layout.HeapMaxSize);
        ulong ramSize = RamSize(image, (ulong)blob.Length);
        IReadOnlyList<string> arguments = QemuLauncher.Arguments(_shimPath, ramSize, qemu.Accelerator, qemu.HasSandbox);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            // The policy's vCPUs are measured with the image (the configuration page), but the keep runs one.
            _logger.LogDebug("policy.limits.cpus is {Cpus}; the VM keep runs its threads on one vCPU (docs/vm.md, \"Why one vCPU\")", SharedBlock.ReadCpus(image.Configuration.Span));
            _logger.LogDebug("Starting QEMU ({Accelerator}, {Ram} MiB of guest RAM): {Qemu} {Arguments}", qemu.Accelerator, ramSize >> 20, qemu.Path, string.Join(' ', arguments));
        }

        // QEMU's own failure before the guest's handshake (status 1: KVM busy, a resource briefly short) is retried
        // twice, after a pause; each attempt has its own time-out. A shim that rejects its image is not a start
        // failure: its keep is returned and its status reported. (A plain loop: Polly's pipeline cost about 15 ms of
        // every run's start to load and build, for this one retry; docs/performance.md, "Start-up".)
        for (int attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(BootTimeout);
            try
            {
                return await StartOnceAsync(qemu.Path!, arguments, blob, ramSize, SlotCount(image), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
            {
                throw new IOException($"QEMU did not boot the keep within {BootTimeout.TotalSeconds} s");
            }
            catch (QemuStartException e) when (attempt < StartRetries)
            {
                _logger.LogWarning("QEMU failed to start the keep ({Reason}); trying again", e.Message);
                await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (QemuStartException e)
            {
                throw new IOException(e.Message, e);
            }
        }
    }

    /// <summary>One attempt: guest RAM with the blob and the block header, QEMU, and the guest's handshake.</summary>
    private async ValueTask<IKeep> StartOnceAsync(string qemuPath, IReadOnlyList<string> arguments, byte[] blob, ulong ramSize, int slotCount, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        GuestRamFile memory = GuestRamFile.Create(ramSize);
        VmKeep keep;
        try
        {
            // One slot per thread the workload may have; guest RAM is sparse, so unused slots cost nothing.
            memory.Write(VmLayout.BlobAddress(slotCount), blob);
            memory.MapWindow(VmLayout.BlockAddress, VmLayout.BlockSize(slotCount));
            SharedBlock.InitializeZeroed(memory.Memory, VmLayout.SlotSize, slotCount);   // new guest RAM: zero until written
            keep = VmKeep.Start(_execPath, qemuPath, arguments, memory, slotCount, _logger);
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        try
        {
            Task first = await Task.WhenAny(keep.Ready, keep.Exit).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (first == keep.Ready)
            {
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    _logger.LogDebug("The guest booted in {Milliseconds} ms (QEMU pid {Pid})", clock.ElapsedMilliseconds, keep.ProcessId);
                }

                return keep;
            }

            KeepExit exit = await keep.Exit.ConfigureAwait(false);
            if (exit.ExitStatus is null)
            {
                // QEMU itself failed before the guest spoke: worth another attempt.
                await keep.DisposeAsync().ConfigureAwait(false);
                throw new QemuStartException($"QEMU ended before the guest booted: {exit.Reason}");
            }

            // The shim refused to start (bad image, bad block...): its message is on stderr, its status in the exit.
            return keep;
        }
        catch (OperationCanceledException)
        {
            await keep.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The block's slots: one per thread the workload may have (the configuration page's max threads), at most
    /// <see cref="VmLayout.MaxSlots"/>; the shim refuses a thread beyond them with <c>EAGAIN</c>.
    /// </summary>
    internal static int SlotCount(KeepImage image) =>
        Math.Min(SharedBlock.ReadMaxThreads(image.Configuration.Span), VmLayout.MaxSlots);

    /// <summary>
    /// The guest RAM: the shim's fixed area, the block (one slot per thread) up to the blob, the blob, then room for
    /// everything the workload may have mapped at once (its image, its stack, the memory limit), the page tables for
    /// it (1/512), each thread's kernel area, and 16 MiB for the shim's own tables. The file is sparse: only the pages
    /// the guest touches cost host memory.
    /// </summary>
    internal static ulong RamSize(KeepImage image, ulong blobSize)
    {
        int slots = SlotCount(image);
        ulong mapped = image.Layout.HeapMaxSize + image.Stack.Size;
        foreach (SegmentMapping segment in image.Segments)
        {
            mapped += segment.Size;
        }

        ulong size = VmLayout.BlobAddress(slots) + AlignUp(blobSize, TwoMebibytes) + mapped + (mapped / 512) +
            ((ulong)slots * VmLayout.ThreadMemorySize) + (16 * Mebibyte);
        size = Math.Max(AlignUp(size, TwoMebibytes), VmLayout.MinMemorySize);
        if (size > VmLayout.MaxMemorySize)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"the keep would need {size >> 30} GiB of guest RAM, more than the {VmLayout.MaxMemorySize >> 30} GiB the VM keep maps; lower limits.memorySize in plugins.json"));
        }

        return size;
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    /// <summary>The first failed check without failed children, as "name: detail".</summary>
    private static string FirstFailure(Probe root)
    {
        Probe? failed = root.Children.FirstOrDefault(c => c.Outcome == ProbeOutcome.Failed);
        return failed is null ? $"{root.Name}: {root.Detail}" : FirstFailure(failed);
    }

    private static Probe ProbeArchitecture() =>
        RuntimeInformation.OSArchitecture == Architecture.X64
            ? Probe.Pass("architecture", "x86-64")
            : Probe.Fail("architecture", $"{RuntimeInformation.OSArchitecture}", "Run Donjon on an x86-64 Linux machine; keeps run x86-64 programs.");

    private static Probe ProbeRamFile()
    {
        const string Name = "guest RAM file";
        int fd = Libc.MemfdCreate("donjon-vm-probe", 1);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return Probe.Fail(Name, $"memfd_create failed (errno {errno})", "Use Linux 3.17 or later; inside a container, allow memfd_create.");
        }

        Libc.Close(fd);
        return Probe.Pass(Name, "memfd_create works: the guest RAM is tmpfs memory with no name, shared with QEMU by descriptor (nothing to clean up in /dev/shm)");
    }

    private Probe ProbeShim() => ShimNote.Check(_shimPath, ProtocolLayout.VersionMajor, ProtocolLayout.VersionMinor);

    private Probe ProbeExec()
    {
        const string Name = "launcher";
        return File.Exists(_execPath)
            ? Probe.Pass(Name, $"{_execPath} starts QEMU with a parent-death signal, so QEMU never outlives Donjon")
            : Probe.Fail(Name, $"{_execPath} is missing", "Build the plugin ('dotnet build' at the repository root builds it with gcc and binutils).");
    }
}
