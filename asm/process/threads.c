/*
 * asm/process/threads.c -- the process keep's threads: real threads of the shim's process, one thread block and
 * one slot of the shared block each (docs/protocol.md §3 "Slots", docs/design.md "Threads").
 *
 * Entry points
 *   dj_threads_reserve()      from dj_process_load: the thread blocks' reservation, before the image is placed
 *   dj_threads_start()        from dj_process_load: thread 0's record, slot and registration
 *   dj_process_clone()        clone (sigsys.S, with the caller's ucontext)
 *   dj_process_clone3()       clone3, the same through struct clone_args
 *   dj_process_exit()         exit and exit_group (sigsys.S's dj_keep_exit)
 *   dj_thread_self/kick(), dj_threads_kick_waiters(), dj_lock_relax()   what shim.h asks of each shim
 *
 * Thread blocks
 *   A reservation of slot-count blocks of DJ_THREAD_BLOCK_SIZE (512 KiB), aligned to that size, made when the shim
 *   starts, so that it is one of the shim's own ranges (never the workload's: memory.c refuses it to dj_user_*,
 *   and the image may not overlap it). Block k belongs to keep thread record k and to slot k:
 *       [0, 16 KiB)               struct dj_process_thread (its struct dj_thread first)
 *       [16 KiB, 112 KiB)         marshal.c's iovec scratch
 *       [112 KiB, 116 KiB)        guard page, PROT_NONE
 *       [116 KiB, 512 KiB)        the thread's real alternate signal stack: every shim handler runs on it
 *   Every shim handler runs on its thread's alternate stack, so rsp & ~(512 KiB - 1) is its record: the shim never
 *   uses FS or GS, which are the workload's.
 *
 * clone
 *   Only threads: CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD are required, and SYSVSEM,
 *   SETTLS, PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID and DETACHED may be added (what glibc's and musl's
 *   pthread_create pass). A fork (no CLONE_VM) or vfork gets ENOSYS, with a log line once; other flags EINVAL.
 *   The real clone always has DJ_PROCESS_CLONE_FLAGS, the only flags the seccomp filter lets through: the thread
 *   ids the workload sees are the keep's (written by the shim, never the kernel's), and the kernel's
 *   CHILD_CLEARTID word is the record's `alive`, cleared when the real thread is gone, so that a block is reused
 *   only then. The workload's own CHILD_CLEARTID word is cleared and woken by the shim when the thread exits.
 *   The child starts with rt_sigreturn from a copy of its parent's SIGSYS ucontext (registers, FPU state), with
 *   rax = 0 and rsp = the new stack: that one call also sets its real mask (empty) and its alternate stack.
 *   Before the child exists, the parent asks the host to serve the child's slot (a SLOT_OPEN item).
 *
 * exit: the last live thread's exit ends the keep as exit_group does (an EXIT item). Any other thread clears its
 *   CHILD_CLEARTID word, wakes it, leaves the registry, and exits for real, on its own block.
 *
 * Untrusted inputs: the workload's clone arguments and registers, struct clone_args; pointers are checked with
 *   dj_user_range_ok and written through dj_user_write only.
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

#define REQUIRED_FLAGS (LX_CLONE_VM | LX_CLONE_FS | LX_CLONE_FILES | LX_CLONE_SIGHAND | LX_CLONE_THREAD)
#define OPTIONAL_FLAGS (LX_CLONE_SYSVSEM | LX_CLONE_SETTLS | LX_CLONE_PARENT_SETTID | LX_CLONE_CHILD_SETTID | \
                        LX_CLONE_CHILD_CLEARTID | LX_CLONE_DETACHED)

struct dj_process_thread {
    struct dj_thread common;
    volatile uint32_t alive;    /* the kernel's CHILD_CLEARTID word: nonzero until the real thread is gone */
    int32_t real_tid;           /* the kernel's id, for tgkill(SIGURG); 0 until known */
};

_Static_assert(sizeof(struct dj_process_thread) <= DJ_THREAD_STATE_SIZE, "thread record fits its area");
_Static_assert(DJ_MAX_ARGUMENTS * DJ_MAX_IOVEC_COUNT * sizeof(struct dj_iovec64) <= DJ_THREAD_GUARD_OFFSET - DJ_THREAD_STATE_SIZE,
               "iovec scratch fits its area");

static uint8_t *area;               /* the reservation, DJ_THREAD_BLOCK_SIZE-aligned */
static uint32_t area_count;         /* blocks in it */
static volatile int clone_lock;     /* one clone at a time: the choice of a free block */

static struct dj_process_thread *block(uint32_t index)
{
    return (struct dj_process_thread *)(area + (uint64_t)index * DJ_THREAD_BLOCK_SIZE);
}

struct dj_thread *dj_thread_self(void)
{
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return (struct dj_thread *)(sp & ~(uint64_t)(DJ_THREAD_BLOCK_SIZE - 1));
}

struct dj_range dj_threads_area(void)
{
    return (struct dj_range){ (uint64_t)area, (uint64_t)area + (uint64_t)area_count * DJ_THREAD_BLOCK_SIZE };
}

uint64_t dj_thread_stack_top(uint32_t index)
{
    return (uint64_t)block(index) + DJ_THREAD_BLOCK_SIZE;
}

struct dj_range dj_threads_reserve(uint32_t count)
{
    uint64_t size = (uint64_t)count * DJ_THREAD_BLOCK_SIZE;
    long mapped = dj_syscall6(LX_NR_MMAP, 0, (long)(size + DJ_THREAD_BLOCK_SIZE), LX_PROT_READ | LX_PROT_WRITE,
                              LX_MAP_PRIVATE | LX_MAP_ANONYMOUS | LX_MAP_NORESERVE, -1, 0);
    if (dj_is_error(mapped))
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not reserve the threads' blocks");
    uint64_t start = ((uint64_t)mapped + DJ_THREAD_BLOCK_SIZE - 1) & ~(uint64_t)(DJ_THREAD_BLOCK_SIZE - 1);
    if (start > (uint64_t)mapped)
        dj_syscall2(LX_NR_MUNMAP, mapped, start - (uint64_t)mapped);
    uint64_t tail = (uint64_t)mapped + size + DJ_THREAD_BLOCK_SIZE - (start + size);
    if (tail)
        dj_syscall2(LX_NR_MUNMAP, start + size, tail);
    area = (uint8_t *)start;
    area_count = count;
    for (uint32_t i = 0; i < count; i++)
        if (dj_syscall3(LX_NR_MPROTECT, (uint64_t)block(i) + DJ_THREAD_GUARD_OFFSET, DJ_PAGE_SIZE, 0) != 0)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not place the threads' guard pages");
    return (struct dj_range){ start, start + size };
}

/* A record made ready for keep thread `tid` on block/slot `index`. NULL or a message (the slot's header). */
static const char *prepare(uint32_t index, uint32_t tid)
{
    struct dj_process_thread *t = block(index);
    memset(&t->common, 0, sizeof t->common);
    t->common.index = index;
    t->common.iovecs = (struct dj_iovec64 (*)[DJ_MAX_IOVEC_COUNT])((uint8_t *)t + DJ_THREAD_STATE_SIZE);
    t->common.altstack.flags = LX_SS_DISABLE;
    t->real_tid = 0;
    const char *problem = dj_channel_slot(index, &t->common.slot);
    if (problem)
        return problem;
    t->common.tid = tid;
    return NULL;
}

void dj_threads_start(void)
{
    const char *problem = prepare(0, DJ_KEEP_THREAD_ID);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, problem);
    block(0)->alive = 1;
    dj_thread_register(&block(0)->common);
    dj_signals_thread_init(&block(0)->common);
}

/* Called on thread 0's stack once the filter is in: the kernel's id of the first thread. */
void dj_threads_first_running(void)
{
    block(0)->real_tid = (int32_t)dj_syscall1(LX_NR_GETTID, 0);
}

/* ---- kicks and locks ---- */

void dj_thread_kick(struct dj_thread *t)
{
    struct dj_process_thread *p = (struct dj_process_thread *)t;
    int32_t real = __atomic_load_n(&p->real_tid, __ATOMIC_SEQ_CST);
    if (real > 0)
        dj_syscall3(LX_NR_TGKILL, dj_pid, real, LX_SIGURG);
    dj_threads_kick_waiters();
}

void dj_threads_kick_waiters(void)
{
    __atomic_add_fetch(&dj_kick_count, 1, __ATOMIC_SEQ_CST);
    dj_syscall6(LX_NR_FUTEX, (long)&dj_kick_count, LX_FUTEX_WAKE | LX_FUTEX_PRIVATE_FLAG, 0x7FFFFFFF, 0, 0, 0);
}

void dj_lock_relax(uint32_t attempt)
{
    if (attempt < 64)
        __asm__ volatile("pause");
    else
        dj_syscall1(LX_NR_SCHED_YIELD, 0);      /* the holder may be preempted: give it the core */
}

/* ---- clone ---- */

/* sigsys.S's clone of a thread: the real clone, then rt_sigreturn in the child (asm below). */
long dj_clone_thread(uint64_t flags, uint64_t child_stack, uint64_t child_tid_word, uint64_t tls);

static int said_no_fork;

static long refuse_fork(void)
{
    if (!__atomic_exchange_n(&said_no_fork, 1, __ATOMIC_SEQ_CST)) {
        static const char text[] = "the workload asked for a new process (fork, vfork or clone without CLONE_VM); "
                                   "keeps run one process, so it got ENOSYS";
        dj_report_log(3, text, sizeof text - 1);
    }
    return -LX_ENOSYS;
}

static long clone_thread(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls,
                         const uint8_t *uc)
{
    if (!(flags & LX_CLONE_VM) || (flags & LX_CLONE_VFORK))
        return refuse_fork();
    if ((flags & REQUIRED_FLAGS) != REQUIRED_FLAGS || (flags & ~(uint64_t)(REQUIRED_FLAGS | OPTIONAL_FLAGS)))
        return -LX_EINVAL;
    if (!stack)
        return -LX_EINVAL;              /* a thread on its parent's stack: no libc does it */
    if ((flags & LX_CLONE_PARENT_SETTID) && !dj_user_range_ok(parent_tid, 4))
        return -LX_EFAULT;
    if ((flags & (LX_CLONE_CHILD_SETTID | LX_CLONE_CHILD_CLEARTID)) && !dj_user_range_ok(child_tid, 4))
        return -LX_EFAULT;
    if (!(flags & LX_CLONE_SETTLS)) {
        if (dj_syscall2(LX_NR_ARCH_PRCTL, LX_ARCH_GET_FS, &tls) != 0)
            return -LX_EAGAIN;          /* the child keeps its parent's FS base */
    }

    struct dj_thread *parent = dj_thread_self();
    uint32_t limit = dj_keep_max_threads();
    if (limit > area_count)
        limit = area_count;

    dj_lock(&clone_lock);
    uint32_t index = 0;
    for (uint32_t i = 1; i < limit && !index; i++)
        if (!__atomic_load_n(&block(i)->common.tid, __ATOMIC_SEQ_CST) && !__atomic_load_n(&block(i)->alive, __ATOMIC_SEQ_CST))
            index = i;
    if (!index) {
        dj_unlock(&clone_lock);
        return -LX_EAGAIN;              /* as Linux at RLIMIT_NPROC: the policy's thread limit */
    }
    uint32_t tid = dj_thread_next_tid();
    struct dj_process_thread *child = block(index);
    if (prepare(index, tid) || dj_report_slot_open(index, tid)) {
        child->common.tid = 0;
        dj_unlock(&clone_lock);
        return -LX_EAGAIN;
    }
    child->common.blocked = parent->blocked;
    child->common.clear_child_tid = (flags & LX_CLONE_CHILD_CLEARTID) ? child_tid : 0;
    dj_signals_thread_init(&child->common);

    /* The child's first frame, at the top of its alternate stack: its parent's FPU image, then the ucontext that
       rt_sigreturn reads at rsp (the pretcode slot above it is the one the `ret` into dj_restorer would pop). */
    const uint8_t *parent_fp;
    memcpy(&parent_fp, uc + LX_UC_FPSTATE, 8);
    uint32_t fp_size = dj_process_fpstate_size(parent_fp);
    uint64_t top = dj_thread_stack_top(index);
    uint64_t fp = (top - 64 - fp_size) & ~(uint64_t)63;
    uint64_t frame = ((fp - LX_UCONTEXT_SIZE) & ~(uint64_t)15) - 8;
    uint8_t *child_uc = (uint8_t *)frame;
    memcpy(child_uc, uc, LX_UCONTEXT_SIZE);
    if (fp_size)
        memcpy((void *)fp, parent_fp, fp_size);
    uint64_t zero = 0, child_rsp = stack, fp_pointer = fp_size ? fp : 0;
    memcpy(child_uc + LX_UC_RAX, &zero, 8);
    memcpy(child_uc + LX_UC_RSP, &child_rsp, 8);
    memcpy(child_uc + LX_UC_FPSTATE, &fp_pointer, 8);
    memcpy(child_uc + LX_UC_SIGMASK, &zero, 8);                     /* the real mask: nothing blocked */
    struct dj_sigstack own = { (uint64_t)child + DJ_THREAD_STACK_OFFSET, 0, 0, DJ_THREAD_STACK_SIZE };
    memcpy(child_uc + LX_UC_STACK, &own, sizeof own);               /* the real alternate stack */
    uint64_t uc_flags;
    memcpy(&uc_flags, child_uc + LX_UC_FLAGS, 8);
    uc_flags &= ~(uint64_t)LX_UC_STRICT_RESTORE_SS;
    memcpy(child_uc + LX_UC_FLAGS, &uc_flags, 8);

    if (flags & LX_CLONE_PARENT_SETTID)
        (void)dj_user_write(parent_tid, &tid, 4);
    if (flags & LX_CLONE_CHILD_SETTID)
        (void)dj_user_write(child_tid, &tid, 4);

    child->alive = 1;
    dj_thread_register(&child->common);
    long real = dj_clone_thread(DJ_PROCESS_CLONE_FLAGS, frame, (uint64_t)&child->alive, tls);
    if (dj_is_error(real)) {
        dj_thread_unregister(&child->common);
        child->alive = 0;
        child->common.tid = 0;
        dj_unlock(&clone_lock);
        return -LX_EAGAIN;
    }
    __atomic_store_n(&child->real_tid, (int32_t)real, __ATOMIC_SEQ_CST);
    dj_unlock(&clone_lock);
    return tid;
}

long dj_process_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls,
                      const uint8_t *uc)
{
    if (flags & LX_CSIGNAL)
        return (flags & LX_CLONE_VM) && !(flags & LX_CLONE_VFORK) ? -LX_EINVAL : refuse_fork();
    return clone_thread(flags, stack, parent_tid, child_tid, tls, uc);
}

long dj_process_clone3(uint64_t arguments, uint64_t size, const uint8_t *uc)
{
    uint64_t a[LX_CLONE_ARGS_SIZE_VER0 / 8];
    if (size < LX_CLONE_ARGS_SIZE_VER0)
        return -LX_EINVAL;
    if (size > DJ_PAGE_SIZE)
        return -LX_E2BIG;
    if (dj_user_read(a, arguments, sizeof a))
        return -LX_EFAULT;
    for (uint64_t at = LX_CLONE_ARGS_SIZE_VER0; at < size; at += 8) {  /* later fields: set_tid, cgroup, ... */
        uint64_t extra = 0;
        uint64_t length = size - at < 8 ? size - at : 8;
        if (dj_user_read(&extra, arguments + at, length))
            return -LX_EFAULT;
        if (extra)
            return -LX_EINVAL;          /* none of them is offered */
    }
    uint64_t flags = a[LX_CLONE_ARGS_FLAGS / 8];
    if (a[LX_CLONE_ARGS_EXIT_SIGNAL / 8])
        return (flags & LX_CLONE_VM) && !(flags & LX_CLONE_VFORK) ? -LX_EINVAL : refuse_fork();
    uint64_t stack = a[LX_CLONE_ARGS_STACK / 8], stack_size = a[LX_CLONE_ARGS_STACK_SIZE / 8];
    if (!stack || !stack_size || stack + stack_size < stack)
        return -LX_EINVAL;
    return clone_thread(flags, stack + stack_size, a[LX_CLONE_ARGS_PARENT_TID / 8], a[LX_CLONE_ARGS_CHILD_TID / 8],
                        a[LX_CLONE_ARGS_TLS / 8], uc);
}

/* ---- exit ---- */

DJ_NORETURN void dj_process_exit(uint64_t status, uint64_t whole_keep)
{
    struct dj_process_thread *self = (struct dj_process_thread *)dj_thread_self();
    uint64_t clear = self->common.clear_child_tid;
    if (!whole_keep && clear) {
        uint32_t zero = 0;
        if (!dj_user_write(clear, &zero, 4))
            dj_syscall6(LX_NR_FUTEX, (long)clear, LX_FUTEX_WAKE, 1, 0, 0, 0);
    }
    uint32_t left = whole_keep ? 0 : dj_thread_unregister(&self->common);
    if (left == 0) {
        dj_report_exit((int32_t)status);
        dj_syscall1(LX_NR_EXIT_GROUP, status);
    }
    __atomic_store_n(&self->common.tid, 0, __ATOMIC_SEQ_CST);
    dj_syscall1(LX_NR_EXIT, 0);         /* the kernel clears `alive` once the thread is gone */
    for (;;)
        ;
}
