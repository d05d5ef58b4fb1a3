/*
 * asm/vm/signal.c -- the VM keep's side of the workload's signals (the frames themselves are
 * asm/common/sigstate.c's, the same as the process keep's).
 *
 * Entry points
 *   dj_vm_syscall_signals(frame, sigreturn)   syscall.S's slow path: after rt_sigreturn, or when a signal is
 *                                             deliverable at a syscall's return
 *   dj_vm_fault_to_handler(frame, sig, addr)  faults.c: a workload exception, to its handler if it has one
 *   dj_vm_deliver_interrupted(frame)          faults.c, threads.c: an interrupt (the doorbell line, the timer, a
 *                                             thread switch) came while the workload ran
 *
 * The registers are the trap frame's (struct dj_trap_frame); they are copied to and from struct dj_user_regs,
 * and the return is an iretq, so every register the handler or rt_sigreturn sets (rcx and r11 included) is
 * the one the workload gets. The FPU state is the workload's own, live in the CPU (the shim uses no vector
 * register; threads.c swaps it per thread at each switch): XSAVE writes it into the frame's image in Linux's format (struct _fpx_sw_bytes in the legacy
 * area's software bytes: magic, sizes, components; FP_XSTATE_MAGIC2 after the area), and rt_sigreturn checks the
 * workload's image before XRSTOR takes it: MXCSR within MXCSR_MASK, xstate_bv a subset of XCR0, xcomp_bv 0 (the
 * standard format), the header's reserved bytes 0. A bad frame or image ends the keep with SIGSEGV, as Linux's
 * bad-frame path does.
 *
 * Untrusted inputs: the workload's registers and memory (its frame and image, through dj_user_read).
 */
#include "vm.h"
#include "linux.h"

#define MAX_FPSTATE_SIZE 16384
#define RFLAGS_IF 0x200
#define RFLAGS_FIXED 0x2

static uint8_t fpstate[MAX_FPSTATE_SIZE] __attribute__((aligned(64)));

static void to_regs(const struct dj_trap_frame *f, struct dj_user_regs *r)
{
    *r = (struct dj_user_regs){
        .r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r11 = f->r11, .r12 = f->r12, .r13 = f->r13, .r14 = f->r14,
        .r15 = f->r15, .rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp, .rbx = f->rbx, .rdx = f->rdx, .rax = f->rax,
        .rcx = f->rcx, .rsp = f->rsp, .rip = f->rip, .eflags = f->rflags,
    };
}

static void from_regs(struct dj_trap_frame *f, const struct dj_user_regs *r)
{
    f->r8 = r->r8; f->r9 = r->r9; f->r10 = r->r10; f->r11 = r->r11; f->r12 = r->r12; f->r13 = r->r13;
    f->r14 = r->r14; f->r15 = r->r15; f->rdi = r->rdi; f->rsi = r->rsi; f->rbp = r->rbp; f->rbx = r->rbx;
    f->rdx = r->rdx; f->rax = r->rax; f->rcx = r->rcx; f->rsp = r->rsp; f->rip = r->rip;
    /* Ring 3 keeps interrupts on and IOPL 0, whatever a frame says. */
    f->rflags = (r->eflags & LX_EFLAGS_USER_CHANGEABLE) | RFLAGS_IF | RFLAGS_FIXED;
    f->cs = DJ_VM_USER_CS;
    f->ss = DJ_VM_USER_DS;
}

/* The image's size in the frame: the XSAVE area and its MAGIC2 trailer, or the legacy 512 bytes. */
static uint32_t image_size(void)
{
    return dj_cpu.xcr0 ? dj_cpu.xsave_size + LX_FP_XSTATE_MAGIC2_SIZE : LX_FXSAVE_SIZE;
}

/* The workload's FPU state, in the signal frame's format, into `fpstate`. */
static void save_fpstate(void)
{
    uint32_t size = image_size();
    memset(fpstate, 0, size);
    dj_fpu_save(fpstate, dj_cpu.xcr0);
    if (!dj_cpu.xcr0)
        return;
    uint32_t sw[12];                    /* struct _fpx_sw_bytes: 48 bytes */
    memset(sw, 0, sizeof sw);
    sw[0] = LX_FP_XSTATE_MAGIC1;
    sw[1] = size;                       /* extended_size */
    memcpy(&sw[2], &dj_cpu.xcr0, 8);    /* xfeatures */
    sw[4] = dj_cpu.xsave_size;          /* xstate_size */
    memcpy(fpstate + LX_FX_SW_RESERVED, sw, sizeof sw);
    uint32_t magic2 = LX_FP_XSTATE_MAGIC2;
    memcpy(fpstate + dj_cpu.xsave_size, &magic2, 4);
}

static int fpstate_acceptable(const uint8_t *image)
{
    uint32_t mxcsr, mask;
    memcpy(&mxcsr, image + LX_FX_MXCSR, 4);
    memcpy(&mask, fpstate + LX_FX_MXCSR_MASK, 4);   /* the CPU's, from the save just made */
    if (mask == 0)
        mask = 0xFFBF;
    if (mxcsr & ~mask)
        return 0;
    if (!dj_cpu.xcr0)
        return 1;
    uint64_t xstate_bv, xcomp_bv;
    memcpy(&xstate_bv, image + LX_FXSAVE_SIZE, 8);
    memcpy(&xcomp_bv, image + LX_FXSAVE_SIZE + 8, 8);
    if ((xstate_bv & ~dj_cpu.xcr0) || xcomp_bv)
        return 0;
    for (unsigned i = LX_FXSAVE_SIZE + 16; i < LX_FXSAVE_SIZE + 64; i++)
        if (image[i])
            return 0;
    return 1;
}

static DJ_NORETURN void terminate(int sig)
{
    dj_vm_end(DJ_EXIT_SIGNAL_BASE + sig);  /* the whole keep, as Linux's default action (threads.c) */
}

static void deliver(struct dj_trap_frame *frame)
{
    if (!dj_signal_deliverable())
        return;
    struct dj_user_regs regs;
    to_regs(frame, &regs);
    save_fpstate();
    int terminating;
    dj_signal_deliver(&regs, fpstate, image_size(), &terminating);
    if (terminating)
        terminate(terminating);
    from_regs(frame, &regs);
}

void dj_vm_deliver_interrupted(struct dj_trap_frame *frame)
{
    deliver(frame);
}

void dj_vm_syscall_signals(struct dj_trap_frame *frame, int sigreturn)
{
    if (sigreturn) {
        struct dj_user_regs regs;
        to_regs(frame, &regs);
        uint64_t user_fp;
        if (dj_signal_return(&regs, &user_fp))
            terminate(LX_SIGSEGV);
        if (user_fp) {
            static uint8_t image[MAX_FPSTATE_SIZE] __attribute__((aligned(64)));
            uint32_t size = image_size();
            save_fpstate();             /* the current one: MXCSR_MASK, and the software bytes to keep */
            if (dj_user_read(image, user_fp, size) || !fpstate_acceptable(image))
                terminate(LX_SIGSEGV);
            memcpy(image + LX_FX_SW_RESERVED, fpstate + LX_FX_SW_RESERVED, LX_FXSAVE_SIZE - LX_FX_SW_RESERVED);
            dj_fpu_load(image, dj_cpu.xcr0);
        }
        from_regs(frame, &regs);
    }
    deliver(frame);
}

int dj_vm_fault_to_handler(struct dj_trap_frame *frame, uint32_t signal, uint64_t address)
{
    if (!dj_signal_action_is_handler((int)signal))
        return 0;
    uint8_t info[LX_SIGINFO_SIZE];
    memset(info, 0, sizeof info);
    int32_t signo = (int32_t)signal, code;
    switch (frame->vector) {
    case 14: code = (frame->error_code & 1) ? 2 /* SEGV_ACCERR */ : 1 /* SEGV_MAPERR */; break;
    case 0: code = 1; break;                        /* FPE_INTDIV */
    case 6: code = 2; break;                        /* ILL_ILLOPN */
    case 3: code = LX_SI_KERNEL; break;             /* int3: Linux's do_int3 sends SI_KERNEL */
    case 1: code = 2; break;                        /* TRAP_TRACE */
    case 16: case 19: code = 7; break;              /* FPE_FLTINV: the x87/SIMD exception */
    case 13: case 12: case 11: code = LX_SI_KERNEL; break;
    default: code = LX_SI_KERNEL; break;
    }
    memcpy(info + LX_SI_SIGNO, &signo, 4);
    memcpy(info + LX_SI_CODE, &code, 4);
    memcpy(info + LX_SI_ADDR, &address, 8);
    dj_signal_raise((int)signal, info);
    deliver(frame);
    return 1;
}
