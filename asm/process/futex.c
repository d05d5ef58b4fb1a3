/*
 * asm/process/futex.c -- futex and sched_yield for the process keep: served inside the keep, never sent to
 * the host. The keep's memory is this process's own, so the real futex(2) on the workload's words is exactly
 * Linux's semantics; the shim only checks what the kernel would otherwise read for it.
 *
 * Entry points: dj_sys_futex(), dj_sys_sched_yield(), from the SIGSYS dispatch (sigsys.S).
 *
 * Policy
 *   - Operations: WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET, with FUTEX_PRIVATE_FLAG
 *     and FUTEX_CLOCK_REALTIME (WAIT and WAIT_BITSET only, as Linux). The priority-inheritance operations get
 *     ENOSYS: a PI futex names its owner by thread id, and the kernel would look that id up among the host's
 *     tasks. glibc and musl use PI only for PTHREAD_PRIO_INHERIT mutexes, which then fail to initialise.
 *   - The futex words (uaddr, and uaddr2 for the two-word operations) must be the workload's own memory
 *     (dj_user_range_ok), so no answer depends on where the shim is; the timeout is copied into the shim
 *     before the kernel sees it, so the kernel never reads a workload pointer the shim has not checked.
 *   The seccomp filter (filter.c) allows futex from the shim's text with these operations only.
 *
 * Untrusted inputs: every argument (the workload's).
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

long dj_sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3)
{
    uint64_t cmd = op & LX_FUTEX_CMD_MASK;
    if (op & ~(uint64_t)(LX_FUTEX_CMD_MASK | LX_FUTEX_PRIVATE_FLAG | LX_FUTEX_CLOCK_REALTIME))
        return -LX_ENOSYS;
    int waits = cmd == LX_FUTEX_WAIT || cmd == LX_FUTEX_WAIT_BITSET;
    int two_words = cmd == LX_FUTEX_REQUEUE || cmd == LX_FUTEX_CMP_REQUEUE || cmd == LX_FUTEX_WAKE_OP;
    if (!waits && !two_words && cmd != LX_FUTEX_WAKE && cmd != LX_FUTEX_WAKE_BITSET)
        return -LX_ENOSYS;
    if ((op & LX_FUTEX_CLOCK_REALTIME) && !waits)
        return -LX_ENOSYS;
    if (uaddr & 3)
        return -LX_EINVAL;
    if (!dj_user_range_ok(uaddr, 4))
        return -LX_EFAULT;
    if (two_words) {
        if (uaddr2 & 3)
            return -LX_EINVAL;
        if (!dj_user_range_ok(uaddr2, 4))
            return -LX_EFAULT;
    } else {
        uaddr2 = 0;                     /* unused: no workload pointer goes to the kernel unchecked */
    }
    uint64_t copy[2];
    if (waits && timeout) {
        if (dj_user_read(copy, timeout, sizeof copy))
            return -LX_EFAULT;
        timeout = (uint64_t)copy;
    }
    for (;;) {
        long result = dj_syscall6(LX_NR_FUTEX, (long)uaddr, (long)op, (long)val, (long)timeout, (long)uaddr2,
                                  (long)val3);
        /* An untimed wait the kick (SIGURG) interrupted: Linux's -ERESTARTSYS. With a signal to deliver, delivery
           decides (a restart under SA_RESTART, else EINTR); without one the wait goes on, as Linux restarts a wait
           no handler ran for. A timed wait keeps EINTR (Linux's restart block gives EINTR after a handler). */
        if (result != -LX_EINTR || !waits || timeout)
            return result;
        if (dj_signal_deliverable()) {
            dj_thread_self()->restart_number = LX_NR_FUTEX;
            return -LX_ERESTARTSYS;
        }
    }
}

long dj_sys_sched_yield(void)
{
    return dj_syscall1(LX_NR_SCHED_YIELD, 0);
}

/* Bumped by every kick (deliver.c): the futex the one thread waits on for a signal. Reading it before the test
   and waiting for that value closes the window in which a kick could come between the two. */
uint32_t dj_kick_count;

void dj_wait_for_signal(uint64_t wanted)
{
    for (;;) {
        uint32_t seen = __atomic_load_n(&dj_kick_count, __ATOMIC_SEQ_CST);
        if (dj_signal_deliverable() || dj_signal_pending_in(wanted))
            return;
        dj_syscall6(LX_NR_FUTEX, (long)&dj_kick_count, LX_FUTEX_WAIT | LX_FUTEX_PRIVATE_FLAG, seen, 0, 0, 0);
    }
}
