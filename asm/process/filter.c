/*
 * asm/process/filter.c -- the seccomp filter of the process keep: every workload system call becomes a
 * SIGSYS, and the shim's own system calls are allowed one by one, with their arguments pinned.
 *
 * Entry points
 *   dj_seccomp_install()           once, from _start (entry.S), after the image is loaded, the foreign
 *                                  mappings are gone and the signal handlers are in place; exits 124 on failure
 *
 * Why the arguments are checked (docs/design.md, "Threat model")
 *   The shim lives in the workload's address space. A workload can find it (by probing with a fault handler,
 *   if nothing else) and jump to a `syscall` instruction in its text, so the instruction pointer alone proves
 *   nothing about who asks. The filter therefore lets the shim's text make only the calls the shim needs, each
 *   harmless even when the workload chooses every register: none reaches a file, the network, another process
 *   or a new process. Anything else from the shim's text kills the whole process (SECCOMP_RET_KILL_PROCESS),
 *   and Donjon reports the keep killed by its filter.
 *
 * The program (classic BPF over struct seccomp_data; built at run time because the shim is position-
 * independent: its text range and the pid are known only then)
 *
 *     arch != AUDIT_ARCH_X86_64                   -> KILL   (an `int 0x80` from 64-bit code)
 *     ip outside [__shim_text_start, __shim_text_end)
 *                                                 -> TRAP   (the workload: SIGSYS, sigsys.S serves it; x32
 *                                                            numbers, uretprobe and uprobe included: the
 *                                                            shim answers them -ENOSYS as undeclared)
 *     from the shim's text:
 *     nr has the x32 bit (0x40000000)             -> KILL
 *     rt_sigreturn                                -> ALLOW  every handler returns through dj_restorer
 *     exit, exit_group                            -> ALLOW  the end of the keep (dj_keep_exit, dj_fatal)
 *     gettid                                      -> ALLOW  the fault path's tgkill
 *     futex(.., op, ..) with op WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET or WAKE_BITSET, with
 *       only the PRIVATE and CLOCK_REALTIME flags -> ALLOW  the block's doorbell (doorbell.S) and the
 *                                                           workload's futexes (futex.c). A futex reaches only
 *                                                           this process's waiters, or, on the block, the
 *                                                           host's doorbell waiter, which re-reads the doorbell
 *                                                           anyway. Never the PI operations: their word names
 *                                                           an owner thread id the kernel looks up host-wide.
 *     sched_yield                                 -> ALLOW  futex.c
 *     mmap(.., prot not W+X, flags with MAP_ANONYMOUS and no high bits, fd -1)
 *                                                 -> ALLOW  the workload's anonymous memory (memory.c); never
 *                                                           a descriptor, so never a file or the block again
 *     mprotect(.., prot not W+X)                  -> ALLOW  memory.c
 *     munmap, mremap                              -> ALLOW  memory.c; they only move or drop this process's pages
 *     madvise(.., advice < MADV_HWPOISON)         -> ALLOW  memory.c; memory-error injection never
 *     rt_sigaction, rt_sigprocmask, sigaltstack   -> ALLOW  the shim's real signal state (signals.S) and the
 *                                                           fault path's return to the default action
 *     arch_prctl(ARCH_SET_FS | ARCH_GET_FS)       -> ALLOW  the workload's TLS base (sigsys.S)
 *     arch_prctl(ARCH_SET_GS)                     -> ALLOW  a new thread's GS base, its block, which the direct
 *                                                           entry of patched sites checks (patch.S); it sets
 *                                                           only the caller's own GS base
 *     tgkill(own pid, .., ..)                     -> ALLOW  the fault path dies by the real signal (signals.S), and
 *                                                           a kick (SIGURG) to another keep thread (threads.c)
 *     clone(DJ_PROCESS_CLONE_FLAGS, ..)           -> ALLOW  a keep thread (threads.c): a thread of this same
 *                                                           process, under this same filter, never a process
 *     write(2, ..), writev(2, ..)                 -> ALLOW  dj_fatal and the internal-fault line, to Donjon's
 *                                                           stderr, which the workload may write anyway
 *                                                           through the policy's fd 2
 *     anything else                               -> KILL   openat, socket, connect, kill, clone3, fork,
 *                                                           execve, ptrace, process_vm_*, prctl, seccomp, ...
 *
 *   Every 64-bit argument is compared in both halves. Everything the launch needs (prctl, fcntl, fstat, mmap
 *   of the descriptors, close_range, openat and read of /proc/self/maps, prlimit64, getpid, seccomp itself)
 *   happens before the filter exists. The filter cannot be removed or loosened, and execve is not allowed, so
 *   nothing can shed it. A workload that jumps to the shim's clone gains a thread of its own keep, no more.
 *
 * Untrusted inputs: none.
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

struct sock_filter {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};

struct sock_fprog {
    uint16_t length;
    struct sock_filter *filter;
};

_Static_assert(sizeof(struct sock_filter) == LX_SOCK_FILTER_SIZE, "struct sock_filter");
_Static_assert(sizeof(struct sock_fprog) == LX_SOCK_FPROG_SIZE, "struct sock_fprog");

long dj_pid;

#define MAX_INSTRUCTIONS 160

/* Jump targets inside one rule: its ALLOW or its KILL, resolved when the rule ends. */
#define TO_ALLOW 0xFE
#define TO_KILL 0xFF

static struct {
    struct sock_filter program[MAX_INSTRUCTIONS];
    unsigned count;
    unsigned rule_start;    /* the rule's `jeq nr` */
    int overflow;
} bpf;

static void emit(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
    if (bpf.count >= MAX_INSTRUCTIONS) {
        bpf.overflow = 1;
        return;
    }
    bpf.program[bpf.count++] = (struct sock_filter){ code, jt, jf, k };
}

static void load(uint32_t offset) { emit(LX_BPF_LD_W_ABS, 0, 0, offset); }
static void ret(uint32_t action) { emit(LX_BPF_RET_K, 0, 0, action); }

static uint32_t arg_lo(unsigned i) { return LX_SECCOMP_DATA_ARGS + 8 * i; }
static uint32_t arg_hi(unsigned i) { return LX_SECCOMP_DATA_ARGS + 8 * i + 4; }

/* A rule: "if nr == number: <checks>; ALLOW", where each check jumps to the rule's KILL when it fails. A rule
   with no checks allows the call outright. The accumulator holds nr whenever a rule starts: a rule loads
   arguments only on its own taken path, and that path always ends in a ret. */
static void rule_begin(uint32_t number)
{
    bpf.rule_start = bpf.count;
    emit(LX_BPF_JEQ_K, 0, 0 /* patched: past the rule */, number);
}

static void rule_end(void)
{
    unsigned allow = bpf.count;
    ret(LX_SECCOMP_RET_ALLOW);
    unsigned kill = bpf.count;
    ret(LX_SECCOMP_RET_KILL_PROCESS);
    if (bpf.overflow)
        return;
    for (unsigned i = bpf.rule_start + 1; i < allow; i++) {
        struct sock_filter *f = &bpf.program[i];
        if (f->jt == TO_ALLOW)
            f->jt = (uint8_t)(allow - i - 1);
        else if (f->jt == TO_KILL)
            f->jt = (uint8_t)(kill - i - 1);
        if (f->jf == TO_ALLOW)
            f->jf = (uint8_t)(allow - i - 1);
        else if (f->jf == TO_KILL)
            f->jf = (uint8_t)(kill - i - 1);
    }
    bpf.program[bpf.rule_start].jf = (uint8_t)(kill - bpf.rule_start);
}

static void allow(uint32_t number)
{
    rule_begin(number);
    rule_end();
}

/* argument i == value, in both halves */
static void check_equal(unsigned i, uint64_t value)
{
    load(arg_lo(i));
    emit(LX_BPF_JEQ_K, 0, TO_KILL, (uint32_t)value);
    load(arg_hi(i));
    emit(LX_BPF_JEQ_K, 0, TO_KILL, (uint32_t)(value >> 32));
}

/* argument i (a prot) is not both writable and executable */
static void check_not_write_exec(unsigned i)
{
    load(arg_lo(i));
    emit(LX_BPF_ALU_AND_K, 0, 0, LX_PROT_WRITE | LX_PROT_EXEC);
    emit(LX_BPF_JEQ_K, TO_KILL, 0, LX_PROT_WRITE | LX_PROT_EXEC);
}

void dj_seccomp_install(void)
{
    uint64_t text_start = (uint64_t)__shim_text_start;
    uint64_t text_end = (uint64_t)__shim_text_end;
    long pid = dj_syscall1(LX_NR_GETPID, 0);
    dj_pid = pid;

    bpf.count = 0;
    bpf.overflow = 0;

    /* 0-2: the architecture */
    load(LX_SECCOMP_DATA_ARCH);
    emit(LX_BPF_JEQ_K, 1, 0, LX_AUDIT_ARCH_X86_64);
    ret(LX_SECCOMP_RET_KILL_PROCESS);

    /* 3-13: text_start <= ip < text_end (ip as two 32-bit halves), else TRAP at 13; the shim's rules start
       at 14. Jump offsets count from the next instruction. */
    load(LX_SECCOMP_DATA_IP_HI);                                         /* 3 */
    emit(LX_BPF_JGT_K, 3, 0, (uint32_t)(text_start >> 32));              /* 4: hi > start_hi -> 8 */
    emit(LX_BPF_JEQ_K, 0, 7, (uint32_t)(text_start >> 32));              /* 5: hi < start_hi -> 13 */
    load(LX_SECCOMP_DATA_IP_LO);                                         /* 6 */
    emit(LX_BPF_JGE_K, 0, 5, (uint32_t)text_start);                      /* 7: lo < start_lo -> 13 */
    load(LX_SECCOMP_DATA_IP_HI);                                         /* 8 */
    emit(LX_BPF_JGT_K, 3, 0, (uint32_t)(text_end >> 32));                /* 9: hi > end_hi -> 13 */
    emit(LX_BPF_JEQ_K, 0, 3, (uint32_t)(text_end >> 32));                /* 10: hi < end_hi -> 14 */
    load(LX_SECCOMP_DATA_IP_LO);                                         /* 11 */
    emit(LX_BPF_JGE_K, 0, 1, (uint32_t)text_end);                        /* 12: lo >= end_lo -> 13, else 14 */
    ret(LX_SECCOMP_RET_TRAP);                                            /* 13 */

    /* 14: from the shim's text */
    load(LX_SECCOMP_DATA_NR);
    emit(LX_BPF_JSET_K, 0, 1, LX_X32_SYSCALL_BIT);
    ret(LX_SECCOMP_RET_KILL_PROCESS);

    allow(LX_NR_RT_SIGRETURN);
    allow(LX_NR_EXIT);
    allow(LX_NR_EXIT_GROUP);
    allow(LX_NR_GETTID);

    rule_begin(LX_NR_FUTEX);
    load(arg_hi(1));
    emit(LX_BPF_JEQ_K, 0, TO_KILL, 0);
    load(arg_lo(1));
    emit(LX_BPF_JSET_K, TO_KILL, 0, ~(uint32_t)(LX_FUTEX_CMD_MASK | LX_FUTEX_PRIVATE_FLAG | LX_FUTEX_CLOCK_REALTIME));
    emit(LX_BPF_ALU_AND_K, 0, 0, LX_FUTEX_CMD_MASK);
    emit(LX_BPF_JEQ_K, TO_ALLOW, 0, LX_FUTEX_WAIT);
    emit(LX_BPF_JEQ_K, TO_ALLOW, 0, LX_FUTEX_WAKE);
    emit(LX_BPF_JEQ_K, TO_ALLOW, 0, LX_FUTEX_REQUEUE);
    emit(LX_BPF_JEQ_K, TO_ALLOW, 0, LX_FUTEX_CMP_REQUEUE);
    emit(LX_BPF_JEQ_K, TO_ALLOW, 0, LX_FUTEX_WAKE_OP);
    emit(LX_BPF_JEQ_K, TO_ALLOW, 0, LX_FUTEX_WAIT_BITSET);
    emit(LX_BPF_JEQ_K, TO_ALLOW, TO_KILL, LX_FUTEX_WAKE_BITSET);
    rule_end();

    allow(LX_NR_SCHED_YIELD);

    rule_begin(LX_NR_MMAP);
    check_not_write_exec(2);
    load(arg_hi(3));
    emit(LX_BPF_JEQ_K, 0, TO_KILL, 0);
    load(arg_lo(3));
    emit(LX_BPF_JSET_K, 0, TO_KILL, LX_MAP_ANONYMOUS);
    check_equal(4, UINT64_MAX);
    rule_end();

    rule_begin(LX_NR_MPROTECT);
    check_not_write_exec(2);
    rule_end();

    allow(LX_NR_MUNMAP);
    allow(LX_NR_MREMAP);

    rule_begin(LX_NR_MADVISE);
    load(arg_hi(2));
    emit(LX_BPF_JEQ_K, 0, TO_KILL, 0);
    load(arg_lo(2));
    emit(LX_BPF_JGE_K, TO_KILL, 0, LX_MADV_HWPOISON);
    rule_end();

    allow(LX_NR_RT_SIGACTION);
    allow(LX_NR_RT_SIGPROCMASK);
    allow(LX_NR_SIGALTSTACK);

    rule_begin(LX_NR_ARCH_PRCTL);
    load(arg_hi(0));
    emit(LX_BPF_JEQ_K, 0, TO_KILL, 0);
    load(arg_lo(0));
    emit(LX_BPF_JEQ_K, 2, 0, LX_ARCH_SET_FS);
    emit(LX_BPF_JEQ_K, 1, 0, LX_ARCH_GET_FS);
    emit(LX_BPF_JEQ_K, 0, TO_KILL, DJ_ARCH_SET_GS);
    rule_end();

    rule_begin(LX_NR_TGKILL);
    check_equal(0, (uint64_t)pid);
    rule_end();

    rule_begin(LX_NR_CLONE);
    check_equal(0, DJ_PROCESS_CLONE_FLAGS);
    rule_end();

    static const uint32_t to_stderr[] = { LX_NR_WRITE, LX_NR_WRITEV };
    for (unsigned i = 0; i < sizeof to_stderr / sizeof to_stderr[0]; i++) {
        rule_begin(to_stderr[i]);
        check_equal(0, 2);
        rule_end();
    }

    ret(LX_SECCOMP_RET_KILL_PROCESS);

    if (bpf.overflow)
        dj_fatal(DJ_SHIM_EXIT_SECCOMP_FAILED, "the seccomp program does not fit its buffer");

    struct sock_fprog program = { (uint16_t)bpf.count, bpf.program };
    if (dj_syscall6(LX_NR_PRCTL, LX_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) != 0 ||
        dj_syscall3(LX_NR_SECCOMP, LX_SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
        dj_fatal(DJ_SHIM_EXIT_SECCOMP_FAILED,
                 "could not install the seccomp filter (prctl(PR_SET_NO_NEW_PRIVS) or seccomp(SECCOMP_SET_MODE_FILTER) failed)");
}
