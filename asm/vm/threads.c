/*
 * asm/vm/threads.c -- the VM keep's threads, as far as they go today: one. The workload runs on one thread, the
 * keep's first, on slot 0; clone is not served here (the host answers it ENOSYS), so every record below is that
 * thread's. What shim.h asks of each shim for threads is here, so the common code is the same in both keeps.
 *
 * Entry points: dj_vm_threads_start() from dj_vm_main once the block is open; dj_thread_self/kick(),
 *   dj_threads_kick_waiters(), dj_lock_relax() for the common code.
 *
 * Untrusted inputs: none (slot 0's header is checked by marshal.c).
 */
#include "vm.h"

static struct dj_thread first;
static struct dj_iovec64 first_iovecs[DJ_MAX_ARGUMENTS][DJ_MAX_IOVEC_COUNT];

struct dj_thread *dj_thread_self(void) { return &first; }

/* One thread: nobody else to kick, and a waiting thread is the caller itself. */
void dj_thread_kick(struct dj_thread *t) { (void)t; }
void dj_threads_kick_waiters(void) {}

void dj_lock_relax(uint32_t attempt)
{
    (void)attempt;
    __asm__ volatile("pause");
}

void dj_vm_threads_start(void)
{
    first.index = 0;
    first.iovecs = first_iovecs;
    first.altstack.flags = 2;           /* SS_DISABLE */
    const char *problem = dj_channel_slot(0, &first.slot);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, problem);
    first.tid = DJ_KEEP_THREAD_ID;
    dj_thread_register(&first);
    dj_signals_thread_init(&first);
}
