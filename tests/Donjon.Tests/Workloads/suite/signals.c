/* Signals delivered to the workload's own handlers, with Linux's semantics: a keep-suite program (its output
   and status must equal the native run's). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf recover;
static volatile sig_atomic_t seen_signal, seen_code, seen_count;
static void *volatile seen_address;
static void *volatile handler_stack;

static void on_fault(int sig, siginfo_t *info, void *context)
{
    (void)context;
    seen_signal = sig;
    seen_code = info->si_code;
    seen_address = info->si_addr;
    siglongjmp(recover, 1);
}

static void on_user(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    int local;
    seen_signal = sig;
    seen_code = info->si_code;
    seen_count++;
    handler_stack = &local;
    /* The handler's own floating point must not leak into the interrupted code. */
    volatile double clobber = 1e300;
    clobber *= clobber;
    (void)uc;
}

static void plain(int sig) { seen_signal = sig; seen_count++; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);

    /* 1. SIGSEGV from a bad write, recovered with siglongjmp. */
    if (sigsetjmp(recover, 1) == 0) {
        *(volatile int *)16 = 1;
        printf("not reached\n");
    }
    printf("SIGSEGV: signal %d, code %d (SEGV_MAPERR %d), address %p\n", seen_signal, seen_code, SEGV_MAPERR, seen_address);

    /* 2. SIGFPE from an integer division by zero. */
    volatile int zero = 0, num = 7;
    if (sigsetjmp(recover, 1) == 0)
        printf("not reached %d\n", num / zero);
    printf("SIGFPE: signal %d, code %d (FPE_INTDIV %d)\n", seen_signal, seen_code, FPE_INTDIV);

    /* 3. The mask after siglongjmp is the one sigsetjmp saved: SIGSEGV is not blocked. */
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("SIGSEGV blocked after recovery: %d\n", sigismember(&now, SIGSEGV));

    /* 4. raise() with SA_SIGINFO; the interrupted code's floating point survives the handler. */
    sa.sa_sigaction = on_user;
    sigaction(SIGUSR1, &sa, NULL);
    volatile double kept = 2.5;
    raise(SIGUSR1);
    printf("SIGUSR1: signal %d, code %d (SI_TKILL %d), count %d, double %.2f\n", seen_signal, seen_code, SI_TKILL, seen_count, kept * 2);

    /* 5. A blocked signal stays pending, shows in sigpending, and arrives on unblock. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    kill(getpid(), SIGUSR1);
    sigset_t waiting;
    sigpending(&waiting);
    printf("pending while blocked: %d, count %d\n", sigismember(&waiting, SIGUSR1), seen_count);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("after unblock: count %d\n", seen_count);

    /* 6. SA_ONSTACK runs the handler on the alternate stack. */
    static char alternate[65536];
    stack_t ss = { .ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    uintptr_t at = (uintptr_t)handler_stack;
    printf("SIGUSR2 on the alternate stack: %d\n", at >= (uintptr_t)alternate && at < (uintptr_t)alternate + sizeof alternate);

    /* 7. SIG_IGN drops; a default-ignored signal (SIGCHLD, SIGWINCH) does nothing. */
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    raise(SIGWINCH);
    raise(SIGCHLD);
    printf("ignored: count %d\n", seen_count);

    /* 8. SA_RESETHAND: the first SIGHUP is handled, the second takes the default action and ends the program. */
    struct sigaction once;
    memset(&once, 0, sizeof once);
    once.sa_handler = plain;
    once.sa_flags = SA_RESETHAND;
    sigaction(SIGHUP, &once, NULL);
    raise(SIGHUP);
    printf("SIGHUP handled once: signal %d, count %d\n", seen_signal, seen_count);
    raise(SIGHUP);
    printf("not reached: SIGHUP's default action ends the program\n");
    return 0;
}
