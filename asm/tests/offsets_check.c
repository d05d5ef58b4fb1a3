/*
 * asm/tests/offsets_check.c -- keeps asm/include/linux.h equal to the system's kernel headers.
 *
 * linux.h hard-codes kernel ABI numbers and structure offsets so that both the shims' C and their assembly can
 * use them without any system header. This program is compiled against the real headers (the uapi ones from
 * linux-libc-dev, which are what the kernel ABI is; glibc's <signal.h> is deliberately not included because
 * its struct sigaction and sigset_t are libc's, not the kernel's) and checks every value, mostly at compile
 * time. The shim build (asm/process/shim.targets) compiles and runs it and fails if it does not print OK.
 */
#include <stddef.h>
#include <stdio.h>

#include <asm/unistd.h>
#include <asm/signal.h>
#include <linux/signal.h>
#include <asm/siginfo.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/stat.h>
#include <asm/mman.h>
#include <asm/prctl.h>
#include <asm/errno.h>
#include <linux/prctl.h>
#include <linux/fcntl.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <linux/uio.h>
#include <linux/mman.h>
#include <linux/resource.h>
#include <linux/time.h>

#include "../include/linux.h"
#include "../include/protocol.h"
#include "../include/shim.h"

#define SAME(a, b) _Static_assert((unsigned long long)(a) == (unsigned long long)(b), #a " != " #b)

/* syscall numbers */
SAME(LX_NR_READ, __NR_read);
SAME(LX_NR_WRITE, __NR_write);
SAME(LX_NR_CLOSE, __NR_close);
SAME(LX_NR_FSTAT, __NR_fstat);
SAME(LX_NR_MMAP, __NR_mmap);
SAME(LX_NR_MPROTECT, __NR_mprotect);
SAME(LX_NR_MUNMAP, __NR_munmap);
SAME(LX_NR_BRK, __NR_brk);
SAME(LX_NR_RT_SIGACTION, __NR_rt_sigaction);
SAME(LX_NR_RT_SIGPROCMASK, __NR_rt_sigprocmask);
SAME(LX_NR_RT_SIGRETURN, __NR_rt_sigreturn);
SAME(LX_NR_WRITEV, __NR_writev);
SAME(LX_NR_MREMAP, __NR_mremap);
SAME(LX_NR_MADVISE, __NR_madvise);
SAME(LX_NR_GETPID, __NR_getpid);
SAME(LX_NR_EXIT, __NR_exit);
SAME(LX_NR_FCNTL, __NR_fcntl);
SAME(LX_NR_GETPPID, __NR_getppid);
SAME(LX_NR_SIGALTSTACK, __NR_sigaltstack);
SAME(LX_NR_PRCTL, __NR_prctl);
SAME(LX_NR_ARCH_PRCTL, __NR_arch_prctl);
SAME(LX_NR_GETTID, __NR_gettid);
SAME(LX_NR_FUTEX, __NR_futex);
SAME(LX_NR_SET_TID_ADDRESS, __NR_set_tid_address);
SAME(LX_NR_EXIT_GROUP, __NR_exit_group);
SAME(LX_NR_SET_ROBUST_LIST, __NR_set_robust_list);
SAME(LX_NR_SECCOMP, __NR_seccomp);
SAME(LX_NR_RSEQ, __NR_rseq);
SAME(LX_NR_CLOSE_RANGE, __NR_close_range);
SAME(LX_X32_SYSCALL_BIT, __X32_SYSCALL_BIT);

/* errno */
SAME(LX_EPERM, EPERM);
SAME(LX_EAGAIN, EAGAIN);
SAME(LX_ENOMEM, ENOMEM);
SAME(LX_EACCES, EACCES);
SAME(LX_EFAULT, EFAULT);
SAME(LX_EEXIST, EEXIST);
SAME(LX_ENODEV, ENODEV);
SAME(LX_EINVAL, EINVAL);
SAME(LX_ENAMETOOLONG, ENAMETOOLONG);
SAME(LX_ENOSYS, ENOSYS);
SAME(LX_EMSGSIZE, EMSGSIZE);
SAME(LX_ENOBUFS, ENOBUFS);

/* prctl, arch_prctl, fcntl, futex */
SAME(LX_PR_SET_PDEATHSIG, PR_SET_PDEATHSIG);
SAME(LX_PR_SET_NO_NEW_PRIVS, PR_SET_NO_NEW_PRIVS);
SAME(LX_ARCH_SET_FS, ARCH_SET_FS);
SAME(LX_ARCH_GET_FS, ARCH_GET_FS);
SAME(LX_F_GET_SEALS, F_GET_SEALS);
SAME(LX_F_SEAL_WRITE, F_SEAL_WRITE);
SAME(LX_FUTEX_WAIT, FUTEX_WAIT);
SAME(LX_FUTEX_WAKE, FUTEX_WAKE);

/* struct stat */
SAME(LX_STAT_SIZE, sizeof(struct stat));
SAME(LX_STAT_MODE, offsetof(struct stat, st_mode));
SAME(LX_STAT_SIZE_FIELD, offsetof(struct stat, st_size));
SAME(LX_S_IFMT, 0170000);
SAME(LX_S_IFREG, 0100000);

/* mmap */
SAME(LX_PROT_READ, PROT_READ);
SAME(LX_PROT_WRITE, PROT_WRITE);
SAME(LX_PROT_EXEC, PROT_EXEC);
SAME(LX_MAP_SHARED, MAP_SHARED);
SAME(LX_MAP_PRIVATE, MAP_PRIVATE);
SAME(LX_MAP_SHARED_VALIDATE, MAP_SHARED_VALIDATE);
SAME(LX_MAP_TYPE, MAP_TYPE);
SAME(LX_MAP_FIXED, MAP_FIXED);
SAME(LX_MAP_ANONYMOUS, MAP_ANONYMOUS);
SAME(LX_MAP_32BIT, MAP_32BIT);
SAME(LX_MAP_GROWSDOWN, MAP_GROWSDOWN);
SAME(LX_MAP_DENYWRITE, MAP_DENYWRITE);
SAME(LX_MAP_EXECUTABLE, MAP_EXECUTABLE);
SAME(LX_MAP_LOCKED, MAP_LOCKED);
SAME(LX_MAP_NORESERVE, MAP_NORESERVE);
SAME(LX_MAP_POPULATE, MAP_POPULATE);
SAME(LX_MAP_NONBLOCK, MAP_NONBLOCK);
SAME(LX_MAP_STACK, MAP_STACK);
SAME(LX_MAP_HUGETLB, MAP_HUGETLB);
SAME(LX_MAP_FIXED_NOREPLACE, MAP_FIXED_NOREPLACE);
SAME(LX_MREMAP_MAYMOVE, MREMAP_MAYMOVE);
SAME(LX_MREMAP_FIXED, MREMAP_FIXED);
SAME(LX_MREMAP_DONTUNMAP, MREMAP_DONTUNMAP);

/* signals */
SAME(LX_SIGILL, SIGILL);
SAME(LX_SIGTRAP, SIGTRAP);
SAME(LX_SIGBUS, SIGBUS);
SAME(LX_SIGFPE, SIGFPE);
SAME(LX_SIGKILL, SIGKILL);
SAME(LX_SIGSEGV, SIGSEGV);
SAME(LX_SIGSTOP, SIGSTOP);
SAME(LX_SIGSYS, SIGSYS);
SAME(LX_NSIG, 8 * sizeof(sigset_t)); /* _NSIG is kernel-internal on x86; one sigset_t word holds signals 1-64 */
SAME(LX_SIGSET_SIZE, sizeof(sigset_t));
SAME(LX_SIG_BLOCK, SIG_BLOCK);
SAME(LX_SIG_UNBLOCK, SIG_UNBLOCK);
SAME(LX_SIG_SETMASK, SIG_SETMASK);
SAME(LX_SA_SIGINFO, SA_SIGINFO);
SAME(LX_SA_ONSTACK, SA_ONSTACK);
SAME(LX_SA_RESTORER, SA_RESTORER);
SAME(LX_SA_NODEFER, SA_NODEFER);
SAME(LX_SS_ONSTACK, SS_ONSTACK);
SAME(LX_SS_DISABLE, SS_DISABLE);
SAME(LX_SS_AUTODISARM, SS_AUTODISARM);
SAME(LX_MINSIGSTKSZ, MINSIGSTKSZ);
SAME(LX_SYS_SECCOMP, SYS_SECCOMP);

SAME(LX_SIGACTION_SIZE, sizeof(struct sigaction));
SAME(LX_SA_HANDLER, offsetof(struct sigaction, sa_handler));
SAME(LX_SA_FLAGS, offsetof(struct sigaction, sa_flags));
SAME(LX_SA_RESTORER_FIELD, offsetof(struct sigaction, sa_restorer));
SAME(LX_SA_MASK, offsetof(struct sigaction, sa_mask));

SAME(LX_STACK_SIZE, sizeof(stack_t));
SAME(LX_SS_SP, offsetof(stack_t, ss_sp));
SAME(LX_SS_FLAGS, offsetof(stack_t, ss_flags));
SAME(LX_SS_SIZE, offsetof(stack_t, ss_size));

SAME(LX_SIGINFO_SIZE, sizeof(siginfo_t));
SAME(LX_SI_SIGNO, offsetof(siginfo_t, si_signo));
SAME(LX_SI_CODE, offsetof(siginfo_t, si_code));
SAME(LX_SI_ADDR, offsetof(siginfo_t, si_addr));
SAME(LX_SI_CALL_ADDR, offsetof(siginfo_t, si_call_addr));
SAME(LX_SI_PID, offsetof(siginfo_t, si_pid));
SAME(LX_SI_UID, offsetof(siginfo_t, si_uid));
SAME(LX_SI_SYSCALL, offsetof(siginfo_t, si_syscall));
SAME(LX_SI_ARCH, offsetof(siginfo_t, si_arch));

#define UC(field) (offsetof(struct ucontext, uc_mcontext) + offsetof(struct sigcontext, field))
SAME(LX_UC_MCONTEXT, offsetof(struct ucontext, uc_mcontext));
SAME(LX_UC_R8, UC(r8));
SAME(LX_UC_R9, UC(r9));
SAME(LX_UC_R10, UC(r10));
SAME(LX_UC_R11, UC(r11));
SAME(LX_UC_R12, UC(r12));
SAME(LX_UC_R13, UC(r13));
SAME(LX_UC_R14, UC(r14));
SAME(LX_UC_R15, UC(r15));
SAME(LX_UC_RDI, UC(rdi));
SAME(LX_UC_RSI, UC(rsi));
SAME(LX_UC_RBP, UC(rbp));
SAME(LX_UC_RBX, UC(rbx));
SAME(LX_UC_RDX, UC(rdx));
SAME(LX_UC_RAX, UC(rax));
SAME(LX_UC_RCX, UC(rcx));
SAME(LX_UC_RSP, UC(rsp));
SAME(LX_UC_RIP, UC(rip));
SAME(LX_UC_EFLAGS, UC(eflags));
SAME(LX_UC_ERR, UC(err));
SAME(LX_UC_TRAPNO, UC(trapno));
SAME(LX_UC_CR2, UC(cr2));

/* seccomp and BPF */
SAME(LX_SECCOMP_SET_MODE_FILTER, SECCOMP_SET_MODE_FILTER);
SAME(LX_SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_PROCESS);
SAME(LX_SECCOMP_RET_TRAP, SECCOMP_RET_TRAP);
SAME(LX_SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW);
SAME(LX_AUDIT_ARCH_X86_64, AUDIT_ARCH_X86_64);
SAME(LX_SECCOMP_DATA_NR, offsetof(struct seccomp_data, nr));
SAME(LX_SECCOMP_DATA_ARCH, offsetof(struct seccomp_data, arch));
SAME(LX_SECCOMP_DATA_IP_LO, offsetof(struct seccomp_data, instruction_pointer));
SAME(LX_SECCOMP_DATA_IP_HI, offsetof(struct seccomp_data, instruction_pointer) + 4);
SAME(LX_BPF_LD_W_ABS, BPF_LD | BPF_W | BPF_ABS);
SAME(LX_BPF_JEQ_K, BPF_JMP | BPF_JEQ | BPF_K);
SAME(LX_BPF_JGT_K, BPF_JMP | BPF_JGT | BPF_K);
SAME(LX_BPF_JGE_K, BPF_JMP | BPF_JGE | BPF_K);
SAME(LX_BPF_RET_K, BPF_RET | BPF_K);
SAME(LX_BPF_JSET_K, BPF_JMP | BPF_JSET | BPF_K);
SAME(LX_BPF_ALU_AND_K, BPF_ALU | BPF_AND | BPF_K);
SAME(LX_SECCOMP_DATA_ARGS, offsetof(struct seccomp_data, args));
SAME(LX_NR_TGKILL, __NR_tgkill);
SAME(LX_NR_KILL, __NR_kill);
SAME(LX_NR_PAUSE, __NR_pause);
SAME(LX_NR_RT_SIGTIMEDWAIT, __NR_rt_sigtimedwait);
SAME(LX_NR_RT_SIGSUSPEND, __NR_rt_sigsuspend);
SAME(LX_NR_SCHED_YIELD, __NR_sched_yield);
SAME(LX_NR_CLOCK_NANOSLEEP, __NR_clock_nanosleep);
SAME(LX_FUTEX_REQUEUE, FUTEX_REQUEUE);
SAME(LX_FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE);
SAME(LX_FUTEX_WAKE_OP, FUTEX_WAKE_OP);
SAME(LX_FUTEX_WAIT_BITSET, FUTEX_WAIT_BITSET);
SAME(LX_FUTEX_WAKE_BITSET, FUTEX_WAKE_BITSET);
SAME(LX_FUTEX_PRIVATE_FLAG, FUTEX_PRIVATE_FLAG);
SAME(LX_FUTEX_CLOCK_REALTIME, FUTEX_CLOCK_REALTIME);
SAME(LX_FUTEX_CMD_MASK & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME), LX_FUTEX_CMD_MASK);
SAME(LX_CLOCK_REALTIME, CLOCK_REALTIME);
SAME(LX_CLOCK_MONOTONIC, CLOCK_MONOTONIC);
SAME(LX_TIMER_ABSTIME, TIMER_ABSTIME);
SAME(LX_ETIMEDOUT, ETIMEDOUT);
SAME(LX_NR_TKILL, __NR_tkill);
SAME(LX_NR_RT_SIGPENDING, __NR_rt_sigpending);
SAME(LX_NR_PWRITE64, __NR_pwrite64);
SAME(LX_NR_SENDTO, __NR_sendto);
SAME(LX_NR_SENDMSG, __NR_sendmsg);
SAME(LX_NR_PWRITEV, __NR_pwritev);
SAME(LX_NR_SENDMMSG, __NR_sendmmsg);
SAME(LX_NR_PWRITEV2, __NR_pwritev2);
SAME(LX_ESRCH, ESRCH);
SAME(LX_EINTR, EINTR);
SAME(LX_EPIPE, EPIPE);
SAME(LX_SIGHUP, SIGHUP);
SAME(LX_SIGINT, SIGINT);
SAME(LX_SIGQUIT, SIGQUIT);
SAME(LX_SIGABRT, SIGABRT);
SAME(LX_SIGUSR1, SIGUSR1);
SAME(LX_SIGUSR2, SIGUSR2);
SAME(LX_SIGPIPE, SIGPIPE);
SAME(LX_SIGALRM, SIGALRM);
SAME(LX_SIGTERM, SIGTERM);
SAME(LX_SIGSTKFLT, SIGSTKFLT);
SAME(LX_SIGCHLD, SIGCHLD);
SAME(LX_SIGCONT, SIGCONT);
SAME(LX_SIGTSTP, SIGTSTP);
SAME(LX_SIGTTIN, SIGTTIN);
SAME(LX_SIGTTOU, SIGTTOU);
SAME(LX_SIGURG, SIGURG);
SAME(LX_SIGXCPU, SIGXCPU);
SAME(LX_SIGXFSZ, SIGXFSZ);
SAME(LX_SIGVTALRM, SIGVTALRM);
SAME(LX_SIGPROF, SIGPROF);
SAME(LX_SIGWINCH, SIGWINCH);
SAME(LX_SIGIO, SIGIO);
SAME(LX_SIGPWR, SIGPWR);
SAME(LX_SA_RESETHAND, SA_RESETHAND);
SAME(LX_SA_RESTART, SA_RESTART);
SAME(LX_SI_USER, SI_USER);
SAME(LX_SI_KERNEL, SI_KERNEL);
SAME(LX_SI_TKILL, SI_TKILL);
SAME(LX_UCONTEXT_SIZE, sizeof(struct ucontext));
SAME(LX_UC_FLAGS, offsetof(struct ucontext, uc_flags));
SAME(LX_UC_LINK, offsetof(struct ucontext, uc_link));
SAME(LX_UC_STACK, offsetof(struct ucontext, uc_stack));
SAME(LX_UC_SIGMASK, offsetof(struct ucontext, uc_sigmask));
SAME(LX_UC_CSGSFSSS, offsetof(struct ucontext, uc_mcontext.cs));
SAME(LX_UC_OLDMASK, offsetof(struct ucontext, uc_mcontext.oldmask));
SAME(LX_UC_FPSTATE, offsetof(struct ucontext, uc_mcontext.fpstate));
SAME(LX_UC_FP_XSTATE, UC_FP_XSTATE);
SAME(LX_UC_SIGCONTEXT_SS, UC_SIGCONTEXT_SS);
SAME(LX_UC_STRICT_RESTORE_SS, UC_STRICT_RESTORE_SS);
SAME(LX_RT_SIGFRAME_SIZE, 8 + sizeof(struct ucontext) + sizeof(siginfo_t));
SAME(LX_RT_SIGFRAME_SIGINFO, 8 + sizeof(struct ucontext));
SAME(LX_FXSAVE_SIZE, sizeof(struct _fpstate_64));
SAME(LX_FX_MXCSR, offsetof(struct _fpstate_64, mxcsr));
SAME(LX_FX_MXCSR_MASK, offsetof(struct _fpstate_64, mxcsr_mask));
SAME(LX_FX_SW_RESERVED, offsetof(struct _fpstate_64, sw_reserved));
SAME(LX_FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC1);
SAME(LX_FP_XSTATE_MAGIC2, FP_XSTATE_MAGIC2);
SAME(LX_FP_XSTATE_MAGIC2_SIZE, FP_XSTATE_MAGIC2_SIZE);
SAME(LX_NR_OPENAT, __NR_openat);
SAME(LX_NR_PRLIMIT64, __NR_prlimit64);
#ifdef __NR_uretprobe
SAME(LX_NR_URETPROBE, __NR_uretprobe);
#endif
#ifdef __NR_uprobe
SAME(LX_NR_UPROBE, __NR_uprobe);
#endif
SAME(LX_RLIMIT_CORE, RLIMIT_CORE);
SAME(LX_AT_FDCWD, AT_FDCWD);
SAME(LX_O_RDONLY, O_RDONLY);
SAME(LX_O_CLOEXEC, O_CLOEXEC);
SAME(LX_MADV_HWPOISON, MADV_HWPOISON);
SAME(LX_MADV_SOFT_OFFLINE, MADV_SOFT_OFFLINE);
SAME(LX_SOCK_FILTER_SIZE, sizeof(struct sock_filter));
SAME(LX_SOCK_FPROG_SIZE, sizeof(struct sock_fprog));
SAME(LX_SOCK_FPROG_FILTER, offsetof(struct sock_fprog, filter));

/* misc */
SAME(LX_IOVEC_SIZE, sizeof(struct iovec));
SAME(LX_IOVEC_SIZE, DJ_IOVEC_SIZE);
SAME(LX_PAGE_SIZE, DJ_PAGE_SIZE);
SAME(LX_ROBUST_LIST_HEAD_SIZE, 3 * sizeof(void *)); /* struct robust_list_head: {next}, futex_offset, pending */

/* the shims' C view of the protocol structures agrees with protocol.h */
SAME(sizeof(struct dj_config_entry), DJ_CONFIG_ENTRY_SIZE);
SAME(offsetof(struct dj_config_entry, flags), DJ_CONFIG_ENTRY_FLAGS_OFFSET);
SAME(offsetof(struct dj_config_entry, args), DJ_CONFIG_ENTRY_ARGUMENTS_OFFSET);
SAME(offsetof(struct dj_config_entry, first_choice), DJ_CONFIG_ENTRY_FIRST_CHOICE_OFFSET);
SAME(sizeof(struct dj_config_argument), DJ_CONFIG_ARGUMENT_SIZE);
SAME(offsetof(struct dj_config_argument, kind), DJ_CONFIG_ARGUMENT_KIND_OFFSET);
SAME(offsetof(struct dj_config_argument, length_argument), DJ_CONFIG_ARGUMENT_LENGTH_OFFSET);
SAME(offsetof(struct dj_config_argument, fixed_size), DJ_CONFIG_ARGUMENT_FIXED_SIZE_OFFSET);
SAME(offsetof(struct dj_config_entry, reserved2), DJ_CONFIG_ENTRY_RESERVED_OFFSET);

int main(void)
{
    /* Everything above is checked by the compiler; reaching here means the headers agree. */
    puts("offsets_check: OK");
    return 0;
}
