/* The signal frame a handler sees, and what rt_sigreturn takes back from it: a keep-suite program. The handler
   checks the frame's structure (as Linux builds it on x86-64), then edits the saved context — skips the faulting
   instruction through RIP, changes RAX, and changes XMM0 in the saved FPU image — and the interrupted code must
   see every change. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#endif

static volatile int checks_done;

static void on_segv(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    mcontext_t *mc = &uc->uc_mcontext;
    unsigned char *fp = (unsigned char *)mc->fpregs;
    uint32_t magic1, extended, xstate, magic2;
    memcpy(&magic1, fp + 464, 4);
    memcpy(&extended, fp + 468, 4);
    memcpy(&xstate, fp + 480, 4);
    memcpy(&magic2, fp + xstate, 4);
    printf("signal %d, si_addr %p, handler rsp 16-byte aligned after the return address: %d\n", sig, info->si_addr,
           ((uintptr_t)__builtin_frame_address(0) + 16) % 16 == 0);
    printf("uc_flags has FP_XSTATE: %d, fpstate 64-byte aligned: %d, magic1 %d, magic2 %d, extended = xstate + 4: %d\n",
           (int)(uc->uc_flags & 1), ((uintptr_t)fp % 64) == 0, magic1 == FP_XSTATE_MAGIC1, magic2 == FP_XSTATE_MAGIC2,
           extended == xstate + 4);
    printf("saved RAX %lld, saved RIP at the faulting mov: %d\n", (long long)mc->gregs[REG_RAX],
           *(unsigned char *)mc->gregs[REG_RIP] == 0x89);
    /* The fault is `mov [rax], ecx` (2 bytes: 89 08) at a known place: skip it, and change RAX and XMM0. */
    mc->gregs[REG_RIP] += 2;
    mc->gregs[REG_RAX] = 4242;
    double replaced = 6.25;
    memcpy(fp + 160, &replaced, sizeof replaced);        /* XMM0's low 8 bytes in the FXSAVE area */
    checks_done = 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    long rax_after;
    double xmm0_after;
    __asm__ volatile(
        "movsd %[two], %%xmm0\n\t"
        "mov $24, %%eax\n\t"
        "mov $1, %%ecx\n\t"
        ".byte 0x89, 0x08\n\t"           /* mov [rax], ecx: a write to address 24 faults */
        "mov %%rax, %[rax]\n\t"
        "movsd %%xmm0, %[xmm]\n\t"
        : [rax] "=m"(rax_after), [xmm] "=m"(xmm0_after)
        : [two] "m"((double){ 2.0 })
        : "rax", "rcx", "xmm0", "memory");
    printf("handler ran: %d; after the return, RAX %ld and XMM0 %.2f\n", checks_done, rax_after, xmm0_after);
    return 0;
}
