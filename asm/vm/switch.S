/*
 * asm/vm/switch.S -- the two pieces of the scheduler (threads.c) that C cannot write: the switch from one kernel
 * stack to another, and a new thread's first way out to ring 3.
 *
 * Entry points
 *   dj_vm_switch(save_rsp, load_rsp)   from threads.c's switch_to: the running thread's callee-saved registers and
 *                                      rsp are saved on its own kernel stack and in *save_rsp; those of the thread
 *                                      whose saved rsp is load_rsp are loaded, and its earlier dj_vm_switch returns
 *   dj_vm_thread_entry                 never called: the return address threads.c puts under a new thread's first
 *                                      switch frame. rsp then points at the thread's trap frame (a copy of its
 *                                      parent's syscall frame with rax = 0 and its own stack pointer)
 *
 * Flow of dj_vm_thread_entry: dj_vm_syscall_signals(frame, 0) (signal.c: a signal already pending for the new
 *   thread is delivered first, as at any syscall return), then the frame's registers and `iretq` into the workload,
 *   at the instruction after its parent's clone, with rax = 0.
 *
 * A new thread's kernel stack, from its top: struct dj_trap_frame (22 quadwords), dj_vm_thread_entry, then six zero
 *   quadwords for rbx, rbp, r12-r15; its saved rsp points at the lowest of them.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: none (the trap frame was built by the shim; signal.c checks what it takes from the workload).
 *
 * Register contracts
 *   dj_vm_switch: System V, rdi = where to save rsp, rsi = the rsp to load. Called with interrupts off, from ring 0,
 *     returns (in the other thread) with them off. Preserves rbx, rbp, r12-r15 of each thread across its own
 *     switch; the FPU state, FS base and TSS.RSP0 are threads.c's to swap.
 *   dj_vm_thread_entry: rsp = the trap frame, 16-byte aligned; interrupts off. Never returns.
 */
#include "asm.h"
#include "vm.h"

FUNC(dj_vm_switch)
    push    rbx
    push    rbp
    push    r12
    push    r13
    push    r14
    push    r15
    mov     [rdi], rsp
    mov     rsp, rsi
    pop     r15
    pop     r14
    pop     r13
    pop     r12
    pop     rbp
    pop     rbx
    ret
END(dj_vm_switch)

FUNC(dj_vm_thread_entry)
    mov     rdi, rsp
    xor     esi, esi
    call    dj_vm_syscall_signals
    DJ_POP_TRAP_REGISTERS
    add     rsp, 16                         /* vector, error code */
    iretq
END(dj_vm_thread_entry)
