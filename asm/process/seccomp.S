/*
 * asm/process/seccomp.S -- the seccomp filter that turns every workload system call into a SIGSYS.
 *
 * Entry points
 *   dj_seccomp_install   once, from _start, after the signal handlers are in place
 *
 * Flow
 *   prctl(PR_SET_NO_NEW_PRIVS, 1) (required for an unprivileged filter), then
 *   seccomp(SECCOMP_SET_MODE_FILTER, 0, program), where the classic BPF program is:
 *
 *     0  ld  arch                                    seccomp_data.arch
 *     1  jeq AUDIT_ARCH_X86_64 ? 2 : KILL            int 0x80 (i386 ABI) from 64-bit code: kill
 *     2  ld  ip_hi                                   the 64-bit instruction pointer, as two 32-bit halves
 *     3  jgt text_start_hi ? 7 : 4                   ip >= text_start ?
 *     4  jeq text_start_hi ? 5 : TRAP
 *     5  ld  ip_lo
 *     6  jge text_start_lo ? 7 : TRAP
 *     7  ld  ip_hi                                   ip < text_end ?
 *     8  jgt text_end_hi ? TRAP : 9
 *     9  jeq text_end_hi ? 10 : ALLOW
 *    10  ld  ip_lo
 *    11  jge text_end_lo ? TRAP : ALLOW
 *    12  ALLOW: ret SECCOMP_RET_ALLOW                the shim's own text
 *    13  TRAP:  ret SECCOMP_RET_TRAP                 everything else: SIGSYS (sigsys.S)
 *    14  KILL:  ret SECCOMP_RET_KILL_PROCESS
 *
 *   The shim is position-independent, so [__shim_text_start, __shim_text_end) is known only at run time:
 *   the template below is copied onto the stack and its six bounds patched in. The test is on the
 *   instruction pointer alone, so the number does not matter: x32 numbers (bit 30) from the workload trap
 *   like any other. The filter cannot be removed or loosened once installed, and it is inherited by anything
 *   the process would exec (it cannot: execve traps too).
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: none.
 *
 * Register contract: System V, no arguments, clobbers the caller-saved registers. Exits 124 on failure.
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"

.macro BPF code, jt, jf, k
    .short  \code
    .byte   \jt, \jf
    .long   \k
.endm

    .section .rodata
    .balign 8
.Lbpf_template:
    BPF LX_BPF_LD_W_ABS, 0, 0, LX_SECCOMP_DATA_ARCH           /* 0 */
    BPF LX_BPF_JEQ_K,    0, 12, LX_AUDIT_ARCH_X86_64          /* 1 -> 2 : 14 */
    BPF LX_BPF_LD_W_ABS, 0, 0, LX_SECCOMP_DATA_IP_HI          /* 2 */
    BPF LX_BPF_JGT_K,    3, 0, 0                              /* 3 -> 7 : 4   k = start_hi */
    BPF LX_BPF_JEQ_K,    0, 8, 0                              /* 4 -> 5 : 13  k = start_hi */
    BPF LX_BPF_LD_W_ABS, 0, 0, LX_SECCOMP_DATA_IP_LO          /* 5 */
    BPF LX_BPF_JGE_K,    0, 6, 0                              /* 6 -> 7 : 13  k = start_lo */
    BPF LX_BPF_LD_W_ABS, 0, 0, LX_SECCOMP_DATA_IP_HI          /* 7 */
    BPF LX_BPF_JGT_K,    4, 0, 0                              /* 8 -> 13 : 9  k = end_hi */
    BPF LX_BPF_JEQ_K,    0, 2, 0                              /* 9 -> 10 : 12 k = end_hi */
    BPF LX_BPF_LD_W_ABS, 0, 0, LX_SECCOMP_DATA_IP_LO          /* 10 */
    BPF LX_BPF_JGE_K,    1, 0, 0                              /* 11 -> 13 : 12 k = end_lo */
    BPF LX_BPF_RET_K,    0, 0, LX_SECCOMP_RET_ALLOW           /* 12 */
    BPF LX_BPF_RET_K,    0, 0, LX_SECCOMP_RET_TRAP            /* 13 */
    BPF LX_BPF_RET_K,    0, 0, LX_SECCOMP_RET_KILL_PROCESS    /* 14 */
.Lbpf_template_end:

#define BPF_COUNT   15
#define BPF_BYTES   (BPF_COUNT * LX_SOCK_FILTER_SIZE)
#define K(i)        ((i) * LX_SOCK_FILTER_SIZE + 4)         /* the k field of instruction i */
#define PROGRAM     16                                       /* [rsp + PROGRAM]: the patched copy */
#define FRAME       (PROGRAM + BPF_BYTES)                    /* 16 (sock_fprog) + 120: rsp 16-byte aligned */

FUNC(dj_seccomp_install)
    sub     rsp, FRAME

    lea     rsi, [rip + .Lbpf_template]
    lea     rdi, [rsp + PROGRAM]
    mov     ecx, BPF_BYTES
    rep movsb

    lea     rax, [rip + __shim_text_start]
    mov     rdx, rax
    shr     rdx, 32
    mov     dword ptr [rsp + PROGRAM + K(3)], edx
    mov     dword ptr [rsp + PROGRAM + K(4)], edx
    mov     dword ptr [rsp + PROGRAM + K(6)], eax
    lea     rax, [rip + __shim_text_end]
    mov     rdx, rax
    shr     rdx, 32
    mov     dword ptr [rsp + PROGRAM + K(8)], edx
    mov     dword ptr [rsp + PROGRAM + K(9)], edx
    mov     dword ptr [rsp + PROGRAM + K(11)], eax

    mov     word ptr [rsp], BPF_COUNT       /* struct sock_fprog at [rsp] */
    lea     rax, [rsp + PROGRAM]
    mov     [rsp + LX_SOCK_FPROG_FILTER], rax

    mov     eax, LX_NR_PRCTL
    mov     edi, LX_PR_SET_NO_NEW_PRIVS
    mov     esi, 1
    xor     edx, edx
    xor     r10d, r10d
    xor     r8d, r8d
    syscall
    test    rax, rax
    jnz     .Ldj_seccomp_install_failed

    mov     eax, LX_NR_SECCOMP
    mov     edi, LX_SECCOMP_SET_MODE_FILTER
    xor     esi, esi
    mov     rdx, rsp
    syscall
    test    rax, rax
    jnz     .Ldj_seccomp_install_failed

    add     rsp, FRAME
    ret

.Ldj_seccomp_install_failed:
    mov     edi, DJ_SHIM_EXIT_SECCOMP_FAILED
    lea     rsi, [rip + .Lmsg_seccomp]
    call    dj_fatal
END(dj_seccomp_install)

    .section .rodata
.Lmsg_seccomp:
    .asciz  "could not install the seccomp filter (prctl(PR_SET_NO_NEW_PRIVS) or seccomp(SECCOMP_SET_MODE_FILTER) failed)"
    .if (.Lbpf_template_end - .Lbpf_template) != BPF_BYTES
    .error "seccomp: BPF_COUNT does not match the template"
    .endif
