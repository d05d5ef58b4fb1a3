/*
 * asm/process/deliver.c -- the process keep's side of the workload's signals: the kernel's ucontext is where
 * the workload's registers and FPU state are, so a frame for a workload handler is built from it, and the
 * shim's own real rt_sigreturn then "returns" into that handler.
 *
 * Entry points
 *   dj_process_deliver(uc)          from dj_sigsys (sigsys.S) when a signal is deliverable, and from
 *                                   dj_process_fault; ends the keep for a default action that terminates
 *   dj_process_sigreturn(uc)        the workload's rt_sigreturn (sigsys.S): registers, mask, alternate stack
 *                                   and FPU state back from its frame, into the kernel's ucontext
 *   dj_process_sigaltstack(...)     sigaltstack with the workload's stack pointer (EPERM while on the stack)
 *   dj_process_fault(sig, si, uc)   a workload fault: to its handler when it has one (1), else 0 (dj_fault
 *                                   reports it and dies by it)
 *   dj_process_kick(sig, si, uc)    the real SIGURG handler (signals.S): the host forwarded a signal
 *
 * The FPU state: the kernel saved the workload's FPU state in the ucontext's fpstate (XSAVE format, its size in
 * the software bytes at 464: Linux's struct _fpx_sw_bytes). That image is copied into each workload frame, so
 * the handler sees what Linux would show it. On rt_sigreturn the workload's image is checked as the kernel
 * would check it (the XSAVE header: xstate_bv a subset of the kernel's xfeatures, xcomp_bv 0, reserved bytes 0;
 * MXCSR within its mask) and copied over the kernel's, keeping the kernel's own software bytes, so the shim's
 * real rt_sigreturn restores it. A bad image ends the keep with SIGSEGV, as Linux's bad-frame path does.
 *
 * Untrusted inputs: the workload's frame and FPU image (through dj_user_read); the kernel's ucontext is trusted.
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

#define MAX_FPSTATE_SIZE 16384      /* AMX's 11 KiB XSAVE image and more */

static struct dj_user_regs *regs_of(uint8_t *uc) { return (struct dj_user_regs *)(uc + LX_UC_MCONTEXT); }

static uint8_t *fpstate_of(uint8_t *uc)
{
    uint8_t *fp;
    memcpy(&fp, uc + LX_UC_FPSTATE, 8);
    return fp;
}

/* The size of the kernel's FPU image: the xsave extension's extended size (with the MAGIC2 trailer), or the
   legacy 512 bytes. */
uint32_t dj_process_fpstate_size(const uint8_t *fp)
{
    if (!fp)
        return 0;
    uint32_t magic, extended;
    memcpy(&magic, fp + LX_FX_SW_RESERVED, 4);
    memcpy(&extended, fp + LX_FX_SW_RESERVED + 4, 4);
    if (magic == LX_FP_XSTATE_MAGIC1 && extended > LX_FXSAVE_SIZE && extended <= MAX_FPSTATE_SIZE)
        return extended;
    return LX_FXSAVE_SIZE;
}

void dj_process_deliver(uint8_t *uc)
{
    const uint8_t *fp = fpstate_of(uc);
    int terminating;
    dj_signal_deliver(regs_of(uc), fp, dj_process_fpstate_size(fp), &terminating);
    if (terminating)
        dj_die_by_signal((uint32_t)terminating);
}

/* Checks the workload's FPU image as the kernel's restore would; 0 when it may be loaded. */
static int fpstate_acceptable(const uint8_t *image, const uint8_t *kernel, uint32_t size)
{
    uint32_t mxcsr, mask;
    memcpy(&mxcsr, image + LX_FX_MXCSR, 4);
    memcpy(&mask, kernel + LX_FX_MXCSR_MASK, 4);
    if (mask == 0)
        mask = 0xFFBF;
    if (mxcsr & ~mask)
        return 0;
    if (size <= LX_FXSAVE_SIZE)
        return 1;
    uint64_t xfeatures, xstate_bv, xcomp_bv;
    memcpy(&xfeatures, kernel + LX_FX_SW_RESERVED + 8, 8);
    memcpy(&xstate_bv, image + LX_FXSAVE_SIZE, 8);
    memcpy(&xcomp_bv, image + LX_FXSAVE_SIZE + 8, 8);
    if ((xstate_bv & ~xfeatures) || xcomp_bv)
        return 0;
    for (unsigned i = LX_FXSAVE_SIZE + 16; i < LX_FXSAVE_SIZE + 64; i++)
        if (image[i])
            return 0;
    return 1;
}

long dj_process_sigreturn(uint8_t *uc)
{
    struct dj_user_regs *regs = regs_of(uc);
    uint64_t user_fp;
    if (dj_signal_return(regs, &user_fp))
        dj_die_by_signal(LX_SIGSEGV);
    uint8_t *fp = fpstate_of(uc);
    uint32_t size = dj_process_fpstate_size(fp);
    if (user_fp && fp) {
        uint8_t image[MAX_FPSTATE_SIZE];
        if (dj_user_read(image, user_fp, size) || !fpstate_acceptable(image, fp, size))
            dj_die_by_signal(LX_SIGSEGV);
        /* The kernel's software bytes and trailer stay the kernel's: they describe its buffer, not the image. */
        memcpy(image + LX_FX_SW_RESERVED, fp + LX_FX_SW_RESERVED, LX_FXSAVE_SIZE - LX_FX_SW_RESERVED);
        if (size > LX_FXSAVE_SIZE)
            memcpy(image + size - LX_FP_XSTATE_MAGIC2_SIZE, fp + size - LX_FP_XSTATE_MAGIC2_SIZE,
                   LX_FP_XSTATE_MAGIC2_SIZE);
        memcpy(fp, image, size);
    }
    return (long)regs->rax;     /* sigsys.S stores the result into the saved rax: the restored one */
}

long dj_process_sigaltstack(uint64_t stack, uint64_t oldstack, uint8_t *uc)
{
    return dj_sys_sigaltstack_at(stack, oldstack, regs_of(uc)->rsp);
}

int dj_process_fault(uint32_t signal, const uint8_t *siginfo, uint8_t *uc)
{
    if (!dj_signal_action_is_handler((int)signal))
        return 0;
    dj_signal_raise((int)signal, siginfo);
    dj_process_deliver(uc);
    return 1;
}

/* The kick: Donjon's host sent SIGURG because it forwarded a signal into the block (or because it wants the keep
   to look). In the workload's own code, a deliverable signal is delivered at once, from this context; in the
   shim's, its own return path delivers it, and a wait for a signal (futex.c) wakes up. */
void dj_process_kick(uint32_t signal, const uint8_t *siginfo, uint8_t *uc)
{
    (void)signal;
    (void)siginfo;
    __atomic_add_fetch(&dj_kick_count, 1, __ATOMIC_SEQ_CST);
    uint64_t rip = regs_of(uc)->rip;
    if (rip >= (uint64_t)__shim_text_start && rip < (uint64_t)__shim_text_end)
        return;
    if (dj_signal_deliverable())
        dj_process_deliver(uc);
}
