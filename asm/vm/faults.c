/*
 * asm/vm/faults.c -- what an exception means: a page to fill in, a bad pointer a syscall was given, the
 * workload's fault, or the shim's own.
 *
 * Entry point: dj_trap(frame), from traps.S, for every exception vector (0-31 but NMI); the doorbell line's and the
 *   timer's interrupts go on to threads.c (dj_vm_doorbell_interrupt, dj_vm_timer_interrupt).
 *
 * Flow
 *   #PF on a workload address that is mapped but has no frame yet, with an access the protection allows:
 *     dj_page_fault gives it a zeroed frame; return, and the instruction runs again (from ring 3, or from a copy
 *     routine in ring 0).
 *   any fault in ring 0 with RIP inside a copy routine (usercopy.S's, or copy.S's dj_vm_copy_user): the
 *     workload handed a syscall a bad pointer. RIP := dj_usercopy_fixup, which returns -EFAULT to the copy's
 *     caller; return.
 *   any exception from ring 3: the workload's fault. When the workload has a handler for its signal (not blocked,
 *     not ignored), signal.c builds the frame and the iretq enters the handler. Otherwise a FAULT item {signal,
 *     vector, address, RIP, error code} to the host (marshal.c), its reply (no other thread runs meanwhile), then the keep ends with 128 + signal. Signals follow Linux's traps.c:
 *     #DE, #MF, #XM -> SIGFPE; #DB, #BP -> SIGTRAP; #UD -> SIGILL; #NP, #SS, #AC -> SIGBUS; #PF, #GP and the
 *     rest -> SIGSEGV. The address is CR2 for #PF, RIP for SIGILL, SIGFPE and SIGTRAP (Linux's si_addr), else 0.
 *     A page fault with no frame left is reported as SIGKILL (Linux's OOM killer).
 *   anything else in ring 0: a shim bug. dj_internal_error says what on COM1 and ends the keep (status 125).
 *
 * Labels: none (C). Register contract: System V; dj_trap(frame) is called by traps.S with interrupts off, on the
 *   kernel stack (or IST 1 for #DF and #MC), and may change the frame (RIP, for the copy fixup; every register, to enter a handler).
 *
 * Untrusted inputs: the workload's registers in the frame; CR2 (an address the workload chose). Only compared
 *   and reported.
 */
#include "vm.h"
#include "linux.h"

extern char dj_usercopy_start[], dj_usercopy_end[], dj_usercopy_fixup[];

#define VECTOR_PAGE_FAULT 14

static uint32_t signal_of(uint64_t vector)
{
    switch (vector) {
    case 0: case 16: case 19:
        return LX_SIGFPE;
    case 1: case 3:
        return LX_SIGTRAP;
    case 6:
        return LX_SIGILL;
    case 11: case 12: case 17:
        return LX_SIGBUS;
    default:
        return LX_SIGSEGV;
    }
}

static DJ_NORETURN void workload_fault(const struct dj_trap_frame *frame, uint32_t signal, uint64_t address)
{
    dj_vm_exiting = 1;                  /* no other thread runs while the host takes the report */
    dj_report_fault(signal, (int32_t)frame->vector, address, frame->rip, frame->error_code);
    dj_vm_exit(DJ_EXIT_SIGNAL_BASE + (int)signal);
}

void dj_trap(struct dj_trap_frame *frame)
{
    if (frame->vector == DJ_VM_DOORBELL_VECTOR) {
        dj_vm_doorbell_interrupt(frame);    /* threads.c */
        return;
    }
    if (frame->vector == DJ_VM_TIMER_VECTOR) {
        dj_vm_timer_interrupt(frame);       /* threads.c */
        return;
    }
    int from_user = (frame->cs & 3) == 3;
    uint64_t address = 0;

    if (frame->vector == VECTOR_PAGE_FAULT) {
        address = dj_read_cr2();
        int resolved = dj_page_fault(address, frame->error_code);
        if (resolved > 0)
            return;
        if (resolved < 0 && from_user)
            workload_fault(frame, LX_SIGKILL, address);
    }

    if (!from_user) {
        if ((frame->rip >= (uint64_t)dj_usercopy_start && frame->rip < (uint64_t)dj_usercopy_end) ||
            (frame->rip >= (uint64_t)dj_vm_usercopy_start && frame->rip < (uint64_t)dj_vm_usercopy_end)) {
            frame->rip = (uint64_t)dj_usercopy_fixup;
            return;
        }
        dj_internal_error(frame->vector == VECTOR_PAGE_FAULT ? "page fault in the shim at" : "exception in the shim at",
                          frame->rip);
    }

    uint32_t signal = signal_of(frame->vector);
    if (frame->vector != VECTOR_PAGE_FAULT)
        address = signal == LX_SIGSEGV || signal == LX_SIGBUS ? 0 : frame->rip;
    if (dj_vm_fault_to_handler(frame, signal, address))
        return;                         /* iretq into the workload's handler (signal.c) */
    workload_fault(frame, signal, address);
}
