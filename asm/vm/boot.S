/*
 * asm/vm/boot.S -- from QEMU's PVH entry to the shim's C: long mode, upper half, a stack.
 *
 * Entry points
 *   dj_pvh_start   QEMU (qboot) jumps here, as the Xen PVH note below names it
 *   dj_start64     the first upper-half instruction
 *
 * Flow
 *   dj_pvh_start (32-bit protected mode, paging off, physical addresses)
 *     CPUID: long mode is required                        else "no long mode" on COM1, exit 125
 *     boot page tables: one page directory of 2 MiB pages mapping physical 0-1 GiB, entered twice: at virtual
 *       0 (identity, for this code) and at DJ_VM_KERNEL_VIRTUAL_OFFSET (the shim's upper-half image)
 *     CR4.PAE, CR3, EFER.LME, CR0.PG: long mode (compatibility); lgdt the boot GDT; far return into 64-bit code
 *   .Lboot64 (64-bit, identity): data segments, then jump to the upper half
 *   dj_start64 (64-bit, upper half): the kernel stack, zero .bss, dj_vm_main(start info) (setup.c), which
 *     builds the final page tables and never returns
 *
 * Labels: .L<function>_<what>; boot-only data in .boot.bss is named dj_boot_*.
 *
 * Untrusted inputs: ebx, the guest-physical address of the PVH start info (written by QEMU/qboot, that is, the
 *   host); it is only passed on, setup.c checks what it points to.
 *
 * Register contract
 *   dj_pvh_start: in: ebx = start info (struct hvm_start_info, physical), CS/DS/ES/SS flat 32-bit, paging off,
 *     interrupts off. Nothing else is relied on (no stack). Never returns.
 *   dj_start64: in: r12d = start info. Boot page tables active; the identity map still holds the low 1 GiB.
 *     Never returns.
 */
#include "asm.h"
#include "vm.h"

/* The PVH entry point, read by QEMU's ELF loader: name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY (18), a 64-bit
   descriptor (QEMU reads 8 bytes for an ELF64 file) holding the 32-bit physical address of the entry. */
    .section .note.Xen, "a", @note
    .balign 4
    .long   4
    .long   8
    .long   18
    .asciz  "Xen"
    .balign 4
    .quad   dj_pvh_start

/* Values vm.ld asserts against its own constants. */
    .globl  dj_vm_kernel_offset_check, dj_vm_kernel_address_check, dj_vm_kernel_limit_check
    .set    dj_vm_kernel_offset_check, DJ_VM_KERNEL_VIRTUAL_OFFSET
    .set    dj_vm_kernel_address_check, DJ_VM_KERNEL_ADDRESS
    .set    dj_vm_kernel_limit_check, DJ_VM_KERNEL_LIMIT

#define BOOT_PAGE_PRESENT_WRITE 0x3
#define BOOT_PAGE_LARGE         0x83        /* present, write, 2 MiB */

    .section .boot.bss, "aw", @nobits
    .balign 4096
dj_boot_pml4:       .skip 4096
dj_boot_pdpt_low:   .skip 4096
dj_boot_pdpt_high:  .skip 4096
dj_boot_pd:         .skip 4096
dj_boot_stack:      .skip 1024
dj_boot_stack_top:

    .section .boot.text, "ax", @progbits
    .code32
    .globl  dj_pvh_start
    .type   dj_pvh_start, @function
dj_pvh_start:
    cli
    cld
    mov     esp, offset dj_boot_stack_top
    mov     ebp, ebx                        /* ebp = start info (cpuid clobbers ebx) */

    mov     eax, 0x80000000
    cpuid
    cmp     eax, 0x80000001
    jb      .Ldj_pvh_start_no_long_mode
    mov     eax, 0x80000001
    cpuid
    bt      edx, 29                         /* LM */
    jnc     .Ldj_pvh_start_no_long_mode

    /* The boot page tables. .boot.bss is not loaded: zero it first. */
    mov     edi, offset dj_boot_pml4
    mov     ecx, 4 * 4096 / 4
    xor     eax, eax
    rep stosd
    mov     dword ptr [dj_boot_pml4], offset dj_boot_pdpt_low + BOOT_PAGE_PRESENT_WRITE
    mov     dword ptr [dj_boot_pml4 + 8 * DJ_VM_KERNEL_PML4_INDEX], offset dj_boot_pdpt_high + BOOT_PAGE_PRESENT_WRITE
    mov     dword ptr [dj_boot_pdpt_low], offset dj_boot_pd + BOOT_PAGE_PRESENT_WRITE
    mov     dword ptr [dj_boot_pdpt_high + 8 * DJ_VM_KERNEL_PDPT_INDEX], offset dj_boot_pd + BOOT_PAGE_PRESENT_WRITE
    mov     edi, offset dj_boot_pd
    mov     eax, BOOT_PAGE_LARGE
    mov     ecx, 512
.Ldj_pvh_start_pd:
    mov     dword ptr [edi], eax
    add     eax, 0x200000
    add     edi, 8
    loop    .Ldj_pvh_start_pd

    mov     eax, DJ_CR4_PAE
    mov     cr4, eax
    mov     eax, offset dj_boot_pml4
    mov     cr3, eax
    mov     ecx, DJ_MSR_EFER
    rdmsr
    or      eax, DJ_EFER_LME
    wrmsr
    mov     eax, DJ_CR0_PG | DJ_CR0_WP | DJ_CR0_NE | DJ_CR0_MP | DJ_CR0_PE
    mov     cr0, eax

    lgdt    [dj_boot_gdtr]
    push    DJ_VM_KERNEL_CS
    push    offset .Lboot64
    retf

.Ldj_pvh_start_no_long_mode:
    mov     esi, offset .Lmsg_no_long_mode
    mov     dx, DJ_VM_CONSOLE_PORT
.Ldj_pvh_start_print:
    lodsb
    test    al, al
    jz      .Ldj_pvh_start_exit
    out     dx, al
    jmp     .Ldj_pvh_start_print
.Ldj_pvh_start_exit:
    mov     dx, DJ_VM_EXIT_PORT
    mov     al, DJ_VM_EXIT_INTERNAL_ERROR + DJ_VM_EXIT_VALUE_OFFSET
    out     dx, al
.Ldj_pvh_start_halt:
    hlt
    jmp     .Ldj_pvh_start_halt

    .code64
.Lboot64:
    mov     eax, DJ_VM_KERNEL_DS
    mov     ds, eax
    mov     es, eax
    mov     ss, eax
    xor     eax, eax
    mov     fs, eax
    mov     gs, eax
    mov     r12d, ebp                       /* r12 = start info */
    movabs  rax, offset dj_start64
    jmp     rax

    .balign 8
dj_boot_gdt:
    .quad   0                               /* null */
    .quad   0x00AF9A000000FFFF              /* 0x08: 64-bit code, DPL 0 */
    .quad   0x00CF92000000FFFF              /* 0x10: data, DPL 0 */
dj_boot_gdt_end:
dj_boot_gdtr:
    .short  dj_boot_gdt_end - dj_boot_gdt - 1
    .long   dj_boot_gdt
.Lmsg_no_long_mode:
    .asciz  "donjon-vm: the virtual CPU has no long mode (x86-64); QEMU must be given a 64-bit -cpu model\n"
    .size   dj_pvh_start, . - dj_pvh_start

/* The upper half from here on. */
FUNC(dj_start64)
    lea     rsp, [rip + dj_kernel_stack_top]
    lea     rdi, [rip + __bss_start]
    lea     rcx, [rip + __bss_end]
    sub     rcx, rdi
    xor     eax, eax
    rep stosb                               /* the stack is in .bss too: nothing is on it yet */
    mov     edi, r12d
    call    dj_vm_main
    ud2
END(dj_start64)

/* The kernel stack, with the page below it left unmapped by paging.c so that an overflow faults (#DF, on the
   critical stack) instead of running into the rest of .bss. vm.ld places this section first in .bss. */
    .section .bss.dj_stacks, "aw", @nobits
    .balign 4096
DATA(__kernel_stack_guard)
    .skip   4096
DATA(dj_kernel_stack)
    .skip   DJ_VM_KERNEL_STACK_SIZE
DATA(dj_kernel_stack_top)
DATA(dj_critical_stack)
    .skip   DJ_VM_CRITICAL_STACK_SIZE
DATA(dj_critical_stack_top)
