/*
 * asm/vm/threads.c -- the VM keep's threads, multiplexed on its one vCPU by a small scheduler (docs/vm.md
 * "Threads"): their records and kernel stacks, the run queue, parking and waking, the local APIC timer (time
 * slices and timed waits), the doorbell wait of each thread's slot, clone/clone3, exit and exit_group.
 *
 * Entry points
 *   dj_vm_threads_start()          dj_vm_main: the first thread (tid 1, slot 0, the boot kernel stack)
 *   dj_vm_timer_init()             dj_vm_main: the TSC's rate against the APIC timer; the timer, stopped
 *   dj_vm_clone(frame)             syscall.S: clone and clone3, with the caller's whole user context
 *   dj_vm_sys_exit/exit_group()    dj_keep_table: one thread ends / the keep ends
 *   dj_vm_sys_set_tid_address/set_robust_list()   dj_keep_table
 *   dj_vm_timer_interrupt(frame)   faults.c: the APIC timer
 *   dj_vm_doorbell_interrupt(frame) faults.c: COM2, the host replied on some slot or forwarded a signal
 *   dj_vm_park/unpark/yield()      futex.c, and this file: the scheduler
 *   dj_doorbell_ring_wait(slot)    marshal.c: one exchange on the running thread's slot
 *   dj_thread_self/kick(), dj_threads_kick_waiters(), dj_lock_relax()   what shim.h asks of each shim
 *
 * The scheduler
 *   One vCPU, so one thread runs at a time; the shim itself is never preempted: it runs with interrupts off
 *   (SFMASK and the interrupt gates clear IF) except across `sti; hlt`. A thread leaves the vCPU only
 *     - when it parks (a host call that is not answered within a short spin, a futex wait, a wait for a signal):
 *       state PARKED, then schedule();
 *     - when it yields (sched_yield; or the timer or the doorbell line interrupted it in ring 3 while another
 *       thread is runnable): state RUNNABLE at the queue's tail, then schedule();
 *     - when it ends (exit): state DEAD, then schedule(), never to return.
 *   schedule() takes the run queue's head (FIFO) and switches to it; with an empty queue the vCPU halts (`sti;
 *   hlt`, so an interrupt that makes a thread runnable cannot be lost between the check and the halt) until one
 *   is. The interrupts taken while halted run on the halted thread's kernel stack and only wake threads.
 *   A switch saves the running thread's FPU/XSAVE state (XSAVE into its record's area), FS base (the MSR),
 *   dj_user_rsp and dj_sigreturn_requested (syscall.S), and its callee-saved registers and rsp (dj_vm_switch);
 *   loads the next thread's, and points TSS.RSP0 and the syscall entry at its kernel stack.
 *   Preemption: the APIC timer, one-shot, is armed for DJ_VM_SLICE_NS while the run queue is not empty, and for
 *   the earliest deadline of a timed park; otherwise it is stopped, so a keep whose threads all wait burns no CPU.
 *
 * Waiting for the host: the thread rings its own slot's doorbell, spins (for the adaptive window spin_window, at
 *   most DJ_VM_SPIN_BUSY_TSC_TICKS when others are runnable, and not at all when the host said it has no CPU to
 *   spare, `host sleeping` = 2),
 *   then sets its slot's `shim sleeping` and parks until its
 *   doorbell no longer reads REQUEST. The host sends a byte on COM2 when it answers a sleeping slot; the line's
 *   interrupt unparks every thread whose slot has its answer. While the keep ends (dj_vm_exiting) nothing parks:
 *   the last exchanges (EXIT, FAULT) halt as 1.0's did, and no other thread runs again.
 *
 * Threads' memory: thread 0 uses static records and the boot kernel stack. Thread k >= 1 has a 256 KiB window at
 *   DJ_VM_THREAD_AREA_VIRTUAL + k x DJ_VM_THREAD_AREA_STRIDE (vm.h: guard, 64 KiB kernel stack, record, XSAVE
 *   image, marshal.c's iovec scratch, guard), mapped from the page pool at its first clone and kept for reuse.
 *   Record k uses slot k; a record is reused once its thread is DEAD (it never runs again, its stack is free).
 *
 * clone: only threads, with asm/process/threads.c's rules: CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
 *   CLONE_THREAD required, SYSVSEM, SETTLS, PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID and DETACHED allowed; a fork
 *   (no CLONE_VM) or vfork gets ENOSYS with one log line; other flags EINVAL; no free record (the policy's thread
 *   limit, or the block's slots) EAGAIN. The parent reserves a record, asks the host to serve its slot (SLOT_OPEN, on
 *   its own slot), then builds the child: the parent's mask, no alternate stack, its trap frame with rax = 0 and
 *   the new stack, its FPU state, FS base = the TLS or the parent's; queues it, and yields to it (the child runs
 *   first, so that short-lived threads end before their parent makes many more, as on a machine with more cores).
 *
 * exit: the thread's CHILD_CLEARTID word is cleared and woken (pthread_join waits on it), it leaves the registry,
 *   and, unless it was the last, it is DEAD. The last thread's exit, and exit_group, end the keep: an EXIT item,
 *   then isa-debug-exit; other threads never run again (those blocked in host calls are never answered).
 *
 * Labels: none (C). Register contract: System V; every entry point runs with interrupts off on the running
 *   thread's kernel stack.
 *
 * Untrusted inputs: the workload's clone arguments and registers and struct clone_args (pointers written only
 *   through dj_user_write); the slots' doorbells (the host's: compared only); the host's SLOT_OPEN answer.
 */
#include "vm.h"
#include "linux.h"

#define REQUIRED_FLAGS (LX_CLONE_VM | LX_CLONE_FS | LX_CLONE_FILES | LX_CLONE_SIGHAND | LX_CLONE_THREAD)
#define OPTIONAL_FLAGS (LX_CLONE_SYSVSEM | LX_CLONE_SETTLS | LX_CLONE_PARENT_SETTID | LX_CLONE_CHILD_SETTID | \
                        LX_CLONE_CHILD_CLEARTID | LX_CLONE_DETACHED)
#define PAGE ((uint64_t)DJ_PAGE_SIZE)

#define APIC_EOI                0xB0
#define APIC_LVT_TIMER          0x320
#define APIC_LVT_MASKED         0x10000
#define APIC_TIMER_INITIAL      0x380
#define APIC_TIMER_CURRENT      0x390
#define APIC_TIMER_DIVIDE       0x3E0
#define APIC_DIVIDE_BY_1        0xB
#define PIC_MASTER_COMMAND      0x20
#define PIC_EOI                 0x20
#define UART_LSR                5
#define UART_LSR_DATA_READY     1

_Static_assert(sizeof(struct dj_vm_thread) <= DJ_VM_THREAD_RECORD_SIZE, "a thread's record fits its place");
_Static_assert(DJ_MAX_ARGUMENTS * DJ_MAX_IOVEC_COUNT * sizeof(struct dj_iovec64) <=
                   DJ_VM_THREAD_MAPPED_SIZE + DJ_VM_THREAD_STACK_OFFSET - DJ_VM_THREAD_IOVECS_OFFSET,
               "the iovec scratch fits the thread's area");
_Static_assert(DJ_VM_THREAD_MAPPED_SIZE + DJ_VM_THREAD_STACK_OFFSET < DJ_VM_THREAD_AREA_STRIDE, "a guard after each area");
_Static_assert(DJ_VM_THREAD_MAPPED_SIZE + PAGE <= DJ_VM_THREAD_MEMORY_SIZE, "the host's RAM for each thread");
_Static_assert(DJ_VM_THREAD_AREA_VIRTUAL + (uint64_t)DJ_VM_MAX_SLOTS * DJ_VM_THREAD_AREA_STRIDE <=
                   DJ_VM_KERNEL_VIRTUAL_OFFSET + 0x40000000,
               "the thread areas lie in the shim's gigabyte");

extern char dj_kernel_stack_top[];
extern uint64_t dj_user_rsp;
extern uint8_t dj_sigreturn_requested;

static struct dj_vm_thread first;
static struct dj_iovec64 first_iovecs[DJ_MAX_ARGUMENTS][DJ_MAX_IOVEC_COUNT];
static uint8_t first_xsave[DJ_VM_THREAD_XSAVE_SIZE] __attribute__((aligned(64)));

static struct dj_vm_thread *records[DJ_VM_MAX_SLOTS];   /* record k, once made; records[0] = &first */
static uint32_t record_limit = 1;                        /* records[0 .. record_limit) may be in use */
static struct dj_vm_thread *run_head, *run_tail;
static uint32_t timed_parks;                             /* parked threads with a deadline */

struct dj_vm_thread *dj_vm_current = &first;
int dj_vm_exiting;
uint64_t dj_vm_kernel_stack_top = (uint64_t)dj_kernel_stack_top;

struct dj_thread *dj_thread_self(void) { return &dj_vm_current->common; }

void dj_lock_relax(uint32_t attempt)
{
    (void)attempt;
    __asm__ volatile("pause");          /* one vCPU and a shim that is never preempted: no lock is ever held here */
}

void dj_vm_threads_each(void (*visit)(struct dj_vm_thread *t, void *context), void *context)
{
    for (uint32_t i = 0; i < record_limit; i++)
        if (records[i] && records[i]->state != DJ_VM_FREE)
            visit(records[i], context);
}

/* ---- time: the TSC, and the local APIC timer (one-shot, in nanoseconds) ---- */

static volatile uint32_t *apic(void) { return (volatile uint32_t *)DJ_VM_LAPIC_VIRTUAL; }
static uint64_t ns_per_tick_fp;         /* nanoseconds per TSC tick, 32.32 fixed point */
static uint64_t ticks_per_ns_fp;        /* TSC ticks per nanosecond, 32.32 fixed point */
static uint64_t armed_until;            /* TSC of the armed expiry, 0 when the timer is stopped */

uint64_t dj_vm_now(void)
{
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return (uint64_t)high << 32 | low;
}

static uint64_t mul_fp(uint64_t value, uint64_t fp)
{
    unsigned __int128 product = (unsigned __int128)value * fp;
    product >>= 32;
    return product > UINT64_MAX ? UINT64_MAX : (uint64_t)product;
}

uint64_t dj_vm_ns_to_ticks(uint64_t ns) { return mul_fp(ns, ticks_per_ns_fp); }

/* The APIC timer counts at its bus rate, 1 GHz under QEMU (tcg) and KVM: nanoseconds. The TSC's rate is measured
   against it over 1 ms at boot, so that deadlines are kept in TSC ticks (rdtsc costs no exit). */
void dj_vm_timer_init(void)
{
    volatile uint32_t *a = apic();
    a[APIC_TIMER_DIVIDE / 4] = APIC_DIVIDE_BY_1;
    a[APIC_LVT_TIMER / 4] = APIC_LVT_MASKED | DJ_VM_TIMER_VECTOR;
    a[APIC_TIMER_INITIAL / 4] = 0xFFFFFFFF;
    uint64_t t0 = dj_vm_now();
    uint32_t c0 = a[APIC_TIMER_CURRENT / 4], c1 = c0;
    uint64_t t1 = t0;
    while (c0 - c1 < 1000000 && t1 - t0 < 20000000000ull) {
        c1 = a[APIC_TIMER_CURRENT / 4];
        t1 = dj_vm_now();
    }
    uint64_t ns = c0 - c1, ticks = t1 - t0;
    if (ns < 1000000 || ticks == 0 || ticks >= (1ull << 32) || ns >= (1ull << 31)) {
        ns = 2;                         /* an APIC that does not count: assume a 2.5 GHz TSC */
        ticks = 5;
    }
    ns_per_tick_fp = (ns << 32) / ticks;
    ticks_per_ns_fp = (ticks << 32) / ns;
    a[APIC_TIMER_INITIAL / 4] = 0;
    a[APIC_LVT_TIMER / 4] = DJ_VM_TIMER_VECTOR;  /* one-shot, unmasked, stopped (initial count 0) */
}

static uint64_t earliest_deadline(void)
{
    uint64_t earliest = UINT64_MAX;
    if (!timed_parks)
        return earliest;
    for (uint32_t i = 0; i < record_limit; i++) {
        struct dj_vm_thread *t = records[i];
        if (t && t->state == DJ_VM_PARKED && t->deadline && t->deadline < earliest)
            earliest = t->deadline;
    }
    return earliest;
}

/* Arms the timer for the next slice end (when a thread waits to run) or deadline, whichever is first; stops it when
   there is neither. An expiry already armed earlier than needed is kept (it fires, and this runs again). */
static void timer_update(void)
{
    uint64_t now = dj_vm_now();
    uint64_t want = earliest_deadline();
    if (run_head) {
        uint64_t slice = now + dj_vm_ns_to_ticks(DJ_VM_SLICE_NS);
        if (slice < want)
            want = slice;
    }
    volatile uint32_t *a = apic();
    if (want == UINT64_MAX) {
        if (armed_until) {
            a[APIC_TIMER_INITIAL / 4] = 0;
            armed_until = 0;
        }
        return;
    }
    if (armed_until && armed_until <= want && armed_until > now)
        return;
    uint64_t ns = want > now ? mul_fp(want - now, ns_per_tick_fp) : 0;
    if (ns < 1000)
        ns = 1000;
    if (ns > 0xFFFFFFFF)
        ns = 0xFFFFFFFF;                /* ~4.3 s: it fires early and is armed again */
    armed_until = now + dj_vm_ns_to_ticks(ns);
    a[APIC_TIMER_INITIAL / 4] = (uint32_t)ns;
}

/* ---- the run queue, parking, switching ---- */

static void enqueue(struct dj_vm_thread *t)
{
    t->state = DJ_VM_RUNNABLE;
    t->run_next = NULL;
    if (run_tail)
        run_tail->run_next = t;
    else
        run_head = t;
    run_tail = t;
}

static struct dj_vm_thread *dequeue(void)
{
    struct dj_vm_thread *t = run_head;
    if (t) {
        run_head = t->run_next;
        if (!run_head)
            run_tail = NULL;
        t->run_next = NULL;
    }
    return t;
}

static void switch_to(struct dj_vm_thread *next)
{
    struct dj_vm_thread *prev = dj_vm_current;
    next->state = DJ_VM_RUNNING;
    if (next == prev)
        return;
    prev->user_rsp = dj_user_rsp;
    prev->sigreturn = dj_sigreturn_requested;
    prev->fs_base = dj_rdmsr(DJ_MSR_FS_BASE);
    dj_fpu_save(prev->xsave, dj_cpu.xcr0);
    dj_vm_current = next;
    dj_wrmsr(DJ_MSR_FS_BASE, next->fs_base);
    dj_fpu_load(next->xsave, dj_cpu.xcr0);
    dj_user_rsp = next->user_rsp;
    dj_sigreturn_requested = next->sigreturn;
    dj_vm_kernel_stack_top = next->stack_top;
    dj_vm_set_kernel_stack(next->stack_top);
    timer_update();
    dj_vm_switch(&prev->kernel_rsp, next->kernel_rsp);
}

static void expire_deadlines(void)
{
    if (!timed_parks)
        return;
    uint64_t now = dj_vm_now();
    for (uint32_t i = 0; i < record_limit; i++) {
        struct dj_vm_thread *t = records[i];
        if (t && t->state == DJ_VM_PARKED && t->deadline && t->deadline <= now)
            dj_vm_unpark(t);
    }
}

/* The running thread's state is already RUNNABLE (queued), PARKED or DEAD: run the next one, or halt until there
   is one. Returns when the running thread runs again. */
static void schedule(void)
{
    for (;;) {
        struct dj_vm_thread *next = dequeue();
        if (next) {
            switch_to(next);
            return;
        }
        timer_update();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        expire_deadlines();
    }
}

void dj_vm_park(int wait, uint64_t deadline)
{
    struct dj_vm_thread *self = dj_vm_current;
    if (dj_vm_exiting) {
        __asm__ volatile("sti; hlt; cli" ::: "memory");     /* the keep ends: nobody else runs, only interrupts */
        return;
    }
    self->wait = wait;
    self->deadline = deadline;
    self->state = DJ_VM_PARKED;
    if (deadline)
        timed_parks++;
    schedule();
    if (deadline)
        timed_parks--;
    self->deadline = 0;
    self->wait = DJ_VM_WAIT_NONE;
}

void dj_vm_unpark(struct dj_vm_thread *t)
{
    if (t->state != DJ_VM_PARKED)
        return;
    enqueue(t);
    timer_update();
}

void dj_vm_yield(void)
{
    if (!run_head || dj_vm_exiting)
        return;
    enqueue(dj_vm_current);
    schedule();
}

/* An interrupt that came from ring 3: another thread may run first; then the running thread's signals. */
static void interrupted_workload(struct dj_trap_frame *frame, int yield)
{
    if (yield)
        dj_vm_yield();
    dj_vm_deliver_interrupted(frame);
}

void dj_vm_timer_interrupt(struct dj_trap_frame *frame)
{
    apic()[APIC_EOI / 4] = 0;
    armed_until = 0;
    expire_deadlines();
    timer_update();
    if ((frame->cs & 3) == 3)
        interrupted_workload(frame, 1);
}

static void wake_answered(struct dj_vm_thread *t, void *woke)
{
    if (t->state == DJ_VM_PARKED && t->wait == DJ_VM_WAIT_HOST &&
        __atomic_load_n((volatile uint32_t *)(t->wait_slot + DJ_BLOCK_DOORBELL_OFFSET), __ATOMIC_SEQ_CST) != DJ_DOORBELL_REQUEST) {
        dj_vm_unpark(t);
        *(int *)woke = 1;
    }
}

/* The doorbell line: the host answered a sleeping slot, or forwarded a signal (its bit is in slot 0's header).
   Drain what it sent (at most 16 bytes, so that a flooding host cannot hold the shim here), acknowledge, wake. */
void dj_vm_doorbell_interrupt(struct dj_trap_frame *frame)
{
    for (int i = 0; i < 16 && (dj_inb(DJ_VM_DOORBELL_PORT + UART_LSR) & UART_LSR_DATA_READY); i++)
        (void)dj_inb(DJ_VM_DOORBELL_PORT);
    dj_outb(PIC_MASTER_COMMAND, PIC_EOI);
    int woke = 0;
    dj_vm_threads_each(wake_answered, &woke);
    volatile uint64_t *signals = (volatile uint64_t *)((uint8_t *)dj_phys_to_virt(DJ_VM_BLOCK_ADDRESS) + DJ_BLOCK_SIGNALS_OFFSET);
    if (__atomic_load_n(signals, __ATOMIC_SEQ_CST))
        dj_threads_kick_waiters();
    if ((frame->cs & 3) == 3)
        interrupted_workload(frame, woke);
}

/* ---- the doorbell wait of one exchange (marshal.c) ---- */

/* The spin window, in TSC ticks, adapted after every wait that ended parked (as KVM's halt polling does): an
   answer within DJ_VM_SPIN_TSC_TICKS of the ring doubles it (from at least DJ_VM_SPIN_GROW_TSC_TICKS; a longer spin
   would have caught it), a later one halves it (not below the grow floor: parking costs two more hops through
   QEMU than the process keep's futex, so the guest keeps a short spin). One vCPU runs
   the shim with interrupts off here, so one word serves every thread. The host steers it only through how soon it
   answers; it stays within [DJ_VM_SPIN_GROW_TSC_TICKS, DJ_VM_SPIN_TSC_TICKS] whatever the host does. */
static uint64_t spin_window = DJ_VM_SPIN_TSC_TICKS;

static uint64_t spin_window_after(uint64_t window, uint64_t waited)
{
    if (waited >= DJ_VM_SPIN_TSC_TICKS)
        return window / 2 < DJ_VM_SPIN_GROW_TSC_TICKS ? DJ_VM_SPIN_GROW_TSC_TICKS : window / 2;
    window = window * 2 < DJ_VM_SPIN_GROW_TSC_TICKS ? DJ_VM_SPIN_GROW_TSC_TICKS : window * 2;
    return window > DJ_VM_SPIN_TSC_TICKS ? DJ_VM_SPIN_TSC_TICKS : window;
}

void dj_doorbell_ring_wait(volatile uint8_t *slot)
{
    uint64_t rung = dj_vm_now();
    /* A host with one usable CPU never spins and says so (`host sleeping` = 2): the guest's spin could only keep
       QEMU's threads and the woken host from that CPU, so it parks at once. A host that is merely asleep (1) is
       woken by the byte, and the guest spins for its window meanwhile: its own sleep would cost the reply a byte
       through QEMU's I/O thread and an interrupt. */
    if (dj_vm_doorbell_ring(slot) != 2) {
        uint64_t spin = spin_window;
        if (run_head && !dj_vm_exiting && spin > DJ_VM_SPIN_BUSY_TSC_TICKS)
            spin = DJ_VM_SPIN_BUSY_TSC_TICKS;
        if (spin && dj_vm_doorbell_spin(slot, spin))
            return;
    }
    volatile uint32_t *doorbell = (volatile uint32_t *)(slot + DJ_BLOCK_DOORBELL_OFFSET);
    volatile uint32_t *sleeping = (volatile uint32_t *)(slot + DJ_BLOCK_SHIM_SLEEPING_OFFSET);
    __atomic_exchange_n(sleeping, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(doorbell, __ATOMIC_SEQ_CST) == DJ_DOORBELL_REQUEST) {
        dj_vm_current->wait_slot = slot;
        dj_vm_park(DJ_VM_WAIT_HOST, 0);
    }
    __atomic_store_n(sleeping, 0, __ATOMIC_SEQ_CST);
    spin_window = spin_window_after(spin_window, dj_vm_now() - rung);
}

/* ---- signals ---- */

void dj_thread_kick(struct dj_thread *t)
{
    struct dj_vm_thread *v = (struct dj_vm_thread *)t;
    if (v->state == DJ_VM_PARKED && (v->wait == DJ_VM_WAIT_FUTEX || v->wait == DJ_VM_WAIT_SIGNAL))
        dj_vm_unpark(v);
    /* A runnable thread looks at its signals when it next returns to ring 3 (syscall.S, or after its switch). */
}

static void kick(struct dj_vm_thread *t, void *context)
{
    (void)context;
    dj_thread_kick(&t->common);
}

void dj_threads_kick_waiters(void) { dj_vm_threads_each(kick, NULL); }

/* ---- the first thread ---- */

void dj_vm_threads_start(void)
{
    first.common.index = 0;
    first.common.iovecs = first_iovecs;
    first.common.altstack.flags = LX_SS_DISABLE;
    first.xsave = first_xsave;
    first.stack_top = (uint64_t)dj_kernel_stack_top;
    first.state = DJ_VM_RUNNING;
    if (dj_cpu.xsave_size > DJ_VM_THREAD_XSAVE_SIZE)
        dj_internal_error("the XSAVE area is larger than a thread's room for it", dj_cpu.xsave_size);
    const char *problem = dj_channel_slot(0, &first.common.slot);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, problem);
    first.common.tid = DJ_KEEP_THREAD_ID;
    records[0] = &first;
    dj_thread_register(&first.common);
    dj_signals_thread_init(&first.common);
}

/* ---- clone ---- */

static uint64_t area_of(uint32_t index) { return DJ_VM_THREAD_AREA_VIRTUAL + (uint64_t)index * DJ_VM_THREAD_AREA_STRIDE; }

/* Record `index`, its area mapped from the page pool the first time; NULL when guest memory runs out. */
static struct dj_vm_thread *record(uint32_t index)
{
    if (records[index])
        return records[index];
    uint64_t area = area_of(index);
    for (uint64_t at = DJ_VM_THREAD_STACK_OFFSET; at < DJ_VM_THREAD_STACK_OFFSET + DJ_VM_THREAD_MAPPED_SIZE; at += PAGE) {
        uint64_t page = dj_page_alloc();
        if (!page || dj_kernel_map(area + at, page) != 0)
            return NULL;                /* what was mapped stays, for the next try */
    }
    struct dj_vm_thread *t = (struct dj_vm_thread *)(area + DJ_VM_THREAD_RECORD_OFFSET);
    memset(t, 0, sizeof *t);
    t->state = DJ_VM_FREE;
    t->xsave = (uint8_t *)(area + DJ_VM_THREAD_XSAVE_OFFSET);
    t->stack_top = area + DJ_VM_THREAD_STACK_OFFSET + DJ_VM_THREAD_STACK_SIZE;
    records[index] = t;
    return t;
}

static int said_no_fork;

static long refuse_fork(void)
{
    if (!said_no_fork) {
        said_no_fork = 1;
        static const char text[] = "the workload asked for a new process (fork, vfork or clone without CLONE_VM); "
                                   "keeps run one process, so it got ENOSYS";
        dj_report_log(3, text, sizeof text - 1);
    }
    return -LX_ENOSYS;
}

static int user_word_ok(uint64_t address) { return address && address <= LX_TASK_SIZE - 4; }

static long clone_thread(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls,
                         const struct dj_trap_frame *frame)
{
    if (!(flags & LX_CLONE_VM) || (flags & LX_CLONE_VFORK))
        return refuse_fork();
    if ((flags & REQUIRED_FLAGS) != REQUIRED_FLAGS || (flags & ~(uint64_t)(REQUIRED_FLAGS | OPTIONAL_FLAGS)))
        return -LX_EINVAL;
    if (!stack)
        return -LX_EINVAL;              /* a thread on its parent's stack: no libc does it */
    if ((flags & LX_CLONE_PARENT_SETTID) && !user_word_ok(parent_tid))
        return -LX_EFAULT;
    if ((flags & (LX_CLONE_CHILD_SETTID | LX_CLONE_CHILD_CLEARTID)) && !user_word_ok(child_tid))
        return -LX_EFAULT;
    if (!(flags & LX_CLONE_SETTLS))
        tls = dj_rdmsr(DJ_MSR_FS_BASE); /* the child keeps its parent's FS base */
    else if (tls >= LX_TASK_SIZE)
        return -LX_EPERM;               /* as arch_prctl(ARCH_SET_FS) */

    uint32_t limit = dj_keep_max_threads();
    if (limit > DJ_VM_MAX_SLOTS)
        limit = DJ_VM_MAX_SLOTS;
    struct dj_vm_thread *child = NULL;
    uint32_t index = 0;
    for (uint32_t i = 1; i < limit && !child; i++) {
        if (records[i] && records[i]->state != DJ_VM_FREE && records[i]->state != DJ_VM_DEAD)
            continue;
        child = record(i);
        if (!child)
            return -LX_EAGAIN;          /* no guest memory left for its kernel stack */
        index = i;
    }
    if (!child)
        return -LX_EAGAIN;              /* as Linux at RLIMIT_NPROC: the policy's thread limit */
    if (index + 1 > record_limit)
        record_limit = index + 1;

    /* Reserved before the host call, which may let other threads run (and clone). */
    child->state = DJ_VM_EMBRYO;
    memset(&child->common, 0, sizeof child->common);
    child->common.index = index;
    child->common.iovecs = (struct dj_iovec64 (*)[DJ_MAX_IOVEC_COUNT])(area_of(index) + DJ_VM_THREAD_IOVECS_OFFSET);
    child->common.altstack.flags = LX_SS_DISABLE;
    uint32_t tid = dj_thread_next_tid();
    if (dj_channel_slot(index, &child->common.slot) || dj_report_slot_open(index, tid)) {
        child->state = DJ_VM_FREE;
        return -LX_EAGAIN;
    }
    struct dj_vm_thread *parent = dj_vm_current;
    child->common.tid = tid;
    child->common.blocked = parent->common.blocked;
    child->common.clear_child_tid = (flags & LX_CLONE_CHILD_CLEARTID) ? child_tid : 0;
    dj_signals_thread_init(&child->common);
    if (flags & LX_CLONE_PARENT_SETTID)
        (void)dj_user_write(parent_tid, &tid, 4);
    if (flags & LX_CLONE_CHILD_SETTID)
        (void)dj_user_write(child_tid, &tid, 4);

    /* Its kernel stack: the parent's trap frame with rax = 0 on the new stack (rcx and r11 as a syscall leaves
       them), under it the return into dj_vm_thread_entry and six zero callee-saved registers (switch.S). */
    struct dj_trap_frame *f = (struct dj_trap_frame *)(child->stack_top - sizeof *f);
    *f = *frame;
    f->rax = 0;
    f->rsp = stack;
    f->rcx = frame->rip;
    f->r11 = frame->rflags;
    uint64_t *switch_frame = (uint64_t *)f - 7;
    for (int i = 0; i < 6; i++)
        switch_frame[i] = 0;
    switch_frame[6] = (uint64_t)dj_vm_thread_entry;
    child->kernel_rsp = (uint64_t)switch_frame;
    child->fs_base = tls;
    child->user_rsp = 0;
    child->sigreturn = 0;
    child->wait = DJ_VM_WAIT_NONE;
    child->deadline = 0;
    child->futex_queued = 0;
    child->shim_window = 0;
    dj_fpu_save(child->xsave, dj_cpu.xcr0);     /* the parent's FPU state, live in the CPU */

    dj_thread_register(&child->common);
    enqueue(child);
    timer_update();
    return tid;
}

static long clone_any(struct dj_trap_frame *frame);

/* The new thread runs first (the parent after whatever is runnable): on one vCPU, a short-lived thread is then
   often done before its parent makes the next, as it would be on a machine with more cores. */
void dj_vm_clone(struct dj_trap_frame *frame)
{
    uint32_t number = (uint32_t)frame->rax;
    long result = clone_any(frame);
    if (dj_trace_on) {   /* run --strace: reported in the parent, as syscall.S's hook reports the table's calls */
        const uint64_t args[DJ_MAX_ARGUMENTS] = { frame->rdi, frame->rsi, frame->rdx, frame->r10, frame->r8, frame->r9 };
        result = dj_trace_keep_call(number, result, args);
    }
    frame->rax = (uint64_t)result;
    if (result > 0)
        dj_vm_yield();
}

static long clone_any(struct dj_trap_frame *frame)
{
    long result;
    if ((uint32_t)frame->rax == LX_NR_CLONE) {
        uint64_t flags = frame->rdi;
        if (flags & LX_CSIGNAL)
            return (flags & LX_CLONE_VM) && !(flags & LX_CLONE_VFORK) ? -LX_EINVAL : refuse_fork();
        return clone_thread(flags, frame->rsi, frame->rdx, frame->r10, frame->r8, frame);
    }
    /* clone3(struct clone_args *, size) */
    uint64_t arguments = frame->rdi, size = frame->rsi;
    uint64_t a[LX_CLONE_ARGS_SIZE_VER0 / 8];
    if (size < LX_CLONE_ARGS_SIZE_VER0) {
        result = -LX_EINVAL;
    } else if (size > PAGE) {
        result = -LX_E2BIG;
    } else if (dj_user_read(a, arguments, sizeof a)) {
        result = -LX_EFAULT;
    } else {
        result = 0;
        for (uint64_t at = LX_CLONE_ARGS_SIZE_VER0; at < size && !result; at += 8) {   /* set_tid, cgroup, ... */
            uint64_t extra = 0;
            uint64_t length = size - at < 8 ? size - at : 8;
            if (dj_user_read(&extra, arguments + at, length))
                result = -LX_EFAULT;
            else if (extra)
                result = -LX_EINVAL;    /* none of them is offered */
        }
        uint64_t flags = a[LX_CLONE_ARGS_FLAGS / 8];
        uint64_t stack = a[LX_CLONE_ARGS_STACK / 8], stack_size = a[LX_CLONE_ARGS_STACK_SIZE / 8];
        if (result) {
        } else if (a[LX_CLONE_ARGS_EXIT_SIGNAL / 8]) {
            result = (flags & LX_CLONE_VM) && !(flags & LX_CLONE_VFORK) ? -LX_EINVAL : refuse_fork();
        } else if (!stack || !stack_size || stack + stack_size < stack) {
            result = -LX_EINVAL;
        } else {
            result = clone_thread(flags, stack + stack_size, a[LX_CLONE_ARGS_PARENT_TID / 8],
                                  a[LX_CLONE_ARGS_CHILD_TID / 8], a[LX_CLONE_ARGS_TLS / 8], frame);
        }
    }
    return result;
}

/* ---- ids, exit ---- */

long dj_vm_sys_set_tid_address(uint64_t address)
{
    dj_vm_current->common.clear_child_tid = address;
    return dj_vm_current->common.tid;
}

long dj_vm_sys_set_robust_list(uint64_t head, uint64_t length)
{
    if (length != LX_ROBUST_LIST_HEAD_SIZE)
        return -LX_EINVAL;
    dj_vm_current->common.robust_list = head;   /* remembered; not walked at exit */
    return 0;
}

void dj_vm_end(int status)
{
    dj_vm_exiting = 1;
    dj_report_exit(status);
    dj_vm_exit(status);
}

void dj_vm_sys_exit(uint64_t status)
{
    struct dj_vm_thread *self = dj_vm_current;
    uint64_t clear = self->common.clear_child_tid;
    if (clear) {
        uint32_t zero = 0;
        if (!dj_user_write(clear, &zero, 4))
            dj_vm_futex_wake(clear, 1, UINT32_MAX);
    }
    if (dj_thread_unregister(&self->common) == 0)
        dj_vm_end((int32_t)status);
    self->common.tid = 0;
    self->state = DJ_VM_DEAD;
    schedule();
    dj_internal_error("a thread ran again after its exit", self->common.index);
}

void dj_vm_sys_exit_group(uint64_t status)
{
    dj_vm_end((int32_t)status);
}
