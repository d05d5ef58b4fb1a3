/*
 * asm/vm/copy.S -- the VM shim's bulk copy and page clearing, in 64-byte steps of general registers.
 *
 * Entry points
 *   dj_vm_copy_user(dst, src, size)  -> 0, or -EFAULT if either side faulted (a copy routine like usercopy.S's)
 *   dj_vm_zero_page(page)            clears 4096 bytes (a page-aligned page of the shim's)
 *
 * Why not `rep movsb`/`rep stosb` (usercopy.S, string.S): under software emulation QEMU runs a string
 * instruction one element per step, a few nanoseconds each, so a 1 MiB syscall buffer took milliseconds to copy
 * and every fresh page took ~20 µs to clear. Eight 8-byte moves per loop are translated into straight-line host
 * code: several times faster under tcg, and as fast as the string forms for the sizes the keep copies under kvm.
 *
 * Flow: dj_vm_copy_user copies size / 64 blocks of eight quadwords, then the rest with `rep movsb` (at most 63
 *   bytes). dj_vm_zero_page stores 64 blocks of eight zero quadwords.
 *
 * Faults: dj_vm_copy_user lies between dj_vm_usercopy_start and dj_vm_usercopy_end. A fault there is a bad
 *   workload pointer (or a page the fault handler could not fill): dj_trap (faults.c) resumes at
 *   dj_usercopy_fixup (usercopy.S), which returns -EFAULT to this routine's caller. That holds because the routine
 *   is a leaf that pushes nothing: at the fault, [rsp] is the caller's return address. A lazily mapped page is
 *   filled by the fault handler and the faulting move runs again.
 *
 * Labels: .L<function>_<what>; dj_vm_usercopy_start / dj_vm_usercopy_end are global.
 *
 * Untrusted inputs: the workload's pointers and sizes; the callers (memory.c) have refused ranges that leave the
 *   user half or wrap.
 *
 * Register contract: System V. In: rdi, rsi, rdx. Out: rax (dj_vm_copy_user). Clobbers rcx, rdx, rsi, rdi, r8,
 *   r9, r10, flags. No stack use beyond the return address. DF clear.
 */
#include "asm.h"
#include "linux.h"

    .text
    .balign 16
DATA(dj_vm_usercopy_start)

FUNC(dj_vm_copy_user)
    mov     rcx, rdx
    shr     rcx, 6
    jz      .Ldj_vm_copy_user_tail
.Ldj_vm_copy_user_block:
    mov     rax, [rsi]
    mov     r8, [rsi + 8]
    mov     r9, [rsi + 16]
    mov     r10, [rsi + 24]
    mov     [rdi], rax
    mov     [rdi + 8], r8
    mov     [rdi + 16], r9
    mov     [rdi + 24], r10
    mov     rax, [rsi + 32]
    mov     r8, [rsi + 40]
    mov     r9, [rsi + 48]
    mov     r10, [rsi + 56]
    mov     [rdi + 32], rax
    mov     [rdi + 40], r8
    mov     [rdi + 48], r9
    mov     [rdi + 56], r10
    add     rsi, 64
    add     rdi, 64
    dec     rcx
    jnz     .Ldj_vm_copy_user_block
.Ldj_vm_copy_user_tail:
    mov     ecx, edx
    and     ecx, 63
    rep movsb
    xor     eax, eax
    ret
END(dj_vm_copy_user)

DATA(dj_vm_usercopy_end)

FUNC(dj_vm_zero_page)
    xor     eax, eax
    mov     ecx, 4096 / 64
.Ldj_vm_zero_page_block:
    mov     [rdi], rax
    mov     [rdi + 8], rax
    mov     [rdi + 16], rax
    mov     [rdi + 24], rax
    mov     [rdi + 32], rax
    mov     [rdi + 40], rax
    mov     [rdi + 48], rax
    mov     [rdi + 56], rax
    add     rdi, 64
    dec     ecx
    jnz     .Ldj_vm_zero_page_block
    ret
END(dj_vm_zero_page)
