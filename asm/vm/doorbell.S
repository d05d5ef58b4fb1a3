/*
 * asm/vm/doorbell.S -- the VM shim's side of the doorbell, on one slot (docs/protocol.md §3, docs/vm.md "Doorbell"
 * and "Threads").
 *
 * Entry points
 *   dj_vm_doorbell_ring(slot)          doorbell := REQUEST; one byte on COM2 if the host said it sleeps; returns what it said
 *   dj_vm_doorbell_spin(slot, ticks)   spin while the doorbell reads REQUEST, for at most `ticks` TSC ticks
 *   (dj_doorbell_ring_wait, what marshal.c calls, is threads.c's: ring, spin, then park the thread)
 *
 * Flow -- the futex protocol of the process keep, with a serial line where the futex was:
 *   1. ring: doorbell := REQUEST with xchg (a full barrier: the request's bytes are visible to the host before the
 *      doorbell is); then, if the host said it sleeps (`host sleeping` = 1 in this slot), write one byte to COM2's
 *      transmit register. QEMU passes it to the host's end of the line, whose reader wakes the slots' waiters. As
 *      with the futex, the xchg orders the doorbell store before the load of `host sleeping`, and the host sets
 *      `host sleeping` before it re-reads the doorbell, so at least one side sees the other: no lost wake-up.
 *   2. spin while the doorbell still reads REQUEST, for the caller's budget (a fast syscall: the host, spinning
 *      too, answers in a few microseconds; neither side leaves its loop, and the vCPU never exits to QEMU),
 *      reading the TSC once every DJ_SPIN_POLLS_PER_CLOCK looks, not on every one. No `pause` in the loop,
 *      unlike the process shim's: under tcg QEMU turns each `pause` into an exit from the translated code
 *      (measured: 100-200 ns more per proxied syscall), and under kvm a `pause` loop invites pause-loop exits.
 *      The caller (threads.c) skips the spin when the ring found `host sleeping` = 2, and sizes the budget.
 *   3. (threads.c) then `shim sleeping` := 1 with xchg, re-check, and park the thread until the doorbell changes:
 *      the host writes one byte to COM2 when it answers a slot whose `shim sleeping` is 1, and the line's interrupt
 *      unparks the threads whose slot has its reply. The caller (marshal.c) then checks that the doorbell reads
 *      REPLY and the reply sequence matches, and stores IDLE when it has copied the reply out.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: the doorbell and `host sleeping`, written by the host; only compared.
 *
 * Register contracts: System V. dj_vm_doorbell_ring: rdi = the slot (the shim's direct-map address of its
 *   header); eax = the slot's `host sleeping` as read (0: no byte written; else the byte was written; 2: the host
 *   has no CPU to spare; untrusted, only compared); clobbers rdx, flags.
 *   dj_vm_doorbell_spin: rdi = the slot, rsi = TSC ticks; eax = 1 when the doorbell no longer reads REQUEST, 0
 *   when the budget ran out; clobbers rcx, rdx, r8, r9, flags. Both are called
 *   with interrupts off and return with them off; any stack alignment (no call).
 */
#include "asm.h"
#include "shim.h"
#include "vm.h"

FUNC(dj_vm_doorbell_ring)
    mov     eax, DJ_DOORBELL_REQUEST
    xchg    dword ptr [rdi + DJ_BLOCK_DOORBELL_OFFSET], eax
    mov     eax, dword ptr [rdi + DJ_BLOCK_HOST_SLEEPING_OFFSET]
    test    eax, eax
    je      .Ldj_vm_doorbell_ring_done
    mov     edx, DJ_VM_DOORBELL_PORT        /* THR: any byte */
    push    rax
    mov     al, 'R'
    out     dx, al
    pop     rax                             /* eax = what the host said (untrusted: only compared) */
.Ldj_vm_doorbell_ring_done:
    ret
END(dj_vm_doorbell_ring)

FUNC(dj_vm_doorbell_spin)
    mov     r8, rdi                         /* r8 = slot */
    rdtsc                                   /* a time budget, not a count */
    shl     rdx, 32
    or      rax, rdx
    mov     r9, rax                         /* r9 = TSC at the start of the spin */
.Ldj_vm_doorbell_spin_batch:
    mov     ecx, DJ_SPIN_POLLS_PER_CLOCK
.Ldj_vm_doorbell_spin_poll:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_vm_doorbell_spin_answered
    dec     ecx
    jnz     .Ldj_vm_doorbell_spin_poll
    rdtsc
    shl     rdx, 32
    or      rax, rdx
    sub     rax, r9
    cmp     rax, rsi
    jb      .Ldj_vm_doorbell_spin_batch
    xor     eax, eax
    ret
.Ldj_vm_doorbell_spin_answered:
    mov     eax, 1
    ret
END(dj_vm_doorbell_spin)
