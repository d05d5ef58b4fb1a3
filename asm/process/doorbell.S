/*
 * asm/process/doorbell.S -- the shim's side of the doorbell (docs/protocol.md §3, "Doorbell").
 *
 * Entry points
 *   dj_doorbell_configure(block)   load.c, once: whether rings say where they run (a 2.1 block and RDTSCP)
 *   dj_doorbell_ring_wait(block)   ring for the request already in the block; return once answered
 *
 * Flow
 *   1. When configured to (2.1: "Where each side runs"), say where this thread runs: `shim sleeping` := (CPU + 1)
 *      << 16 with state 0, the CPU from RDTSCP's TSC_AUX (Linux: node << 12 | CPU), read with the ring's TSC.
 *      Then doorbell := REQUEST with xchg (a full barrier: the request's bytes are visible to the host before the
 *      doorbell is), then FUTEX_WAKE the doorbell if the state half of `host sleeping` says the host sleeps.
 *      Because the xchg orders the store before the load of `host sleeping`, and the host sets `host sleeping`
 *      before it re-reads the doorbell, at least one side sees the other: no lost wake-up.
 *   2. A host that said it sleeps is not running: the shim gives up the CPU at once (step 3), since spinning
 *      could only keep the woken host from a CPU it may need (one usable CPU, a loaded machine).
 *      Otherwise spin with `pause` while the doorbell still reads REQUEST, for the adaptive window
 *      `dj_spin_window` (TSC ticks), reading the TSC once every DJ_SPIN_POLLS_PER_CLOCK looks, not on every
 *      one (a fast syscall: two cache-line transfers, no system call on either side). Before each batch of
 *      looks, if the host said it waits on this thread's own CPU, the host is not running (this thread is,
 *      there): sched_yield, which runs it at once if it waits for that CPU, instead of spinning it out.
 *   3. then `shim sleeping` := its CPU half | 1 with xchg, re-check, and FUTEX_WAIT(doorbell, REQUEST) until the
 *      doorbell changes, so a blocked syscall (accept, nanosleep) leaves the shim asleep in the kernel. The futex
 *      op is the shared (not _PRIVATE) one: the block is a memfd mapped by two processes.
 *   4. `shim sleeping` := the CPU it woke on (or 0), and the window adapts (as KVM's halt polling does): an answer
 *      that came within DJ_SPIN_TSC_TICKS of the ring, after the shim had slept, doubles it (from at least
 *      DJ_SPIN_GROW_TSC_TICKS, up to DJ_SPIN_TSC_TICKS): a longer spin would have caught it; one that came
 *      later halves it (below DJ_SPIN_GROW_TSC_TICKS to 0): spinning was wasted. An answer caught spinning
 *      leaves it. The window is one word for all threads: a racy update only picks one thread's view.
 *   The caller (marshal.c) then checks that the doorbell reads REPLY and the reply sequence matches, and
 *   stores IDLE when it has copied the reply out.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: the doorbell and `host sleeping` (both halves), written by the host; only compared: a
 *   wrong CPU half costs a yield or a spin, never a missed wake-up (only the state half decides that). How soon the host
 *   answers steers the window, which stays within [0, DJ_SPIN_TSC_TICKS] whatever it does. A host that never
 *   answers leaves the shim asleep; PR_SET_PDEATHSIG ends it with the host.
 *
 * Register contract: System V. dj_doorbell_ring_wait: in: rdi = block. Out: none. Clobbers rax, rcx, rdx, rsi,
 *   rdi, r8, r9, r10, r11, flags; uses 8 bytes of stack, any alignment (no call). dj_doorbell_configure: in: rdi =
 *   slot 0 (checked already by dj_channel_open). Out: none. Clobbers rax, rcx, rdx, flags (rbx saved).
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"

    .data
    .balign 8
DATA(dj_spin_window)                        /* TSC ticks the shim spins for an answer (step 4 adapts it) */
    .quad   DJ_SPIN_TSC_TICKS
DATA(dj_doorbell_says_cpu)                  /* 1: say where each ring runs (a 2.1 block, and RDTSCP); 0: as 2.0 */
    .long   0

    .text
FUNC(dj_doorbell_configure)
    cmp     word ptr [rdi + DJ_BLOCK_VERSION_MINOR_OFFSET], 1
    jb      .Ldj_doorbell_configure_done    /* a 2.0 host reads any non-zero `shim sleeping` as asleep */
    push    rbx                             /* cpuid writes rbx, which System V preserves */
    mov     eax, 0x80000000
    cpuid
    cmp     eax, 0x80000001
    jb      .Ldj_doorbell_configure_restore
    mov     eax, 0x80000001
    cpuid
    bt      edx, 27                         /* CPUID.80000001H:EDX.RDTSCP[bit 27] */
    jnc     .Ldj_doorbell_configure_restore
    mov     dword ptr [rip + dj_doorbell_says_cpu], 1
.Ldj_doorbell_configure_restore:
    pop     rbx
.Ldj_doorbell_configure_done:
    ret
END(dj_doorbell_configure)

FUNC(dj_doorbell_ring_wait)
    mov     r8, rdi                         /* r8 = block (syscall clobbers rax, rcx and r11 only) */
    xor     r10d, r10d                      /* r10d = this ring's CPU half: (CPU + 1) << 16, or 0 unsaid */
    cmp     dword ptr [rip + dj_doorbell_says_cpu], 0
    je      .Ldj_doorbell_ring_wait_tsc
    rdtscp                                  /* edx:eax = TSC; ecx = TSC_AUX, which Linux sets to node << 12 | CPU */
    and     ecx, 0xFFF
    inc     ecx
    shl     ecx, DJ_SLEEPING_CPU_SHIFT
    mov     r10d, ecx
    jmp     .Ldj_doorbell_ring_wait_rang
.Ldj_doorbell_ring_wait_tsc:
    rdtsc
.Ldj_doorbell_ring_wait_rang:
    shl     rdx, 32
    or      rax, rdx
    mov     r9, rax                         /* r9 = TSC at the ring */
    mov     dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], r10d   /* running, here (step 1) */
    mov     eax, DJ_DOORBELL_REQUEST
    xchg    dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], eax
    test    word ptr [r8 + DJ_BLOCK_HOST_SLEEPING_OFFSET], DJ_SLEEPING_STATE_MASK
    je      .Ldj_doorbell_ring_wait_spin
    mov     eax, LX_NR_FUTEX
    lea     rdi, [r8 + DJ_BLOCK_DOORBELL_OFFSET]
    mov     esi, LX_FUTEX_WAKE
    mov     edx, 1
    push    r10                             /* the kernel keeps r10, but it is the futex's 4th argument */
    xor     r10d, r10d
    syscall
    pop     r10
    jmp     .Ldj_doorbell_ring_wait_sleepy  /* the host is not running: no spin */

.Ldj_doorbell_ring_wait_spin:
    mov     rsi, [rip + dj_spin_window]     /* rsi = the window, in TSC ticks */
    test    rsi, rsi
    jz      .Ldj_doorbell_ring_wait_sleepy
.Ldj_doorbell_ring_wait_batch:
    test    r10d, r10d                      /* step 2: the host last waited on this CPU, so it is not running: */
    jz      .Ldj_doorbell_ring_wait_polls   /* give it the CPU (sched_yield runs it at once if it waits for it) */
    mov     eax, dword ptr [r8 + DJ_BLOCK_HOST_SLEEPING_OFFSET]
    and     eax, ~DJ_SLEEPING_STATE_MASK
    cmp     eax, r10d
    jne     .Ldj_doorbell_ring_wait_polls
    mov     eax, LX_NR_SCHED_YIELD
    syscall
.Ldj_doorbell_ring_wait_polls:
    mov     ecx, DJ_SPIN_POLLS_PER_CLOCK
.Ldj_doorbell_ring_wait_poll:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_doorbell_ring_wait_done    /* caught spinning: the window stays */
    pause
    dec     ecx
    jnz     .Ldj_doorbell_ring_wait_poll
    rdtsc                                   /* a time budget, not a count: `pause` takes 10 to 140 cycles */
    shl     rdx, 32                         /* depending on the CPU */
    or      rax, rdx
    sub     rax, r9
    cmp     rax, rsi
    jb      .Ldj_doorbell_ring_wait_batch

.Ldj_doorbell_ring_wait_sleepy:
    mov     eax, r10d
    or      eax, 1
    xchg    dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], eax
.Ldj_doorbell_ring_wait_sleep:
    cmp     dword ptr [r8 + DJ_BLOCK_DOORBELL_OFFSET], DJ_DOORBELL_REQUEST
    jne     .Ldj_doorbell_ring_wait_woken
    mov     eax, LX_NR_FUTEX
    lea     rdi, [r8 + DJ_BLOCK_DOORBELL_OFFSET]
    mov     esi, LX_FUTEX_WAIT
    mov     edx, DJ_DOORBELL_REQUEST
    xor     r10d, r10d                      /* no timeout: the parent-death signal ends a shim whose host is gone */
    syscall
    jmp     .Ldj_doorbell_ring_wait_sleep   /* woken, EAGAIN (changed already) or EINTR: look again */
.Ldj_doorbell_ring_wait_woken:
    cmp     dword ptr [rip + dj_doorbell_says_cpu], 0
    je      .Ldj_doorbell_ring_wait_woken_tsc
    rdtscp                                  /* running again, perhaps elsewhere: say where (step 4) */
    and     ecx, 0xFFF
    inc     ecx
    shl     ecx, DJ_SLEEPING_CPU_SHIFT
    mov     dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], ecx
    jmp     .Ldj_doorbell_ring_wait_adapt
.Ldj_doorbell_ring_wait_woken_tsc:
    mov     dword ptr [r8 + DJ_BLOCK_SHIM_SLEEPING_OFFSET], 0
    rdtsc                                   /* adapt the window (step 4) */
.Ldj_doorbell_ring_wait_adapt:
    shl     rdx, 32
    or      rax, rdx
    sub     rax, r9                         /* rax = ticks from the ring to the answer */
    mov     rsi, [rip + dj_spin_window]
    cmp     rax, DJ_SPIN_TSC_TICKS
    jae     .Ldj_doorbell_ring_wait_shrink
    add     rsi, rsi                        /* grow: double, from at least the grow floor, up to the most */
    cmp     rsi, DJ_SPIN_GROW_TSC_TICKS
    jae     .Ldj_doorbell_ring_wait_cap
    mov     esi, DJ_SPIN_GROW_TSC_TICKS
.Ldj_doorbell_ring_wait_cap:
    cmp     rsi, DJ_SPIN_TSC_TICKS
    jbe     .Ldj_doorbell_ring_wait_store
    mov     esi, DJ_SPIN_TSC_TICKS
    jmp     .Ldj_doorbell_ring_wait_store
.Ldj_doorbell_ring_wait_shrink:
    shr     rsi, 1                          /* shrink: halve, and below the grow floor to none */
    cmp     rsi, DJ_SPIN_GROW_TSC_TICKS
    jae     .Ldj_doorbell_ring_wait_store
    xor     esi, esi
.Ldj_doorbell_ring_wait_store:
    mov     [rip + dj_spin_window], rsi
.Ldj_doorbell_ring_wait_done:
    ret
END(dj_doorbell_ring_wait)
