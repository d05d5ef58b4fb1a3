/*
 * asm/common/threads.c -- the registry of the keep's live threads, shared by every shim.
 *
 * Entry points
 *   dj_thread_register/unregister()   a thread starts using its record / its record is free again
 *   dj_thread_find()                  tgkill/tkill: the record of a keep thread id
 *   dj_threads_each()                 every live thread (the interrupting masks, the kicks)
 *   dj_thread_next_tid()              the id of a new thread
 *
 * Thread ids: the first thread is DJ_KEEP_THREAD_ID (1, the keep's pid too, as for any process's first thread);
 * each new thread gets the next id, never reused within the keep, so a stale id names nobody (ESRCH), as Linux's
 * ids do until they wrap.
 *
 * Locking: one spinlock guards the table. Nothing in here may fault or wait; it holds no workload pointer.
 */
#include "shim.h"

static struct dj_thread *table[DJ_MAX_THREADS];
static volatile int table_lock;
static uint32_t live;
static uint32_t next_tid = DJ_KEEP_THREAD_ID + 1;

void dj_thread_register(struct dj_thread *t)
{
    dj_lock(&table_lock);
    if (t->index < DJ_MAX_THREADS && !table[t->index]) {
        table[t->index] = t;
        live++;
    }
    dj_unlock(&table_lock);
}

uint32_t dj_thread_unregister(struct dj_thread *t)
{
    dj_lock(&table_lock);
    if (t->index < DJ_MAX_THREADS && table[t->index] == t) {
        table[t->index] = NULL;
        live--;
    }
    uint32_t left = live;
    dj_unlock(&table_lock);
    return left;
}

struct dj_thread *dj_thread_find(uint32_t tid)
{
    struct dj_thread *found = NULL;
    dj_lock(&table_lock);
    for (uint32_t i = 0; i < DJ_MAX_THREADS && !found; i++)
        if (table[i] && table[i]->tid == tid)
            found = table[i];
    dj_unlock(&table_lock);
    return found;
}

uint32_t dj_thread_count(void)
{
    return __atomic_load_n(&live, __ATOMIC_SEQ_CST);
}

uint32_t dj_thread_next_tid(void)
{
    return __atomic_fetch_add(&next_tid, 1, __ATOMIC_SEQ_CST);
}

void dj_threads_each(void (*visit)(struct dj_thread *t, void *context), void *context)
{
    dj_lock(&table_lock);
    for (uint32_t i = 0; i < DJ_MAX_THREADS; i++)
        if (table[i])
            visit(table[i], context);
    dj_unlock(&table_lock);
}
