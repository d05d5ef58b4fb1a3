namespace Donjon.Backends.Vm;

/// <summary>
/// The guest-physical layout, I/O ports and exit encoding of the VM keep: the values of the <c>DJ_VM_*</c> constants
/// in <c>asm/vm/vm.h</c>, the one source the guest kernel builds from (<c>VmLayoutTests</c> keeps the two equal).
/// <c>docs/vm.md</c> explains each.
/// </summary>
internal static class VmLayout
{
    /// <summary>Guest-physical address where QEMU loads the shim (1 MiB).</summary>
    public const ulong KernelAddress = 0x100000;

    /// <summary>The shim's image ends below this guest-physical address (16 MiB).</summary>
    public const ulong KernelLimit = 0x1000000;

    /// <summary>Guest-physical address of the shared block: also its offset in the guest RAM file.</summary>
    public const ulong BlockAddress = 0x1000000;

    /// <summary>The shared block's size: one slot of 2 MiB + 4 KiB.</summary>
    public const int BlockSize = 0x201000;

    /// <summary>Guest-physical address of the keep image blob, written into the RAM file before boot.</summary>
    public const ulong BlobAddress = 0x1400000;

    /// <summary>The least guest RAM the shim accepts.</summary>
    public const ulong MinMemorySize = 0x4000000;

    /// <summary>The most guest RAM the shim maps.</summary>
    public const ulong MaxMemorySize = 0x8000000000;

    /// <summary>COM1: boot and fatal messages, one line each.</summary>
    public const int ConsolePort = 0x3F8;

    /// <summary>COM2: the doorbell line.</summary>
    public const int DoorbellPort = 0x2F8;

    /// <summary>COM2's ISA interrupt line.</summary>
    public const int DoorbellIrq = 3;

    /// <summary>The isa-debug-exit port: writing v makes QEMU exit with status (v &lt;&lt; 1) | 1.</summary>
    public const int ExitPort = 0x501;

    /// <summary>The guest writes status + 1, so QEMU's own failure (1) is never a shim status.</summary>
    public const int ExitValueOffset = 1;

    /// <summary>The largest value the guest writes; every status from 126 up is written as this one.</summary>
    public const int ExitValueMax = 127;

    /// <summary>Shim status: the shim itself faulted or found the boot information unusable.</summary>
    public const int ExitInternalError = 125;
}
