/*
 * asm/process/signals.S -- the process shim's real signal set-up: its alternate stack, its restorer, and
 * its handler for faults.
 *
 * Entry points
 *   dj_signals_install   once, from _start
 *   dj_restorer          the sa_restorer of every handler the shim installs (the kernel returns into it)
 *   dj_fault             the handler of SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP
 *   dj_kick              the handler of SIGURG, the host's kick (deliver.c)
 *
 * Flows
 *   install: guard page below the alternate stack -> sigaltstack -> rt_sigaction(SIGSYS: dj_sigsys, in
 *     sigsys.S) -> rt_sigaction(SIGURG: dj_kick) -> rt_sigaction(each fault signal: dj_fault).
 *     Every handler runs on the alternate stack (SA_ONSTACK), because a fault may come from a workload whose
 *     stack is gone, and because the signal frame of an AVX-512 CPU is ~3 KiB the workload did not budget.
 *     Every handler returns through dj_restorer, inside the shim's text, because rt_sigreturn is a system
 *     call and the seccomp filter only lets the shim's text make one; the workload's restorer is never used.
 *     SIGSYS is not SA_NODEFER: nothing the handler does can raise SIGSYS (its calls come from the shim's
 *     text), so a nested SIGSYS would be a shim bug, and the kernel then killing the keep is the right end.
 *     Its sa_mask is empty, so the fault signals stay deliverable inside it: that is what makes a bad
 *     workload pointer recoverable (below). The fault handlers block every fault signal, so a fault inside
 *     dj_fault kills the keep rather than recursing.
 *   fault, of patching (patch.c, dj_patch_fault): an instruction fetch from a page that syscall-site patching made
 *     read-write for a moment is retried; a fault of the direct entry's GS read resumes at its trap fallback.
 *   fault, from a copy routine (RIP in [dj_usercopy_start, dj_usercopy_end), usercopy.S): the workload gave a
 *     bad pointer to a syscall. Resume at dj_usercopy_fixup, which returns -EFAULT; the syscall fails, the
 *     workload goes on.
 *   fault, anywhere else: a FAULT item {signal, -1, si_addr, RIP, si_code}, the host's reply, then death by
 *     that very signal (dj_die_by_signal, load.c: default action, tgkill, unblock), so that the host takes the
 *     verdict from waitpid and the item only explains it (a workload can write the block; it cannot fake
 *     how its process ended). A fault with RIP in the shim's own text is also a shim bug and is said so on
 *     stderr and in a LOG item first.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: the workload's registers in the ucontext (only RIP is read, and only compared).
 *
 * Register contracts
 *   dj_signals_install: System V, no arguments; clobbers the caller-saved registers; exits 123 on failure.
 *   dj_fault: the kernel's SA_SIGINFO call: edi = signal, rsi = siginfo_t *, rdx = ucontext_t *, on the
 *     alternate stack, rsp + 8 16-byte aligned, [rsp] = dj_restorer. Returns (fixup) or never (report).
 *   dj_restorer: reached by the handlers' `ret` with rsp at the kernel's rt_sigframe. Never returns.
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"
#include "process.h"

#define FAULT_MASK ((1 << (LX_SIGSEGV - 1)) | (1 << (LX_SIGBUS - 1)) | (1 << (LX_SIGILL - 1)) | \
                    (1 << (LX_SIGFPE - 1)) | (1 << (LX_SIGTRAP - 1)))
#define HANDLER_FLAGS (LX_SA_SIGINFO | LX_SA_ONSTACK | LX_SA_RESTORER)

/* The alternate stack lives in the shim's own .bss, so it is inside [__shim_start, __shim_end), which no
   workload mapping, pointer or mprotect may touch. Its lowest page is made PROT_NONE: an overflow faults
   instead of running into the rest of .bss. shim.ld places this section first in .bss, page-aligned. */
    .section .bss.dj_altstack, "aw", @nobits
    .balign 4096
dj_altstack_guard:
    .skip   4096
dj_altstack:
    .skip   DJ_SIGALTSTACK_SIZE
DATA(dj_altstack_end)                       /* also _start's stack until the workload runs (entry.S) */

FUNC(dj_signals_install)
    sub     rsp, 40                         /* [rsp]: stack_t, then struct sigaction; rsp 16-aligned */

    mov     eax, LX_NR_MPROTECT
    lea     rdi, [rip + dj_altstack_guard]
    mov     esi, 4096
    xor     edx, edx                        /* PROT_NONE */
    syscall
    test    rax, rax
    jnz     .Ldj_signals_install_failed

    xor     edi, edi                        /* thread 0's alternate stack, in its thread block (threads.c) */
    call    dj_thread_stack_top
    sub     rax, DJ_THREAD_STACK_SIZE
    mov     [rsp + LX_SS_SP], rax
    mov     qword ptr [rsp + LX_SS_FLAGS], 0
    mov     qword ptr [rsp + LX_SS_SIZE], DJ_THREAD_STACK_SIZE
    mov     eax, LX_NR_SIGALTSTACK
    mov     rdi, rsp
    xor     esi, esi
    syscall
    test    rax, rax
    jnz     .Ldj_signals_install_failed

    /* SIGSYS */
    lea     rax, [rip + dj_sigsys]
    mov     [rsp + LX_SA_HANDLER], rax
    mov     qword ptr [rsp + LX_SA_FLAGS], HANDLER_FLAGS
    lea     rax, [rip + dj_restorer]
    mov     [rsp + LX_SA_RESTORER_FIELD], rax
    mov     qword ptr [rsp + LX_SA_MASK], 0
    mov     edi, LX_SIGSYS
    call    .Ldj_signals_install_action

    /* the kick: SIGURG from the host, which forwarded a signal (deliver.c) */
    lea     rax, [rip + dj_kick]
    mov     [rsp + LX_SA_HANDLER], rax
    mov     qword ptr [rsp + LX_SA_MASK], FAULT_MASK
    mov     edi, LX_SIGURG
    call    .Ldj_signals_install_action

    /* the faults */
    lea     rax, [rip + dj_fault]
    mov     [rsp + LX_SA_HANDLER], rax
    mov     qword ptr [rsp + LX_SA_MASK], FAULT_MASK
    mov     edi, LX_SIGSEGV
    call    .Ldj_signals_install_action
    mov     edi, LX_SIGBUS
    call    .Ldj_signals_install_action
    mov     edi, LX_SIGILL
    call    .Ldj_signals_install_action
    mov     edi, LX_SIGFPE
    call    .Ldj_signals_install_action
    mov     edi, LX_SIGTRAP
    call    .Ldj_signals_install_action

    add     rsp, 40
    ret

/* edi = signal; the struct sigaction is at the caller's rsp (our rsp + 8). */
.Ldj_signals_install_action:
    mov     eax, LX_NR_RT_SIGACTION
    lea     rsi, [rsp + 8]
    xor     edx, edx
    mov     r10d, LX_SIGSET_SIZE
    syscall
    test    rax, rax
    jnz     .Ldj_signals_install_failed
    ret

.Ldj_signals_install_failed:
    mov     edi, DJ_SHIM_EXIT_MAP_FAILED
    lea     rsi, [rip + .Lmsg_signals]
    call    dj_fatal
END(dj_signals_install)

/* dj_kick: the SIGURG handler. The kernel's SA_SIGINFO call (edi, rsi, rdx), on the alternate stack with
   rsp + 8 16-byte aligned; returns through dj_restorer, into the workload's handler when deliver.c built one. */
FUNC(dj_kick)
    sub     rsp, 8
    call    dj_process_kick
    add     rsp, 8
    ret
END(dj_kick)

/* The shim's sa_restorer: the frame the kernel built is at rsp. */
FUNC(dj_restorer)
    mov     eax, LX_NR_RT_SIGRETURN
    syscall
    ud2
END(dj_restorer)

FUNC(dj_fault)
    /* A fetch from a page that is read-write for a patch, or the direct entry's GS read: retried or sent to the
       trap (patch.c). Anything else goes on below. */
    push    rbx                             /* rsp 16-byte aligned for the call; rsi, rdx kept */
    push    rsi
    push    rdx
    mov     rdi, rsi
    mov     rsi, rdx
    call    dj_patch_fault
    pop     rdx
    pop     rsi
    pop     rbx
    test    eax, eax
    jz      .Ldj_fault_not_patch
    ret
.Ldj_fault_not_patch:
    mov     edi, [rsi + LX_SI_SIGNO]
    mov     rax, [rdx + LX_UC_RIP]
    lea     rcx, [rip + dj_usercopy_start]
    cmp     rax, rcx
    jb      .Ldj_fault_report
    lea     rcx, [rip + dj_usercopy_end]
    cmp     rax, rcx
    jae     .Ldj_fault_report
    /* A copy routine touched a bad workload pointer: the routine returns -EFAULT instead. */
    lea     rcx, [rip + dj_usercopy_fixup]
    mov     [rdx + LX_UC_RIP], rcx
    ret

.Ldj_fault_report:
    /* A fault of the workload's own code goes to its handler when it has one (deliver.c). */
    lea     rcx, [rip + __shim_text_start]
    cmp     rax, rcx
    jb      .Ldj_fault_workload
    lea     rcx, [rip + __shim_text_end]
    cmp     rax, rcx
    jb      .Ldj_fault_die
.Ldj_fault_workload:
    push    rbx                             /* rsp 16-byte aligned for the call; rbx, rsi, rdx kept */
    push    rsi
    push    rdx
    call    dj_process_fault                /* edi = signal, rsi = siginfo, rdx = ucontext */
    pop     rdx
    pop     rsi
    pop     rbx
    test    eax, eax
    jz      .Ldj_fault_die
    ret                                     /* to dj_restorer: into the workload's handler */

.Ldj_fault_die:
    /* Never returns: the callee-saved registers are ours. */
    mov     rax, [rdx + LX_UC_RIP]
    mov     edi, [rsi + LX_SI_SIGNO]
    mov     r12d, edi                       /* signal */
    mov     r13, [rsi + LX_SI_ADDR]         /* faulting address */
    movsxd  r14, dword ptr [rsi + LX_SI_CODE]
    mov     r15, rax                        /* RIP */
    and     rsp, -16

    lea     rcx, [rip + __shim_text_start]
    cmp     r15, rcx
    jb      .Ldj_fault_send
    lea     rcx, [rip + __shim_text_end]
    cmp     r15, rcx
    jae     .Ldj_fault_send
    mov     edi, r12d
    mov     rsi, r15
    mov     rdx, r13
    call    dj_report_internal_fault

.Ldj_fault_send:
    mov     edi, r12d
    mov     esi, -1                         /* no exception vector in a process keep */
    mov     rdx, r13
    mov     rcx, r15
    mov     r8, r14
    call    dj_report_fault
    mov     edi, r12d                       /* die by the signal itself: Donjon's status comes from waitpid */
    call    dj_die_by_signal
    ud2
END(dj_fault)

    .section .rodata
.Lmsg_signals:
    .asciz  "could not set up the shim's signal stack or handlers"
