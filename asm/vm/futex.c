/*
 * asm/vm/futex.c -- futex and sched_yield for the VM keep, served inside the keep, never sent to the host.
 *
 * Entry points: dj_sys_futex(), dj_sys_sched_yield(), from dj_keep_table (syscall.S).
 *
 * The VM keep runs one thread today, so no futex has another waiter and no other thread can change a word:
 *   WAKE, WAKE_BITSET, REQUEUE            -> 0 (nobody woken)
 *   CMP_REQUEUE                            -> EAGAIN when *uaddr != val3, else 0
 *   WAKE_OP                                -> the operation on *uaddr2, as Linux does it, then 0
 *   WAIT, WAIT_BITSET                      -> EAGAIN when *uaddr != val; else the timeout runs out on the host's
 *                                             clock (clock_nanosleep with the workload's own timespec, relative
 *                                             for WAIT, absolute on the chosen clock for WAIT_BITSET), then
 *                                             ETIMEDOUT; with no timeout the one thread waits for a signal (EINTR)
 *   the priority-inheritance operations    -> ENOSYS (as in the process keep: asm/process/futex.c)
 * The checks and error codes are Linux's (alignment EINVAL, a zero bitset EINVAL, FUTEX_CLOCK_REALTIME only with
 * the waits, ENOSYS for unknown operations). Threads on vCPUs (docs/protocol-2.0-draft.md) replace the waits.
 *
 * Untrusted inputs: every argument (the workload's); its memory is read and written through dj_user_*.
 */
#include "vm.h"
#include "linux.h"

static long wake_op(uint64_t uaddr2, uint32_t encoded)
{
    uint32_t op = (encoded >> 28) & 0xF, cmp = (encoded >> 24) & 0xF;
    int32_t oparg = (int32_t)(encoded << 8) >> 20, cmparg = (int32_t)(encoded << 20) >> 20;
    if (op & 8) {                       /* FUTEX_OP_OPARG_SHIFT */
        op &= 7;
        oparg = (int32_t)(1u << (oparg & 31));
    }
    uint32_t old, value;
    if (dj_user_read(&old, uaddr2, 4))
        return -LX_EFAULT;
    switch (op) {
    case 0: value = (uint32_t)oparg; break;           /* SET */
    case 1: value = old + (uint32_t)oparg; break;     /* ADD */
    case 2: value = old | (uint32_t)oparg; break;     /* OR */
    case 3: value = old & ~(uint32_t)oparg; break;    /* ANDN */
    case 4: value = old ^ (uint32_t)oparg; break;     /* XOR */
    default: return -LX_ENOSYS;
    }
    if (cmp > 5)
        return -LX_ENOSYS;
    if (dj_user_write(uaddr2, &value, 4))
        return -LX_EFAULT;
    (void)cmparg;                       /* whether uaddr2's waiters would be woken: there are none */
    return 0;
}

/* The one thread waits for a signal: only the host can send one (a forwarded signal, with a byte on the doorbell
   line, whose interrupt ends the `hlt`). Interrupts are off here (the syscall entry), so the test and the `sti;
   hlt` pair leave no window: `sti` takes effect only after `hlt` has begun. */
void dj_wait_for_signal(uint64_t wanted)
{
    while (!dj_signal_deliverable() && !dj_signal_pending_in(wanted))
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

long dj_sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3)
{
    uint64_t cmd = op & LX_FUTEX_CMD_MASK;
    if (op & ~(uint64_t)(LX_FUTEX_CMD_MASK | LX_FUTEX_PRIVATE_FLAG | LX_FUTEX_CLOCK_REALTIME))
        return -LX_ENOSYS;
    int waits = cmd == LX_FUTEX_WAIT || cmd == LX_FUTEX_WAIT_BITSET;
    if ((op & LX_FUTEX_CLOCK_REALTIME) && !waits)
        return -LX_ENOSYS;
    if (uaddr & 3)
        return -LX_EINVAL;
    uint32_t word;
    switch (cmd) {
    case LX_FUTEX_WAKE:
    case LX_FUTEX_REQUEUE:
        return dj_user_read(&word, uaddr, 4) ? -LX_EFAULT : 0;
    case LX_FUTEX_WAKE_BITSET:
        if ((uint32_t)val3 == 0)
            return -LX_EINVAL;
        return dj_user_read(&word, uaddr, 4) ? -LX_EFAULT : 0;
    case LX_FUTEX_CMP_REQUEUE:
        if (uaddr2 & 3)
            return -LX_EINVAL;
        if (dj_user_read(&word, uaddr, 4))
            return -LX_EFAULT;
        return word != (uint32_t)val3 ? -LX_EAGAIN : 0;
    case LX_FUTEX_WAKE_OP:
        if (uaddr2 & 3)
            return -LX_EINVAL;
        return wake_op(uaddr2, (uint32_t)val3);
    case LX_FUTEX_WAIT:
    case LX_FUTEX_WAIT_BITSET:
        if (cmd == LX_FUTEX_WAIT_BITSET && (uint32_t)val3 == 0)
            return -LX_EINVAL;
        if (dj_user_read(&word, uaddr, 4))
            return -LX_EFAULT;
        if (word != (uint32_t)val)
            return -LX_EAGAIN;
        if (!timeout) {
            dj_wait_for_signal(0);      /* only a signal ends it: EINTR, as Linux's futex wait */
            return -LX_EINTR;
        }
        {
            uint64_t args[DJ_MAX_ARGUMENTS] = { LX_CLOCK_MONOTONIC, 0, timeout, 0, 0, 0 };
            if (cmd == LX_FUTEX_WAIT_BITSET) {
                args[0] = (op & LX_FUTEX_CLOCK_REALTIME) ? LX_CLOCK_REALTIME : LX_CLOCK_MONOTONIC;
                args[1] = LX_TIMER_ABSTIME;
            }
            long slept = dj_host_syscall(LX_NR_CLOCK_NANOSLEEP, args);
            return slept < 0 && slept != -LX_EINTR ? slept : -LX_ETIMEDOUT;
        }
    default:
        return -LX_ENOSYS;
    }
}

long dj_sys_sched_yield(void)
{
    return 0;                           /* one thread: nothing else to run */
}
