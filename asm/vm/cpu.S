/*
 * asm/vm/cpu.S -- the privileged instructions the shim's C needs, each as a tiny function, and the shim's ways
 * to speak on COM1 and to end.
 *
 * Entry points (System V calls from setup.c, paging.c, faults.c, random.c, memory.c, marshal.c)
 *   dj_outb(port, value)  dj_inb(port) -> value
 *   dj_rdmsr(msr) -> value  dj_wrmsr(msr, value)
 *   dj_read_cr0/2/3/4() -> value  dj_write_cr0/3/4(value)  dj_invlpg(address)
 *   dj_xsetbv(index, value)  dj_cpuid(leaf, subleaf, out[4])  dj_fpu_reset()
 *   dj_load_descriptors(gdtr, idtr, tss_selector)
 *   dj_rdrand64(&value) -> 1/0  dj_rdseed64(&value) -> 1/0
 *   dj_console_write(text, length)       polled COM1 output
 *   dj_fatal(status, message)            "donjon-vm: <message>" on COM1, then dj_vm_exit(status)
 *   dj_vm_exit(status)                   isa-debug-exit: QEMU exits with ((min(status + 1, 127)) << 1) | 1
 *
 * Flow: none of its own; each routine is one step.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: none (the callers' values are the shim's own).
 *
 * Register contract: System V; in rdi, rsi, rdx; out rax. Each clobbers at most rax, rcx, rdx, rsi, rdi, r8,
 *   r11 and flags. No vector registers.
 */
#include "asm.h"
#include "vm.h"

FUNC(dj_outb)
    mov     edx, edi
    mov     eax, esi
    out     dx, al
    ret
END(dj_outb)

FUNC(dj_inb)
    mov     edx, edi
    xor     eax, eax
    in      al, dx
    ret
END(dj_inb)

FUNC(dj_rdmsr)
    mov     ecx, edi
    rdmsr
    shl     rdx, 32
    or      rax, rdx
    ret
END(dj_rdmsr)

FUNC(dj_wrmsr)
    mov     ecx, edi
    mov     eax, esi
    mov     rdx, rsi
    shr     rdx, 32
    wrmsr
    ret
END(dj_wrmsr)

FUNC(dj_read_cr0)
    mov     rax, cr0
    ret
END(dj_read_cr0)

FUNC(dj_write_cr0)
    mov     cr0, rdi
    ret
END(dj_write_cr0)

FUNC(dj_read_cr2)
    mov     rax, cr2
    ret
END(dj_read_cr2)

FUNC(dj_read_cr3)
    mov     rax, cr3
    ret
END(dj_read_cr3)

FUNC(dj_write_cr3)
    mov     cr3, rdi
    ret
END(dj_write_cr3)

FUNC(dj_read_cr4)
    mov     rax, cr4
    ret
END(dj_read_cr4)

FUNC(dj_write_cr4)
    mov     cr4, rdi
    ret
END(dj_write_cr4)

FUNC(dj_invlpg)
    invlpg  [rdi]
    ret
END(dj_invlpg)

/* dj_xsetbv: edi = XCR index, rsi = value. Needs CR4.OSXSAVE. */
FUNC(dj_xsetbv)
    mov     ecx, edi
    mov     eax, esi
    mov     rdx, rsi
    shr     rdx, 32
    xsetbv
    ret
END(dj_xsetbv)

/* dj_cpuid: edi = leaf, esi = subleaf, rdx = uint32_t out[4] (eax, ebx, ecx, edx). Preserves rbx. */
FUNC(dj_cpuid)
    push    rbx
    mov     r8, rdx
    mov     eax, edi
    mov     ecx, esi
    cpuid
    mov     [r8], eax
    mov     [r8 + 4], ebx
    mov     [r8 + 8], ecx
    mov     [r8 + 12], edx
    pop     rbx
    ret
END(dj_cpuid)

/* dj_fpu_reset: the x87 and SSE state a Linux process starts with (FCW 0x37F, MXCSR 0x1F80). The shim never
   touches them again: its C is -mgeneral-regs-only and its assembly uses no vector register. */
FUNC(dj_fpu_reset)
    fninit
    sub     rsp, 8
    mov     dword ptr [rsp], 0x1F80
    ldmxcsr [rsp]
    add     rsp, 8
    ret
END(dj_fpu_reset)

/* dj_fpu_save: rdi = a 64-byte aligned area, rsi = the XCR0 components (0: no XSAVE, FXSAVE instead). Saves
   the workload's FPU state, which the shim never touches, in the signal-frame format's first part. */
FUNC(dj_fpu_save)
    test    rsi, rsi
    jz      .Ldj_fpu_save_legacy
    mov     eax, esi
    mov     rdx, rsi
    shr     rdx, 32
    xsave64 [rdi]
    ret
.Ldj_fpu_save_legacy:
    fxsave64 [rdi]
    ret
END(dj_fpu_save)

/* dj_fpu_load: rdi = a 64-byte aligned image the caller checked (dj_vm_fpstate_acceptable), rsi = components
   as for dj_fpu_save. */
FUNC(dj_fpu_load)
    test    rsi, rsi
    jz      .Ldj_fpu_load_legacy
    mov     eax, esi
    mov     rdx, rsi
    shr     rdx, 32
    xrstor64 [rdi]
    ret
.Ldj_fpu_load_legacy:
    fxrstor64 [rdi]
    ret
END(dj_fpu_load)

/* dj_load_descriptors: rdi = GDTR (10 bytes), rsi = IDTR, dx = TSS selector. Reloads every segment register
   from the new GDT: CS through a far return, SS/DS/ES with the kernel data selector, FS/GS null (their bases
   are MSRs). */
FUNC(dj_load_descriptors)
    lgdt    [rdi]
    lidt    [rsi]
    ltr     dx
    mov     eax, DJ_VM_KERNEL_DS
    mov     ss, eax
    mov     ds, eax
    mov     es, eax
    xor     eax, eax
    mov     fs, eax
    mov     gs, eax
    pop     rax                             /* return address */
    push    DJ_VM_KERNEL_CS
    push    rax
    retfq
END(dj_load_descriptors)

/* dj_rdrand64 / dj_rdseed64: rdi = where to store. Out: eax = 1 with a value, 0 when the CPU had none (CF = 0). */
FUNC(dj_rdrand64)
    xor     eax, eax
    rdrand  rcx
    setc    al
    mov     [rdi], rcx
    ret
END(dj_rdrand64)

FUNC(dj_rdseed64)
    xor     eax, eax
    rdseed  rcx
    setc    al
    mov     [rdi], rcx
    ret
END(dj_rdseed64)

/* dj_console_write: rdi = text, rsi = length. Polls the line status register's "transmit holding register
   empty" bit before each byte. */
FUNC(dj_console_write)
    mov     r8, rdi
    lea     r11, [rdi + rsi]
.Ldj_console_write_byte:
    cmp     r8, r11
    jae     .Ldj_console_write_done
.Ldj_console_write_wait:
    mov     edx, DJ_VM_CONSOLE_PORT + 5     /* LSR */
    in      al, dx
    test    al, 0x20                        /* THRE */
    jz      .Ldj_console_write_wait
    mov     edx, DJ_VM_CONSOLE_PORT
    mov     al, byte ptr [r8]
    out     dx, al
    inc     r8
    jmp     .Ldj_console_write_byte
.Ldj_console_write_done:
    ret
END(dj_console_write)

/* dj_vm_exit: edi = status. Writes min(status + 1, 127) to isa-debug-exit, which ends QEMU at once. */
FUNC(dj_vm_exit)
    cli
    lea     eax, [rdi + DJ_VM_EXIT_VALUE_OFFSET]
    cmp     edi, DJ_VM_EXIT_VALUE_MAX - DJ_VM_EXIT_VALUE_OFFSET
    jbe     .Ldj_vm_exit_write
    mov     eax, DJ_VM_EXIT_VALUE_MAX
.Ldj_vm_exit_write:
    mov     edx, DJ_VM_EXIT_PORT
    out     dx, al
.Ldj_vm_exit_halt:
    hlt                                     /* not reached under QEMU */
    jmp     .Ldj_vm_exit_halt
END(dj_vm_exit)

/* dj_fatal: edi = status, rsi = NUL-terminated message. "donjon-vm: <message>\n" on COM1, then dj_vm_exit. The
   host relays COM1's lines to its stderr. Any stack alignment; never returns. */
FUNC(dj_fatal)
    cli
    and     rsp, -16
    mov     ebx, edi
    mov     r12, rsi
    lea     rdi, [rip + .Ldj_fatal_prefix]
    mov     esi, .Ldj_fatal_prefix_end - .Ldj_fatal_prefix
    call    dj_console_write
    mov     rdi, r12
    xor     esi, esi
.Ldj_fatal_length:
    cmp     byte ptr [rdi + rsi], 0
    je      .Ldj_fatal_write
    inc     rsi
    jmp     .Ldj_fatal_length
.Ldj_fatal_write:
    call    dj_console_write
    lea     rdi, [rip + .Ldj_fatal_newline]
    mov     esi, 1
    call    dj_console_write
    mov     edi, ebx
    call    dj_vm_exit
END(dj_fatal)

    .section .rodata
.Ldj_fatal_prefix:
    .ascii  "donjon-vm: "
.Ldj_fatal_prefix_end:
.Ldj_fatal_newline:
    .ascii  "\n"
