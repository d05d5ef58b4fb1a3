/*
 * bench/smp/mttcg.S -- a bare guest that measures whether QEMU's TCG runs vCPUs in parallel on this machine
 * (docs/vm.md, "Why one vCPU"). Not part of any keep; bench/smp/run builds and times it.
 *
 * Entry points
 *   mt_pvh_start   the bootstrap processor, from QEMU's PVH entry (named by the Xen note below)
 *   mt_ap_start    every other vCPU, from the startup IPI: the real-mode trampoline copied to MT_TRAMPOLINE
 *
 * Flow
 *   mt_pvh_start (32-bit protected mode, paging off): own GDT; if WORKERS > 1: copy the trampoline to
 *     MT_TRAMPOLINE, software-enable the local APIC, INIT then two STARTUP IPIs to all excluding self; then
 *     .Lmt_work
 *   mt_ap_start (16-bit real mode, CS = MT_TRAMPOLINE >> 4): lgdt, CR0.PE, far jump to .Lmt_ap32, which
 *     takes a worker number and, if it is below WORKERS, .Lmt_work; else halts
 *   .Lmt_work: ITERATIONS rounds of an LCG step xor-ed into the worker's own cache line; then the done count;
 *     the last worker writes isa-debug-exit (QEMU exits 1), the others halt with interrupts off
 *
 * Labels: mt_* global, .Lmt_<what> local.
 *
 * Register contract: mt_pvh_start: flat 32-bit CS/DS/ES/SS, paging and interrupts off, ebx = PVH start info
 *   (ignored). mt_ap_start: real mode, CS:IP = MT_TRAMPOLINE:0. Nothing else is relied on; no stack is used.
 *
 * Untrusted inputs: none (nothing is read from the host; WORKERS and ITERATIONS are assembly-time constants).
 */
    .intel_syntax noprefix

#ifndef WORKERS
#define WORKERS 2
#endif
#ifndef ITERATIONS
#define ITERATIONS 200000000
#endif
#define MT_TRAMPOLINE   0x8000
#define MT_APIC         0xFEE00000
#define MT_APIC_SVR     0xF0
#define MT_APIC_ICR_LOW 0x300
#define MT_EXIT_PORT    0xF4

    .section .note.Xen, "a", @note
    .balign 4
    .long   4
    .long   8
    .long   18
    .asciz  "Xen"
    .balign 4
    .quad   mt_pvh_start

    .data
    .balign 4096                            /* not on a code page: TCG would retranslate after every store */
mt_gdt:
    .quad   0
    .quad   0x00CF9A000000FFFF              /* 0x08: flat 32-bit code */
    .quad   0x00CF92000000FFFF              /* 0x10: flat 32-bit data */
mt_gdt_end:
mt_gdt_descriptor:
    .short  mt_gdt_end - mt_gdt - 1
    .long   mt_gdt
mt_next_worker: .long 1                     /* the BSP is worker 0 */
mt_done:        .long 0
    .balign 64
mt_lines:       .skip 64 * 16               /* one cache line per worker */

    .text
    .code32
    .globl  mt_pvh_start
mt_pvh_start:
    cli
    lgdt    [mt_gdt_descriptor]
    ljmp    0x08, offset .Lmt_bsp32
.Lmt_bsp32:
    mov     ax, 0x10
    mov     ds, ax
    mov     es, ax
    mov     ss, ax
    mov     edi, offset mt_lines
.if WORKERS > 1
    mov     esi, offset mt_ap_start
    mov     edx, MT_TRAMPOLINE
    mov     ecx, offset mt_ap_end - mt_ap_start
.Lmt_copy:
    mov     al, [esi]
    mov     [edx], al
    inc     esi
    inc     edx
    dec     ecx
    jnz     .Lmt_copy
    mov     dword ptr [MT_APIC + MT_APIC_SVR], 0x1FF
    mov     dword ptr [MT_APIC + MT_APIC_ICR_LOW], 0x000C4500               /* INIT, all excluding self */
    mov     ecx, 1000000                                                    /* a short settle, in loop rounds */
.Lmt_settle:
    dec     ecx
    jnz     .Lmt_settle
    mov     dword ptr [MT_APIC + MT_APIC_ICR_LOW], 0x000C4600 | (MT_TRAMPOLINE >> 12)    /* STARTUP */
    mov     dword ptr [MT_APIC + MT_APIC_ICR_LOW], 0x000C4600 | (MT_TRAMPOLINE >> 12)
.endif
    jmp     .Lmt_work

.Lmt_ap32:
    mov     ax, 0x10
    mov     ds, ax
    mov     es, ax
    mov     ss, ax
    mov     eax, 1
    lock xadd [mt_next_worker], eax
    cmp     eax, WORKERS
    jae     .Lmt_halt                       /* a second STARTUP, or more vCPUs than workers */
    shl     eax, 6
    lea     edi, [mt_lines + eax]

/* in: edi = this worker's cache line */
.Lmt_work:
    mov     ecx, ITERATIONS
    mov     eax, 1
.Lmt_round:
    imul    eax, eax, 1103515245
    add     eax, 12345
    xor     [edi], eax
    dec     ecx
    jnz     .Lmt_round
    mov     eax, 1
    lock xadd [mt_done], eax
    cmp     eax, WORKERS - 1
    jne     .Lmt_halt
    mov     dx, MT_EXIT_PORT
    xor     eax, eax
    out     dx, eax
.Lmt_halt:
    cli
    hlt
    jmp     .Lmt_halt

/* The trampoline: position-independent 16-bit code, run at MT_TRAMPOLINE. A second STARTUP that finds the vCPU
   already running is ignored by the processor; one that arrives after the first has run restarts nothing. */
    .code16
mt_ap_start:
    cli
    xor     ax, ax
    mov     ds, ax
    lgdt    [MT_TRAMPOLINE + (.Lmt_ap_descriptor - mt_ap_start)]
    mov     eax, cr0
    or      eax, 1
    mov     cr0, eax
    .byte   0x66, 0xEA                      /* ljmpl 0x08:.Lmt_ap32 */
    .long   .Lmt_ap32
    .short  0x08
.Lmt_ap_descriptor:
    .short  mt_gdt_end - mt_gdt - 1
    .long   mt_gdt
mt_ap_end:
