/*
 * asm/common/usercopy.S -- copies to and from workload memory that survive a bad workload pointer.
 *
 * Entry points
 *   dj_copy_user(dst, src, size)    -> 0, or -EFAULT if either side faulted
 *   dj_strncpy_user(dst, src, max)  -> bytes copied with the NUL, -ENAMETOOLONG, or -EFAULT
 *
 * Flow
 *   The workload may hand the shim any pointer. Rather than guess which addresses are mapped, the shim just
 *   copies, the way the kernel does with its exception tables: every instruction that may touch workload
 *   memory lies between dj_usercopy_start and dj_usercopy_end. When one faults, the shim's fault handler
 *   (process: signals.S; VM: its #PF handler) sees the faulting RIP in that range and resumes at
 *   dj_usercopy_fixup instead, with every other register as it was at the fault. The fixup returns -EFAULT
 *   to the routine's caller.
 *
 *   That is only correct because the routines in the range are leaves that push nothing: at the fault, [rsp]
 *   is still the caller's return address, so the fixup's `ret` lands in the caller.
 *
 * Labels
 *   .L<function>_<what>. dj_usercopy_start / dj_usercopy_end / dj_usercopy_fixup are global.
 *
 * Untrusted inputs
 *   The pointers and sizes. Callers (dj_user_read/dj_user_write/dj_user_string) have already refused ranges
 *   that wrap, reach past the user address space, or overlap what the shim owns; these routines only survive
 *   faults.
 *
 * Register contract (both routines): System V. In: rdi, rsi, rdx. Out: rax. Clobbers rcx, rdx, rsi, rdi,
 * flags. No stack use beyond the return address. DF must be clear (the ABI guarantees it; the kernel clears
 * it on signal delivery).
 */
#include "asm.h"
#include "linux.h"

    .text
    .balign 16
DATA(dj_usercopy_start)

/* dj_copy_user: rdi = destination, rsi = source, rdx = size. rep movsb is the fast path on every CPU with
   ERMS/FSRM, and it faults precisely, leaving rcx = bytes not copied (unused: the result is all or nothing). */
FUNC(dj_copy_user)
    mov     rcx, rdx
    rep movsb
    xor     eax, eax
    ret
END(dj_copy_user)

/* dj_strncpy_user: rdi = destination, rsi = source, rdx = most bytes to copy, NUL included. Byte by byte:
   the string's length is what it is after the copy, and no byte past the NUL may be touched (it may be
   unmapped). */
FUNC(dj_strncpy_user)
    xor     eax, eax
.Ldj_strncpy_user_loop:
    cmp     rax, rdx
    jae     .Ldj_strncpy_user_toolong
    movzx   ecx, byte ptr [rsi + rax]
    mov     byte ptr [rdi + rax], cl
    inc     rax
    test    ecx, ecx
    jnz     .Ldj_strncpy_user_loop
    ret
.Ldj_strncpy_user_toolong:
    mov     rax, -LX_ENAMETOOLONG
    ret
END(dj_strncpy_user)

DATA(dj_usercopy_end)

/* dj_usercopy_fixup: entered only by a fault handler rewriting RIP, with rsp as at the fault. */
FUNC(dj_usercopy_fixup)
    mov     rax, -LX_EFAULT
    ret
END(dj_usercopy_fixup)
