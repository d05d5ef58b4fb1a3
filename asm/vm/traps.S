/*
 * asm/vm/traps.S -- the entry of every interrupt vector the shim handles: the 32 exceptions, the 16 PIC lines and
 * the local APIC timer.
 *
 * Entry points
 *   dj_trap_stubs[0 .. DJ_VM_IDT_ENTRIES)   the address of each vector's entry; setup.c builds the IDT from it
 *
 * Flows
 *   exception n (0-31, except 2): the stub pushes a zero error code when the CPU pushes none, then n, then every
 *     general register, forming a struct dj_trap_frame (vm.h), and calls dj_trap(frame) (faults.c). dj_trap
 *     either returns (a lazily mapped page got its frame; a copy routine's fault was redirected to its fixup) and
 *     the registers are restored and `iretq` retries or resumes, or it never returns (the workload's fault is
 *     reported to the host and the keep ends; a shim fault ends the keep).
 *   NMI (2): nothing to do in a keep; returns at once (it runs on the critical stack, IST 1).
 *   the doorbell line (COM2, vector DJ_VM_DOORBELL_VECTOR): the common path, then dj_trap (faults.c) reads and
 *     drops the bytes the host sent (at most 16, so that a flooding host cannot hold the shim here) and
 *     acknowledges the PIC, then threads.c unparks every thread whose slot has its reply (and, when the host
 *     forwarded a signal, every thread waiting for one). It ends the idle `hlt` of the scheduler (threads.c); when
 *     it interrupted the workload, the thread may yield to one it woke, and a signal is delivered from its frame.
 *   the timer (vector DJ_VM_TIMER_VECTOR, the local APIC's): the common path; threads.c ends timed waits that ran
 *     out and, when it interrupted the workload while another thread is runnable, switches threads (preemption).
 *     A thread switched away here resumes later from this very frame, on its own kernel stack.
 *   any other PIC line (masked; only a spurious IRQ 7 or 15 can arrive): acknowledges and returns.
 *
 * Labels: .L<function>_<what>; the stubs are .Ltrap_<n>.
 *
 * Untrusted inputs: the workload's registers in the frame (dj_trap only compares them); the bytes from the host
 *   on COM2 (dropped unread).
 *
 * Register contract
 *   each stub: entered by the CPU through an interrupt gate (IF = 0), with [rsp] = the CPU's frame (error code
 *     first when the vector has one). From ring 3 the CPU has switched to TSS.RSP0 (the kernel stack); NMI, #DF
 *     and #MC use IST 1. Preserves every general register across dj_trap except what dj_trap changes in the
 *     frame. DF is cleared before C runs (the frame keeps the interrupted RFLAGS).
 *   dj_trap: System V, rdi = the frame, rsp 16-byte aligned at the call (the CPU aligns rsp before pushing its
 *     frame; 7 + 15 quadwords keep it aligned).
 */
#include "asm.h"
#include "vm.h"

#define PIC_MASTER_COMMAND 0x20
#define PIC_SLAVE_COMMAND  0xA0
#define PIC_EOI            0x20

/* EXCEPTION_STUB n: vectors whose exceptions push an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC,
   #SX) push only n; the others push a zero error code first. */
.macro EXCEPTION_STUB n
    .balign 16
.Ltrap_\n:
    .if !((\n) == 8 || (\n) == 10 || (\n) == 11 || (\n) == 12 || (\n) == 13 || (\n) == 14 || (\n) == 17 || (\n) == 21 || (\n) == 29 || (\n) == 30)
    push    0
    .endif
    push    \n
    jmp     .Ltrap_common
.endm

    .text
    .balign 16
.Ltrap_common:
    DJ_PUSH_TRAP_REGISTERS
    cld
    mov     rdi, rsp
    call    dj_trap
    DJ_POP_TRAP_REGISTERS
    add     rsp, 16                         /* vector, error code */
    iretq

    EXCEPTION_STUB 0
    EXCEPTION_STUB 1
    EXCEPTION_STUB 3
    EXCEPTION_STUB 4
    EXCEPTION_STUB 5
    EXCEPTION_STUB 6
    EXCEPTION_STUB 7
    EXCEPTION_STUB 8
    EXCEPTION_STUB 9
    EXCEPTION_STUB 10
    EXCEPTION_STUB 11
    EXCEPTION_STUB 12
    EXCEPTION_STUB 13
    EXCEPTION_STUB 14
    EXCEPTION_STUB 15
    EXCEPTION_STUB 16
    EXCEPTION_STUB 17
    EXCEPTION_STUB 18
    EXCEPTION_STUB 19
    EXCEPTION_STUB 20
    EXCEPTION_STUB 21
    EXCEPTION_STUB 22
    EXCEPTION_STUB 23
    EXCEPTION_STUB 24
    EXCEPTION_STUB 25
    EXCEPTION_STUB 26
    EXCEPTION_STUB 27
    EXCEPTION_STUB 28
    EXCEPTION_STUB 29
    EXCEPTION_STUB 30
    EXCEPTION_STUB 31

/* NMI: nothing in a keep raises one; QEMU's monitor could inject it. Ignored. */
    .balign 16
.Ltrap_2:
    iretq

/* The doorbell line: through the common path, so that faults.c can deliver a forwarded signal to the workload it
   interrupted (it drains the line and acknowledges the interrupt). */
    .balign 16
.Ltrap_doorbell:
    push    0
    push    DJ_VM_DOORBELL_VECTOR
    jmp     .Ltrap_common

/* The local APIC timer: through the common path, as the doorbell line (faults.c acknowledges it). */
    .balign 16
.Ltrap_timer:
    push    0
    push    DJ_VM_TIMER_VECTOR
    jmp     .Ltrap_common

/* A masked PIC line (a spurious IRQ 7 or 15): acknowledge both controllers, return. An end-of-interrupt with no
   line in service changes nothing. */
    .balign 16
.Ltrap_pic_other:
    push    rax
    mov     al, PIC_EOI
    out     PIC_SLAVE_COMMAND, al
    out     PIC_MASTER_COMMAND, al
    pop     rax
    iretq

    .section .rodata
    .balign 8
DATA(dj_trap_stubs)
    .quad   .Ltrap_0, .Ltrap_1, .Ltrap_2, .Ltrap_3, .Ltrap_4, .Ltrap_5, .Ltrap_6, .Ltrap_7
    .quad   .Ltrap_8, .Ltrap_9, .Ltrap_10, .Ltrap_11, .Ltrap_12, .Ltrap_13, .Ltrap_14, .Ltrap_15
    .quad   .Ltrap_16, .Ltrap_17, .Ltrap_18, .Ltrap_19, .Ltrap_20, .Ltrap_21, .Ltrap_22, .Ltrap_23
    .quad   .Ltrap_24, .Ltrap_25, .Ltrap_26, .Ltrap_27, .Ltrap_28, .Ltrap_29, .Ltrap_30, .Ltrap_31
    .quad   .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_doorbell
    .quad   .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other
    .quad   .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other
    .quad   .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other, .Ltrap_pic_other
    .quad   .Ltrap_timer
dj_trap_stubs_end:
    .if (dj_trap_stubs_end - dj_trap_stubs) != DJ_VM_IDT_ENTRIES * 8
    .error "dj_trap_stubs: one entry per vector below DJ_VM_IDT_ENTRIES"
    .endif
    .if DJ_VM_DOORBELL_VECTOR != 0x23 || DJ_VM_TIMER_VECTOR != 0x30
    .error "dj_trap_stubs: the doorbell entry is at index 0x23, the timer's at 0x30"
    .endif
