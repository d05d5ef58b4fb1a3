/*
 * asm/include/shim.h -- what the shims share that is not protocol: tuning constants (usable from C and .S),
 * and the C view of the protocol structures and of the functions the shim's parts provide one another.
 *
 * The code in asm/common is shared by every shim (process and, later, VM). It never makes a system call: what
 * differs between shims (reaching the host, touching workload memory, dying) is declared in the section
 * "Provided by each shim" below and implemented once per shim.
 */
#ifndef DJ_SHIM_H
#define DJ_SHIM_H

#include "protocol.h"

#define DJ_IOVEC_SIZE           16          /* struct iovec {void *iov_base; size_t iov_len;} */
#define DJ_SIGALTSTACK_SIZE     0x40000     /* 256 KiB: two nested AVX-512 (or AMX) signal frames and the C below them */
#define DJ_SPIN_TSC_TICKS       100000      /* the longest the shim spins before it sleeps in FUTEX_WAIT: ~40 us at 2.5 GHz */
#define DJ_SPIN_GROW_TSC_TICKS  5000        /* the least spin window it grows back to from none: ~2 us */
#define DJ_SPIN_POLLS_PER_CLOCK 16          /* doorbell looks (each with `pause`) between two reads of the TSC */
#define DJ_EXIT_SIGNAL_BASE     128         /* the shim exits with 128 + signal after a FAULT item */
#define DJ_VMSPACE_MAX_RANGES   4096        /* mapped ranges tracked in the mmap region; more gives ENOMEM */
#define DJ_KEEP_PROCESS_ID      1           /* getpid() in every keep (plugins/syscalls/core IdentityCalls) */
#define DJ_KEEP_THREAD_ID       1           /* gettid() of the keep's first thread (served by the shim); later ones count up */
#define DJ_KEEP_TABLE_COUNT     335         /* syscalls numbered below this may be handled inside the shim */

/* Offsets in struct dj_thread that assembly reads (asserted below). */
#define DJ_THREAD_TID               4
#define DJ_THREAD_CLEAR_CHILD_TID   80
#define DJ_THREAD_ROBUST_LIST       88

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

#define DJ_NORETURN __attribute__((noreturn))
#define DJ_UNUSED __attribute__((unused))

/* ---- The C view of docs/protocol.md structures (asm/tests/offsets_check.c checks them) ---- */

/* One argument descriptor of a configuration page table entry (§2). */
struct dj_config_argument {
    uint8_t kind;             /* DJ_ARGUMENT_KIND_* */
    uint8_t length_argument;  /* 0-5, or DJ_CONFIG_NO_LENGTH_ARGUMENT */
    uint16_t fixed_size;      /* bytes, or 0 */
};

/* One configuration page table entry (§2): the marshalling of syscall number n. */
struct dj_config_entry {
    uint16_t flags;           /* DJ_CONFIG_FLAG_DECLARED */
    uint16_t first_choice;    /* 1.5: the first choice of its selected argument, in the choice table */
    struct dj_config_argument args[DJ_MAX_ARGUMENTS];
    uint32_t reserved2;
};

/* A half-open address range [start, end). */
struct dj_range {
    uint64_t start;
    uint64_t end;
};

/* One region descriptor of the image blob (§1), copied out of the blob and checked. */
struct dj_region {
    uint64_t address;
    uint64_t size;
    uint32_t permissions;     /* DJ_REGION_PERMISSION_* */
    uint32_t kind;            /* DJ_REGION_KIND_* */
    uint64_t data_offset;     /* where the data starts inside the region */
    uint64_t blob_offset;     /* where the data starts inside the blob */
    uint64_t data_size;
};

/* The image blob's header and regions, copied out of the blob and checked (image.c). */
struct dj_image {
    uint64_t entry_point;
    uint64_t stack_pointer;
    uint64_t heap_base;
    uint64_t heap_max_size;
    uint64_t mmap_base;
    uint64_t mmap_end;
    uint64_t config_offset;
    uint64_t config_size;
    uint64_t memory_limit;
    uint32_t region_count;
    struct dj_region regions[DJ_IMAGE_MAX_REGIONS];
};

/* ---- Threads: what the common code keeps per keep thread (each shim embeds it in its own record) ---- */

/* One slot of the shared block (§3): the request area of one keep thread. */
struct dj_slot {
    volatile uint8_t *base;     /* the slot's header; its items follow at DJ_BLOCK_ITEMS_START */
    uint32_t capacity;          /* items capacity, rounded down to DJ_ITEM_ALIGNMENT */
    uint32_t sequence;          /* the last request sequence number sent on this slot */
};

/* stack_t */
struct dj_sigstack {
    uint64_t sp;
    int32_t flags;
    uint32_t pad;
    uint64_t size;
};

struct dj_iovec64 {
    uint64_t base;
    uint64_t length;
};

#define DJ_SIGNAL_COUNT 64          /* LX_NSIG */
#define DJ_SIGINFO_SIZE 128         /* LX_SIGINFO_SIZE */

struct dj_thread {
    uint32_t index;             /* the thread's slot (and, per shim, its record): 0 for the first thread */
    uint32_t tid;               /* gettid() inside the keep; 0 while the record is free */
    struct dj_slot slot;
    uint64_t blocked;           /* the workload's signal mask for this thread */
    uint64_t pending;           /* signals sent to this thread (faults, tgkill, SIGPIPE): atomic */
    uint64_t saved_mask;        /* rt_sigsuspend's mask to restore once its signal is delivered */
    int restore_saved_mask;
    uint32_t restart_number;    /* the call a -ERESTARTSYS result restarts under SA_RESTART (sigstate.c) */
    struct dj_sigstack altstack;   /* the workload's sigaltstack for this thread */
    uint64_t clear_child_tid;   /* set_tid_address / CLONE_CHILD_CLEARTID: zeroed and woken when the thread exits */
    uint64_t robust_list;
    struct dj_iovec64 (*iovecs)[1024];  /* marshal.c's scratch: DJ_MAX_ARGUMENTS arrays of DJ_MAX_IOVEC_COUNT */
    uint8_t pending_info[DJ_SIGNAL_COUNT][DJ_SIGINFO_SIZE];
};

_Static_assert(offsetof(struct dj_thread, tid) == DJ_THREAD_TID, "struct dj_thread tid");
_Static_assert(offsetof(struct dj_thread, clear_child_tid) == DJ_THREAD_CLEAR_CHILD_TID, "struct dj_thread clear_child_tid");
_Static_assert(offsetof(struct dj_thread, robust_list) == DJ_THREAD_ROBUST_LIST, "struct dj_thread robust_list");

/* Per shim: the calling thread's record (process: found from rsp inside its thread block; VM: the running one). */
struct dj_thread *dj_thread_self(void);
/* Per shim: makes thread `t` (not the caller) look at its pending signals now: wakes it from a wait, or
   interrupts what it runs. */
void dj_thread_kick(struct dj_thread *t);
/* Per shim: wakes every thread waiting in dj_wait_for_signal (a signal for the whole keep was raised). */
void dj_threads_kick_waiters(void);

/* common/threads.c: the registry of live threads, and a spinlock. */
void dj_thread_register(struct dj_thread *t);
uint32_t dj_thread_unregister(struct dj_thread *t);      /* the live threads left */
struct dj_thread *dj_thread_find(uint32_t tid);          /* NULL if no live thread has that id */
uint32_t dj_thread_count(void);                          /* live threads */
uint32_t dj_thread_next_tid(void);                       /* a fresh id: 2, 3, ... (ids are not reused) */
/* Calls `visit` for every live thread, under the registry lock (visit must not take it). */
void dj_threads_each(void (*visit)(struct dj_thread *t, void *context), void *context);
/* Per shim: what a lock waiter does between tries (process: sched_yield after a while; VM: pause). */
void dj_lock_relax(uint32_t attempt);
static inline void dj_lock(volatile int *lock)
{
    uint32_t attempt = 0;
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(lock, __ATOMIC_RELAXED))
            dj_lock_relax(attempt++);
}
static inline void dj_unlock(volatile int *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

/* ---- common/image.c ---- */

/*
 * Checks the image blob [blob, blob + blob_size) as docs/protocol.md §1 says and copies its header and regions
 * into *image. No region, nor the heap or mmap range, may overlap any of the `forbidden` ranges (the shim, the
 * blob, the block). Returns NULL, or a message saying what is wrong.
 */
const char *dj_image_check(const uint8_t *blob, uint64_t blob_size, const struct dj_range *forbidden,
                           unsigned forbidden_count, struct dj_image *image);

/* ---- common/marshal.c ---- */

/* Checks the shared block (§3) against the mapped size and remembers it. NULL or a message. */
const char *dj_channel_open(uint8_t *block, uint64_t mapped_size);
/* How many slots the block has (1 until it is open). */
uint32_t dj_channel_slot_count(void);
/* The most threads the keep may have: the configuration page's max threads, at most the block's slots. */
uint32_t dj_keep_max_threads(void);
/* Points `slot` at slot `index` of the open block after checking its header. NULL or a message. */
const char *dj_channel_slot(uint32_t index, struct dj_slot *slot);
/* On the caller's slot: asks the host to serve slot `index` for thread `tid`. 0, or -EAGAIN. */
long dj_report_slot_open(uint32_t index, uint32_t tid);

/* On the caller's slot: a TRACE item (run --strace) for a call the shim served itself; the host answers at once. */
void dj_report_trace(uint32_t number, uint32_t tid, const uint64_t args[DJ_MAX_ARGUMENTS], long result);

/* trace.c: run --strace. dj_trace_on is set from the configuration page's DJ_CONFIG_FLAG_TRACE by dj_table_load; the
   shims' hooks test it (one predictable branch) and, when set, call dj_trace_keep_call after a call they served. */
extern uint8_t dj_trace_on;
void dj_trace_configure(uint32_t flags);
long dj_trace_keep_call(uint32_t number, long result, const uint64_t args[DJ_MAX_ARGUMENTS]);

/* Checks the configuration page (§2) and copies its marshalling table into the shim. NULL or a message. */
const char *dj_table_load(const uint8_t *config, uint64_t config_size);

/* Sends syscall `number` with the workload's `args` through the block; returns the host's result. */
long dj_marshal_syscall(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS]);
/* 1.4: the signal mask syscall `number`'s kind-14 argument names: 0 when it has none (or NULL), 1 with *mask
   read from the workload, or -errno (EINVAL for a sigsetsize other than 8, EFAULT). */
long dj_marshal_signal_mask(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS], uint64_t *mask);

/* Takes every signal the host forwarded (bit n-1: signal n) out of the block, at once; 0 when none. */
uint64_t dj_channel_take_signals(void);
/* Tells the host which signals would interrupt a blocked call on `slot` (an untrusted hint for its EINTR). */
void dj_channel_publish_interrupting(struct dj_slot *slot, uint64_t signals);

/* Sends an EXIT item and waits for the host's reply. */
void dj_report_exit(int32_t status);

/* Sends a FAULT item and waits for the host's reply. */
void dj_report_fault(uint32_t signal, int32_t vector, uint64_t address, uint64_t instruction_pointer,
                     uint64_t code);

/* Sends a LOG item (the text is cut to fit) and waits for the host's reply. */
void dj_report_log(uint32_t level, const char *text, uint32_t length);

/* ---- common/sigstate.c: the workload's signals (never the shim's real ones) ---- */

/* The workload's general registers in struct sigcontext's order (r8 first, eflags last): in the process keep
   this is the kernel's ucontext at LX_UC_MCONTEXT itself; the VM shim copies its trap frame to and from it. */
struct dj_user_regs {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
};

long dj_sys_rt_sigaction(uint64_t signal, uint64_t act, uint64_t oldact, uint64_t sigsetsize);
long dj_sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oldset, uint64_t sigsetsize);
long dj_sys_rt_sigpending(uint64_t set, uint64_t sigsetsize);
long dj_sys_sigaltstack(uint64_t stack, uint64_t oldstack);
long dj_sys_sigaltstack_at(uint64_t stack, uint64_t oldstack, uint64_t sp);
long dj_sys_kill(uint64_t pid, uint64_t sig);
long dj_sys_tkill(uint64_t tid, uint64_t sig);
long dj_sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig);
long dj_sys_gettid(void);
long dj_sys_pause(void);
long dj_sys_rt_sigsuspend(uint64_t set, uint64_t sigsetsize);
long dj_sys_rt_sigtimedwait(uint64_t set, uint64_t info, uint64_t timeout, uint64_t sigsetsize);

/* Per shim: the keep's one thread waits until a signal is deliverable or one of `wanted` is pending (a futex that
   only a kick interrupts; a halted vCPU that only the doorbell line wakes). */
void dj_wait_for_signal(uint64_t wanted);
/* Once the block is open: tells the host which signals would interrupt a blocked call (all default, at first). */
void dj_signals_init(void);
/* A new thread's interrupting-signals word, on its slot, before its first exchange. */
void dj_signals_thread_init(struct dj_thread *t);
/* Whether a signal in `wanted` is pending (blocked or not). */
int dj_signal_pending_in(uint64_t wanted);

/* File-backed mmap, served by copying the file's bytes through the host (filemap.c); from each shim's dj_sys_mmap. */
long dj_map_file(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset);
/* Each shim's memory calls, which dj_map_file builds on (process/memory.c, vm/memory.c). */
long dj_sys_mmap(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset);
long dj_sys_munmap(uint64_t address, uint64_t length);
long dj_sys_mprotect(uint64_t address, uint64_t length, uint64_t prot);

/* dj_marshal_syscall, and SIGPIPE raised when a write-like call returns -EPIPE (as the kernel does). */
long dj_host_syscall(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS]);

/* A signal for the workload, with its siginfo: pending until delivered (ignored ones are dropped). */
void dj_signal_raise(int sig, const uint8_t info[128]);
/* Whether a pending signal is not blocked: the test each shim makes before returning to the workload. */
int dj_signal_deliverable(void);
/* Whether `sig` would reach a workload handler now (not blocked, not ignored, not default). */
int dj_signal_action_is_handler(int sig);
/* Builds a frame for every deliverable signal (`fpstate`: the workload's FPU state image, copied into each),
   rewriting `regs` to enter the handler. Returns how many; *terminating = a signal whose default action ends
   the keep (the caller ends it with 128 + that signal), else 0. */
int dj_signal_deliver(struct dj_user_regs *regs, const uint8_t *fpstate, uint32_t fpstate_size, int *terminating);
/* rt_sigreturn: restores `regs`, the mask and the alternate stack from the frame at regs->rsp; gives the frame's
   FPU state pointer (untrusted, 0 for none). 0, or -EFAULT (the caller ends the keep with SIGSEGV). */
long dj_signal_return(struct dj_user_regs *regs, uint64_t *fpstate_pointer);

/* ---- common/vmspace.c: bookkeeping of the mapped ranges inside one address range ---- */

struct dj_vmspace {
    uint64_t base;            /* the range this space manages: [base, end) */
    uint64_t end;
    uint64_t mapped;          /* bytes in ranges[] */
    uint32_t count;
    struct dj_range ranges[DJ_VMSPACE_MAX_RANGES];  /* sorted, disjoint, never adjacent */
};

#define DJ_VM_NONE UINT64_MAX

void dj_vm_init(struct dj_vmspace *vm, uint64_t base, uint64_t end);
int dj_vm_contains(const struct dj_vmspace *vm, uint64_t start, uint64_t end);    /* inside [base, end) */
int dj_vm_has_room(const struct dj_vmspace *vm, uint32_t extra);                  /* `extra` more ranges fit */
int dj_vm_is_free(const struct dj_vmspace *vm, uint64_t start, uint64_t end);
int dj_vm_is_mapped(const struct dj_vmspace *vm, uint64_t start, uint64_t end);
uint64_t dj_vm_mapped_in(const struct dj_vmspace *vm, uint64_t start, uint64_t end);
uint64_t dj_vm_range_end(const struct dj_vmspace *vm, uint64_t address);          /* 0 if untracked */
uint64_t dj_vm_find(const struct dj_vmspace *vm, uint64_t size, uint64_t hint);  /* DJ_VM_NONE if none */
void dj_vm_insert(struct dj_vmspace *vm, uint64_t start, uint64_t end);           /* needs room for 1 */
void dj_vm_remove(struct dj_vmspace *vm, uint64_t start, uint64_t end);           /* needs room for 1 */

/* ---- common/usercopy.S: copies that may fault, with a fixup (see the file header) ---- */

long dj_copy_user(void *dst, const void *src, uint64_t size);             /* 0 or -EFAULT */
long dj_strncpy_user(void *dst, const void *src, uint64_t max);           /* length with NUL, -EFAULT, -ENAMETOOLONG */

/* ---- common/string.S: what the compiler may call even in freestanding code ---- */

void *memcpy(void *dst, const void *src, size_t size);
void *memmove(void *dst, const void *src, size_t size);
void *memset(void *dst, int value, size_t size);
int memcmp(const void *a, const void *b, size_t size);

/* ---- Provided by each shim ---- */

/* Rings the doorbell for the request already in the block and returns once the doorbell is no longer
   DJ_DOORBELL_REQUEST (process: doorbell.S). */
void dj_doorbell_ring_wait(volatile uint8_t *block);

/* Workload memory access: refuse what is not the workload's, copy with a fixup. 0 / -EFAULT. */
long dj_user_read(void *dst, uint64_t src, uint64_t size);
long dj_user_write(uint64_t dst, const void *src, uint64_t size);
/* Copies a C string of at most `max` bytes with its NUL: its length with the NUL, -EFAULT or -ENAMETOOLONG. */
long dj_user_string(void *dst, uint64_t src, uint64_t max);

/* Writes "donjon-shim: <message>" on stderr and ends the keep with `status` (process: syscall.S). */
DJ_NORETURN void dj_fatal(int status, const char *message);

#endif /* __ASSEMBLER__ */
#endif /* DJ_SHIM_H */
