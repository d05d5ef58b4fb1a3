/*
 * asm/common/sigstate.c -- the workload's signals, with Linux's semantics, built by the shim: its view of
 * rt_sigaction, rt_sigprocmask, sigaltstack and rt_sigpending; kill, tkill and tgkill to itself; the pending
 * set; and the delivery of a signal to the workload's own handler through a real x86-64 rt_sigframe, and back
 * through rt_sigreturn.
 *
 * Entry points
 *   dj_sys_rt_sigaction/rt_sigprocmask/sigaltstack/rt_sigpending/kill/tkill/tgkill/gettid()
 *                                 from each shim's syscall dispatch
 *   dj_host_syscall()             dj_marshal_syscall, then SIGPIPE when a write-like call met a closed pipe
 *   dj_signal_raise()             a signal for the workload (a fault, kill, EPIPE): pending until delivered
 *   dj_signal_deliverable()       whether an unblocked signal is pending (the fast test on every return)
 *   dj_signal_deliver()           at a return to the workload: build frames, or report a default action
 *   dj_signal_return()            rt_sigreturn: the workload's registers back from its frame
 *   dj_signal_action_is_handler() whether a fault can go to a workload handler at all
 *
 * Why emulated: a shim owns the real signal state. In the process keep, a SIGSYS that arrives while SIGSYS is
 * blocked kills the process, and workload code must never run as a handler of the shim's own signals. So the
 * real mask and actions are the shim's alone; the workload sees, and may change, only this copy, and its
 * handlers run only when the shim builds a frame for them. Each shim supplies the registers (its saved user
 * context, in struct sigcontext order) and the FPU state image in the kernel's signal-frame format
 * (process: the kernel's own frame; VM: XSAVE); this file does the rest, the same in every keep.
 *
 * Frame (what Linux's setup_rt_frame builds, so that libc and debuggers read it the same way)
 *   [sp - 128 red zone, or the top of the alternate stack]  FPU state (64-byte aligned, `fpstate_size` bytes)
 *   below it, with (frame + 8) 16-byte aligned: rt_sigframe { sa_restorer, ucontext (304), siginfo (128) }
 *   handler entry: rip = handler, rsp = frame, rdi = signal, rsi = &siginfo, rdx = &ucontext, rax = 0,
 *   DF, TF and RF clear; the mask gains sa_mask and the signal itself (unless SA_NODEFER).
 *
 * Default actions: terminate or core -> the shim ends the keep with 128 + signal (the caller does it, since
 *   how differs per keep); ignore (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) -> dropped; stop (SIGSTOP, SIGTSTP,
 *   SIGTTIN, SIGTTOU) -> dropped too, as a keep has no job control (docs/protocol.md).
 *
 * Untrusted inputs: every syscall argument, the workload's registers, and every byte of its memory (frames,
 *   actions, stacks). Workload memory is touched only through dj_user_read/dj_user_write.
 */
#include "shim.h"
#include "linux.h"

struct kernel_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

#define kernel_stack dj_sigstack

_Static_assert(sizeof(struct kernel_sigaction) == LX_SIGACTION_SIZE, "struct sigaction");
_Static_assert(sizeof(struct kernel_stack) == LX_STACK_SIZE, "stack_t");
_Static_assert(sizeof(struct dj_user_regs) == 18 * 8, "struct dj_user_regs is sigcontext's r8..eflags");

/* SIGKILL and SIGSTOP can be neither blocked nor caught; Linux drops them from every mask it is given. */
#define UNBLOCKABLE ((1ull << (LX_SIGKILL - 1)) | (1ull << (LX_SIGSTOP - 1)))
#define BIT(sig) (1ull << ((sig) - 1))

_Static_assert(DJ_SIGNAL_COUNT == LX_NSIG && DJ_SIGINFO_SIZE == LX_SIGINFO_SIZE, "struct dj_thread's signal arrays");

/* Per thread (struct dj_thread): the mask, the signals sent to the thread, rt_sigsuspend's saved mask, the
   alternate stack. For the whole keep: the actions, and the signals sent to the process (kill, the host's), which
   the first thread that does not block one takes. */
#define blocked (dj_thread_self()->blocked)
#define saved_mask (dj_thread_self()->saved_mask)
#define restore_saved_mask (dj_thread_self()->restore_saved_mask)
#define altstack (dj_thread_self()->altstack)

static struct kernel_sigaction actions[LX_NSIG];
static volatile int actions_lock;
static uint64_t process_pending;
static uint8_t process_info[LX_NSIG][LX_SIGINFO_SIZE];
static volatile int process_info_lock;

static int valid_signal(uint64_t sig) { return sig >= 1 && sig <= LX_NSIG; }

/* Pending bits are also changed by other threads and by the process shim's kick handler, which may interrupt the
   shim anywhere: every change is one atomic operation. */
static uint64_t thread_pending(struct dj_thread *t) { return __atomic_load_n(&t->pending, __ATOMIC_SEQ_CST); }
static uint64_t pending_now(void)
{
    return thread_pending(dj_thread_self()) | __atomic_load_n(&process_pending, __ATOMIC_SEQ_CST);
}
static void pending_clear(uint64_t bits)
{
    __atomic_and_fetch(&dj_thread_self()->pending, ~bits, __ATOMIC_SEQ_CST);
    __atomic_and_fetch(&process_pending, ~bits, __ATOMIC_SEQ_CST);
}

enum default_action { TERMINATE, IGNORE };
static enum default_action default_action(int sig);

/* The signals that would interrupt a blocked call: a handler, or a default action that ends the program. The host
   reads it to decide whether a forwarded signal interrupts the call it is serving (an ignored one must not). */
static void publish_to(struct dj_thread *t, void *mask)
{
    dj_channel_publish_interrupting(&t->slot, *(uint64_t *)mask);
}

static void publish_interrupting(void)
{
    uint64_t mask = 0;
    for (int sig = 1; sig <= LX_NSIG; sig++) {
        uint64_t handler = actions[sig - 1].handler;
        if (handler == LX_SIG_IGN || (handler == 0 && default_action(sig) == IGNORE))
            continue;
        mask |= BIT(sig);
    }
    dj_threads_each(publish_to, &mask);
}

/* ---- rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending: Linux's checks and error order ---- */

long dj_sys_rt_sigaction(uint64_t signal, uint64_t act, uint64_t oldact, uint64_t sigsetsize)
{
    int sig = (int)signal;
    struct kernel_sigaction action;
    if (sigsetsize != LX_SIGSET_SIZE)
        return -LX_EINVAL;
    if (act && dj_user_read(&action, act, sizeof action))
        return -LX_EFAULT;
    if (!valid_signal(signal) || (act && (sig == LX_SIGKILL || sig == LX_SIGSTOP)))
        return -LX_EINVAL;
    dj_lock(&actions_lock);
    struct kernel_sigaction old = actions[sig - 1];
    if (act) {
        action.mask &= ~UNBLOCKABLE;
        actions[sig - 1] = action;
    }
    dj_unlock(&actions_lock);
    if (act) {
        /* POSIX: setting SIG_IGN discards a pending instance (so does SIG_DFL of a default-ignored one). */
        if (action.handler == LX_SIG_IGN)
            pending_clear(BIT(sig));
        publish_interrupting();
    }
    if (oldact && dj_user_write(oldact, &old, sizeof old))
        return -LX_EFAULT;
    return 0;
}

long dj_sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oldset, uint64_t sigsetsize)
{
    if (sigsetsize != LX_SIGSET_SIZE)
        return -LX_EINVAL;
    uint64_t old = blocked;
    if (set) {
        uint64_t mask;
        if (dj_user_read(&mask, set, sizeof mask))
            return -LX_EFAULT;
        mask &= ~UNBLOCKABLE;
        switch ((int)how) {
        case LX_SIG_BLOCK:
            blocked |= mask;
            break;
        case LX_SIG_UNBLOCK:
            blocked &= ~mask;
            break;
        case LX_SIG_SETMASK:
            blocked = mask;
            break;
        default:
            return -LX_EINVAL;
        }
    }
    if (oldset && dj_user_write(oldset, &old, sizeof old))
        return -LX_EFAULT;
    return 0;
}

long dj_sys_rt_sigpending(uint64_t set, uint64_t sigsetsize)
{
    if (sigsetsize > LX_SIGSET_SIZE)
        return -LX_EINVAL;
    uint64_t value = pending_now() & blocked;
    if (dj_user_write(set, &value, sigsetsize))
        return -LX_EFAULT;
    return 0;
}

/* Whether `sp` lies on the workload's alternate stack. */
static int on_altstack(uint64_t sp)
{
    return altstack.size && sp > altstack.sp && sp - altstack.sp <= altstack.size;
}

static struct kernel_stack current_stack(uint64_t sp)
{
    struct kernel_stack s = altstack;
    s.flags = (altstack.size ? (on_altstack(sp) ? LX_SS_ONSTACK : 0) : LX_SS_DISABLE) |
              (int32_t)((uint32_t)altstack.flags & LX_SS_AUTODISARM);
    s.pad = 0;
    return s;
}

/* sigaltstack as Linux's do_sigaltstack: `sp` is the caller's stack pointer (EPERM while on the stack). */
static long set_altstack(const struct kernel_stack *requested, uint64_t sp)
{
    uint32_t mode = (uint32_t)requested->flags & ~(uint32_t)LX_SS_AUTODISARM;
    if (on_altstack(sp))
        return -LX_EPERM;
    if (mode != LX_SS_DISABLE && mode != LX_SS_ONSTACK && mode != 0)
        return -LX_EINVAL;
    struct kernel_stack next = *requested;
    if (mode == LX_SS_DISABLE) {
        next.sp = 0;
        next.size = 0;
    } else if (next.size < LX_MINSIGSTKSZ) {
        return -LX_ENOMEM;
    }
    next.flags = (int32_t)((uint32_t)requested->flags & LX_SS_AUTODISARM);
    altstack = next;
    return 0;
}

long dj_sys_sigaltstack_at(uint64_t stack, uint64_t oldstack, uint64_t sp)
{
    struct kernel_stack requested;
    if (stack && dj_user_read(&requested, stack, sizeof requested))
        return -LX_EFAULT;
    struct kernel_stack old = current_stack(sp);
    if (stack) {
        long r = set_altstack(&requested, sp);
        if (r)
            return r;
    }
    if (oldstack && dj_user_write(oldstack, &old, sizeof old))
        return -LX_EFAULT;
    return 0;
}

/* The shims' tables call this one: without the caller's stack pointer, which the table handlers do not get,
   EPERM (changing the stack while on it) cannot be detected; every other check is made. */
long dj_sys_sigaltstack(uint64_t stack, uint64_t oldstack)
{
    return dj_sys_sigaltstack_at(stack, oldstack, 0);
}

/* ---- raising ---- */

/* A signal for thread `t` (a fault, tgkill, EPIPE): pending on that thread only. */
static void raise_on(struct dj_thread *t, int sig, const uint8_t info[LX_SIGINFO_SIZE])
{
    if (!valid_signal((uint64_t)sig))
        return;
    if (__atomic_load_n(&actions[sig - 1].handler, __ATOMIC_RELAXED) == LX_SIG_IGN)
        return;
    /* Standard signals do not queue: a second instance while one is pending is lost, as in Linux. */
    if (thread_pending(t) & BIT(sig))
        return;
    memcpy(t->pending_info[sig - 1], info, LX_SIGINFO_SIZE);
    __atomic_or_fetch(&t->pending, BIT(sig), __ATOMIC_SEQ_CST);
}

void dj_signal_raise(int sig, const uint8_t info[LX_SIGINFO_SIZE])
{
    raise_on(dj_thread_self(), sig, info);
}

/* A signal for the whole keep (kill, the host's): pending until a thread that does not block it takes it. */
static void raise_on_process(int sig, const uint8_t info[LX_SIGINFO_SIZE])
{
    if (!valid_signal((uint64_t)sig))
        return;
    if (__atomic_load_n(&actions[sig - 1].handler, __ATOMIC_RELAXED) == LX_SIG_IGN)
        return;
    dj_lock(&process_info_lock);
    if (!(__atomic_load_n(&process_pending, __ATOMIC_SEQ_CST) & BIT(sig))) {
        memcpy(process_info[sig - 1], info, LX_SIGINFO_SIZE);
        __atomic_or_fetch(&process_pending, BIT(sig), __ATOMIC_SEQ_CST);
    }
    dj_unlock(&process_info_lock);
    if (dj_thread_count() > 1)
        dj_threads_kick_waiters();
}

/* The siginfo of a pending signal: the thread's own instance first, as Linux's dequeue_signal. */
static void pending_info_of(int sig, uint8_t out[LX_SIGINFO_SIZE])
{
    struct dj_thread *self = dj_thread_self();
    if (thread_pending(self) & BIT(sig)) {
        memcpy(out, self->pending_info[sig - 1], LX_SIGINFO_SIZE);
        return;
    }
    dj_lock(&process_info_lock);
    memcpy(out, process_info[sig - 1], LX_SIGINFO_SIZE);
    dj_unlock(&process_info_lock);
}

/* Takes one pending instance of `sig` for the calling thread: its own first, else the process's (which only one
   thread can win). Whether there was one. */
static int take_pending(int sig)
{
    struct dj_thread *self = dj_thread_self();
    if (__atomic_fetch_and(&self->pending, ~BIT(sig), __ATOMIC_SEQ_CST) & BIT(sig))
        return 1;
    return (__atomic_fetch_and(&process_pending, ~BIT(sig), __ATOMIC_SEQ_CST) & BIT(sig)) != 0;
}

/* Signals the host forwarded (Donjon got them: SIGINT, SIGTERM, ...), raised as a kill from outside the keep. */
static void take_forwarded(void)
{
    uint64_t bits = dj_channel_take_signals();
    while (bits) {
        int sig = __builtin_ctzll(bits) + 1;
        bits &= bits - 1;
        uint8_t info[LX_SIGINFO_SIZE];
        memset(info, 0, sizeof info);
        int32_t signo = sig;
        memcpy(info + LX_SI_SIGNO, &signo, 4);      /* SI_USER, from pid 0: a sender outside the keep */
        raise_on_process(sig, info);
    }
}

void dj_signals_init(void) { publish_interrupting(); }

void dj_signals_thread_init(struct dj_thread *t)
{
    uint64_t mask = 0;
    for (int sig = 1; sig <= LX_NSIG; sig++) {
        uint64_t handler = __atomic_load_n(&actions[sig - 1].handler, __ATOMIC_RELAXED);
        if (handler == LX_SIG_IGN || (handler == 0 && default_action(sig) == IGNORE))
            continue;
        mask |= BIT(sig);
    }
    dj_channel_publish_interrupting(&t->slot, mask);
}

int dj_signal_pending_in(uint64_t wanted)
{
    take_forwarded();
    return (pending_now() & wanted) != 0;
}

/* siginfo for kill/tkill/tgkill from the keep's one process (pid 1, uid 0 as far as the keep tells); `target`
   is the thread for tkill/tgkill, NULL for the whole process (kill). */
static long send_from_user(struct dj_thread *target, uint64_t sig, int code)
{
    if (sig == 0)
        return 0;                       /* the existence check */
    if (!valid_signal(sig))
        return -LX_EINVAL;
    uint8_t info[LX_SIGINFO_SIZE];
    memset(info, 0, sizeof info);
    int32_t signo = (int32_t)sig, pid = DJ_KEEP_PROCESS_ID;
    memcpy(info + LX_SI_SIGNO, &signo, 4);
    memcpy(info + LX_SI_CODE, &code, 4);
    memcpy(info + LX_SI_PID, &pid, 4);
    if (!target) {
        raise_on_process((int)sig, info);
    } else {
        raise_on(target, (int)sig, info);
        if (target != dj_thread_self())
            dj_thread_kick(target);
    }
    return 0;
}

/* kill: the keep is one process, pid 1; 0 is its own group, -1 everyone else (nobody, here). */
long dj_sys_kill(uint64_t pid, uint64_t sig)
{
    int64_t target = (int64_t)(int32_t)pid;
    if (sig > LX_NSIG)
        return -LX_EINVAL;
    if (target == DJ_KEEP_PROCESS_ID || target == 0 || target == -DJ_KEEP_PROCESS_ID)
        return send_from_user(NULL, sig, LX_SI_USER);
    return -LX_ESRCH;
}

long dj_sys_tkill(uint64_t tid, uint64_t sig)
{
    if ((int32_t)tid <= 0)
        return -LX_EINVAL;
    if (sig > LX_NSIG)
        return -LX_EINVAL;
    struct dj_thread *target = dj_thread_find((uint32_t)tid);
    if (!target)
        return -LX_ESRCH;
    return send_from_user(target, sig, LX_SI_TKILL);
}

long dj_sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig)
{
    if ((int32_t)tid <= 0 || (int32_t)tgid <= 0)
        return -LX_EINVAL;
    if (sig > LX_NSIG)
        return -LX_EINVAL;
    struct dj_thread *target = (int32_t)tgid == DJ_KEEP_PROCESS_ID ? dj_thread_find((uint32_t)tid) : NULL;
    if (!target)
        return -LX_ESRCH;
    return send_from_user(target, sig, LX_SI_TKILL);
}

long dj_sys_gettid(void) { return dj_thread_self()->tid; }

/* ---- waiting for a signal: pause, rt_sigsuspend, rt_sigtimedwait ---- */

/* The keep's one thread: a signal it does not have pending now comes only from the host (one Donjon forwards), so
   a wait lasts until then, or until Donjon stops the keep. A timed rt_sigtimedwait sleeps on the host's clock and
   sees only what is pending when it wakes (the host's sleep is interrupted for a forwarded signal). */

long dj_sys_pause(void)
{
    dj_wait_for_signal(0);
    return -LX_EINTR;                   /* delivered on the way back (the shim's return path) */
}

long dj_sys_rt_sigsuspend(uint64_t set, uint64_t sigsetsize)
{
    uint64_t mask;
    if (sigsetsize != LX_SIGSET_SIZE)
        return -LX_EINVAL;
    if (dj_user_read(&mask, set, sizeof mask))
        return -LX_EFAULT;
    saved_mask = blocked;
    restore_saved_mask = 1;
    blocked = mask & ~UNBLOCKABLE;
    dj_wait_for_signal(0);
    return -LX_EINTR;
}

long dj_sys_rt_sigtimedwait(uint64_t set, uint64_t info, uint64_t timeout, uint64_t sigsetsize)
{
    uint64_t wanted;
    if (sigsetsize != LX_SIGSET_SIZE)
        return -LX_EINVAL;
    if (dj_user_read(&wanted, set, sizeof wanted))
        return -LX_EFAULT;
    wanted &= ~UNBLOCKABLE;
    if (!timeout) {
        dj_wait_for_signal(wanted);
        if (!dj_signal_pending_in(wanted))
            return -LX_EINTR;           /* another signal came first: delivered on the way back */
    }
    take_forwarded();
    uint64_t ready = pending_now() & wanted;
    if (ready) {
        int sig = __builtin_ctzll(ready) + 1;
        uint8_t copy[LX_SIGINFO_SIZE];
        pending_info_of(sig, copy);
        if (!take_pending(sig))
            return -LX_EAGAIN;          /* another thread took the process's instance first */
        if (info && dj_user_write(info, copy, LX_SIGINFO_SIZE))
            return -LX_EFAULT;
        return sig;
    }
    if (!timeout)
        return -LX_EINTR;
    int64_t span[2];
    if (dj_user_read(span, timeout, sizeof span))
        return -LX_EFAULT;
    if (span[0] < 0 || span[1] < 0 || span[1] >= 1000000000)
        return -LX_EINVAL;
    if (span[0] || span[1]) {
        /* Nothing can arrive meanwhile: the wait is the host's sleep, on the workload's own timespec. */
        uint64_t args[DJ_MAX_ARGUMENTS] = { LX_CLOCK_MONOTONIC, 0, timeout, 0, 0, 0 };
        long slept = dj_host_syscall(LX_NR_CLOCK_NANOSLEEP, args);
        if (slept < 0 && slept != -LX_EINTR)
            return slept;
    }
    return -LX_EAGAIN;
}

/* ---- the host's calls, and SIGPIPE ---- */

static int raises_sigpipe(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS])
{
    switch (number) {
    case LX_NR_WRITE: case LX_NR_WRITEV: case LX_NR_PWRITE64: case LX_NR_PWRITEV: case LX_NR_PWRITEV2:
        return 1;
    case LX_NR_SENDTO: case LX_NR_SENDMSG:
        return !(args[3 - (number == LX_NR_SENDMSG)] & LX_MSG_NOSIGNAL);
    case LX_NR_SENDMMSG:
        return !(args[3] & LX_MSG_NOSIGNAL);
    default:
        return 0;
    }
}

static long host_call(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS]);

/* 1.4: a call with a signal mask (ppoll, pselect6, epoll_pwait, epoll_pwait2) runs under that mask, as Linux's
   set_user_sigmask: a signal it unblocks that is pending already interrupts at once; one it blocks that interrupts
   the host's wait is left pending and the wait goes on (the host interrupts for any signal with a handler, it does
   not know the mask). When a signal is delivered, the old mask goes into its frame (rt_sigsuspend's saved mask);
   otherwise it comes back now. */
long dj_host_syscall(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS])
{
    uint64_t mask;
    long with_mask = dj_marshal_signal_mask(number, args, &mask);
    if (with_mask <= 0)
        return with_mask < 0 ? with_mask : host_call(number, args);
    uint64_t old = blocked;
    blocked = mask & ~UNBLOCKABLE;
    long result;
    for (;;) {
        if (dj_signal_deliverable()) {
            result = -LX_EINTR;
            break;
        }
        result = dj_marshal_syscall(number, args);
        if ((result == -LX_EINTR || result == -LX_ERESTARTSYS) && !dj_signal_deliverable())
            continue;
        break;
    }
    if (result == -LX_ERESTARTSYS)
        result = -LX_EINTR;             /* these calls are ERESTARTNOHAND: EINTR after a handler */
    if (result == -LX_EINTR && dj_signal_deliverable()) {
        saved_mask = old;
        restore_saved_mask = 1;
    } else {
        blocked = old;
    }
    return result;
}

static long host_call(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS])
{
    long result;
    for (;;) {
        result = dj_marshal_syscall(number, args);
        if (result != -LX_ERESTARTSYS)
            break;
        /* The host interrupted a restartable call for a signal. When this thread has one to take, delivery decides
           (dj_signal_deliver: EINTR, or a restart under SA_RESTART); when not (another thread took it, or it is
           ignored now), the call goes on, as Linux restarts a call no handler ran for. */
        if (dj_signal_deliverable()) {
            dj_thread_self()->restart_number = number;
            return result;
        }
    }
    if (result == -LX_EPIPE && raises_sigpipe(number, args)) {
        uint8_t info[LX_SIGINFO_SIZE];
        memset(info, 0, sizeof info);
        int32_t signo = LX_SIGPIPE;
        memcpy(info + LX_SI_SIGNO, &signo, 4);      /* si_code SI_USER, as the kernel's send_sig() */
        dj_signal_raise(LX_SIGPIPE, info);
    }
    return result;
}

/* ---- delivery ---- */

int dj_signal_deliverable(void)
{
    take_forwarded();
    return (pending_now() & ~blocked) != 0;
}

int dj_signal_action_is_handler(int sig)
{
    if (!valid_signal((uint64_t)sig) || (blocked & BIT(sig)))
        return 0;
    uint64_t handler = actions[sig - 1].handler;
    return handler != 0 && handler != LX_SIG_IGN;
}

static enum default_action default_action(int sig)
{
    switch (sig) {
    case LX_SIGCHLD: case LX_SIGCONT: case LX_SIGURG: case LX_SIGWINCH:
    case LX_SIGSTOP: case LX_SIGTSTP: case LX_SIGTTIN: case LX_SIGTTOU:
        return IGNORE;
    default:
        return TERMINATE;
    }
}

/* The lowest pending unblocked signal; synchronous ones (faults) first, as Linux's next_signal does. */
static int next_signal(void)
{
    uint64_t ready = pending_now() & ~blocked;
    const uint64_t synchronous = BIT(LX_SIGSEGV) | BIT(LX_SIGBUS) | BIT(LX_SIGILL) | BIT(LX_SIGTRAP) |
                                 BIT(LX_SIGFPE) | BIT(LX_SIGSYS);
    if (ready & synchronous)
        ready &= synchronous;
    return ready ? __builtin_ctzll(ready) + 1 : 0;
}

/* Builds one frame for `sig` on the workload's stack and points `regs` at its handler. 0, or -EFAULT when the
   stack cannot take the frame. */
static long build_frame(int sig, const struct kernel_sigaction *a, const uint8_t *siginfo, struct dj_user_regs *regs,
                        const uint8_t *fpstate, uint32_t fpstate_size)
{
    uint64_t sp = regs->rsp;
    struct kernel_stack stack_then = current_stack(sp);
    if ((a->flags & LX_SA_ONSTACK) && altstack.size && !on_altstack(sp)) {
        sp = altstack.sp + altstack.size;
        if ((uint32_t)altstack.flags & LX_SS_AUTODISARM) {
            altstack.sp = 0;
            altstack.size = 0;
        }
    } else {
        sp -= 128;                      /* the red zone of the interrupted code */
    }
    if (!(a->flags & LX_SA_RESTORER))
        return -LX_EFAULT;              /* x86-64 has no default restorer: Linux fails the delivery too */

    uint64_t fp = (sp - fpstate_size) & ~(uint64_t)63;
    uint64_t frame = ((fp - LX_RT_SIGFRAME_SIZE) & ~(uint64_t)15) - 8;
    if (fp > sp || frame > fp)
        return -LX_EFAULT;

    uint8_t image[LX_RT_SIGFRAME_SIZE];
    memset(image, 0, sizeof image);
    uint8_t *uc = image + LX_RT_SIGFRAME_UCONTEXT;
    uint64_t uc_flags = LX_UC_SIGCONTEXT_SS | LX_UC_STRICT_RESTORE_SS |
                        (fpstate_size > LX_FXSAVE_SIZE ? LX_UC_FP_XSTATE : 0);
    uint16_t segments[4] = { LX_USER_CS, 0, 0, LX_USER_DS };
    memcpy(image, &a->restorer, 8);
    memcpy(uc + LX_UC_FLAGS, &uc_flags, 8);
    memcpy(uc + LX_UC_STACK, &stack_then, sizeof stack_then);
    memcpy(uc + LX_UC_MCONTEXT, regs, sizeof *regs);
    memcpy(uc + LX_UC_CSGSFSSS, segments, sizeof segments);
    /* The mask rt_sigreturn restores: the interrupted code's, which rt_sigsuspend saved before it took its own. */
    uint64_t mask_then = restore_saved_mask ? saved_mask : blocked;
    restore_saved_mask = 0;
    memcpy(uc + LX_UC_OLDMASK, &mask_then, 8);
    memcpy(uc + LX_UC_FPSTATE, &fp, 8);
    memcpy(uc + LX_UC_SIGMASK, &mask_then, 8);
    const uint8_t *info = siginfo;
    uint64_t address;
    memcpy(&address, info + LX_SI_ADDR, 8);
    if (sig == LX_SIGSEGV || sig == LX_SIGBUS)
        memcpy(uc + LX_UC_CR2, &address, 8);
    memcpy(image + LX_RT_SIGFRAME_SIGINFO, info, LX_SIGINFO_SIZE);

    if (dj_user_write(fp, fpstate, fpstate_size) || dj_user_write(frame, image, sizeof image))
        return -LX_EFAULT;

    regs->rip = a->handler;
    regs->rsp = frame;
    regs->rdi = (uint64_t)sig;
    regs->rsi = frame + LX_RT_SIGFRAME_SIGINFO;
    regs->rdx = frame + LX_RT_SIGFRAME_UCONTEXT;
    regs->rax = 0;
    regs->eflags &= ~(uint64_t)(LX_EFLAGS_DF | LX_EFLAGS_TF | LX_EFLAGS_RF);

    blocked |= a->mask & ~UNBLOCKABLE;
    if (!(a->flags & LX_SA_NODEFER))
        blocked |= BIT(sig);
    if (a->flags & LX_SA_RESETHAND) {
        dj_lock(&actions_lock);
        actions[sig - 1] = (struct kernel_sigaction){ 0, 0, 0, 0 };
        dj_unlock(&actions_lock);
    }
    return 0;
}

/* Linux's handle_signal restart switch for a call the host answered -ERESTARTSYS: with SA_RESTART (or when no
   handler runs) the `syscall` instruction (2 bytes) runs again with its number in rax; otherwise it gives EINTR. */
static void restart_or_interrupt(struct dj_user_regs *regs, int restart)
{
    if (regs->rax != (uint64_t)-LX_ERESTARTSYS)
        return;
    if (restart) {
        regs->rax = dj_thread_self()->restart_number;
        regs->rip -= 2;
    } else {
        regs->rax = (uint64_t)-LX_EINTR;
    }
}

int dj_signal_deliver(struct dj_user_regs *regs, const uint8_t *fpstate, uint32_t fpstate_size, int *terminating)
{
    int delivered = 0;
    *terminating = 0;
    for (int sig; (sig = next_signal()) != 0;) {
        uint8_t info[LX_SIGINFO_SIZE];
        pending_info_of(sig, info);
        if (!take_pending(sig))
            continue;                   /* another thread took the process's instance */
        dj_lock(&actions_lock);
        struct kernel_sigaction a = actions[sig - 1];
        dj_unlock(&actions_lock);
        if (a.handler == LX_SIG_IGN)
            continue;
        if (a.handler == 0) {
            if (default_action(sig) == IGNORE)
                continue;
            *terminating = sig;
            return delivered;
        }
        restart_or_interrupt(regs, (a.flags & LX_SA_RESTART) != 0);
        if (build_frame(sig, &a, info, regs, fpstate, fpstate_size)) {
            /* Linux's force_sigsegv: a frame that cannot be written kills with SIGSEGV. */
            *terminating = LX_SIGSEGV;
            return delivered;
        }
        delivered++;
    }
    restart_or_interrupt(regs, 1);      /* no handler ran: the call goes on */
    if (restore_saved_mask) {           /* rt_sigsuspend's signal was ignored: its mask ends with it */
        blocked = saved_mask;
        restore_saved_mask = 0;
    }
    return delivered;
}

long dj_signal_return(struct dj_user_regs *regs, uint64_t *fpstate_pointer)
{
    uint8_t uc[LX_UCONTEXT_SIZE];
    if (dj_user_read(uc, regs->rsp, sizeof uc))       /* the handler's `ret` popped sa_restorer */
        return -LX_EFAULT;
    struct dj_user_regs saved;
    memcpy(&saved, uc + LX_UC_MCONTEXT, sizeof saved);
    if (saved.rip >= LX_TASK_SIZE || saved.rsp > LX_TASK_SIZE)
        return -LX_EFAULT;              /* no return to the shim's half, nor a non-canonical one */
    uint64_t flags = regs->eflags;
    *regs = saved;
    regs->eflags = (flags & ~(uint64_t)LX_EFLAGS_USER_CHANGEABLE) | (saved.eflags & LX_EFLAGS_USER_CHANGEABLE);
    uint64_t mask;
    memcpy(&mask, uc + LX_UC_SIGMASK, 8);
    blocked = mask & ~UNBLOCKABLE;
    struct kernel_stack stack;
    memcpy(&stack, uc + LX_UC_STACK, sizeof stack);
    (void)set_altstack(&stack, regs->rsp);            /* errors ignored, as Linux's restore_altstack */
    memcpy(fpstate_pointer, uc + LX_UC_FPSTATE, 8);
    return 0;
}
