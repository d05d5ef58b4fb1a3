/*
 * asm/process/patch.S -- the direct entry of patched syscall sites: after a site has trapped once, its later calls
 * reach the shim here, without SIGSYS and rt_sigreturn (about 1.6 us of the trap's cost). Process keep only; the
 * measured image is never changed: the rewrite happens at run time, in the workload's memory (patch.c).
 *
 * Entry points
 *   dj_patch_entry     reached only by `jmp [slot + 48]` from a stub slot (below); never called
 *   dj_patch_gs_load   the one instruction that reads GS; dj_fault (through dj_patch_fault) sends a fault there
 *                      to dj_patch_gs_bad, the trap fallback
 *   dj_patch_direct_numbers   (data) the bitmap of the numbers a dynamic site may serve directly
 *
 * The rule (patch.c, dj_patch_consider): a site is patched only when it trapped (SIGSYS) with RIP = the byte
 *   after its `syscall` (0f 05), the trapped number is one the entry may serve (not one that needs the trap's
 *   kernel context or ends a thread: rt_sigreturn, sigaltstack, clone, clone3, fork, vfork, execve, execveat, exit,
 *   exit_group; nor x32 (bit 30) or shim-private: DJ_PATCH_NEVER_DIRECT, process.h), a stub slot within a rel32
 *   jump of the site exists or can be mapped (memory.c, outside every range the workload has or may map), all the
 *   site's bytes are in one page of the workload's memory, and the site is one of two forms:
 *   - constant: the 7 bytes before RIP are exactly `b8 imm32 0f 05` (`mov eax, imm32; syscall`, what glibc, musl and
 *     compilers emit for a constant number), with imm32 the number that trapped. Only the first 5 bytes change:
 *     `mov eax, imm32` becomes `jmp rel32` to the slot; the `syscall` at site + 5 stays. The sequence has exactly
 *     three instruction boundaries, site, site + 5 and site + 7. A jump to site runs the new `jmp` (the same call,
 *     directly); a jump to site + 5 (code that loads eax itself and reuses the `syscall`) runs the untouched
 *     `syscall`, which traps as before, with its own eax; site + 7 is after both.
 *   - dynamic (the number is not a constant just before the `syscall`: libc's generic syscall(), glibc's
 *     `mov r9, [rsp + 8]; syscall`, musl's `movl [rsp], 8; mov rsi, [rdx + 16]; mov rdx, [rdx + 24]; syscall`, and
 *     any site whose `mov eax` is further up): the `syscall` is immediately preceded by 1 to 3 complete
 *     instructions [site, syscall), at most 20 bytes, the first at least 5 bytes long, each a plain data move of
 *     a small set (patch.c, decode: mov r/m<->reg, mov r/m or reg <- imm, lea; one REX prefix at most, memory
 *     operands addressed by registers only, never RIP-relative) that means the same at any address and can be
 *     executed again, verbatim, in the stub; and their effects are what the trapped context shows (each register
 *     they write and no later one rewrites holds the value they put there, each store they make is in memory; at
 *     least one such effect checked): the evidence that these bytes are the instructions that ran, as the
 *     immediate's equality is for the constant form. Only the first 5 bytes change, all inside the first
 *     instruction: they become `jmp rel32` to the slot's copy of the instructions; every later byte and the
 *     `syscall` stay. The number is taken from eax at run time, and checked there against the same list (a
 *     dynamic site's number changes from call to call: syscall(SYS_exit_group) through a patched syscall() goes to
 *     the trap). Boundaries: a jump to site runs the new `jmp`, and the stub runs the same instructions; a jump to
 *     the start of the second or third instruction, or to the `syscall`, runs the untouched bytes and traps, as
 *     before patching; after the `syscall` is after all of it.
 *   In both forms a jump into bytes 1-4 of the first instruction would be a jump into the middle of an
 *   instruction: overlapping instructions, which no compiler and no libc emits; such code is not supported. Bare
 *   `syscall` sites with nothing the rule accepts before them are never rewritten; they keep the trap, which stays
 *   the fallback for everything. What differs for the workload inside a dynamic stub: its copied instructions run
 *   at the stub's address, so a fault of one of them (a load or store of the workload's own memory; glibc's and
 *   musl's are of their own stack frames) shows RIP in the stub region, as a signal delivered in a stub does.
 *
 * The stubs (64-byte slots, in a stub region the shim mapped within reach of the site; read-only and executable).
 *   Constant:
 *     +0   mov  eax, imm32               the site's number
 *     +5   lea  rcx, [rip - 12]          rcx = the slot: the only thing the entry needs to find its site
 *     +12  jmp  [rip + 30]               -> [slot + 48] = dj_patch_entry
 *     +18  mov  eax, imm32               the fallback: the same call through the trap, as before patching
 *     +23  syscall                       (also the way back for signal delivery: DJ_NR_PATCH_RESUME)
 *     +25  jmp  site + 7
 *   Dynamic (the site's `jmp` lands at +7):
 *     +0   syscall                       the fallback and the way back for signal delivery, with eax as it is
 *     +2   jmp  site end                 (the instruction after the site's `syscall`)
 *     +7   the site's n instructions, copied verbatim (n <= 20 bytes)
 *     +7+n lea  rcx, [rip - (14 + n)]    rcx = the slot
 *     +14+n jmp [rip + ...]              -> [slot + 48] = dj_patch_entry
 *   Both: +40 .quad the site's end   +48 .quad dj_patch_entry   +56 .long imm32 (0 for dynamic)   +60 .byte the
 *     fallback's offset (18 / 0)   +61 .byte the trap `syscall`'s offset (23 / 0)   +62 .byte the kind (0 / 1)
 *     (data, read by the entry from a checked slot).
 *   No `call`: nothing is pushed on the workload's stack, so its red zone is untouched. rcx and r11 are the two
 *   registers `syscall` itself destroys, so using rcx in the stub changes nothing the workload may rely on (the
 *   copied instructions run before the `lea`, with the workload's rcx). Every instruction of the stub may be
 *   interrupted and re-run from where it stopped: a signal delivered while RIP is in the stub (the kick, which
 *   treats the stub as workload code) sees a consistent context, and its rt_sigreturn resumes the stub.
 *
 * Register contract of dj_patch_entry
 *   in:  rcx = a stub slot (untrusted: checked against the published slots), rdi, rsi, rdx, r10, r8, r9 = the
 *        arguments, rsp = the workload's stack (never read or written), every other register the workload's;
 *        GS base = this thread's block (untrusted: the workload may have changed it with wrgsbase or by jumping
 *        to the shim's arch_prctl; checked: a block base inside the thread blocks whose record says so, a fault
 *        while reading it goes to the trap). rax: for a constant slot ignored (the number is the slot's); for a
 *        dynamic slot eax is the number (untrusted: the upper half ignored, as the kernel and dj_sigsys do; a
 *        number whose bit is clear in dj_patch_direct_numbers, or >= 512, goes to the slot's trap `syscall` with
 *        every register but r11 the workload's).
 *   out: rax = the result, rcx = the site's end, r11 = the workload's rflags at entry (what `syscall` leaves in rcx
 *        and r11), rsp and every other general register as they were, vector state untouched (the shim's C is
 *        -mgeneral-regs-only), DF as it was (cleared inside, for the shim's C; restored by popfq); then at the
 *        site's end.
 *   When a signal is deliverable after the call: the result is left in the thread's patch record, rax =
 *        DJ_NR_PATCH_RESUME, and the entry jumps to the slot's trap `syscall` (+23, or +0) with every other register
 *        the workload's: the trap hands the result back (dj_patch_resume) and delivers with the kernel's own
 *        context, RIP = just after that `syscall`, so a restart (SA_RESTART: RIP - 2, rax = the number) re-runs
 *        the call through the trap and then returns to the site's end.
 *   When rcx is not a published slot (a wild jump into the entry): jumps to address 0, a fault of the workload's
 *        own, as a jump to a wild address gets. When GS is not acceptable: jumps to the slot's fallback, the trap.
 *   The entry runs on the top of the thread's real alternate stack (the shim's handlers use it only while the
 *   workload's code is not running): a signal arriving meanwhile (the kick, a usercopy fault) is delivered below,
 *   on the same stack, as a nested one, and finds the entry's RIP in the shim's text.
 *
 * What a workload gains by jumping here with crafted registers and stack: only the calls a trapped `syscall`
 *   would make with those arguments, served by the same handlers (dj_keep_table, dj_host_syscall): with a constant
 *   slot, the slot's number; with a dynamic slot, eax's number when it is one a trap would serve with the same
 *   handlers, and otherwise the trap itself (the stub's `syscall`, outside the shim's text, so the filter traps
 *   it). Jumping into a stub is running workload-visible code outside the shim's text: its `syscall` traps. The
 *   seccomp filter is the boundary and is unchanged in what it allows, but for arch_prctl(ARCH_SET_GS), which sets
 *   the caller's own GS base (filter.c). A workload with a forged GS that names another thread's block can corrupt
 *   the shim's state for its own threads, as it can by writing the shim's memory directly; the host treats the
 *   block as untrusted either way.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: rcx (checked), GS and the record it reaches (checked), a dynamic slot's eax (checked), the
 *   arguments (the handlers check them).
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"
#include "process.h"

#define RECORD(field) (DJ_PATCH_AREA_OFFSET + (field))

FUNC(dj_patch_entry)
    /* 1. rcx must be a slot the shim published: inside one region's written part, slot-aligned. rax is not
       touched before the number is taken: a dynamic slot's number is the workload's eax. */
    lea     r11, [rip + dj_patch_regions]
    .irp    region, 0, 1, 2, 3
    cmp     rcx, [r11 + 16 * \region]
    jb      1f
    cmp     rcx, [r11 + 16 * \region + 8]
    jb      .Ldj_patch_entry_slot
1:
    .endr
    .if     DJ_PATCH_REGION_MAX != 4
    .error  "dj_patch_entry: one comparison per stub region"
    .endif
    xor     ecx, ecx                        /* a wild jump here: a wild jump's fault, in the workload's code */
    jmp     rcx
.Ldj_patch_entry_slot:
    test    ecx, DJ_PATCH_SLOT_SIZE - 1
    jnz     .Ldj_patch_entry_wild

    /* 2. A dynamic slot: eax must be a number the entry may serve (the bitmap), else the trap, with eax. */
    cmp     byte ptr [rcx + DJ_PATCH_SLOT_KIND], 0
    je      dj_patch_gs_load
    cmp     eax, 512
    jae     dj_patch_gs_bad
    lea     r11, [rip + dj_patch_direct_numbers]
    bt      dword ptr [r11], eax
    jnc     dj_patch_gs_bad

    /* 3. GS: this thread's block, as the shim set it. A fault here resumes at dj_patch_gs_bad. */
    .globl  dj_patch_gs_load
    .hidden dj_patch_gs_load
dj_patch_gs_load:
    mov     r11, qword ptr gs:[RECORD(DJ_PATCH_SELF)]
    test    r11d, DJ_THREAD_BLOCK_SIZE - 1
    jnz     dj_patch_gs_bad
    cmp     r11, [rip + dj_patch_blocks_start]
    jb      dj_patch_gs_bad
    cmp     r11, [rip + dj_patch_blocks_end]
    jae     dj_patch_gs_bad
    cmp     r11, [r11 + RECORD(DJ_PATCH_SELF)]
    jne     dj_patch_gs_bad

    /* 4. The number: a constant slot's own, a dynamic slot's eax (checked in 2). */
    cmp     byte ptr [rcx + DJ_PATCH_SLOT_KIND], 0
    jne     .Ldj_patch_entry_number
    mov     eax, dword ptr [rcx + DJ_PATCH_SLOT_NUMBER]
.Ldj_patch_entry_number:
    mov     eax, eax                        /* zero-extended, as dj_sigsys takes si_syscall */

    /* 5. Onto the top of the block's stack; the workload's registers there. */
    add     r11, DJ_THREAD_BLOCK_SIZE
    xchg    rsp, r11
    push    r11                             /* +72: the workload's rsp */
    pushfq                                  /* +64: its rflags */
    push    rcx                             /* +56: the slot */
    push    rdi                             /* +48 */
    push    rsi                             /* +40 */
    push    rdx                             /* +32 */
    push    r10                             /* +24 */
    push    r8                              /* +16 */
    push    r9                              /* +8 */
    push    rax                             /* +0: the number, then the result; 16-byte aligned for the calls */
    cld
    mov     rcx, r10
    mov     r11, rsp
    and     r11, -DJ_THREAD_BLOCK_SIZE
    inc     qword ptr [r11 + RECORD(DJ_PATCH_DIRECT_COUNT)]

    /* 6. The dispatch of dj_sigsys for these numbers: the keep's own handler, else the host. */
    cmp     eax, DJ_KEEP_TABLE_COUNT
    jae     .Ldj_patch_entry_host
    lea     r10, [rip + dj_keep_table]
    movsxd  r11, dword ptr [r10 + rax * 4]
    test    r11, r11
    jz      .Ldj_patch_entry_host
    add     r11, r10
    call    r11
    cmp     byte ptr [rip + dj_trace_on], 0 /* run --strace (trace.c): one predictable branch when off */
    jne     .Ldj_patch_entry_trace
    jmp     .Ldj_patch_entry_result
.Ldj_patch_entry_host:
    sub     rsp, 48                         /* uint64_t args[6] */
    mov     [rsp], rdi
    mov     [rsp + 8], rsi
    mov     [rsp + 16], rdx
    mov     [rsp + 24], rcx
    mov     [rsp + 32], r8
    mov     [rsp + 40], r9
    mov     edi, eax
    mov     rsi, rsp
    call    dj_host_syscall
    add     rsp, 48

    /* 7. Back to the site's end, or through the trap when a signal is to be delivered. */
.Ldj_patch_entry_result:
    mov     [rsp], rax
    call    dj_signal_deliverable
    test    eax, eax
    jnz     .Ldj_patch_entry_signal
    pop     rax
    pop     r9
    pop     r8
    pop     r10
    pop     rdx
    pop     rsi
    pop     rdi
    pop     rcx
    mov     rcx, [rcx + DJ_PATCH_SLOT_RESUME]
    mov     r11, [rsp]                      /* rflags, as `syscall` leaves r11 */
    popfq
    pop     rsp
    jmp     rcx

.Ldj_patch_entry_signal:
    mov     rax, [rsp]
    mov     r11, rsp
    and     r11, -DJ_THREAD_BLOCK_SIZE
    mov     [r11 + RECORD(DJ_PATCH_RESULT)], rax
    mov     qword ptr [r11 + RECORD(DJ_PATCH_PENDING)], 1
    add     rsp, 8
    pop     r9
    pop     r8
    pop     r10
    pop     rdx
    pop     rsi
    pop     rdi
    pop     rcx
    movzx   eax, byte ptr [rcx + DJ_PATCH_SLOT_TO_TRAP]
    add     rcx, rax
    popfq
    pop     rsp
    mov     eax, DJ_NR_PATCH_RESUME
    jmp     rcx

/* run --strace: the call dj_keep_table served, reported as dj_sigsys reports it (trace.c), with the workload's
   arguments as saved above ([rsp + 8] r9 ... [rsp + 48] rdi) and the number ([rsp], until the result goes there). */
.Ldj_patch_entry_trace:
    sub     rsp, 48                         /* uint64_t args[6]; the saved registers are now 48 further */
    mov     rdi, [rsp + 96]
    mov     [rsp], rdi
    mov     rdi, [rsp + 88]
    mov     [rsp + 8], rdi
    mov     rdi, [rsp + 80]
    mov     [rsp + 16], rdi
    mov     rdi, [rsp + 72]
    mov     [rsp + 24], rdi
    mov     rdi, [rsp + 64]
    mov     [rsp + 32], rdi
    mov     rdi, [rsp + 56]
    mov     [rsp + 40], rdi
    mov     edi, dword ptr [rsp + 48]
    mov     rsi, rax
    mov     rdx, rsp
    call    dj_trace_keep_call
    add     rsp, 48
    jmp     .Ldj_patch_entry_result

.Ldj_patch_entry_wild:
    xor     ecx, ecx
    jmp     rcx

    /* GS is not the shim's, or a dynamic slot's number is not one to serve directly: the same call through the
       trap (rcx is a checked slot; only r11 changed, and rax for a constant slot, whose fallback sets it). */
    .globl  dj_patch_gs_bad
    .hidden dj_patch_gs_bad
dj_patch_gs_bad:
    movzx   r11d, byte ptr [rcx + DJ_PATCH_SLOT_TO_FALLBACK]
    add     rcx, r11
    jmp     rcx
END(dj_patch_entry)

/* dj_patch_direct_numbers: bit n (n < 512) set when a dynamic site's number n may take the direct entry; clear for
   DJ_PATCH_NEVER_DIRECT (process.h). Read-only; patch.c's patchable() reads it too, so the list is in one place. */
#define DJ_NEVER_BIT(n) | ((((n) >> 3) == .Ldj_patch_byte) & (1 << ((n) & 7)))
    .section .rodata
    .balign 64
DATA(dj_patch_direct_numbers)
    .set    .Ldj_patch_byte, 0
    .rept   64
    .byte   0xFF & ~(0 DJ_PATCH_NEVER_DIRECT(DJ_NEVER_BIT))
    .set    .Ldj_patch_byte, .Ldj_patch_byte + 1
    .endr
