using System.Buffers.Binary;

namespace Donjon.Backends.Sdk.Measurement;

/// <summary>
/// The VM save area (VMSA) of a VM keep's boot vCPU under SEV-SNP: its initial register state, in the layout of the
/// AMD64 APM vol. 2, table B-4 ("VMSA layout, state save area"). Measured as the SEV-SNP VMSA page.
/// </summary>
/// <remarks>
/// The boot vCPU starts in 32-bit protected mode with paging off, as a PVH entry does: flat 4 GiB code and data
/// segments, <c>EIP</c> at the shim's entry (a guest-physical address), <c>EBX</c> at the layout page. Everything
/// else has its reset value, plus what KVM sets for an SEV-ES/SNP guest (EFER.SVME, CR4.MCE) and SEV_FEATURES.SNPActive.
/// Host-independent: also compiled into the <c>sev</c> backend.
/// </remarks>
public static class SnpVmsa
{
    /// <summary>The GPA a VMSA page is measured at: the firmware records it at GPA −1, page-aligned, bits above 51 clear.</summary>
    public const ulong Gpa = 0xFFFF_FFFF_F000;

    /// <summary>SEV_FEATURES of the guest: bit 0, SNPActive.</summary>
    public const ulong SevFeatures = 0x1;

    /// <summary>Segment attributes (VMCB format) of a flat 32-bit code segment: present, DPL 0, execute/read, accessed, D, G.</summary>
    public const ushort CodeAttributes = 0xC9B;

    /// <summary>Segment attributes of a flat 32-bit data segment: present, DPL 0, read/write, accessed, B, G.</summary>
    public const ushort DataAttributes = 0xC93;

    /// <summary>The code segment selector at entry.</summary>
    public const ushort CodeSelector = 0x08;

    /// <summary>The data segment selector at entry.</summary>
    public const ushort DataSelector = 0x10;

    /// <summary>Builds the boot vCPU's VMSA page.</summary>
    /// <param name="entry">The guest-physical address of the shim's entry point (EIP).</param>
    /// <param name="layoutPage">The guest-physical address of the layout page, passed in EBX.</param>
    /// <returns>The page's 4096 bytes.</returns>
    public static byte[] BootVcpu(ulong entry, ulong layoutPage)
    {
        byte[] page = new byte[KeepPageWalker.PageSize];
        Span<byte> vmsa = page;

        // Segment registers: {u16 selector, u16 attributes, u32 limit, u64 base}, 16 bytes each.
        Segment(vmsa, 0x00, DataSelector, DataAttributes, uint.MaxValue); // ES
        Segment(vmsa, 0x10, CodeSelector, CodeAttributes, uint.MaxValue); // CS
        Segment(vmsa, 0x20, DataSelector, DataAttributes, uint.MaxValue); // SS
        Segment(vmsa, 0x30, DataSelector, DataAttributes, uint.MaxValue); // DS
        Segment(vmsa, 0x40, DataSelector, DataAttributes, uint.MaxValue); // FS
        Segment(vmsa, 0x50, DataSelector, DataAttributes, uint.MaxValue); // GS
        Segment(vmsa, 0x60, 0, 0, 0xFFFF);                                // GDTR: the shim loads its own
        Segment(vmsa, 0x70, 0, 0x82, 0xFFFF);                             // LDTR: LDT, present
        Segment(vmsa, 0x80, 0, 0, 0xFFFF);                                // IDTR: the shim loads its own
        Segment(vmsa, 0x90, 0, 0x8B, 0xFFFF);                             // TR: busy 32-bit TSS, present

        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0xD0..], 0x1000);              // EFER: SVME (required for SEV-ES/SNP guests)
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x148..], 0x40);               // CR4: MCE
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x158..], 0x11);               // CR0: PE | ET, paging off
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x160..], 0x400);              // DR7
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x168..], 0xFFFF_0FF0);        // DR6
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x170..], 0x2);                // RFLAGS
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x178..], entry);              // RIP
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x268..], 0x0007_0406_0007_0406); // G_PAT: the reset PAT
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x318..], layoutPage);         // RBX
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x3B0..], SevFeatures);        // SEV_FEATURES
        BinaryPrimitives.WriteUInt64LittleEndian(vmsa[0x3E8..], 0x1);                // XCR0: x87
        BinaryPrimitives.WriteUInt32LittleEndian(vmsa[0x408..], 0x1F80);             // MXCSR: reset value
        BinaryPrimitives.WriteUInt16LittleEndian(vmsa[0x410..], 0x037F);             // x87 FCW: reset value
        return page;
    }

    private static void Segment(Span<byte> vmsa, int offset, ushort selector, ushort attributes, uint limit)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(vmsa[offset..], selector);
        BinaryPrimitives.WriteUInt16LittleEndian(vmsa[(offset + 2)..], attributes);
        BinaryPrimitives.WriteUInt32LittleEndian(vmsa[(offset + 4)..], limit);
    }
}
