/*
 * asm/vm/futex.c -- futex, sched_yield and the wait for a signal, for the VM keep's threads: served inside the
 * keep, never sent to the host (a futex never leaves the keep, docs/vm.md "Threads").
 *
 * Entry points: dj_sys_futex(), dj_sys_sched_yield(), from dj_keep_table (syscall.S); dj_wait_for_signal(), for
 *   sigstate.c; dj_vm_futex_wake(), for threads.c (CHILD_CLEARTID at a thread's exit).
 *
 * Waiters: one FIFO list of the parked threads (struct dj_vm_thread's futex fields), keyed by the workload's
 *   address (the keep is one address space, so private and shared futexes are the same). No lock: one vCPU, and the
 *   shim runs with interrupts off, so reading the word, comparing and queueing happen with no other thread in
 *   between, and a waker's store to the word (in ring 3, before its FUTEX_WAKE) is either seen by the waiter's
 *   compare or finds the waiter queued. No wake-up is lost.
 *
 * Operations (Linux's checks and error codes: alignment EINVAL, a zero bitset EINVAL, FUTEX_CLOCK_REALTIME only with
 *   the waits, ENOSYS for unknown and priority-inheritance operations, as asm/process/futex.c):
 *   WAIT, WAIT_BITSET   EAGAIN when *uaddr != val; else the thread parks until a wake whose bitset meets its own
 *                       (0), a signal it does not block (EINTR), or its timeout (ETIMEDOUT). WAIT's timeout is
 *                       relative; WAIT_BITSET's absolute, on CLOCK_MONOTONIC or, with FUTEX_CLOCK_REALTIME,
 *                       CLOCK_REALTIME: the host's clock is read once (clock_gettime into a shim buffer, see
 *                       memory.c) to turn it into a duration. Durations become TSC deadlines (threads.c)
 *   WAKE, WAKE_BITSET   up to val waiters of uaddr (at least one, as Linux), oldest first
 *   REQUEUE, CMP_REQUEUE   wake val, move up to val2 (the timeout argument) to uaddr2; CMP_REQUEUE first checks
 *                       *uaddr == val3 (EAGAIN). CMP_REQUEUE returns woken + moved, REQUEUE the woken
 *   WAKE_OP             the operation on *uaddr2, then wake val on uaddr and, if the comparison of the old value
 *                       holds, val2 on uaddr2
 *   A call that woke someone yields the vCPU to the woken (dj_sys_futex).
 *
 * Untrusted inputs: every argument (the workload's); its memory is read and written through dj_user_*; the
 *   host's clock reading (only a duration comes of it: a lie only makes the workload's own wait short or long).
 */
#include "vm.h"
#include "linux.h"

#define NS_PER_SECOND 1000000000ull

static struct dj_vm_thread *waiters_head, *waiters_tail;

static void queue(struct dj_vm_thread *t, uint64_t address, uint32_t bitset)
{
    t->futex_address = address;
    t->futex_bitset = bitset;
    t->futex_queued = 1;
    t->futex_next = NULL;
    if (waiters_tail)
        waiters_tail->futex_next = t;
    else
        waiters_head = t;
    waiters_tail = t;
}

static void unqueue(struct dj_vm_thread *t)
{
    struct dj_vm_thread *previous = NULL;
    for (struct dj_vm_thread *w = waiters_head; w; previous = w, w = w->futex_next) {
        if (w != t)
            continue;
        if (previous)
            previous->futex_next = w->futex_next;
        else
            waiters_head = w->futex_next;
        if (waiters_tail == w)
            waiters_tail = previous;
        break;
    }
    t->futex_queued = 0;
    t->futex_next = NULL;
}

/* Wakes up to `count` waiters of `address` whose bitset meets `bitset` (at least one, as Linux's futex_wake); with
   `move_to` (a requeue, which may wake none), then moves up to `move` more to that address. Returns the woken; *moved the moved. */
static int wake_and_move(uint64_t address, int32_t count, uint32_t bitset, uint64_t move_to, int32_t move, int *moved)
{
    int woken = 0, requeued = 0;
    int32_t limit = move_to ? count : (count > 0 ? count : 1);
    struct dj_vm_thread *w = waiters_head;
    while (w) {
        struct dj_vm_thread *next = w->futex_next;
        if (w->futex_address == address && (w->futex_bitset & bitset)) {
            if (woken < limit) {
                unqueue(w);
                dj_vm_unpark(w);
                woken++;
            } else if (move_to && requeued < move) {
                w->futex_address = move_to;
                requeued++;
            } else {
                break;
            }
        }
        w = next;
    }
    if (moved)
        *moved = requeued;
    return woken;
}

long dj_vm_futex_wake(uint64_t address, int32_t count, uint32_t bitset)
{
    return wake_and_move(address, count, bitset, 0, 0, NULL);
}

/* The running thread waits for a signal: its park ends at a kick (a signal for it, or for the keep: the doorbell
   line's interrupt when the host forwards one). */
void dj_wait_for_signal(uint64_t wanted)
{
    while (!dj_signal_deliverable() && !dj_signal_pending_in(wanted))
        dj_vm_park(DJ_VM_WAIT_SIGNAL, 0);
}

/* The host's clock `clock` into `now`, through the running thread's slot. 0 or -errno. */
static long host_clock(uint64_t clock, int64_t now[2])
{
    struct dj_vm_thread *self = dj_vm_current;
    uint64_t args[DJ_MAX_ARGUMENTS] = { clock, (uint64_t)now, 0, 0, 0, 0 };
    self->shim_window = (uint64_t)now;
    long r = dj_marshal_syscall(LX_NR_CLOCK_GETTIME, args);
    self->shim_window = 0;
    return r;
}

static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t timeout, uint32_t bitset, int absolute, uint64_t clock)
{
    uint64_t deadline = 0;
    if (timeout) {
        int64_t ts[2];
        if (dj_user_read(ts, timeout, sizeof ts))
            return -LX_EFAULT;
        if (ts[0] < 0 || ts[1] < 0 || (uint64_t)ts[1] >= NS_PER_SECOND)
            return -LX_EINVAL;
        if (absolute) {
            int64_t now[2] = { 0, 0 };
            long r = host_clock(clock, now);
            if (r < 0)
                return r;
            int64_t seconds = ts[0] - now[0], nanoseconds = ts[1] - now[1];
            if (nanoseconds < 0) {
                nanoseconds += (int64_t)NS_PER_SECOND;
                seconds--;
            }
            if (seconds < 0) {
                ts[0] = 0;
                ts[1] = 0;
            } else {
                ts[0] = seconds;
                ts[1] = nanoseconds;
            }
        }
        uint64_t ns = (uint64_t)ts[0] > UINT64_MAX / NS_PER_SECOND - 1 ? UINT64_MAX : (uint64_t)ts[0] * NS_PER_SECOND + (uint64_t)ts[1];
        uint64_t ticks = dj_vm_ns_to_ticks(ns);
        uint64_t now = dj_vm_now();
        deadline = ticks > UINT64_MAX - now ? UINT64_MAX : now + ticks;
        if (deadline == 0)
            deadline = 1;
    }
    /* From here to the park nothing lets another thread run. */
    uint32_t word;
    if (dj_user_read(&word, uaddr, 4))
        return -LX_EFAULT;
    if (word != val)
        return -LX_EAGAIN;
    struct dj_vm_thread *self = dj_vm_current;
    queue(self, uaddr, bitset);
    for (;;) {
        if (!self->futex_queued)
            return 0;
        if (dj_signal_deliverable()) {
            unqueue(self);
            return -LX_EINTR;
        }
        if (deadline && dj_vm_now() >= deadline) {
            unqueue(self);
            return -LX_ETIMEDOUT;
        }
        dj_vm_park(DJ_VM_WAIT_FUTEX, deadline);
    }
}

static long wake_op(uint64_t uaddr, uint32_t count, uint64_t uaddr2, uint32_t count2, uint32_t encoded)
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
    int32_t o = (int32_t)old;
    int holds;
    switch (cmp) {
    case 0: holds = o == cmparg; break;
    case 1: holds = o != cmparg; break;
    case 2: holds = o < cmparg; break;
    case 3: holds = o <= cmparg; break;
    case 4: holds = o > cmparg; break;
    default: holds = o >= cmparg; break;
    }
    long woken = dj_vm_futex_wake(uaddr, (int32_t)count, UINT32_MAX);
    if (holds)
        woken += dj_vm_futex_wake(uaddr2, (int32_t)count2, UINT32_MAX);
    return woken;
}

static long futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3);

/* A wake that woke a thread lets it run first (the waker after what is runnable): on one vCPU the woken thread
   would otherwise wait for the waker's time slice to end, while it holds nothing the waker needs. A thread that
   ends (it waits for the lock its creator holds across clone, as musl's pthread_create does) then ends soon, as it
   would on a machine with more cores. */
long dj_sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3)
{
    long result = futex(uaddr, op, val, timeout, uaddr2, val3);
    uint64_t cmd = op & LX_FUTEX_CMD_MASK;
    if (result > 0 && cmd != LX_FUTEX_WAIT && cmd != LX_FUTEX_WAIT_BITSET)
        dj_vm_yield();
    return result;
}

static long futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3)
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
        if (dj_user_read(&word, uaddr, 4))
            return -LX_EFAULT;
        return dj_vm_futex_wake(uaddr, (int32_t)val, UINT32_MAX);
    case LX_FUTEX_WAKE_BITSET:
        if ((uint32_t)val3 == 0)
            return -LX_EINVAL;
        if (dj_user_read(&word, uaddr, 4))
            return -LX_EFAULT;
        return dj_vm_futex_wake(uaddr, (int32_t)val, (uint32_t)val3);
    case LX_FUTEX_REQUEUE:
    case LX_FUTEX_CMP_REQUEUE: {
        if (uaddr2 & 3)
            return -LX_EINVAL;
        if ((int32_t)val < 0 || (int32_t)timeout < 0)
            return -LX_EINVAL;
        if (dj_user_read(&word, uaddr, 4) || dj_user_read(&word, uaddr2, 4))
            return -LX_EFAULT;
        if (cmd == LX_FUTEX_CMP_REQUEUE) {
            if (dj_user_read(&word, uaddr, 4))
                return -LX_EFAULT;
            if (word != (uint32_t)val3)
                return -LX_EAGAIN;
        }
        int moved;
        int woken = wake_and_move(uaddr, (int32_t)val, UINT32_MAX, uaddr2, (int32_t)timeout, &moved);
        return cmd == LX_FUTEX_CMP_REQUEUE ? woken + moved : woken;
    }
    case LX_FUTEX_WAKE_OP:
        if (uaddr2 & 3)
            return -LX_EINVAL;
        return wake_op(uaddr, (uint32_t)val, uaddr2, (uint32_t)timeout, (uint32_t)val3);
    case LX_FUTEX_WAIT:
        return futex_wait(uaddr, (uint32_t)val, timeout, UINT32_MAX, 0, 0);
    case LX_FUTEX_WAIT_BITSET:
        if ((uint32_t)val3 == 0)
            return -LX_EINVAL;
        return futex_wait(uaddr, (uint32_t)val, timeout, (uint32_t)val3, 1,
                          (op & LX_FUTEX_CLOCK_REALTIME) ? LX_CLOCK_REALTIME : LX_CLOCK_MONOTONIC);
    default:
        return -LX_ENOSYS;
    }
}

long dj_sys_sched_yield(void)
{
    dj_vm_yield();
    return 0;
}
