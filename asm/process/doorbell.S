/*
 * asm/process/doorbell.S -- the shim's side of the doorbell (docs/protocol.md §3, "Doorbell").
 *
 * Entry points
 *   dj_doorbell_ring_wait(block)   ring for the request already in the block; return once answered
 *
 * Flow
 *   1. doorbell := REQUEST with xchg (a full barrier: the request's bytes are visible to the host before the
 *      doorbell is), then FUTEX_WAKE the doorbell if the host said it sleeps. Because the xchg orders the
 *      store before the load of `host sleeping`, and the host sets `host sleeping` before it re-reads the
 *      doorbell, at least one side sees the other: no lost wake-up.
 *   2. spin with `pause` while the doorbell still reads REQUEST, for DJ_SPIN_TSC_TICKS (a fast syscall:
 *      two cache-line transfers, no system call on either side);
 *   3. then `shim sleeping` := 1 with xchg, re-check, and FUTEX_WAIT(doorbell, REQUEST) until the doorbell
 *      changes, so a blocked syscall (accept, nanosleep) leaves the shim asleep in the kernel. The futex op
 *      is the shared (not _PRIVATE) one: the block is a memfd mapped by two processes.
 *   4. `shim sleeping` := 0.
 *   The caller (marshal.c) then checks that the doorbell reads REPLY and the reply sequence matches, and
 *   stores IDLE when it has copied the reply out.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: the doorbell and `host sleeping`, written by the host; only compared. A host that never
 *   answers leaves the shim asleep; PR_SET_PDEATHSIG ends it with the host.
 *
 * Register contract: System V. In: rdi = block. Out: none. Clobbers rax, rcx, rdx, rsi, rdi, r8, r9, r10,
 *   r11, flags. Any stack alignment (no call).
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"

FUNC(dj_doorbell_ring_wait)
    mov     r8, rdi                         /* r8 = block (syscall clobbers rcx and r11 only) */
    mov     eax, DJ_DOORBELL_REQUEST
    xchg    dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], eax
    cmp     dword ptr [r8 + DJ_BLOCK_HOST_SLEEPING_OFFSET], 0
    je      .Ldj_doorbell_ring_wait_spin
    mov     eax, LX_NR_FUTEX
    lea     rdi, [r8 + DJ_BLOCK_DOORBELL_OFFSET]
    mov     esi, LX_FUTEX_WAKE
    mov     edx, 1
    xor     r10d, r10d
    syscall

.Ldj_doorbell_ring_wait_spin:
    rdtsc                                   /* a time budget, not a count: `pause` takes 10 to 140 cycles */
    shl     rdx, 32                         /* depending on the CPU */
    or      rax, rdx
    mov     r9, rax                         /* r9 = TSC at the start of the spin */
.Ldj_doorbell_ring_wait_poll:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_doorbell_ring_wait_done
    pause
    rdtsc
    shl     rdx, 32
    or      rax, rdx
    sub     rax, r9
    cmp     rax, DJ_SPIN_TSC_TICKS
    jb      .Ldj_doorbell_ring_wait_poll

    mov     eax, 1
    xchg    dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], eax
.Ldj_doorbell_ring_wait_sleep:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_doorbell_ring_wait_woken
    mov     eax, LX_NR_FUTEX
    lea     rdi, [r8 + DJ_BLOCK_DOORBELL_OFFSET]
    mov     esi, LX_FUTEX_WAIT
    mov     edx, DJ_DOORBELL_REQUEST
    xor     r10d, r10d                      /* no timeout: the parent-death signal ends a shim whose host is gone */
    syscall
    jmp     .Ldj_doorbell_ring_wait_sleep   /* woken, EAGAIN (changed already) or EINTR: look again */
.Ldj_doorbell_ring_wait_woken:
    mov     dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], 0
.Ldj_doorbell_ring_wait_done:
    ret
END(dj_doorbell_ring_wait)
