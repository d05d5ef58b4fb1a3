/*
 * asm/process/entry.S -- the process shim's start-up, and its jump into the workload.
 *
 * Entry points
 *   _start              the kernel's entry into the shim (ELF e_entry)
 *   dj_enter_workload   the last step: the workload's registers, then its entry point
 *
 * Flow (docs/protocol.md §5)
 *   _start
 *     argv == ["donjon-shim", "<host pid>"]           else exit 120
 *     envp: DONJON_PROCESS_PATCH=0 turns syscall-site patching off (patch.c)
 *     rsp := the top of the alternate signal stack's memory (signals.S), unused until the workload runs, so
 *       that the kernel's stack can be unmapped
 *     prctl(PR_SET_PDEATHSIG, SIGKILL), then getppid() == host pid, so the shim never outlives the host:
 *       a host that died before the prctl is caught by the getppid check
 *     fd 3: a regular file (memfd) sealed against writes; mmap it PROT_READ, MAP_PRIVATE   (120 / 123)
 *     fd 4: a regular file (memfd); mmap it PROT_READ|PROT_WRITE, MAP_SHARED              (120 / 123)
 *     close every descriptor from 3 up, so the workload inherits none but 0, 1, 2
 *     real signal mask := empty (whatever the host's spawning thread had blocked, SIGSYS must not be)
 *     dj_process_load (load.c): check block, reserve the thread blocks, check image and configuration; map
 *       the image; unmap the blob; thread 0's record
 *     rsp := the top of thread 0's block (threads.c), where every shim handler of that thread runs
 *     dj_process_isolate (load.c): RLIMIT_CORE 0; unmap the kernel's stack, vDSO and vvar
 *     dj_signals_install (signals.S), dj_patch_init (patch.c: thread 0's GS base), dj_seccomp_install (filter.c)
 *     dj_enter_workload
 *
 * Labels: .L<function>_<what>.
 *
 * Untrusted inputs: argv (from the host), the descriptors' sizes and contents (the host's).
 *
 * Register contract
 *   _start: in: rsp -> argc, argv[], NULL, envp[], NULL, auxv[] (the kernel's initial stack); every other
 *     register is meaningless (rdx, an atexit function for dynamically linked programs, is ignored).
 *     Reads argv on the kernel's stack, then runs on its own; never returns.
 *   dj_enter_workload: in: dj_workload_entry, dj_workload_stack (load.c). Out, at the workload's entry:
 *     rsp = the image's initial stack pointer (-> argc), every other general register 0 (so rdx = 0: no
 *     atexit function), DF clear. The vector state is the kernel's initial one: the shim's C is compiled
 *     with -mgeneral-regs-only and its assembly uses no vector register. Never returns.
 */
#include "asm.h"
#include "linux.h"
#include "shim.h"

#define STAT_BUFFER 0               /* [rsp]: struct stat, for fstat */
#define FRAME_SIZE  (LX_STAT_SIZE + 16)

FUNC(_start)
    xor     ebp, ebp
    mov     r12, rsp                        /* r12 = the kernel's stack */
    and     rsp, -16
    sub     rsp, FRAME_SIZE

    /* argv */
    cmp     qword ptr [r12], 2
    jne     .L_start_bad_arguments
    mov     rdi, [r12 + 16]                 /* argv[1] */
    call    dj_parse_pid
    test    rax, rax
    jle     .L_start_bad_arguments
    mov     r13, rax                        /* r13 = host pid */
    lea     rdi, [r12 + 32]                 /* envp: after argc, argv[0], argv[1], NULL */
    call    dj_patch_configure              /* DONJON_PROCESS_PATCH=0: no syscall-site patching (patch.c) */

    /* Off the kernel's stack, which dj_process_isolate unmaps: argv is not needed any more. */
    lea     rsp, [rip + dj_altstack_end]
    sub     rsp, FRAME_SIZE

    /* parent death */
    mov     eax, LX_NR_PRCTL
    mov     edi, LX_PR_SET_PDEATHSIG
    mov     esi, LX_SIGKILL
    xor     edx, edx
    xor     r10d, r10d
    xor     r8d, r8d
    syscall
    test    rax, rax
    jnz     .L_start_no_parent
    mov     eax, LX_NR_GETPPID
    syscall
    cmp     rax, r13
    jne     .L_start_no_parent

    /* fd 3: the image blob */
    mov     edi, DJ_SHIM_IMAGE_DESCRIPTOR
    lea     rsi, [rsp + STAT_BUFFER]
    call    dj_descriptor_size
    test    rax, rax
    jle     .L_start_bad_image_descriptor
    mov     r14, rax                        /* r14 = blob size */
    mov     eax, LX_NR_FCNTL
    mov     edi, DJ_SHIM_IMAGE_DESCRIPTOR
    mov     esi, LX_F_GET_SEALS
    syscall
    test    rax, rax
    js      .L_start_unsealed
    test    eax, LX_F_SEAL_WRITE
    jz      .L_start_unsealed

    /* fd 4: the shared block */
    mov     edi, DJ_SHIM_BLOCK_DESCRIPTOR
    lea     rsi, [rsp + STAT_BUFFER]
    call    dj_descriptor_size
    test    rax, rax
    jle     .L_start_bad_block_descriptor
    mov     r15, rax                        /* r15 = block size */

    mov     eax, LX_NR_MMAP
    xor     edi, edi
    mov     rsi, r14
    mov     edx, LX_PROT_READ
    mov     r10d, LX_MAP_PRIVATE
    mov     r8d, DJ_SHIM_IMAGE_DESCRIPTOR
    xor     r9d, r9d
    syscall
    cmp     rax, -4095
    jae     .L_start_map_blob_failed
    mov     rbx, rax                        /* rbx = blob */

    mov     eax, LX_NR_MMAP
    xor     edi, edi
    mov     rsi, r15
    mov     edx, LX_PROT_READ | LX_PROT_WRITE
    mov     r10d, LX_MAP_SHARED
    mov     r8d, DJ_SHIM_BLOCK_DESCRIPTOR
    xor     r9d, r9d
    syscall
    cmp     rax, -4095
    jae     .L_start_map_block_failed
    mov     rbp, rax                        /* rbp = block */

    /* Leave the workload no descriptor but 0, 1 and 2: the mappings outlive the descriptors. */
    mov     eax, LX_NR_CLOSE_RANGE
    mov     edi, 3
    mov     esi, -1
    xor     edx, edx
    syscall
    test    rax, rax
    jz      .L_start_closed
    mov     eax, LX_NR_CLOSE                /* close_range is Linux 5.9+: at least the two we know */
    mov     edi, DJ_SHIM_IMAGE_DESCRIPTOR
    syscall
    mov     eax, LX_NR_CLOSE
    mov     edi, DJ_SHIM_BLOCK_DESCRIPTOR
    syscall
.L_start_closed:

    /* The real mask is the shim's: nothing blocked, so SIGSYS and the fault signals always get through. */
    mov     qword ptr [rsp + STAT_BUFFER], 0
    mov     eax, LX_NR_RT_SIGPROCMASK
    mov     edi, LX_SIG_SETMASK
    lea     rsi, [rsp + STAT_BUFFER]
    xor     edx, edx
    mov     r10d, LX_SIGSET_SIZE
    syscall

    mov     rdi, rbx
    mov     rsi, r14
    mov     rdx, rbp
    mov     rcx, r15
    call    dj_process_load
    xor     edi, edi                        /* from here on, thread 0's own stack: shim code finds its thread */
    call    dj_thread_stack_top             /* record from rsp (threads.c) */
    mov     rsp, rax
    call    dj_process_isolate
    call    dj_signals_install
    call    dj_patch_init                   /* thread 0's GS base: its block (patch.c) */
    call    dj_seccomp_install
    call    dj_threads_first_running
#ifdef DJ_HOSTILE
    call    dj_hostile_run                  /* donjon-shim-hostile only: malformed requests, never the workload */
#else
    jmp     dj_enter_workload
#endif

.L_start_bad_arguments:
    mov     edi, DJ_SHIM_EXIT_BAD_ARGUMENTS
    lea     rsi, [rip + .Lmsg_usage]
    call    dj_fatal
.L_start_no_parent:
    mov     edi, DJ_SHIM_EXIT_BAD_ARGUMENTS
    lea     rsi, [rip + .Lmsg_no_parent]
    call    dj_fatal
.L_start_bad_image_descriptor:
    mov     edi, DJ_SHIM_EXIT_BAD_ARGUMENTS
    lea     rsi, [rip + .Lmsg_fd3]
    call    dj_fatal
.L_start_unsealed:
    mov     edi, DJ_SHIM_EXIT_BAD_ARGUMENTS
    lea     rsi, [rip + .Lmsg_unsealed]
    call    dj_fatal
.L_start_bad_block_descriptor:
    mov     edi, DJ_SHIM_EXIT_BAD_ARGUMENTS
    lea     rsi, [rip + .Lmsg_fd4]
    call    dj_fatal
.L_start_map_blob_failed:
    mov     edi, DJ_SHIM_EXIT_MAP_FAILED
    lea     rsi, [rip + .Lmsg_map_blob]
    call    dj_fatal
.L_start_map_block_failed:
    mov     edi, DJ_SHIM_EXIT_MAP_FAILED
    lea     rsi, [rip + .Lmsg_map_block]
    call    dj_fatal
END(_start)

/* dj_parse_pid: rdi = a C string. Out: rax = its value when it is 1-10 decimal digits worth 1..2^31-1,
   else -1. Clobbers rcx, rdx, rdi. */
LOCAL_FUNC(dj_parse_pid)
    xor     eax, eax
    xor     ecx, ecx                        /* digits seen */
.Ldj_parse_pid_digit:
    movzx   edx, byte ptr [rdi + rcx]
    test    edx, edx
    jz      .Ldj_parse_pid_end
    sub     edx, '0'
    cmp     edx, 9
    ja      .Ldj_parse_pid_bad
    cmp     ecx, 10
    jae     .Ldj_parse_pid_bad
    imul    rax, rax, 10
    add     rax, rdx
    inc     ecx
    jmp     .Ldj_parse_pid_digit
.Ldj_parse_pid_end:
    test    ecx, ecx
    jz      .Ldj_parse_pid_bad
    cmp     rax, 0x7FFFFFFF
    ja      .Ldj_parse_pid_bad
    ret
.Ldj_parse_pid_bad:
    mov     rax, -1
    ret
END(dj_parse_pid)

/* dj_descriptor_size: edi = descriptor, rsi = a struct stat buffer. Out: rax = st_size when the descriptor
   is open on a regular file (a memfd is one), else -1. Clobbers rcx, rdx, r11. */
LOCAL_FUNC(dj_descriptor_size)
    mov     eax, LX_NR_FSTAT
    syscall
    test    rax, rax
    jnz     .Ldj_descriptor_size_bad
    mov     eax, dword ptr [rsi + LX_STAT_MODE]
    and     eax, LX_S_IFMT
    cmp     eax, LX_S_IFREG
    jne     .Ldj_descriptor_size_bad
    mov     rax, [rsi + LX_STAT_SIZE_FIELD]
    ret
.Ldj_descriptor_size_bad:
    mov     rax, -1
    ret
END(dj_descriptor_size)

FUNC(dj_enter_workload)
    mov     rsp, [rip + dj_workload_stack]
    xor     eax, eax
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
    cld
    jmp     qword ptr [rip + dj_workload_entry]
END(dj_enter_workload)

    .section .rodata
.Lmsg_usage:
    .asciz  "usage: donjon-shim <host pid>, started by Donjon with the image on fd 3 and the block on fd 4"
.Lmsg_no_parent:
    .asciz  "the parent is not the host pid given in argv[1] (or PR_SET_PDEATHSIG failed)"
.Lmsg_fd3:
    .asciz  "descriptor 3 (the image blob) is not an open, non-empty regular file"
.Lmsg_unsealed:
    .asciz  "descriptor 3 (the image blob) is not sealed against writes (F_SEAL_WRITE)"
.Lmsg_fd4:
    .asciz  "descriptor 4 (the shared block) is not an open, non-empty regular file"
.Lmsg_map_blob:
    .asciz  "could not map the image blob (descriptor 3)"
.Lmsg_map_block:
    .asciz  "could not map the shared block (descriptor 4)"
