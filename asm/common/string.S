/*
 * asm/common/string.S -- memcpy, memmove, memset, memcmp for the shims' freestanding C.
 *
 * Entry points
 *   memcpy(dst, src, n) -> dst      memmove(dst, src, n) -> dst
 *   memset(dst, c, n)   -> dst      memcmp(a, b, n)      -> <0, 0, >0
 *
 * Flow
 *   GCC may emit calls to these even with -ffreestanding -fno-builtin (structure copies and zeroing), so they
 *   must exist; the shims also call them directly. They never touch workload memory (usercopy.S does that),
 *   so a fault in here is a shim bug and is reported as one.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: none; callers pass shim-checked pointers and sizes.
 *
 * Register contract: System V. In: rdi, rsi, rdx. Out: rax. Clobbers rcx, rdx, rsi, rdi, r8, flags. Uses no
 * vector registers (the VM shim does not save them on syscall entry). DF clear on entry and on return.
 */
#include "asm.h"

FUNC(memcpy)
    mov     rax, rdi
    mov     rcx, rdx
    rep movsb
    ret
END(memcpy)

/* memmove: copy forwards unless the destination starts inside the source, then backwards (std/cld around
   the one instruction, so DF is clear again before anything else can run). */
FUNC(memmove)
    mov     rax, rdi
    mov     rcx, rdx
    mov     r8, rdi
    sub     r8, rsi
    cmp     r8, rdx                 /* unsigned: dst - src < n  <=>  dst in [src, src + n) */
    jb      .Lmemmove_backwards
    rep movsb
    ret
.Lmemmove_backwards:
    lea     rsi, [rsi + rdx - 1]
    lea     rdi, [rdi + rdx - 1]
    std
    rep movsb
    cld
    ret
END(memmove)

FUNC(memset)
    mov     r8, rdi
    mov     eax, esi
    mov     rcx, rdx
    rep stosb
    mov     rax, r8
    ret
END(memset)

FUNC(memcmp)
    xor     eax, eax
    test    rdx, rdx
    jz      .Lmemcmp_done
    mov     rcx, rdx
    repe cmpsb
    je      .Lmemcmp_done
    movzx   eax, byte ptr [rdi - 1]
    movzx   ecx, byte ptr [rsi - 1]
    sub     eax, ecx
.Lmemcmp_done:
    ret
END(memcmp)
