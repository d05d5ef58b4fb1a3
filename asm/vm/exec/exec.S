/*
 * asm/vm/exec/exec.S -- donjon-vm-exec: starts QEMU so that it can never outlive Donjon.
 *
 * A host-side helper, not part of the guest: the vm backend spawns it (posix_spawn cannot set a parent-death
 * signal) as
 *     donjon-vm-exec <host pid> <qemu path> <qemu arguments...>
 * from the keep's own long-lived thread, with the descriptors QEMU is to inherit already in place.
 *
 * Entry points
 *   _start   the kernel's entry
 *
 * Flow
 *   argc >= 3                                        else exit 120
 *   prctl(PR_SET_PDEATHSIG, SIGKILL): when the thread that spawned this process ends (Donjon exits, is killed,
 *     or dies), the kernel kills it; the setting survives execve, so it holds for QEMU
 *   getppid() == <host pid>                          else exit 120: the host died before the prctl, and the
 *                                                    signal would never come
 *   execve(<qemu path>, argv + 2, envp)              else "donjon-vm-exec: cannot execute QEMU" on stderr, 127
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: none; the arguments are the host's.
 *
 * Register contract: _start: rsp -> argc, argv[], NULL, envp[], NULL, auxv (the kernel's initial stack).
 *   Never returns.
 */
#include "asm.h"
#include "linux.h"

#define LX_NR_EXECVE 59

FUNC(_start)
    mov     r12, rsp                        /* r12 -> argc */
    cmp     qword ptr [r12], 3
    jb      .L_start_usage
    mov     rdi, [r12 + 16]                 /* argv[1]: the host's pid */
    xor     eax, eax
    xor     ecx, ecx
.L_start_digit:
    movzx   edx, byte ptr [rdi + rcx]
    test    edx, edx
    jz      .L_start_parsed
    sub     edx, '0'
    cmp     edx, 9
    ja      .L_start_usage
    cmp     ecx, 10
    jae     .L_start_usage
    imul    rax, rax, 10
    add     rax, rdx
    inc     ecx
    jmp     .L_start_digit
.L_start_parsed:
    test    ecx, ecx
    jz      .L_start_usage
    mov     r13, rax                        /* r13 = host pid */

    mov     eax, LX_NR_PRCTL
    mov     edi, LX_PR_SET_PDEATHSIG
    mov     esi, LX_SIGKILL
    xor     edx, edx
    xor     r10d, r10d
    xor     r8d, r8d
    syscall
    test    rax, rax
    jnz     .L_start_orphan
    mov     eax, LX_NR_GETPPID
    syscall
    cmp     rax, r13
    jne     .L_start_orphan

    mov     rcx, [r12]                      /* argc */
    lea     rdx, [r12 + rcx * 8 + 16]       /* envp: after argv's NULL */
    lea     rsi, [r12 + 24]                 /* argv + 2 */
    mov     rdi, [rsi]                      /* QEMU's path */
    mov     eax, LX_NR_EXECVE
    syscall
    lea     rsi, [rip + .Lmsg_exec]
    mov     edx, .Lmsg_exec_end - .Lmsg_exec
    mov     ebx, 127
    jmp     .L_start_fail

.L_start_usage:
    lea     rsi, [rip + .Lmsg_usage]
    mov     edx, .Lmsg_usage_end - .Lmsg_usage
    mov     ebx, 120
    jmp     .L_start_fail
.L_start_orphan:
    lea     rsi, [rip + .Lmsg_orphan]
    mov     edx, .Lmsg_orphan_end - .Lmsg_orphan
    mov     ebx, 120
.L_start_fail:
    mov     eax, LX_NR_WRITE
    mov     edi, 2
    syscall
    mov     edi, ebx
    mov     eax, LX_NR_EXIT_GROUP
    syscall
    ud2
END(_start)

    .section .rodata
.Lmsg_usage:
    .ascii  "donjon-vm-exec: usage: donjon-vm-exec <host pid> <qemu> [arguments...], started by Donjon\n"
.Lmsg_usage_end:
.Lmsg_orphan:
    .ascii  "donjon-vm-exec: the parent is not the host pid given, or PR_SET_PDEATHSIG failed\n"
.Lmsg_orphan_end:
.Lmsg_exec:
    .ascii  "donjon-vm-exec: cannot execute QEMU (the path given)\n"
.Lmsg_exec_end:
