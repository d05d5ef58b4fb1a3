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

    /// <summary>The size of each slot of the shared block (1 MiB + 4 KiB); the block is the slot count times this.</summary>
    public const int SlotSize = 0x101000;

    /// <summary>The most slots (so threads) a VM keep's block has: the blob must stay below 1 GiB.</summary>
    public const int MaxSlots = 512;

    /// <summary>The keep image blob starts at the first multiple of this (2 MiB) after the block.</summary>
    public const ulong BlobAlignment = 0x200000;

    /// <summary>Guest RAM the host adds per slot: a thread's kernel stack, record, XSAVE area and scratch.</summary>
    public const ulong ThreadMemorySize = 0x31000;

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

    /// <summary>The shared block's size for <paramref name="slotCount"/> slots (1 to <see cref="MaxSlots"/>).</summary>
    public static int BlockSize(int slotCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotCount, MaxSlots);
        return SlotSize * slotCount;
    }

    /// <summary>Guest-physical address of the keep image blob after a block of <paramref name="slotCount"/> slots, as
    /// the shim computes it from slot 0's header (setup.c): the next <see cref="BlobAlignment"/> boundary.</summary>
    public static ulong BlobAddress(int slotCount) =>
        (BlockAddress + (ulong)BlockSize(slotCount) + BlobAlignment - 1) & ~(BlobAlignment - 1);
}
