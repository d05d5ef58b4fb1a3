/*
 * asm/process/syscall.S -- the process shim's raw system calls, and its way to die with a message.
 *
 * Entry points
 *   dj_syscall6(number, a0, a1, a2, a3, a4, a5) -> rax   the raw call, for the shim's C
 *   dj_fatal(status, message)                            "donjon-shim: <message>\n" on fd 2, exit_group
 *
 * Flow
 *   The seccomp filter lets a system call through only when its `syscall` instruction lies in the shim's
 *   text, so every call the shim makes is either here or inline in another file of asm/process.
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: none. dj_fatal's message is the shim's own NUL-terminated string.
 */
#include "asm.h"
#include "linux.h"
#include "process.h"

/* dj_syscall6: System V call in (rdi = number, rsi, rdx, rcx, r8, r9, [rsp + 8] = arguments 0-5); the
   kernel's convention out (rax = number, rdi, rsi, rdx, r10, r8, r9). Out: rax = result or -errno.
   Clobbers rcx, rdx, rsi, rdi, r8, r9, r10, r11. */
FUNC(dj_syscall6)
    mov     rax, rdi
    mov     rdi, rsi
    mov     rsi, rdx
    mov     rdx, rcx
    mov     r10, r8
    mov     r8, r9
    mov     r9, [rsp + 8]
    syscall
    ret
END(dj_syscall6)

/* dj_fatal: edi = exit status, rsi = message. Never returns. One writev, so the line is not split by
   another writer of the same stderr. Any stack alignment. */
FUNC(dj_fatal)
    mov     ebx, edi
    mov     rdx, rsi                        /* strlen(message) */
.Ldj_fatal_length:
    cmp     byte ptr [rdx], 0
    je      .Ldj_fatal_write
    inc     rdx
    jmp     .Ldj_fatal_length
.Ldj_fatal_write:
    sub     rdx, rsi
    and     rsp, -16
    sub     rsp, 48                         /* struct iovec[3] */
    lea     rax, [rip + .Ldj_fatal_prefix]
    mov     [rsp], rax
    mov     qword ptr [rsp + 8], .Ldj_fatal_prefix_end - .Ldj_fatal_prefix
    mov     [rsp + 16], rsi
    mov     [rsp + 24], rdx
    lea     rax, [rip + .Ldj_fatal_newline]
    mov     [rsp + 32], rax
    mov     qword ptr [rsp + 40], 1
    mov     eax, LX_NR_WRITEV
    mov     edi, 2
    mov     rsi, rsp
    mov     edx, 3
    syscall
    mov     edi, ebx
    mov     eax, LX_NR_EXIT_GROUP
    syscall
    ud2
END(dj_fatal)

    .section .rodata
.Ldj_fatal_prefix:
    .ascii  "donjon-shim: "
.Ldj_fatal_prefix_end:
.Ldj_fatal_newline:
    .ascii  "\n"

/* dj_clone_thread(flags, child_stack, child_tid_word, tls) (threads.c): the real clone of a thread. In the parent:
   rax = the child's kernel id or -errno. The child returns from the syscall here with rsp = child_stack, which
   points at a ucontext threads.c prepared, sets its GS base to its own thread block (patch.S), and leaves at once through rt_sigreturn into the workload (that call
   also sets its real mask and alternate stack). System V in, kernel order out: clone(flags, newsp, parent_tid,
   child_tid, tls). Clobbers rcx, rdx, r8, r10, r11. */
FUNC(dj_clone_thread)
    mov     r8, rcx                         /* tls */
    mov     r10, rdx                        /* child_tid: the kernel's clear-tid word */
    xor     edx, edx                        /* parent_tid: unused (no CLONE_PARENT_SETTID) */
    mov     eax, LX_NR_CLONE
    syscall
    test    rax, rax
    jz      .Ldj_clone_thread_child
    ret
.Ldj_clone_thread_child:
    /* The child's GS base: its own block (patch.c; the parent's was inherited), its record saying so. */
    mov     rsi, rsp
    and     rsi, -DJ_THREAD_BLOCK_SIZE
    mov     [rsi + DJ_PATCH_AREA_OFFSET + DJ_PATCH_SELF], rsi
    mov     edi, DJ_ARCH_SET_GS
    mov     eax, LX_NR_ARCH_PRCTL
    syscall
    mov     eax, LX_NR_RT_SIGRETURN
    syscall
    ud2
END(dj_clone_thread)
