/*
 * asm/vm/syscall.S -- the workload's `syscall` instruction lands here (LSTAR), and its first entry into ring 3
 * leaves from here.
 *
 * Entry points
 *   dj_syscall_entry          LSTAR: every 64-bit `syscall` from ring 3
 *   dj_syscall_entry_compat   CSTAR: a `syscall` from 32-bit compatibility mode (unreachable: the GDT has no
 *                             32-bit user code segment); ends the keep as SIGSEGV
 *   dj_enter_workload(entry, stack)   from dj_vm_main (setup.c): ring 3, once
 *
 * Flow of dj_syscall_entry
 *   1. save the user rsp in dj_user_rsp, switch to the running thread's kernel stack (dj_vm_kernel_stack_top;
 *      interrupts are off: SFMASK clears IF, and TF, DF, AC, NT, IOPL); save rcx (the user rip) and r11 (the user
 *      rflags), and the six argument registers (the Linux ABI preserves every register but rax, rcx and r11; the C
 *      callees preserve rbx, rbp, r12-r15 themselves). dj_user_rsp and dj_sigreturn_requested are the running
 *      thread's: a handler that parks the thread (a host call, a futex wait) lets others run, and threads.c saves
 *      and restores both with the thread. clone and clone3 save the whole user context as a trap frame first and
 *      go to threads.c's dj_vm_clone, which copies it for the child; they return by the slow path.
 *   2. the number is eax (Linux reads the low 32 bits too). Below DJ_KEEP_TABLE_COUNT, dj_keep_table gives a
 *      handler for what concerns only the keep (memory, the FS base, exit, the threads' ids, futex, the emulated
 *      signal state, getrandom); every other number, and those without a handler, go to dj_marshal_syscall (marshal.c), which
 *      sends it to the host through the shared block.
 *   3. restore, switch back to the user stack, `sysretq` (rcx, r11 as Linux leaves them: the return address and
 *      the flags). When a workload signal is deliverable, or the call was rt_sigreturn, the slow path instead
 *      saves the whole user context as a trap frame, lets signal.c rewrite it (a handler's entry, or the
 *      context rt_sigreturn restores), and returns with `iretq`. A return address that is not canonical, which only a `syscall` in the last bytes below
 *      0x800000000000 could produce (the workload's mappings end at 0x7FFFFFFFF000), would make `sysretq` fault in
 *      ring 0 on the user's stack; the shim ends the keep instead.
 *
 * Labels: .L<function>_<what>; dj_keep_<syscall> for the handlers in this file.
 *
 * Data: dj_user_rsp (the user rsp during a syscall) and dj_sigreturn_requested belong to the running thread;
 *   threads.c swaps them at each switch.
 *
 * Untrusted inputs: the workload's registers (number, arguments, rsp). rsp is never dereferenced here.
 *
 * Register contracts
 *   dj_syscall_entry: the CPU's SYSCALL state: rax = number, rdi, rsi, rdx, r10, r8, r9 = arguments, rcx = user
 *     rip, r11 = user rflags, rsp = user rsp, CS/SS = kernel. Out (at the user's next instruction): rax = result,
 *     rcx = user rip, r11 = user rflags, every other register as it was.
 *   clone, clone3 (.Ldj_syscall_entry_clone): the CPU's SYSCALL state as above; dj_vm_clone(frame) gets the whole
 *     user context as a struct dj_trap_frame (rax = the number) and leaves the result in its rax; the parent leaves
 *     by iretq, the child later from dj_vm_thread_entry (switch.S) with a copy of the frame.
 *   dj_keep_table handlers: System V with the syscall's arguments in rdi, rsi, rdx, rcx (the syscall's r10), r8,
 *     r9; result in rax; rsp 16-byte aligned at the call.
 *   dj_enter_workload: rdi = entry, rsi = initial stack pointer. At the workload's entry: rsp = stack, every
 *     general register 0 (rdx = 0: no atexit function), rflags = IF only, CS/SS = user, DS/ES/FS/GS null with
 *     FS and GS bases 0. The x87/SSE/AVX state is the reset state dj_fpu_reset left. Never returns.
 */
#include "asm.h"
#include "linux.h"
#include "vm.h"

    .bss
/* The running thread's: threads.c saves both in the thread's record when it switches away, and puts them back. */
DATA(dj_sigreturn_requested)                /* set by rt_sigreturn, taken by the slow path */
    .skip   1
    .balign 8
DATA(dj_user_rsp)
    .skip   8

FUNC(dj_syscall_entry)
    mov     [rip + dj_user_rsp], rsp
    mov     rsp, [rip + dj_vm_kernel_stack_top]
    cmp     eax, LX_NR_CLONE
    je      .Ldj_syscall_entry_clone
    cmp     eax, LX_NR_CLONE3
    je      .Ldj_syscall_entry_clone
    push    rcx
    push    r11
    push    rdi
    push    rsi
    push    rdx
    push    r10
    push    r8
    push    r9                              /* 8 pushes: rsp is 16-byte aligned */

    mov     r11d, eax                       /* the number, zero-extended */
    cmp     r11, DJ_KEEP_TABLE_COUNT
    jae     .Ldj_syscall_entry_host
    lea     rcx, [rip + dj_keep_table]
    movsxd  rax, dword ptr [rcx + r11 * 4]
    test    rax, rax
    jz      .Ldj_syscall_entry_host
    add     rax, rcx
    mov     rcx, r10
    cmp     byte ptr [rip + dj_trace_on], 0 /* run --strace (trace.c): one predictable branch when off */
    jne     .Ldj_syscall_entry_traced
    call    rax
    jmp     .Ldj_syscall_entry_return

/* run --strace: the same call, then its report (trace.c) with the number, the result and the arguments as the
   workload passed them (the saved registers: [rsp + 48] rdi ... [rsp + 0] r9 after the two pushes below). */
.Ldj_syscall_entry_traced:
    push    r11
    push    r11                             /* the number, twice: rsp stays 16-byte aligned */
    call    rax
    mov     rsi, rax
    pop     rdi
    pop     rdi                             /* edi = the number */
    sub     rsp, 48                         /* uint64_t args[6] */
    mov     rdx, [rsp + 48 + 40]
    mov     [rsp], rdx                      /* rdi */
    mov     rdx, [rsp + 48 + 32]
    mov     [rsp + 8], rdx                  /* rsi */
    mov     rdx, [rsp + 48 + 24]
    mov     [rsp + 16], rdx                 /* rdx */
    mov     rdx, [rsp + 48 + 16]
    mov     [rsp + 24], rdx                 /* r10 */
    mov     rdx, [rsp + 48 + 8]
    mov     [rsp + 32], rdx                 /* r8 */
    mov     rdx, [rsp + 48]
    mov     [rsp + 40], rdx                 /* r9 */
    mov     rdx, rsp
    call    dj_trace_keep_call
    add     rsp, 48
    jmp     .Ldj_syscall_entry_return

.Ldj_syscall_entry_host:
    sub     rsp, 48                         /* uint64_t args[6] */
    mov     [rsp], rdi
    mov     [rsp + 8], rsi
    mov     [rsp + 16], rdx
    mov     [rsp + 24], r10
    mov     [rsp + 32], r8
    mov     [rsp + 40], r9
    mov     edi, r11d
    mov     rsi, rsp
    call    dj_host_syscall
    add     rsp, 48

.Ldj_syscall_entry_return:
    /* A workload signal to deliver, or an rt_sigreturn to carry out: the slow path. rax is the result. */
    push    rax
    push    rax                             /* twice: rsp stays 16-byte aligned */
    call    dj_signal_deliverable
    mov     ecx, eax
    or      cl, byte ptr [rip + dj_sigreturn_requested]
    pop     rax
    pop     rax
    test    cl, cl
    jnz     .Ldj_syscall_entry_slow

    pop     r9
    pop     r8
    pop     r10
    pop     rdx
    pop     rsi
    pop     rdi
    pop     r11
    pop     rcx
    bt      rcx, 47                         /* canonical lower half: bit 47 (and above) clear */
    jc      .Ldj_syscall_entry_noncanonical
    mov     rsp, [rip + dj_user_rsp]
    sysretq
/* The slow path: the whole user context as a trap frame (struct dj_trap_frame), signal.c, then iretq, so that
   every register a handler's entry or rt_sigreturn sets is the one the workload gets (rcx and r11 included). */
.Ldj_syscall_entry_slow:
    pop     r9
    pop     r8
    pop     r10
    pop     rdx
    pop     rsi
    pop     rdi
    pop     r11                             /* the user rflags */
    pop     rcx                             /* the user rip */
    push    DJ_VM_USER_DS                   /* ss */
    push    qword ptr [rip + dj_user_rsp]   /* rsp */
    push    r11                             /* rflags */
    push    DJ_VM_USER_CS                   /* cs */
    push    rcx                             /* rip */
    push    0                               /* error code */
    push    DJ_VM_SYSCALL_FRAME_VECTOR      /* vector: "a syscall" */
    DJ_PUSH_TRAP_REGISTERS                  /* 22 pushes from the stack top: 16-byte aligned */
    mov     rdi, rsp
    movzx   esi, byte ptr [rip + dj_sigreturn_requested]
    mov     byte ptr [rip + dj_sigreturn_requested], 0
    call    dj_vm_syscall_signals
    DJ_POP_TRAP_REGISTERS
    add     rsp, 16                         /* vector, error code */
    iretq

/* clone, clone3: the child starts from a copy of the whole user context, so it is saved as a trap frame first
   (as on the slow path); threads.c writes the result into the frame's rax, and the return is the slow path's. */
.Ldj_syscall_entry_clone:
    push    DJ_VM_USER_DS                   /* ss */
    push    qword ptr [rip + dj_user_rsp]   /* rsp */
    push    r11                             /* rflags */
    push    DJ_VM_USER_CS                   /* cs */
    push    rcx                             /* rip */
    push    0                               /* error code */
    push    DJ_VM_SYSCALL_FRAME_VECTOR      /* vector: "a syscall" */
    DJ_PUSH_TRAP_REGISTERS                  /* rax = the number */
    mov     rdi, rsp
    call    dj_vm_clone
    mov     rdi, rsp
    xor     esi, esi
    call    dj_vm_syscall_signals
    DJ_POP_TRAP_REGISTERS
    add     rsp, 16                         /* vector, error code */
    iretq

.Ldj_syscall_entry_noncanonical:
    /* Unreachable with the layouts the shim accepts (every mapping ends at or below 0x7FFFFFFFF000); kept so
       that no workload can make sysretq fault in ring 0 on its own stack. */
    lea     rsi, [rip + .Lmsg_noncanonical]
    mov     edi, DJ_VM_EXIT_INTERNAL_ERROR
    call    dj_fatal
END(dj_syscall_entry)

/* CSTAR: a 32-bit `syscall`. The GDT has no 32-bit user code segment, so it cannot happen; should it, the keep
   ends as for an invalid opcode rather than run on the user's stack. */
FUNC(dj_syscall_entry_compat)
    lea     rsp, [rip + dj_kernel_stack_top]
    lea     rsi, [rip + .Lmsg_compat]
    mov     edi, DJ_VM_EXIT_INTERNAL_ERROR
    call    dj_fatal
END(dj_syscall_entry_compat)

FUNC(dj_enter_workload)
    mov     eax, DJ_VM_USER_DS
    push    rax                             /* ss */
    push    rsi                             /* rsp */
    push    DJ_RFLAGS_USER_INITIAL          /* rflags */
    mov     eax, DJ_VM_USER_CS
    push    rax                             /* cs */
    push    rdi                             /* rip */
    xor     eax, eax
    mov     ds, eax
    mov     es, eax
    xor     ebx, ebx
    xor     ecx, ecx
    xor     edx, edx
    xor     esi, esi
    xor     edi, edi
    xor     ebp, ebp
    xor     r8d, r8d
    xor     r9d, r9d
    xor     r10d, r10d
    xor     r11d, r11d
    xor     r12d, r12d
    xor     r13d, r13d
    xor     r14d, r14d
    xor     r15d, r15d
    iretq
END(dj_enter_workload)

/* arch_prctl (edi = code, rsi = address): the FS base, which libc's TLS needs, is an MSR here. As Linux: an
   address outside the user half is EPERM. ARCH_GET_FS writes through dj_user_write (checked, with a fixup). */
LOCAL_FUNC(dj_keep_arch_prctl)
    cmp     edi, LX_ARCH_SET_FS
    je      .Ldj_keep_arch_prctl_set
    cmp     edi, LX_ARCH_GET_FS
    je      .Ldj_keep_arch_prctl_get
    mov     rax, -LX_EINVAL
    ret
.Ldj_keep_arch_prctl_set:
    mov     rax, LX_TASK_SIZE
    cmp     rsi, rax
    jae     .Ldj_keep_arch_prctl_eperm
    mov     ecx, DJ_MSR_FS_BASE
    mov     eax, esi
    mov     rdx, rsi
    shr     rdx, 32
    wrmsr
    xor     eax, eax
    ret
.Ldj_keep_arch_prctl_eperm:
    mov     rax, -LX_EPERM
    ret
.Ldj_keep_arch_prctl_get:
    sub     rsp, 8                          /* [rsp] = the FS base; rsp is 16-byte aligned for the call */
    mov     rdi, rsi                        /* the workload's pointer */
    mov     ecx, DJ_MSR_FS_BASE
    rdmsr
    shl     rdx, 32
    or      rax, rdx
    mov     [rsp], rax
    mov     rsi, rsp
    mov     edx, 8
    call    dj_user_write
    add     rsp, 8
    ret
END(dj_keep_arch_prctl)

/* rt_sigreturn: carried out on the return path, which has the whole user context (signal.c). */
LOCAL_FUNC(dj_keep_rt_sigreturn)
    mov     byte ptr [rip + dj_sigreturn_requested], 1
    xor     eax, eax
    ret
END(dj_keep_rt_sigreturn)

/* sigaltstack: with the caller's stack pointer, for EPERM while on the alternate stack. */
LOCAL_FUNC(dj_keep_sigaltstack)
    mov     rdx, [rip + dj_user_rsp]
    jmp     dj_sys_sigaltstack_at
END(dj_keep_sigaltstack)

/* rseq: not offered; every libc falls back when it gets ENOSYS. */
LOCAL_FUNC(dj_keep_rseq)
    mov     rax, -LX_ENOSYS
    ret
END(dj_keep_rseq)

/* dj_keep_table: one int32 per syscall number below DJ_KEEP_TABLE_COUNT, the handler's offset from the table,
   or 0 for "send it to the host". KEEP must be used in increasing number order. */
    .section .rodata
    .balign 4
dj_keep_table:
.macro KEEP number, handler
    .fill   (\number) - (. - dj_keep_table) / 4, 4, 0
    .long   \handler - dj_keep_table
.endm
    KEEP    LX_NR_MMAP, dj_sys_mmap
    KEEP    LX_NR_MPROTECT, dj_sys_mprotect
    KEEP    LX_NR_MUNMAP, dj_sys_munmap
    KEEP    LX_NR_BRK, dj_sys_brk
    KEEP    LX_NR_RT_SIGACTION, dj_sys_rt_sigaction
    KEEP    LX_NR_RT_SIGPROCMASK, dj_sys_rt_sigprocmask
    KEEP    LX_NR_RT_SIGRETURN, dj_keep_rt_sigreturn
    KEEP    LX_NR_SCHED_YIELD, dj_sys_sched_yield
    KEEP    LX_NR_MREMAP, dj_sys_mremap
    KEEP    LX_NR_MADVISE, dj_sys_madvise
    KEEP    LX_NR_PAUSE, dj_sys_pause
    KEEP    LX_NR_EXIT, dj_vm_sys_exit
    KEEP    LX_NR_KILL, dj_sys_kill
    KEEP    LX_NR_RT_SIGPENDING, dj_sys_rt_sigpending
    KEEP    LX_NR_RT_SIGTIMEDWAIT, dj_sys_rt_sigtimedwait
    KEEP    LX_NR_RT_SIGSUSPEND, dj_sys_rt_sigsuspend
    KEEP    LX_NR_SIGALTSTACK, dj_keep_sigaltstack
    KEEP    LX_NR_ARCH_PRCTL, dj_keep_arch_prctl
    KEEP    LX_NR_GETTID, dj_sys_gettid
    KEEP    LX_NR_TKILL, dj_sys_tkill
    KEEP    LX_NR_FUTEX, dj_sys_futex
    KEEP    LX_NR_SET_TID_ADDRESS, dj_vm_sys_set_tid_address
    KEEP    LX_NR_EXIT_GROUP, dj_vm_sys_exit_group
    KEEP    LX_NR_TGKILL, dj_sys_tgkill
    KEEP    LX_NR_SET_ROBUST_LIST, dj_vm_sys_set_robust_list
    KEEP    LX_NR_GETRANDOM, dj_sys_getrandom
    KEEP    LX_NR_RSEQ, dj_keep_rseq
    .fill   DJ_KEEP_TABLE_COUNT - (. - dj_keep_table) / 4, 4, 0
dj_keep_table_end:
    .if (dj_keep_table_end - dj_keep_table) != DJ_KEEP_TABLE_COUNT * 4
    .error "dj_keep_table: entries out of order or beyond DJ_KEEP_TABLE_COUNT"
    .endif

.Lmsg_noncanonical:
    .asciz  "a syscall returned to a non-canonical address"
.Lmsg_compat:
    .asciz  "a syscall from 32-bit compatibility mode, which the keep has no segment for"
