/*
 * asm/vm/doorbell.S -- the VM shim's side of the doorbell (docs/protocol.md §3, docs/vm.md "Doorbell").
 *
 * Entry points
 *   dj_doorbell_ring_wait(block)   ring for the request already in the block; return once answered
 *
 * Flow -- the futex protocol of the process keep, with a serial line where the futex was:
 *   1. doorbell := REQUEST with xchg (a full barrier: the request's bytes are visible to the host before the
 *      doorbell is); then, if the host said it sleeps (`host sleeping` = 1), write one byte to COM2's transmit
 *      register. QEMU passes it to the host's end of the line, whose blocking read returns. As with the futex, the
 *      xchg orders the doorbell store before the load of `host sleeping`, and the host sets `host sleeping`
 *      before it re-reads the doorbell, so at least one side sees the other: no lost wake-up.
 *   2. spin while the doorbell still reads REQUEST, for DJ_VM_SPIN_TSC_TICKS (a fast syscall: the host, spinning
 *      too, answers in a few microseconds; neither side leaves its loop, and the vCPU never exits to QEMU). No
 *      `pause` in the loop, unlike the process shim's: under tcg QEMU turns each `pause` into an exit from the
 *      translated code (measured: 100-200 ns more per proxied syscall), and under kvm a `pause` loop invites
 *      pause-loop exits; `rdtsc` already paces the loop;
 *   3. then `shim sleeping` := 1 with xchg, re-check, and halt until the doorbell changes: with interrupts off,
 *      check; `sti; hlt` (STI's one-instruction shadow means the interrupt that ends the wait cannot be taken
 *      between the two, so a byte the host sends after the check still ends the hlt); `cli`; check again. The
 *      host writes one byte to its end of COM2 when it answers and `shim sleeping` is 1; the byte raises COM2's
 *      receive interrupt, whose handler (traps.S) drops it. A blocked syscall therefore leaves the vCPU halted:
 *      QEMU and the host are idle.
 *   4. `shim sleeping` := 0.
 *   The caller (marshal.c) then checks that the doorbell reads REPLY and the reply sequence matches, and stores
 *   IDLE when it has copied the reply out.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: the doorbell and `host sleeping`, written by the host; only compared. A host that never
 *   answers leaves the shim halted; the host ends QEMU when it ends.
 *
 * Register contract: System V. In: rdi = block (the shim's direct-map address of it). Out: none. Clobbers rax,
 *   rcx, rdx, r8, r9, flags. Called with interrupts off (a syscall, or an exception from ring 3, both enter
 *   with IF = 0) and returns with them off. Any stack alignment (no call).
 */
#include "asm.h"
#include "shim.h"
#include "vm.h"

FUNC(dj_doorbell_ring_wait)
    mov     r8, rdi                         /* r8 = block */
    mov     eax, DJ_DOORBELL_REQUEST
    xchg    dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], eax
    cmp     dword ptr [r8 + DJ_BLOCK_HOST_SLEEPING_OFFSET], 0
    je      .Ldj_doorbell_ring_wait_spin
    mov     edx, DJ_VM_DOORBELL_PORT        /* THR: any byte */
    mov     al, 'R'
    out     dx, al

.Ldj_doorbell_ring_wait_spin:
    rdtsc                                   /* a time budget, not a count */
    shl     rdx, 32
    or      rax, rdx
    mov     r9, rax                         /* r9 = TSC at the start of the spin */
.Ldj_doorbell_ring_wait_poll:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_doorbell_ring_wait_done
    rdtsc
    shl     rdx, 32
    or      rax, rdx
    sub     rax, r9
    cmp     rax, DJ_VM_SPIN_TSC_TICKS
    jb      .Ldj_doorbell_ring_wait_poll

    mov     eax, 1
    xchg    dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], eax
.Ldj_doorbell_ring_wait_sleep:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_doorbell_ring_wait_woken
    sti
    hlt                                     /* ends at the doorbell interrupt, or any other */
    cli
    jmp     .Ldj_doorbell_ring_wait_sleep
.Ldj_doorbell_ring_wait_woken:
    mov     dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], 0
.Ldj_doorbell_ring_wait_done:
    ret
END(dj_doorbell_ring_wait)
