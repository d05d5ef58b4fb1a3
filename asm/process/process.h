/*
 * asm/process/process.h -- declarations private to the process shim (its C and its assembly meet here).
 */
#ifndef DJ_PROCESS_H
#define DJ_PROCESS_H

#include "shim.h"

/* Thread blocks (threads.c): one per slot, aligned to their size, so that rsp finds the record. */
#define DJ_THREAD_BLOCK_SIZE    0x80000     /* 512 KiB */
#define DJ_THREAD_STATE_SIZE    0x4000      /* the record */
#define DJ_THREAD_GUARD_OFFSET  0x1C000     /* after the iovec scratch (96 KiB) */
#define DJ_THREAD_STACK_OFFSET  0x1D000     /* the real alternate stack, to the block's end */
#define DJ_THREAD_STACK_SIZE    (DJ_THREAD_BLOCK_SIZE - DJ_THREAD_STACK_OFFSET)
/* The only flags of the shim's real clone (the seccomp filter pins them): a thread of this process, with the
   kernel's clear-tid word in the shim's record and the workload's TLS. */
#define DJ_PROCESS_CLONE_FLAGS  0x2d0f00    /* VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|CHILD_CLEARTID */

/* Syscall-site patching (patch.c, patch.S). Each thread block's record area ends with the thread's patch
   record, at DJ_PATCH_AREA_OFFSET from the block's base; the thread's GS base is its block's base. */
#define DJ_PATCH_AREA_OFFSET    0x3F00      /* inside the DJ_THREAD_STATE_SIZE record area, after struct dj_thread */
#define DJ_PATCH_SELF           0           /* u64: the block's own base (what the entry checks GS against) */
#define DJ_PATCH_RESULT         8           /* u64: a direct call's result, waiting for DJ_NR_PATCH_RESUME */
#define DJ_PATCH_PENDING        16          /* u64: 1 while RESULT waits */
#define DJ_PATCH_DIRECT_COUNT   24          /* u64: calls this thread made through the direct entry */
#define DJ_PATCH_TRAP_COUNT     32          /* u64: SIGSYS traps this thread took */
#define DJ_PATCH_RETRY_RIP      40          /* u64: the instruction fetch fault last retried (patch.c) */
#define DJ_PATCH_RETRY_WINDOW   48          /* u64: the window generation it was retried in */
#define DJ_PATCH_AREA_SIZE      64
/* A stub slot (patch.c writes them, patch.S reads the data part of a checked one). Two kinds (patch.S, "The
   stubs"): a constant site's (`mov eax, imm32; syscall`) and a dynamic site's (the number in eax at run time). */
#define DJ_PATCH_SLOT_SIZE      64
#define DJ_PATCH_SLOT_FALLBACK  18          /* constant: `mov eax, imm32; syscall; jmp site end`: the trap, as before */
#define DJ_PATCH_SLOT_TRAP      23          /* constant: its `syscall` */
#define DJ_PATCH_DYNAMIC_TRAP   0           /* dynamic: `syscall; jmp site end`, the trap and the fallback */
#define DJ_PATCH_DYNAMIC_CODE   7           /* dynamic: the site's copied instructions, where the site jumps */
#define DJ_PATCH_DYNAMIC_MAX    20          /* dynamic: at most this many bytes of copied instructions */
#define DJ_PATCH_SLOT_RESUME    40          /* u64: the site's end, the instruction after its `syscall` */
#define DJ_PATCH_SLOT_ENTRY     48          /* u64: dj_patch_entry */
#define DJ_PATCH_SLOT_NUMBER    56          /* u32: a constant site's syscall number (0 for a dynamic one) */
#define DJ_PATCH_SLOT_TO_FALLBACK 60        /* u8: the fallback's offset in the slot (18, or 0) */
#define DJ_PATCH_SLOT_TO_TRAP   61          /* u8: the trap `syscall`'s offset in the slot (23, or 0) */
#define DJ_PATCH_SLOT_KIND      62          /* u8: 0 constant, 1 dynamic (the number is eax, checked at run time) */
/* The numbers a dynamic site's entry never serves directly (patchable() in patch.c, the bitmap in patch.S): they
   need the trap's kernel context or end a thread. Every number >= 512 (x32, shim-private) is refused too. */
#define DJ_PATCH_NEVER_DIRECT(X) \
    X(15) /* rt_sigreturn */ X(131) /* sigaltstack */ X(56) /* clone */ X(435) /* clone3 */ X(57) /* fork */ \
    X(58) /* vfork */ X(59) /* execve */ X(322) /* execveat */ X(60) /* exit */ X(231) /* exit_group */
#define DJ_PATCH_REGION_MAX     4           /* stub regions, each DJ_PATCH_REGION_SIZE bytes */
#define DJ_PATCH_REGION_SIZE    0x10000
/* Shim-private syscall numbers, above every Linux number and below the x32 bit; never patched, always trapped.
   DJ_NR_PATCH_RESUME: the direct entry's way back through the trap when a signal is to be delivered.
   DJ_NR_PATCH_STATS (rdi = u64[5]): {enabled, sites patched, sites refused, this thread's traps, this thread's
   direct calls}; 0, or -EFAULT. With rsi = DJ_PATCH_STATS_WIDE, rdi = u64[6]: the same and the dynamic sites
   patched (of the sites patched). The VM keep and Linux answer -ENOSYS. */
#define DJ_NR_PATCH_RESUME      0x3D0A0000
#define DJ_NR_PATCH_STATS       0x3D0A0001
#define DJ_PATCH_STATS_WIDE     0x3D0A5157
#define DJ_ARCH_SET_GS          0x1001
#define DJ_SEGV_ACCERR          2

#ifndef __ASSEMBLER__

/* The shim's own image, from shim.ld. */
extern char __shim_start[], __shim_end[], __shim_text_start[], __shim_text_end[];

/* syscall.S: the raw system call. Only code in the shim's text may make one (the seccomp filter). */
long dj_syscall6(long number, long a0, long a1, long a2, long a3, long a4, long a5);
#define dj_syscall1(n, a) dj_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define dj_syscall2(n, a, b) dj_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define dj_syscall3(n, a, b, c) dj_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define dj_syscall4(n, a, b, c, d) dj_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* Whether a raw system call result is -errno. */
static inline int dj_is_error(long result) { return (unsigned long)result > -(unsigned long)4096; }

/* load.c: called once by _start, after the descriptors are mapped and closed. Exits on any failure. */
void dj_process_load(const uint8_t *blob, uint64_t blob_size, uint8_t *block, uint64_t block_size);

/* load.c: called once by _start after dj_process_load: no core dumps; every mapping the kernel made that is not
   the shim's, the block's or the image's is unmapped. Runs on the shim's own stack. Exits 123 on failure. */
void dj_process_isolate(void);

/* filter.c: installs the seccomp filter. Exits 124. */
void dj_seccomp_install(void);

/* load.c: after a workload fault has been reported, the process dies by `signal` itself (never returns). */
DJ_NORETURN void dj_die_by_signal(uint32_t signal);

/* futex.c: bumped by every kick, waited on by dj_wait_for_signal. */
extern uint32_t dj_kick_count;

/* deliver.c: the size of the kernel's FPU image at `fp` in a signal frame (0 for none); threads.c copies one. */
uint32_t dj_process_fpstate_size(const uint8_t *fp);

/* deliver.c: the SIGURG handler's C part. */
void dj_process_kick(uint32_t signal, const uint8_t *siginfo, uint8_t *uc);

/* filter.c: the process's pid, which the filter pins for tgkill. */
extern long dj_pid;

/* load.c: a fault the shim itself took outside the copy routines: say so (stderr and a LOG item). */
void dj_report_internal_fault(uint32_t signal, uint64_t instruction_pointer, uint64_t address);

/* load.c: where the workload starts; entry.S reads them. */
extern uint64_t dj_workload_entry, dj_workload_stack;

/* memory.c */
void dj_memory_init(const struct dj_image *image, const struct dj_range *owned, unsigned owned_count);
long dj_sys_brk(uint64_t address);
long dj_sys_mmap(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset);
long dj_sys_munmap(uint64_t address, uint64_t length);
long dj_sys_mprotect(uint64_t address, uint64_t length, uint64_t prot);
long dj_sys_mremap(uint64_t old_address, uint64_t old_length, uint64_t new_length, uint64_t flags,
                   uint64_t new_address);
long dj_sys_madvise(uint64_t address, uint64_t length, uint64_t advice);
/* Whether [start, start + size) is wholly the workload's memory (its image, heap and mmap mappings). */
int dj_user_range_ok(uint64_t start, uint64_t size);

/* threads.c */
struct dj_range dj_threads_reserve(uint32_t count);
void dj_threads_start(void);
void dj_threads_first_running(void);
uint64_t dj_thread_stack_top(uint32_t index);
long dj_process_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls,
                      const uint8_t *uc);
long dj_process_clone3(uint64_t arguments, uint64_t size, const uint8_t *uc);
DJ_NORETURN void dj_process_exit(uint64_t status, uint64_t whole_keep);

/* futex.c */
long dj_sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3);
void dj_doorbell_configure(const uint8_t *block);   /* doorbell.S: say where each ring runs, if the block is 2.1 and the CPU has RDTSCP */
long dj_sys_sched_yield(void);

/* patch.c */
extern int dj_patch_enabled;
void dj_patch_configure(char **envp);           /* _start, on the kernel's stack: DONJON_PROCESS_PATCH=0 turns it off */
void dj_patch_init(void);                       /* _start, before the filter: thread 0's GS and patch record */
void dj_patch_consider(uint32_t number, const uint8_t *uc);     /* dj_sigsys, after each trapped call */
long dj_patch_resume(void);                     /* dj_sigsys: DJ_NR_PATCH_RESUME */
long dj_patch_stats(uint64_t buffer, uint64_t wide);     /* dj_sigsys: DJ_NR_PATCH_STATS */
int dj_patch_fault(const uint8_t *siginfo, uint8_t *uc);        /* dj_fault: 1 when the fault was the patcher's */
extern const uint8_t dj_patch_direct_numbers[64];              /* patch.S: bit n set when number n may be direct */

/* memory.c: `size` bytes mapped read-write at a page-aligned address within `reach` bytes of `near` (both
   ends), outside every range the workload has or may map, and made the shim's (munmap skips it, no workload
   pointer may point into it); 0 when there is none. */
uint64_t dj_memory_map_shim_near(uint64_t near, uint64_t size, uint64_t reach);

/* memory.c: writes `size` bytes of the workload's code at `address` (one page, the workload's), the page made
   read-write for the write only and PROT_READ|PROT_EXEC after it; 0 or -1. */
int dj_memory_patch_code(uint64_t address, const uint8_t *bytes, uint64_t size);

/* threads.c: the thread blocks' reservation. */
struct dj_range dj_threads_area(void);

#endif /* __ASSEMBLER__ */
#endif /* DJ_PROCESS_H */
