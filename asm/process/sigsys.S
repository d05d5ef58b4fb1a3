/*
 * asm/process/sigsys.S -- the SIGSYS handler: every system call the workload makes arrives here.
 *
 * Entry points
 *   dj_sigsys   the SA_SIGINFO handler of SIGSYS (installed by signals.S)
 *
 * Flow
 *   The seccomp filter (seccomp.S) answers SECCOMP_RET_TRAP to every system call made outside the shim's
 *   text. The kernel then skips the call and delivers SIGSYS on the alternate stack, with the workload's
 *   registers in the ucontext and RIP already past the `syscall` instruction. The handler
 *     1. ignores a SIGSYS that the seccomp filter did not raise (si_code != SYS_SECCOMP: someone's kill());
 *     2. takes the number from si_syscall (the saved RAX already holds -ENOSYS) and the arguments from the
 *        saved RDI, RSI, RDX, R10, R8, R9;
 *     3. dispatches: rt_sigreturn and sigaltstack to deliver.c with the ucontext; dj_keep_table[number] when
 *        the call concerns only the keep (memory, arch_prctl, exit, the workload's signals, gettid, ...), else
 *        dj_host_syscall (sigstate.c: marshal.c, then SIGPIPE on EPIPE), which sends it to the host;
 *     4. writes the result into the saved RAX; when a workload signal is deliverable, dj_process_deliver
 *        rewrites the ucontext to enter the workload's handler on a frame it built (or ends the keep);
 *     5. returns through dj_restorer (rt_sigreturn), which restores every workload register from the
 *        ucontext.
 *   The handler uses no TLS and never reads FS: FS is the workload's (arch_prctl(ARCH_SET_FS) is real).
 *   The shim-private DJ_NR_PATCH_RESUME and DJ_NR_PATCH_STATS (process.h) are served before the host path.
 *   x32 numbers (bit 30 set) are above every table and go to the host as undeclared.
 *
 * Labels: .L<function>_<what>; dj_keep_<syscall> for the handlers in this file.
 *
 * Untrusted inputs: the workload's registers (number and arguments). Handlers check their arguments as
 *   Linux does; pointers are only followed through dj_user_* (memory.c).
 *
 * Register contracts
 *   dj_sigsys: the kernel's SA_SIGINFO call: edi = SIGSYS, rsi = siginfo_t *, rdx = ucontext_t *, on the
 *     alternate stack with rsp + 8 16-byte aligned and [rsp] = dj_restorer. Preserves rbx, rbp, r12-r15;
 *     the other registers need no care, rt_sigreturn restores the workload's.
 *   dj_keep_table handlers: System V calls with the syscall's arguments in rdi, rsi, rdx, rcx (the
 *     syscall's r10), r8, r9; result in rax. The C ones are in memory.c and sigstate.c.
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"
#include "process.h"

FUNC(dj_sigsys)
    push    rbx
    push    r12
    push    r13                             /* rsp is now 16-byte aligned */
    cmp     dword ptr [rsi + LX_SI_CODE], LX_SYS_SECCOMP
    jne     .Ldj_sigsys_return
    mov     rbx, rdx                        /* rbx = ucontext */
    mov     r12d, dword ptr [rsi + LX_SI_SYSCALL]   /* r12 = number, zero-extended */
    mov     rax, rsp                        /* this thread's trap count (patch.c's record, in its block) */
    and     rax, -DJ_THREAD_BLOCK_SIZE
    inc     qword ptr [rax + DJ_PATCH_AREA_OFFSET + DJ_PATCH_TRAP_COUNT]

    mov     rdi, [rbx + LX_UC_RDI]
    mov     rsi, [rbx + LX_UC_RSI]
    mov     rdx, [rbx + LX_UC_RDX]
    mov     rcx, [rbx + LX_UC_R10]
    mov     r8, [rbx + LX_UC_R8]
    mov     r9, [rbx + LX_UC_R9]

    cmp     r12, LX_NR_RT_SIGRETURN
    je      .Ldj_sigsys_sigreturn
    cmp     r12, LX_NR_SIGALTSTACK
    je      .Ldj_sigsys_sigaltstack
    cmp     r12, LX_NR_CLONE
    je      .Ldj_sigsys_clone
    cmp     r12, LX_NR_CLONE3
    je      .Ldj_sigsys_clone3
    cmp     r12, DJ_KEEP_TABLE_COUNT
    jae     .Ldj_sigsys_host
    lea     r10, [rip + dj_keep_table]
    movsxd  rax, dword ptr [r10 + r12 * 4]
    test    rax, rax
    jz      .Ldj_sigsys_host
    add     rax, r10
    call    rax
.Ldj_sigsys_served:                         /* a call the shim served itself (the table, sigaltstack, clone, clone3) */
    cmp     byte ptr [rip + dj_trace_on], 0 /* run --strace (trace.c): one predictable branch when off */
    jne     .Ldj_sigsys_trace
    jmp     .Ldj_sigsys_result

.Ldj_sigsys_host:
    cmp     r12d, DJ_NR_PATCH_RESUME
    je      .Ldj_sigsys_patch_resume
    cmp     r12d, DJ_NR_PATCH_STATS
    je      .Ldj_sigsys_patch_stats
    sub     rsp, 48                         /* uint64_t args[6]; keeps the alignment */
    mov     [rsp], rdi
    mov     [rsp + 8], rsi
    mov     [rsp + 16], rdx
    mov     [rsp + 24], rcx
    mov     [rsp + 32], r8
    mov     [rsp + 40], r9
    mov     edi, r12d
    mov     rsi, rsp
    call    dj_host_syscall
    add     rsp, 48

.Ldj_sigsys_result:
    mov     [rbx + LX_UC_RAX], rax
    mov     edi, r12d                       /* patch the site when the rule allows (patch.c) */
    mov     rsi, rbx
    call    dj_patch_consider
    call    dj_signal_deliverable           /* a signal for the workload: its frame, before it runs again */
    test    eax, eax
    jz      .Ldj_sigsys_return
    mov     rdi, rbx
    call    dj_process_deliver
.Ldj_sigsys_return:
    pop     r13
    pop     r12
    pop     rbx
    ret

/* The shim-private numbers of syscall-site patching (patch.c). */
.Ldj_sigsys_patch_resume:
    call    dj_patch_resume
    jmp     .Ldj_sigsys_result
.Ldj_sigsys_patch_stats:
    call    dj_patch_stats
    jmp     .Ldj_sigsys_result

/* rt_sigreturn and sigaltstack need the workload's context itself (deliver.c). */
.Ldj_sigsys_sigreturn:
    mov     rdi, rbx
    call    dj_process_sigreturn
    jmp     .Ldj_sigsys_result
.Ldj_sigsys_sigaltstack:
    mov     rdx, rbx
    call    dj_process_sigaltstack
    jmp     .Ldj_sigsys_served
/* clone and clone3 copy the caller's context into the child's first frame (threads.c). Linux's x86-64 clone
   takes (flags, newsp, parent_tid, child_tid, tls): rdi, rsi, rdx, r10 (rcx here), r8. */
.Ldj_sigsys_clone:
    mov     r9, rbx
    call    dj_process_clone
    jmp     .Ldj_sigsys_served
.Ldj_sigsys_clone3:
    mov     rdx, rbx
    call    dj_process_clone3
    jmp     .Ldj_sigsys_served

/* run --strace: the call dj_keep_table served, reported (trace.c) with its arguments as the workload passed them
   (the ucontext's), its number (r12) and its result (rax, which dj_trace_keep_call gives back). */
.Ldj_sigsys_trace:
    sub     rsp, 48                         /* uint64_t args[6]; keeps the alignment */
    mov     rdi, [rbx + LX_UC_RDI]
    mov     [rsp], rdi
    mov     rdi, [rbx + LX_UC_RSI]
    mov     [rsp + 8], rdi
    mov     rdi, [rbx + LX_UC_RDX]
    mov     [rsp + 16], rdi
    mov     rdi, [rbx + LX_UC_R10]
    mov     [rsp + 24], rdi
    mov     rdi, [rbx + LX_UC_R8]
    mov     [rsp + 32], rdi
    mov     rdi, [rbx + LX_UC_R9]
    mov     [rsp + 40], rdi
    mov     edi, r12d
    mov     rsi, rax
    mov     rdx, rsp
    call    dj_trace_keep_call
    add     rsp, 48
    jmp     .Ldj_sigsys_result
END(dj_sigsys)

/* exit (edi = status): this thread ends, or the keep when it is the last (threads.c). Never returns. */
LOCAL_FUNC(dj_keep_exit)
    sub     rsp, 8                          /* alignment */
    xor     esi, esi
    call    dj_process_exit
    ud2
END(dj_keep_exit)

/* exit_group (edi = status): tell the host, wait for its reply, end the keep. Never returns. */
LOCAL_FUNC(dj_keep_exit_group)
    sub     rsp, 8
    mov     esi, 1
    call    dj_process_exit
    ud2
END(dj_keep_exit_group)

/* arch_prctl (edi = code, rsi = address). Only the FS base, which libc's TLS needs; the real call, since
   FS is the workload's. ARCH_GET_FS goes through a shim variable, so that the kernel never writes to a
   workload pointer the shim has not checked. */
LOCAL_FUNC(dj_keep_arch_prctl)
    cmp     edi, LX_ARCH_SET_FS
    je      .Ldj_keep_arch_prctl_set
    cmp     edi, LX_ARCH_GET_FS
    je      .Ldj_keep_arch_prctl_get
    mov     rax, -LX_EINVAL
    ret
.Ldj_keep_arch_prctl_set:
    mov     eax, LX_NR_ARCH_PRCTL
    syscall
    ret
.Ldj_keep_arch_prctl_get:
    sub     rsp, 24                         /* [rsp] = FS base, [rsp + 8] = the workload's pointer */
    mov     [rsp + 8], rsi
    mov     rsi, rsp
    mov     eax, LX_NR_ARCH_PRCTL
    syscall
    test    rax, rax
    jnz     .Ldj_keep_arch_prctl_done
    mov     rdi, [rsp + 8]
    mov     rsi, rsp
    mov     edx, 8
    call    dj_user_write
.Ldj_keep_arch_prctl_done:
    add     rsp, 24
    ret
END(dj_keep_arch_prctl)

/* set_tid_address (rdi = clear_child_tid): this thread's word, zeroed and woken when it exits (threads.c);
   the result is the thread's keep id, which libc caches as its tid: the one gettid() gives and tgkill() takes.
   The record is at the base of the thread block this handler runs in (threads.c). */
LOCAL_FUNC(dj_keep_set_tid_address)
    mov     rax, rsp
    and     rax, -DJ_THREAD_BLOCK_SIZE
    mov     [rax + DJ_THREAD_CLEAR_CHILD_TID], rdi
    mov     eax, dword ptr [rax + DJ_THREAD_TID]
    ret
END(dj_keep_set_tid_address)

/* set_robust_list (rdi = head, rsi = length): accepted, as Linux does, when the length is right (the list is
   remembered per thread; a keep's threads never die holding a lock another outlives: exit is the only end). */
LOCAL_FUNC(dj_keep_set_robust_list)
    cmp     rsi, LX_ROBUST_LIST_HEAD_SIZE
    jne     .Ldj_keep_set_robust_list_bad
    mov     rax, rsp
    and     rax, -DJ_THREAD_BLOCK_SIZE
    mov     [rax + DJ_THREAD_ROBUST_LIST], rdi
    xor     eax, eax
    ret
.Ldj_keep_set_robust_list_bad:
    mov     rax, -LX_EINVAL
    ret
END(dj_keep_set_robust_list)

/* rseq: not offered; every libc falls back when it gets ENOSYS. */
LOCAL_FUNC(dj_keep_rseq)
    mov     rax, -LX_ENOSYS
    ret
END(dj_keep_rseq)


/* dj_keep_table: one int32 per syscall number below DJ_KEEP_TABLE_COUNT, the handler's offset from the table
   (position-independent, so the image needs no relocation), or 0 for "send it to the host". KEEP must be
   used in increasing number order: it fills the gap before each entry with zeros. */
    .section .rodata
    .balign 4
DATA(dj_keep_table)                         /* also the direct entry's (patch.S) */
.macro KEEP number, handler
    .fill   (\number) - (. - dj_keep_table) / 4, 4, 0
    .long   \handler - dj_keep_table
.endm
    KEEP    LX_NR_MMAP, dj_sys_mmap
    KEEP    LX_NR_MPROTECT, dj_sys_mprotect
    KEEP    LX_NR_MUNMAP, dj_sys_munmap
    KEEP    LX_NR_BRK, dj_sys_brk
    KEEP    LX_NR_RT_SIGACTION, dj_sys_rt_sigaction
    KEEP    LX_NR_RT_SIGPROCMASK, dj_sys_rt_sigprocmask
    KEEP    LX_NR_SCHED_YIELD, dj_sys_sched_yield
    KEEP    LX_NR_MREMAP, dj_sys_mremap
    KEEP    LX_NR_MADVISE, dj_sys_madvise
    KEEP    LX_NR_PAUSE, dj_sys_pause
    KEEP    LX_NR_EXIT, dj_keep_exit
    KEEP    LX_NR_KILL, dj_sys_kill
    KEEP    LX_NR_RT_SIGPENDING, dj_sys_rt_sigpending
    KEEP    LX_NR_RT_SIGTIMEDWAIT, dj_sys_rt_sigtimedwait
    KEEP    LX_NR_RT_SIGSUSPEND, dj_sys_rt_sigsuspend
    KEEP    LX_NR_SIGALTSTACK, dj_sys_sigaltstack
    KEEP    LX_NR_ARCH_PRCTL, dj_keep_arch_prctl
    KEEP    LX_NR_GETTID, dj_sys_gettid
    KEEP    LX_NR_TKILL, dj_sys_tkill
    KEEP    LX_NR_FUTEX, dj_sys_futex
    KEEP    LX_NR_SET_TID_ADDRESS, dj_keep_set_tid_address
    KEEP    LX_NR_EXIT_GROUP, dj_keep_exit_group
    KEEP    LX_NR_TGKILL, dj_sys_tgkill
    KEEP    LX_NR_SET_ROBUST_LIST, dj_keep_set_robust_list
    KEEP    LX_NR_RSEQ, dj_keep_rseq
    .fill   DJ_KEEP_TABLE_COUNT - (. - dj_keep_table) / 4, 4, 0
dj_keep_table_end:
    .if (dj_keep_table_end - dj_keep_table) != DJ_KEEP_TABLE_COUNT * 4
    .error "dj_keep_table: entries out of order or beyond DJ_KEEP_TABLE_COUNT"
    .endif
