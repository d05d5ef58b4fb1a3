/* Waiting for signals the program sends itself: sigsuspend, sigwait, sigtimedwait. A keep-suite program. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { handled = sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, on_usr1);
    sigset_t usr1, usr2, none, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigemptyset(&none);

    sigprocmask(SIG_BLOCK, &usr1, NULL);
    raise(SIGUSR1);
    int r = sigsuspend(&none);
    int error = errno;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend: %d, EINTR %d, handled %d, SIGUSR1 blocked again %d\n", r, error == EINTR, handled, sigismember(&now, SIGUSR1));

    sigprocmask(SIG_BLOCK, &usr2, NULL);
    raise(SIGUSR2);
    siginfo_t info;
    struct timespec zero = { 0, 0 };
    r = sigtimedwait(&usr2, &info, &zero);
    printf("sigtimedwait: %d, si_signo %d, si_code %d\n", r, info.si_signo, info.si_code);

    raise(SIGUSR2);
    int sig = 0;
    r = sigwait(&usr2, &sig);
    printf("sigwait: %d, signal %d\n", r, sig);

    struct timespec start, end, wait = { 0, 30 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    r = sigtimedwait(&usr2, &info, &wait);
    error = errno;
    clock_gettime(CLOCK_MONOTONIC, &end);
    long ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    printf("sigtimedwait with nothing pending: %d, EAGAIN %d, waited at least 25 ms %d\n", r, error == EAGAIN, ms >= 25);
    return 0;
}
