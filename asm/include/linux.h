/*
 * asm/include/linux.h -- the x86-64 Linux kernel ABI the shims use: syscall numbers, flag values, errno
 * values and the byte offsets of kernel structures (signal frames, siginfo, seccomp data, ...).
 *
 * Usable from C and from GNU as (plain integer literals only). Every constant is prefixed LX_ so it can never
 * clash with a libc or kernel header. asm/tests/offsets_check.c compiles against the system's kernel and libc
 * headers and asserts that each value below equals the header's constant, offsetof() or sizeof(); the build
 * runs it and fails on a mismatch. Add a check there for every constant you add here.
 */
#ifndef DJ_LINUX_H
#define DJ_LINUX_H

/* ---- syscall numbers (asm/unistd_64.h) ---- */
#define LX_NR_READ              0
#define LX_NR_WRITE             1
#define LX_NR_CLOSE             3
#define LX_NR_FSTAT             5
#define LX_NR_MMAP              9
#define LX_NR_MPROTECT          10
#define LX_NR_PREAD64           17
#define LX_NR_MUNMAP            11
#define LX_NR_BRK               12
#define LX_NR_RT_SIGACTION      13
#define LX_NR_RT_SIGPROCMASK    14
#define LX_NR_RT_SIGRETURN      15
#define LX_NR_WRITEV            20
#define LX_NR_MREMAP            25
#define LX_NR_MADVISE           28
#define LX_NR_GETPID            39
#define LX_NR_EXIT              60
#define LX_NR_FCNTL             72
#define LX_NR_GETPPID           110
#define LX_NR_SIGALTSTACK       131
#define LX_NR_PRCTL             157
#define LX_NR_ARCH_PRCTL        158
#define LX_NR_GETTID            186
#define LX_NR_KILL              62
#define LX_NR_PAUSE             34
#define LX_NR_RT_SIGTIMEDWAIT   128
#define LX_NR_RT_SIGSUSPEND     130
#define LX_NR_SCHED_YIELD       24
#define LX_NR_CLOCK_NANOSLEEP   230
#define LX_NR_TKILL             200
#define LX_NR_RT_SIGPENDING     127
#define LX_NR_PWRITE64          18
#define LX_NR_SENDTO            44
#define LX_NR_SENDMSG           46
#define LX_NR_PWRITEV           296
#define LX_NR_SENDMMSG          307
#define LX_NR_PWRITEV2          328
#define LX_NR_TGKILL            234
#define LX_NR_OPENAT            257
#define LX_NR_PRLIMIT64         302
#define LX_NR_URETPROBE         335         /* Linux 6.11+; honoured only from the kernel's uprobe trampoline */
#define LX_NR_UPROBE            336         /* Linux 6.16+; likewise */
#define LX_NR_FUTEX             202
#define LX_NR_SET_TID_ADDRESS   218
#define LX_NR_EXIT_GROUP        231
#define LX_NR_SET_ROBUST_LIST   273
#define LX_NR_SECCOMP           317
#define LX_NR_RSEQ              334
#define LX_NR_CLONE             56
#define LX_NR_FORK              57
#define LX_NR_VFORK             58
#define LX_NR_CLONE3            435
#define LX_NR_SCHED_GETAFFINITY 204

/* clone flags (linux/sched.h) */
#define LX_CSIGNAL              0x000000FF
#define LX_CLONE_VM             0x00000100
#define LX_CLONE_FS             0x00000200
#define LX_CLONE_FILES          0x00000400
#define LX_CLONE_SIGHAND        0x00000800
#define LX_CLONE_VFORK          0x00004000
#define LX_CLONE_THREAD         0x00010000
#define LX_CLONE_SYSVSEM        0x00040000
#define LX_CLONE_SETTLS         0x00080000
#define LX_CLONE_PARENT_SETTID  0x00100000
#define LX_CLONE_CHILD_CLEARTID 0x00200000
#define LX_CLONE_DETACHED       0x00400000
#define LX_CLONE_CHILD_SETTID   0x01000000
#define LX_CLONE_ARGS_SIZE_VER0 64          /* struct clone_args up to tls */
/* struct clone_args */
#define LX_CLONE_ARGS_FLAGS       0
#define LX_CLONE_ARGS_PIDFD       8
#define LX_CLONE_ARGS_CHILD_TID   16
#define LX_CLONE_ARGS_PARENT_TID  24
#define LX_CLONE_ARGS_EXIT_SIGNAL 32
#define LX_CLONE_ARGS_STACK       40
#define LX_CLONE_ARGS_STACK_SIZE  48
#define LX_CLONE_ARGS_TLS         56
#define LX_NR_CLOSE_RANGE       436
#define LX_X32_SYSCALL_BIT      0x40000000  /* __X32_SYSCALL_BIT: set in x32 syscall numbers */

/* ---- errno ---- */
#define LX_EPERM                1
#define LX_ESRCH                3
#define LX_EINTR                4
#define LX_EIO                  5
#define LX_EBADF                9
#define LX_EISDIR               21
#define LX_ESPIPE               29
#define LX_EOVERFLOW            75
#define LX_EPIPE                32
#define LX_ETIMEDOUT            110
#define LX_E2BIG                7
#define LX_ERESTARTSYS          512     /* kernel-internal: the host interrupted a restartable call (never seen by the workload) */
#define LX_EAGAIN               11
#define LX_ENOMEM               12
#define LX_EACCES               13
#define LX_EFAULT               14
#define LX_EEXIST               17
#define LX_ENODEV               19
#define LX_EINVAL               22
#define LX_ENAMETOOLONG         36
#define LX_ENOSYS               38
#define LX_EMSGSIZE             90
#define LX_ENOBUFS              105
#define LX_MAX_ERRNO            4095        /* results in [-4095, -1] are errors */

/* ---- prctl, arch_prctl, fcntl, close_range, futex ---- */
#define LX_PR_SET_PDEATHSIG     1
#define LX_PR_SET_NO_NEW_PRIVS  38
#define LX_ARCH_SET_FS          0x1002
#define LX_ARCH_GET_FS          0x1003
#define LX_F_GET_SEALS          1034
#define LX_F_SEAL_WRITE         0x0008
#define LX_FUTEX_WAIT           0           /* not the _PRIVATE variant: the block is shared with another process */
#define LX_FUTEX_WAKE           1
#define LX_FUTEX_REQUEUE        3
#define LX_FUTEX_CMP_REQUEUE    4
#define LX_FUTEX_WAKE_OP        5
#define LX_FUTEX_WAIT_BITSET    9
#define LX_FUTEX_WAKE_BITSET    10
#define LX_FUTEX_PRIVATE_FLAG   128
#define LX_FUTEX_CLOCK_REALTIME 256
#define LX_FUTEX_CMD_MASK       0x7F        /* ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME), within the low byte */
#define LX_CLOCK_REALTIME       0
#define LX_CLOCK_MONOTONIC      1
#define LX_TIMER_ABSTIME        1
#define LX_RLIMIT_CORE          4
#define LX_AT_FDCWD             (-100)
#define LX_O_RDONLY             0
#define LX_O_CLOEXEC            0x80000
#define LX_MADV_HWPOISON        100         /* this and every advice above it inject memory errors (CAP_SYS_ADMIN) */
#define LX_MADV_SOFT_OFFLINE    101
#define LX_SIG_DFL              0

/* ---- struct stat (asm/stat.h, x86-64) ---- */
#define LX_STAT_SIZE            144
#define LX_STAT_MODE            24          /* u32 st_mode */
#define LX_STAT_SIZE_FIELD      48          /* i64 st_size */
#define LX_S_IFMT               0xF000
#define LX_S_IFREG              0x8000

/* ---- mmap and friends (asm-generic/mman-common.h, asm/mman.h) ---- */
#define LX_PAGE_SIZE            4096
#define LX_PROT_READ            0x1
#define LX_PROT_WRITE           0x2
#define LX_PROT_EXEC            0x4
#define LX_MAP_SHARED           0x01
#define LX_MAP_PRIVATE          0x02
#define LX_MAP_SHARED_VALIDATE  0x03
#define LX_MAP_TYPE             0x0f
#define LX_MAP_FIXED            0x10
#define LX_MAP_ANONYMOUS        0x20
#define LX_MAP_32BIT            0x40
#define LX_MAP_GROWSDOWN        0x0100
#define LX_MAP_DENYWRITE        0x0800
#define LX_MAP_EXECUTABLE       0x1000
#define LX_MAP_LOCKED           0x2000
#define LX_MAP_NORESERVE        0x4000
#define LX_MAP_POPULATE         0x8000
#define LX_MAP_NONBLOCK         0x10000
#define LX_MAP_STACK            0x20000
#define LX_MAP_HUGETLB          0x40000
#define LX_MAP_FIXED_NOREPLACE  0x100000
#define LX_MREMAP_MAYMOVE       1
#define LX_MREMAP_FIXED         2
#define LX_MREMAP_DONTUNMAP     4

/* ---- signals (asm/signal.h, asm-generic/siginfo.h) ---- */
#define LX_SIGILL               4
#define LX_SIGTRAP              5
#define LX_SIGBUS               7
#define LX_SIGFPE               8
#define LX_SIGKILL              9
#define LX_SIGSEGV              11
#define LX_SIGSTOP              19
#define LX_SIGSYS               31
#define LX_SIGHUP               1
#define LX_SIGINT               2
#define LX_SIGQUIT              3
#define LX_SIGABRT              6
#define LX_SIGUSR1              10
#define LX_SIGUSR2              12
#define LX_SIGPIPE              13
#define LX_SIGALRM              14
#define LX_SIGTERM              15
#define LX_SIGSTKFLT            16
#define LX_SIGCHLD              17
#define LX_SIGCONT              18
#define LX_SIGTSTP              20
#define LX_SIGTTIN              21
#define LX_SIGTTOU              22
#define LX_SIGURG               23
#define LX_SIGXCPU              24
#define LX_SIGXFSZ              25
#define LX_SIGVTALRM            26
#define LX_SIGPROF              27
#define LX_SIGWINCH             28
#define LX_SIGIO                29
#define LX_SIGPWR               30
#define LX_SIG_IGN              1
#define LX_SA_RESETHAND         0x80000000
#define LX_SA_RESTART           0x10000000
#define LX_SI_USER              0
#define LX_SI_KERNEL            0x80
#define LX_SI_TKILL             (-6)
#define LX_MSG_NOSIGNAL         0x4000
/* struct msghdr on x86-64 (56 bytes; struct mmsghdr adds u32 msg_len at 56, 64 bytes). */
#define LX_MSGHDR_NAME          0
#define LX_MSGHDR_NAMELEN       8
#define LX_MSGHDR_IOV           16
#define LX_MSGHDR_IOVLEN        24
#define LX_MSGHDR_CONTROL       32
#define LX_MSGHDR_CONTROLLEN    40
#define LX_MSGHDR_FLAGS         48
#define LX_NSIG                 64          /* _NSIG: signals are 1..64 */
#define LX_SIGSET_SIZE          8           /* the kernel's sigset_t, the only sigsetsize it accepts */
#define LX_SIG_BLOCK            0
#define LX_SIG_UNBLOCK          1
#define LX_SIG_SETMASK          2
#define LX_SA_SIGINFO           0x00000004
#define LX_SA_ONSTACK           0x08000000
#define LX_SA_RESTORER          0x04000000
#define LX_SA_NODEFER           0x40000000
#define LX_SS_ONSTACK           1
#define LX_SS_DISABLE           2
#define LX_SS_AUTODISARM        0x80000000
#define LX_MINSIGSTKSZ          2048
#define LX_SYS_SECCOMP          1           /* si_code of a SIGSYS raised by SECCOMP_RET_TRAP */

/* struct sigaction as the kernel takes it (asm/signal.h without __KERNEL__): 32 bytes */
#define LX_SIGACTION_SIZE       32
#define LX_SA_HANDLER           0
#define LX_SA_FLAGS             8
#define LX_SA_RESTORER_FIELD    16
#define LX_SA_MASK              24

/* stack_t: 24 bytes */
#define LX_STACK_SIZE           24
#define LX_SS_SP                0
#define LX_SS_FLAGS             8
#define LX_SS_SIZE              16

/* siginfo_t: 128 bytes */
#define LX_SIGINFO_SIZE         128
#define LX_SI_SIGNO             0
#define LX_SI_CODE              8
#define LX_SI_ADDR              16          /* SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP: the faulting address */
#define LX_SI_PID               16          /* kill, tkill, tgkill: i32 the sender's pid */
#define LX_SI_UID               20          /* and u32 its uid */
#define LX_SI_CALL_ADDR         16          /* SIGSYS: the address after the syscall instruction */
#define LX_SI_SYSCALL           24          /* SIGSYS: i32 syscall number */
#define LX_SI_ARCH              28          /* SIGSYS: u32 AUDIT_ARCH_* */

/* The signal frame Linux builds on x86-64 (arch/x86/include/asm/sigframe.h, struct rt_sigframe): the return
   address (sa_restorer), then struct ucontext, then siginfo; the FPU state lies above, 64-byte aligned. */
#define LX_RT_SIGFRAME_UCONTEXT     8
#define LX_RT_SIGFRAME_SIGINFO      312
#define LX_RT_SIGFRAME_SIZE         440
#define LX_UCONTEXT_SIZE            304
#define LX_UC_FLAGS                 0
#define LX_UC_LINK                  8
#define LX_UC_STACK                 16
#define LX_UC_SIGMASK               296
#define LX_UC_CSGSFSSS              184     /* u16 cs, gs, fs, ss */
#define LX_UC_OLDMASK               208
#define LX_UC_FPSTATE               224
#define LX_UC_FP_XSTATE             1       /* uc_flags: the FPU state has the xsave extension */
#define LX_UC_SIGCONTEXT_SS         2
#define LX_UC_STRICT_RESTORE_SS     4
#define LX_USER_CS                  0x33    /* __USER_CS */
#define LX_USER_DS                  0x2b    /* __USER_DS */
#define LX_FXSAVE_SIZE              512     /* the legacy region of the FPU state */
#define LX_FX_MXCSR                 24
#define LX_FX_MXCSR_MASK            28
#define LX_FX_SW_RESERVED           464     /* struct _fpx_sw_bytes */
#define LX_FP_XSTATE_MAGIC1         0x46505853
#define LX_FP_XSTATE_MAGIC2         0x46505845
#define LX_FP_XSTATE_MAGIC2_SIZE    4
#define LX_EFLAGS_USER_CHANGEABLE   0x50DD5 /* FIX_EFLAGS: AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF */
#define LX_EFLAGS_TF                0x100
#define LX_EFLAGS_DF                0x400
#define LX_EFLAGS_RF                0x10000

/* struct ucontext (asm/ucontext.h) with its struct sigcontext (asm/sigcontext.h) at LX_UC_MCONTEXT */
#define LX_UC_MCONTEXT          40
#define LX_UC_R8                40
#define LX_UC_R9                48
#define LX_UC_R10               56
#define LX_UC_R11               64
#define LX_UC_R12               72
#define LX_UC_R13               80
#define LX_UC_R14               88
#define LX_UC_R15               96
#define LX_UC_RDI               104
#define LX_UC_RSI               112
#define LX_UC_RBP               120
#define LX_UC_RBX               128
#define LX_UC_RDX               136
#define LX_UC_RAX               144
#define LX_UC_RCX               152
#define LX_UC_RSP               160
#define LX_UC_RIP               168
#define LX_UC_EFLAGS            176
#define LX_UC_ERR               192
#define LX_UC_TRAPNO            200
#define LX_UC_CR2               216

/* ---- seccomp and classic BPF (linux/seccomp.h, linux/filter.h, linux/audit.h) ---- */
#define LX_SECCOMP_SET_MODE_FILTER  1
#define LX_SECCOMP_RET_KILL_PROCESS 0x80000000
#define LX_SECCOMP_RET_TRAP         0x00030000
#define LX_SECCOMP_RET_ALLOW        0x7fff0000
#define LX_AUDIT_ARCH_X86_64        0xC000003E
#define LX_SECCOMP_DATA_NR          0
#define LX_SECCOMP_DATA_ARCH        4
#define LX_SECCOMP_DATA_IP_LO       8       /* instruction_pointer, low 32 bits (little-endian) */
#define LX_SECCOMP_DATA_IP_HI       12      /* instruction_pointer, high 32 bits */
#define LX_SECCOMP_DATA_ARGS        16      /* u64 args[6]: argument i's low half at 16 + 8i, its high half at 20 + 8i */
#define LX_BPF_LD_W_ABS             0x20    /* BPF_LD | BPF_W | BPF_ABS */
#define LX_BPF_JEQ_K                0x15    /* BPF_JMP | BPF_JEQ | BPF_K */
#define LX_BPF_JGT_K                0x25    /* BPF_JMP | BPF_JGT | BPF_K */
#define LX_BPF_JGE_K                0x35    /* BPF_JMP | BPF_JGE | BPF_K */
#define LX_BPF_RET_K                0x06    /* BPF_RET | BPF_K */
#define LX_BPF_JSET_K               0x45    /* BPF_JMP | BPF_JSET | BPF_K */
#define LX_BPF_ALU_AND_K            0x54    /* BPF_ALU | BPF_AND | BPF_K */
#define LX_SOCK_FILTER_SIZE         8       /* {u16 code, u8 jt, u8 jf, u32 k} */
#define LX_SOCK_FPROG_SIZE          16      /* {u16 len, pad, struct sock_filter *filter} */
#define LX_SOCK_FPROG_FILTER        8

/* ---- misc structures ---- */
#define LX_IOVEC_SIZE               16      /* {void *iov_base, size_t iov_len} */
#define LX_ROBUST_LIST_HEAD_SIZE    24
#define LX_TASK_SIZE                0x7FFFFFFFF000  /* the end of the 47-bit user address space */

#endif /* DJ_LINUX_H */
