using System.Globalization;
using Donjon.Backends.Sdk.Spawning;
using Donjon.Backends.Vm.Interop;

namespace Donjon.Backends.Vm;

/// <summary>
/// QEMU's command line for a keep, and its start through <c>donjon-vm-exec</c> (asm/vm/exec), which gives it a
/// parent-death signal before it becomes QEMU. QEMU gets exactly these descriptors: 0 and 1 on /dev/null, 2 a pipe
/// the host reads (QEMU's own messages), 3 the guest RAM file, 4 the host's peer of COM1 (the console), 5 the host's
/// peer of COM2 (the doorbell line). Nothing in the file system is created: QEMU opens the RAM as
/// <c>/proc/self/fd/3</c> and takes the serial lines as connected sockets (<c>-chardev socket,fd=N</c>). Its end is
/// the SDK's <see cref="ProcessGroup"/>.
/// </summary>
internal static class QemuLauncher
{
    /// <summary>QEMU's descriptor for the guest RAM file.</summary>
    public const int RamDescriptor = 3;

    /// <summary>QEMU's descriptor for COM1.</summary>
    public const int ConsoleDescriptor = 4;

    /// <summary>QEMU's descriptor for COM2.</summary>
    public const int DoorbellDescriptor = 5;

    /// <summary>The arguments after QEMU's path.</summary>
    /// <param name="shimPath">donjon-vm-shim, the guest kernel.</param>
    /// <param name="ramSize">The guest RAM size in bytes, a whole number of MiB.</param>
    /// <param name="accelerator">kvm (with the host's CPU model) or tcg (with QEMU's "max" model).</param>
    /// <param name="sandbox">Whether to run QEMU under its seccomp sandbox.</param>
    public static IReadOnlyList<string> Arguments(string shimPath, ulong ramSize, Accelerator accelerator, bool sandbox)
    {
        string mebibytes = (ramSize >> 20).ToString(CultureInfo.InvariantCulture) + "M";
        string ram = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{RamDescriptor}");
        return
        [
            "-name", "donjon-keep",
            // No firmware tables, option ROMs, timer or clock devices: the shim needs none, and each costs start-up
            // time or wake-ups. The i8259 PIC delivers COM2's interrupt.
            "-machine", "microvm,x-option-roms=off,pit=off,pic=on,rtc=off,acpi=off,isa-serial=on,memory-backend=djram",
            "-accel", accelerator == Accelerator.Kvm ? "kvm" : "tcg",
            "-cpu", accelerator == Accelerator.Kvm ? "host" : "max",
            // One vCPU. Under tcg, a second possible (never present) one makes QEMU translate the guest's locked
            // instructions and fences into real host atomics and barriers (CF_PARALLEL); with a single possible vCPU it
            // drops them, and the doorbell's store-then-load handshake with the host (docs/vm.md) would lose wake-ups.
            "-smp", accelerator == Accelerator.Kvm ? "1" : "1,maxcpus=2",
            "-m", mebibytes,
            "-object", $"memory-backend-file,id=djram,size={mebibytes},mem-path={ram},share=on",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            .. (sandbox ? (string[])["-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"] : []),
            "-msg", "timestamp=off",
            "-kernel", shimPath,
            "-chardev", string.Create(CultureInfo.InvariantCulture, $"socket,id=djconsole,fd={ConsoleDescriptor}"),
            "-serial", "chardev:djconsole",
            "-chardev", string.Create(CultureInfo.InvariantCulture, $"socket,id=djdoorbell,fd={DoorbellDescriptor}"),
            "-device", string.Create(CultureInfo.InvariantCulture, $"isa-serial,chardev=djdoorbell,iobase=0x{VmLayout.DoorbellPort:x},irq={VmLayout.DoorbellIrq}"),
            "-device", string.Create(CultureInfo.InvariantCulture, $"isa-debug-exit,iobase=0x{VmLayout.ExitPort:x},iosize=2"),
        ];
    }

    /// <summary>
    /// Spawns <paramref name="execPath"/> (donjon-vm-exec), which execs QEMU, through the SDK's
    /// <see cref="DescriptorSpawner"/> (0 and 1 on /dev/null, a session of its own, every signal at its default); the
    /// calling thread becomes the parent whose end kills QEMU (<c>PR_SET_PDEATHSIG</c>).
    /// </summary>
    /// <returns>The pid of the process that becomes QEMU.</returns>
    public static int Spawn(string execPath, string qemuPath, IReadOnlyList<string> arguments, int ram, int console, int doorbell, int stderr) =>
        DescriptorSpawner.Spawn(
            execPath,
            [execPath, Libc.Getpid().ToString(CultureInfo.InvariantCulture), qemuPath, .. arguments],
            [],
            new Dictionary<int, int> { [2] = stderr, [RamDescriptor] = ram, [ConsoleDescriptor] = console, [DoorbellDescriptor] = doorbell });
}
