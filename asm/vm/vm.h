/*
 * asm/vm/vm.h -- the VM shim (a tiny guest kernel): its constants, usable from C and from GNU as, and the
 * declarations its parts share.
 *
 * The constants in the first section, "Shared with the host", are the ONE source of the guest-physical layout,
 * the I/O ports and the exit encoding that the host's vm backend also uses: plugins/backends/vm/VmLayout.cs holds
 * the same values under the C# names, and tests/Donjon.Tests/Vm/VmLayoutTests.cs parses this file and keeps the
 * two equal. Every line there has exactly the form
 *     #define DJ_VM_NAME value  followed by an optional C comment
 * where DJ_VM_NAME is the C# name in upper snake case (BlockAddress -> DJ_VM_BLOCK_ADDRESS). docs/vm.md explains
 * each of them.
 *
 * The second section holds what only the guest needs (selectors, vectors, page-table bits, MSRs, the Linux ABI
 * values the process shim does not need and asm/include/linux.h therefore lacks; asm/vm/tests/linux_check.c checks
 * those against the system's kernel headers at build time).
 */
#ifndef DJ_VM_H
#define DJ_VM_H

#include "shim.h"

/* ---- Shared with the host (VmLayout.cs) ---- */
#define DJ_VM_KERNEL_ADDRESS                 0x100000             /* Guest-physical address where QEMU loads the shim (1 MiB). */
#define DJ_VM_KERNEL_LIMIT                   0x1000000            /* The shim's image ends below this guest-physical address (16 MiB). */
#define DJ_VM_BLOCK_ADDRESS                  0x1000000            /* Guest-physical address of the shared block (16 MiB), offset 0x1000000 of the RAM file. */
#define DJ_VM_SLOT_SIZE                      0x101000             /* The size of each slot of the shared block (1 MiB + 4 KiB); the block is slot count x this. */
#define DJ_VM_MAX_SLOTS                      512                  /* The most slots (so threads) a VM keep's block has; the blob must stay below 1 GiB. */
#define DJ_VM_BLOB_ALIGNMENT                 0x200000             /* The keep image blob starts at the first multiple of this (2 MiB) after the block. */
#define DJ_VM_THREAD_MEMORY_SIZE             0x31000              /* Guest RAM the host adds per slot: a thread's kernel stack, record, XSAVE area, scratch. */
#define DJ_VM_MIN_MEMORY_SIZE                0x4000000            /* The least guest RAM the host gives a keep (64 MiB). */
#define DJ_VM_MAX_MEMORY_SIZE                0x8000000000         /* The most guest RAM the shim maps (512 GiB: one PML4 entry of direct map). */
#define DJ_VM_CONSOLE_PORT                   0x3F8                /* COM1: boot and fatal messages, one line each, to the host. */
#define DJ_VM_DOORBELL_PORT                  0x2F8                /* COM2: the doorbell line; one byte each way wakes a sleeping side. */
#define DJ_VM_DOORBELL_IRQ                   3                    /* COM2's ISA interrupt line. */
#define DJ_VM_EXIT_PORT                      0x501                /* isa-debug-exit: writing v makes QEMU exit with status (v << 1) | 1. */
#define DJ_VM_EXIT_VALUE_OFFSET              1                    /* The guest writes status + 1, so that QEMU's own failure (status 1) is never a shim status. */
#define DJ_VM_EXIT_VALUE_MAX                 127                  /* The largest value written; statuses from 126 up are all written as this one. */
#define DJ_VM_EXIT_INTERNAL_ERROR            125                  /* Shim status: the shim itself faulted or found the boot information unusable. */

/* ---- The guest kernel's own ---- */

/* Virtual memory: the lower half is the workload's; the shim lives in the upper half. */
#define DJ_VM_KERNEL_VIRTUAL_OFFSET          0xFFFFFFFF80000000   /* shim image: virtual = physical + this (-mcmodel=kernel) */
#define DJ_VM_DIRECT_MAP                     0xFFFF800000000000   /* all guest RAM: virtual = physical + this */
#define DJ_VM_DIRECT_MAP_PML4_INDEX          256
#define DJ_VM_KERNEL_PML4_INDEX              511
#define DJ_VM_KERNEL_PDPT_INDEX              510
#define DJ_VM_LAPIC_VIRTUAL                  0xFFFFFFFF81000000   /* the local APIC's registers: past the shim's image (DJ_VM_KERNEL_LIMIT) */
#define DJ_VM_THREAD_AREA_VIRTUAL            0xFFFFFFFF90000000   /* thread k's area (k >= 1) at this + k x DJ_VM_THREAD_AREA_STRIDE, mapped at its first clone */
#define DJ_VM_THREAD_AREA_STRIDE             0x40000              /* 256 KiB per thread: guard, kernel stack, record, XSAVE area, iovec scratch, guard */
#define DJ_VM_THREAD_STACK_OFFSET            0x1000               /* below it: an unmapped guard page */
#define DJ_VM_THREAD_STACK_SIZE              0x10000              /* 64 KiB, as the first thread's */
#define DJ_VM_THREAD_RECORD_OFFSET           0x11000              /* struct dj_vm_thread */
#define DJ_VM_THREAD_RECORD_SIZE             0x3000
#define DJ_VM_THREAD_XSAVE_OFFSET            0x14000              /* the thread's FPU/XSAVE image while it does not run */
#define DJ_VM_THREAD_XSAVE_SIZE              0x4000
#define DJ_VM_THREAD_IOVECS_OFFSET           0x18000              /* marshal.c's iovec scratch: 6 x 1024 x 16 bytes */
#define DJ_VM_THREAD_MAPPED_SIZE             0x30000              /* mapped from DJ_VM_THREAD_STACK_OFFSET - 0x1000 on; the rest is a guard */

/* GDT selectors. SYSCALL loads CS = STAR[47:32], SS = +8; SYSRET (64-bit) loads CS = STAR[63:48] + 16, SS = +8. */
#define DJ_VM_KERNEL_CS                      0x08
#define DJ_VM_KERNEL_DS                      0x10
#define DJ_VM_USER_BASE_SELECTOR             0x18                 /* STAR[63:48]; the descriptor itself is null */
#define DJ_VM_USER_DS                        0x23                 /* 0x20 | RPL 3 */
#define DJ_VM_USER_CS                        0x2B                 /* 0x28 | RPL 3 */
#define DJ_VM_TSS_SELECTOR                   0x30
#define DJ_VM_GDT_ENTRIES                    8                    /* null, kcode, kdata, null, udata, ucode, TSS (2 slots) */

/* Interrupts. The 8259 PIC is remapped to vectors 0x20-0x2F; only COM2's line is unmasked. */
#define DJ_VM_IRQ_BASE                       0x20
#define DJ_VM_DOORBELL_VECTOR                0x23                 /* DJ_VM_IRQ_BASE + DJ_VM_DOORBELL_IRQ */
#define DJ_VM_SPURIOUS_VECTOR                0x2F                 /* the local APIC's spurious vector (low nibble 0xF); its entry only returns */
#define DJ_VM_TIMER_VECTOR                   0x30                 /* the local APIC timer: preemption slices and timed waits (threads.c) */
#define DJ_VM_IDT_ENTRIES                    0x31                 /* exceptions 0-31, the 16 PIC lines and the timer; a user `int n` for any other n gets #GP */
#define DJ_VM_IST_CRITICAL                   1                    /* IST slot for NMI, #DF, #MC: a stack of their own */

/* The longest the shim spins on the doorbell before it halts: the time a proxied syscall usually takes here (a
   1 MiB read or write, the host's handler included), so that the host's answer rarely needs the slower wake-up
   through COM2's interrupt. TSC ticks: 500 µs at 2.5 GHz. The window in force adapts between none and this
   (threads.c, "Waiting for the host"). */
#define DJ_VM_SPIN_TSC_TICKS                 1250000
/* The least window, and the one a growing one starts from: 10 µs at 2.5 GHz. */
#define DJ_VM_SPIN_GROW_TSC_TICKS            25000
/* The same spin while other threads are runnable: shorter, so that a slow call gives the vCPU to them soon. */
#define DJ_VM_SPIN_BUSY_TSC_TICKS            125000
/* A thread's time slice when others are runnable: the local APIC timer counts nanoseconds under QEMU and KVM
   (their APIC bus runs at 1 GHz); threads.c calibrates the TSC against it at boot. */
#define DJ_VM_SLICE_NS                       10000000

/* Stacks (in the shim's .bss). */
#define DJ_VM_KERNEL_STACK_SIZE              0x10000              /* syscalls, exceptions and interrupts from ring 3 */
#define DJ_VM_CRITICAL_STACK_SIZE            0x4000               /* NMI, #DF, #MC */

/* The trap frame (struct dj_trap_frame below), in bytes from its start. */
#define DJ_VM_FRAME_R15                      0
#define DJ_VM_FRAME_RAX                      112
#define DJ_VM_FRAME_VECTOR                   120
#define DJ_VM_FRAME_ERROR_CODE               128
#define DJ_VM_FRAME_RIP                      136
#define DJ_VM_FRAME_CS                       144
#define DJ_VM_FRAME_RFLAGS                   152
#define DJ_VM_FRAME_RSP                      160
#define DJ_VM_FRAME_SIZE                     176

/* Page-table entry bits. Software bits (9, 10, 52-54) describe the workload's mapping even where the hardware
   entry is not present: see paging.c. */
#define DJ_PTE_PRESENT                       0x1
#define DJ_PTE_WRITE                         0x2
#define DJ_PTE_USER                          0x4
#define DJ_PTE_WRITE_THROUGH                 0x8
#define DJ_PTE_CACHE_DISABLE                 0x10
#define DJ_PTE_LARGE                         0x80
#define DJ_PTE_GLOBAL                        0x100
#define DJ_PTE_MAPPED                        0x200                /* software: part of the workload's address space */
#define DJ_PTE_HAS_PAGE                      0x400                /* software: a page frame is attached */
#define DJ_PTE_PROT_SHIFT                    52                   /* software: the workload's PROT_READ/WRITE/EXEC in bits 52-54 */
#define DJ_PTE_NO_EXECUTE                    0x8000000000000000
#define DJ_PTE_ADDRESS_MASK                  0x000FFFFFFFFFF000

/* Control registers, MSRs, CPUID bits. */
#define DJ_CR0_PE                            0x1
#define DJ_CR0_MP                            0x2
#define DJ_CR0_EM                            0x4
#define DJ_CR0_TS                            0x8
#define DJ_CR0_NE                            0x20
#define DJ_CR0_WP                            0x10000
#define DJ_CR0_PG                            0x80000000
#define DJ_CR4_PAE                           0x20
#define DJ_CR4_PGE                           0x80
#define DJ_CR4_OSFXSR                        0x200
#define DJ_CR4_OSXMMEXCPT                    0x400
#define DJ_CR4_UMIP                          0x800
#define DJ_CR4_OSXSAVE                       0x40000
#define DJ_CR4_SMEP                          0x100000
#define DJ_MSR_APIC_BASE                     0x1B
#define DJ_APIC_BASE_ADDRESS_MASK            0x000FFFFFFFFFF000
#define DJ_MSR_EFER                          0xC0000080
#define DJ_MSR_STAR                          0xC0000081
#define DJ_MSR_LSTAR                         0xC0000082
#define DJ_MSR_CSTAR                         0xC0000083
#define DJ_MSR_SFMASK                        0xC0000084
#define DJ_MSR_FS_BASE                       0xC0000100
#define DJ_MSR_GS_BASE                       0xC0000101
#define DJ_MSR_KERNEL_GS_BASE                0xC0000102
#define DJ_EFER_SCE                          0x1
#define DJ_EFER_LME                          0x100
#define DJ_EFER_NXE                          0x800
#define DJ_RFLAGS_USER_INITIAL               0x202                /* IF and the always-one bit 1 */
#define DJ_SFMASK_VALUE                      0x47700              /* TF, IF, DF, IOPL, NT, AC cleared on syscall entry */
#define DJ_XCR0_USER_MASK                    0xE7                 /* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM: what the workload may use */

/* Linux ABI values only the VM shim uses (checked by asm/vm/tests/linux_check.c). */
#define LX_NR_GETRANDOM                      318
#define LX_NR_CLOCK_GETTIME                  228
#define LX_GRND_NONBLOCK                     0x1
#define LX_GRND_RANDOM                       0x2
#define LX_GRND_INSECURE                     0x4
#define LX_MADV_NORMAL                       0
#define LX_MADV_RANDOM                       1
#define LX_MADV_SEQUENTIAL                   2
#define LX_MADV_WILLNEED                     3
#define LX_MADV_DONTNEED                     4
#define LX_MADV_FREE                         8
#define LX_MADV_DONTFORK                     10
#define LX_MADV_DOFORK                       11
#define LX_MADV_MERGEABLE                    12
#define LX_MADV_UNMERGEABLE                  13
#define LX_MADV_HUGEPAGE                     14
#define LX_MADV_NOHUGEPAGE                   15
#define LX_MADV_DONTDUMP                     16
#define LX_MADV_DODUMP                       17
#define LX_MADV_WIPEONFORK                   18
#define LX_MADV_KEEPONFORK                   19
#define LX_MADV_COLD                         20
#define LX_MADV_PAGEOUT                      21
#define DJ_VM_SYSCALL_FRAME_VECTOR           0x100                /* the trap frame's vector when syscall.S built it */
#define LX_KEEP_PROCESS_ID                   1                    /* getpid() in every keep (plugins/syscalls/core IdentityCalls) */

#ifdef __ASSEMBLER__
/* The general registers of struct dj_trap_frame, pushed so that r15 ends lowest (traps.S, syscall.S's slow path),
   and popped back; the vector, the error code and the CPU's iret frame lie above them. */
.macro DJ_PUSH_TRAP_REGISTERS
    push    rax
    push    rbx
    push    rcx
    push    rdx
    push    rsi
    push    rdi
    push    rbp
    push    r8
    push    r9
    push    r10
    push    r11
    push    r12
    push    r13
    push    r14
    push    r15
.endm
.macro DJ_POP_TRAP_REGISTERS
    pop     r15
    pop     r14
    pop     r13
    pop     r12
    pop     r11
    pop     r10
    pop     r9
    pop     r8
    pop     rbp
    pop     rdi
    pop     rsi
    pop     rdx
    pop     rcx
    pop     rbx
    pop     rax
.endm
#endif

#ifndef __ASSEMBLER__

/* ---- The trap frame: what traps.S pushes, in memory order (DJ_VM_FRAME_* above) ---- */
struct dj_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

/* ---- The shim's image, from vm.ld ---- */
extern char __kernel_start[], __kernel_text_start[], __kernel_text_end[], __kernel_rodata_end[];
extern char __kernel_end[], __kernel_stack_guard[];

/* ---- cpu.S: primitives ---- */
void dj_outb(uint16_t port, uint8_t value);
uint8_t dj_inb(uint16_t port);
uint64_t dj_rdmsr(uint32_t msr);
void dj_wrmsr(uint32_t msr, uint64_t value);
uint64_t dj_read_cr0(void);
void dj_write_cr0(uint64_t value);
uint64_t dj_read_cr2(void);
uint64_t dj_read_cr3(void);
void dj_write_cr3(uint64_t value);
uint64_t dj_read_cr4(void);
void dj_write_cr4(uint64_t value);
void dj_xsetbv(uint32_t index, uint64_t value);
void dj_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);   /* eax, ebx, ecx, edx */
void dj_invlpg(uint64_t address);
void dj_load_descriptors(const void *gdtr, const void *idtr, uint16_t tss_selector);
void dj_fpu_reset(void);                                     /* FNINIT, MXCSR = 0x1F80 */
void dj_fpu_save(void *area, uint64_t components);            /* XSAVE (FXSAVE when components is 0) */
void dj_fpu_load(const void *area, uint64_t components);      /* XRSTOR (FXRSTOR); the image is checked */
int dj_rdrand64(uint64_t *value);   /* 1 when the CPU gave a value */
int dj_rdseed64(uint64_t *value);
void dj_console_write(const char *text, uint64_t length);   /* COM1, polled */
DJ_NORETURN void dj_vm_exit(int status);                     /* isa-debug-exit; never returns */

/* ---- copy.S: bulk copies in 64-byte steps (fast under software emulation) ---- */
long dj_vm_copy_user(void *dst, const void *src, uint64_t size);   /* 0 or -EFAULT, like dj_copy_user */
void dj_vm_zero_page(void *page);
extern char dj_vm_usercopy_start[], dj_vm_usercopy_end[];

/* ---- traps.S ---- */
extern const uint64_t dj_trap_stubs[DJ_VM_IDT_ENTRIES];   /* the entry of each vector */

/* ---- syscall.S ---- */
void dj_syscall_entry(void);
void dj_syscall_entry_compat(void);
DJ_NORETURN void dj_enter_workload(uint64_t entry, uint64_t stack);

/* ---- futex.c: the futex, served in the keep ---- */
long dj_sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2, uint64_t val3);
long dj_sys_sched_yield(void);

/* ---- signal.c: the workload's signals at the VM's returns to ring 3 ---- */
/* At a syscall's return (syscall.S's slow path): rt_sigreturn when `sigreturn`, then the frames of the
   deliverable signals. The frame is returned to with iretq. */
void dj_vm_syscall_signals(struct dj_trap_frame *frame, int sigreturn);
/* An interrupt that came while the workload ran (the doorbell line): deliver what is deliverable. */
void dj_vm_deliver_interrupted(struct dj_trap_frame *frame);
/* A workload exception: to its handler when it has one (1, the frame now enters it), else 0. */
int dj_vm_fault_to_handler(struct dj_trap_frame *frame, uint32_t signal, uint64_t address);

/* ---- setup.c ---- */
DJ_NORETURN void dj_vm_main(uint32_t start_info);
/* The CPU features the shim found (setup.c fills it before anything uses it). */
struct dj_cpu {
    int xsave, rdrand, rdseed, nx, smep, umip;
    uint64_t xcr0;              /* the user state components enabled (0 without XSAVE) */
    uint32_t xsave_size;        /* bytes XSAVE writes for them (CPUID 0xD.0 EBX), or 512 */
};
extern struct dj_cpu dj_cpu;
/* A shim-internal problem that is not the workload's: message on COM1, a LOG item when the block is usable, exit. */
DJ_NORETURN void dj_internal_error(const char *what, uint64_t value);

/* ---- paging.c: physical pages and page tables ---- */
struct dj_memory_range { uint64_t start, end; };
void dj_pages_init(const struct dj_memory_range *free_ranges, unsigned count);
uint64_t dj_page_alloc(void);                 /* a zeroed page's physical address, or 0 when there is none */
void dj_page_free(uint64_t physical);
uint64_t dj_pages_free_count(void);
void *dj_phys_to_virt(uint64_t physical);     /* through the direct map */
/* Builds the shim's final address space (direct map, its own image with W^X) and switches to it. */
void dj_paging_init(uint64_t ram_end);
/* Workload pages. `prot` is PROT_READ/WRITE/EXEC. Each returns 0 or -ENOMEM (no page-table page). */
long dj_user_reserve(uint64_t start, uint64_t end, uint32_t prot);     /* lazily zero-filled pages */
long dj_user_populate(uint64_t address, uint32_t prot, uint64_t *physical);  /* one page, now */
void dj_user_release(uint64_t start, uint64_t end);                    /* unmap, free the frames */
void dj_user_protect(uint64_t start, uint64_t end, uint32_t prot);     /* every page must be mapped */
void dj_user_discard(uint64_t start, uint64_t end);                    /* back to lazily zero-filled */
long dj_user_move(uint64_t from, uint64_t to, uint64_t size);          /* PTEs move, frames stay */
int dj_user_prot(uint64_t address);                                    /* PROT_* of a mapped page, or -1 */
int dj_user_all_mapped(uint64_t start, uint64_t end);
int dj_user_none_mapped(uint64_t start, uint64_t end);
/* A page fault at `address`: 1 when resolved (a lazily mapped page was given its frame), 0 when it is the
   workload's fault, -1 when no page was left. `error_code` is the CPU's #PF error code. */
int dj_page_fault(uint64_t address, uint64_t error_code);
void dj_flush_tlb(void);
long dj_kernel_map(uint64_t virtual, uint64_t physical);   /* one RW NX page in the thread area; 0 or -ENOMEM */

/* ---- memory.c ---- */
void dj_memory_init(const struct dj_image *image);
long dj_sys_brk(uint64_t address);
long dj_sys_mmap(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset);
long dj_sys_munmap(uint64_t address, uint64_t length);
long dj_sys_mprotect(uint64_t address, uint64_t length, uint64_t prot);
long dj_sys_mremap(uint64_t old_address, uint64_t old_length, uint64_t new_length, uint64_t flags,
                   uint64_t new_address);
long dj_sys_madvise(uint64_t address, uint64_t length, uint64_t advice);

/* ---- faults.c ---- */
void dj_trap(struct dj_trap_frame *frame);

/* ---- random.c ---- */
long dj_sys_getrandom(uint64_t buffer, uint64_t length, uint64_t flags);

/* ---- threads.c: the keep's threads on the one vCPU, and their scheduler ---- */

enum dj_vm_thread_state { DJ_VM_FREE, DJ_VM_EMBRYO, DJ_VM_RUNNING, DJ_VM_RUNNABLE, DJ_VM_PARKED, DJ_VM_DEAD };
enum dj_vm_wait { DJ_VM_WAIT_NONE, DJ_VM_WAIT_HOST, DJ_VM_WAIT_FUTEX, DJ_VM_WAIT_SIGNAL };

/* A guest thread: the common record first (dj_thread_self() is a cast of the running one), then what the
   scheduler saves while the thread does not run, its futex wait, and its run-queue link. */
struct dj_vm_thread {
    struct dj_thread common;
    uint64_t kernel_rsp;            /* saved by dj_vm_switch while the thread does not run */
    uint64_t stack_top;             /* TSS.RSP0 and the syscall entry's stack while it runs */
    uint64_t fs_base;               /* FS_BASE while it does not run */
    uint64_t user_rsp;              /* syscall.S's dj_user_rsp while it does not run */
    uint8_t *xsave;                 /* its FPU/XSAVE image while it does not run (64-byte aligned) */
    int state;                      /* enum dj_vm_thread_state */
    int wait;                       /* enum dj_vm_wait, while PARKED */
    uint64_t deadline;              /* TSC at which a timed park ends, 0 for none */
    volatile uint8_t *wait_slot;    /* DJ_VM_WAIT_HOST: the slot whose doorbell it waits on */
    struct dj_vm_thread *run_next;  /* run queue */
    uint64_t futex_address;         /* futex.c: the word it waits on while futex_queued */
    uint32_t futex_bitset;
    int futex_queued;
    struct dj_vm_thread *futex_next;
    uint64_t shim_window;           /* memory.c: a shim buffer the host may fill during one shim-made call, or 0 */
    uint8_t sigreturn;              /* syscall.S's dj_sigreturn_requested while it does not run */
};

extern struct dj_vm_thread *dj_vm_current;   /* the running thread */
extern int dj_vm_exiting;                    /* the keep is ending: no other thread runs again */
extern uint64_t dj_vm_kernel_stack_top;      /* the running thread's kernel stack top (syscall.S) */

void dj_vm_threads_start(void);               /* dj_vm_main: the first thread, on slot 0 */
void dj_vm_timer_init(void);                  /* dj_vm_main: the local APIC timer, and the TSC's rate */
uint64_t dj_vm_now(void);                     /* TSC */
uint64_t dj_vm_ns_to_ticks(uint64_t ns);      /* a duration in TSC ticks, saturating */
/* Parks the running thread (interrupts off) until dj_vm_unpark, or its TSC deadline (0: none) has passed. The
   caller re-checks its condition: a park may end early. */
void dj_vm_park(int wait, uint64_t deadline);
void dj_vm_unpark(struct dj_vm_thread *t);
void dj_vm_yield(void);                       /* lets every runnable thread run first */
/* Each thread: `visit` on every record in use (not FREE). */
void dj_vm_threads_each(void (*visit)(struct dj_vm_thread *t, void *context), void *context);
void dj_vm_timer_interrupt(struct dj_trap_frame *frame);
void dj_vm_doorbell_interrupt(struct dj_trap_frame *frame);
void dj_vm_clone(struct dj_trap_frame *frame);               /* clone, clone3 (syscall.S): result in frame->rax */
DJ_NORETURN void dj_vm_sys_exit(uint64_t status);
DJ_NORETURN void dj_vm_sys_exit_group(uint64_t status);
long dj_vm_sys_set_tid_address(uint64_t address);
long dj_vm_sys_set_robust_list(uint64_t head, uint64_t length);
DJ_NORETURN void dj_vm_end(int status);       /* an EXIT item with status, then isa-debug-exit; no other thread runs */

/* ---- switch.S ---- */
void dj_vm_switch(uint64_t *save_rsp, uint64_t load_rsp);   /* callee-saved registers and rsp */
void dj_vm_thread_entry(void);                /* a new thread's first return: its trap frame, iretq */

/* ---- doorbell.S ---- */
uint32_t dj_vm_doorbell_ring(volatile uint8_t *slot);         /* doorbell := REQUEST; a byte if the host sleeps; its `host sleeping` */
int dj_vm_doorbell_spin(volatile uint8_t *slot, uint64_t ticks);  /* 1 once the doorbell is not REQUEST */

/* ---- futex.c ---- */
long dj_vm_futex_wake(uint64_t address, int32_t count, uint32_t bitset);

/* ---- setup.c ---- */
void dj_vm_set_kernel_stack(uint64_t top);    /* TSS.RSP0 */

#endif /* __ASSEMBLER__ */
#endif /* DJ_VM_H */
