/* POSIX timers as signals: a periodic CLOCK_MONOTONIC timer with SIGEV_SIGNAL ringing three times into sigsuspend,
   timer_gettime while armed and once disarmed, an absolute CLOCK_REALTIME timer with the default SIGALRM waking pause,
   SIGEV_NONE, timer_getoverrun, timer_delete, and the errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, alrm;
static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_alrm(int sig) { (void)sig; alrm++; }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    timer_t periodic;
    printf("timer_create monotonic: %d\n", timer_create(CLOCK_MONOTONIC, &ev, &periodic));
    sigset_t blocked, empty;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    struct itimerspec every = { { 0, 50 * 1000 * 1000 }, { 0, 50 * 1000 * 1000 } }, now, off = { { 0, 0 }, { 0, 0 } };
    printf("timer_settime: %d\n", timer_settime(periodic, 0, &every, NULL));
    while (usr1 < 3)
        sigsuspend(&empty);
    timer_gettime(periodic, &now);
    printf("rang %d times; interval %ld.%09ld, value positive and at most the interval: %d\n", usr1, (long)now.it_interval.tv_sec,
           now.it_interval.tv_nsec, (now.it_value.tv_sec > 0 || now.it_value.tv_nsec > 0) && now.it_value.tv_sec == 0 && now.it_value.tv_nsec <= 50000000);
    printf("overrun not negative: %d\n", timer_getoverrun(periodic) >= 0);
    struct itimerspec old;
    timer_settime(periodic, 0, &off, &old);
    timer_gettime(periodic, &now);
    printf("disarmed: %ld.%09ld, old interval %ld.%09ld\n", (long)now.it_value.tv_sec, now.it_value.tv_nsec, (long)old.it_interval.tv_sec,
           old.it_interval.tv_nsec);
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
    printf("timer_delete: %d\n", timer_delete(periodic));
    errno = 0;
    int r = timer_settime(periodic, 0, &every, NULL);
    printf("timer_settime of a deleted timer: %d %s\n", r, strerror(errno));

    timer_t absolute;
    printf("timer_create realtime, default event: %d\n", timer_create(CLOCK_REALTIME, NULL, &absolute));
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 100 * 1000 * 1000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    struct itimerspec at = { { 0, 0 }, t };
    printf("timer_settime TIMER_ABSTIME: %d\n", timer_settime(absolute, TIMER_ABSTIME, &at, NULL));
    while (!alrm)
        pause();
    timer_gettime(absolute, &now);
    printf("SIGALRM rang %d; one-shot now disarmed: %ld.%09ld\n", alrm, (long)now.it_value.tv_sec, now.it_value.tv_nsec);
    timer_delete(absolute);

    ev.sigev_notify = SIGEV_NONE;
    timer_t quiet;
    printf("timer_create SIGEV_NONE: %d\n", timer_create(CLOCK_MONOTONIC, &ev, &quiet));
    struct itimerspec ten = { { 0, 0 }, { 10, 0 } };
    timer_settime(quiet, 0, &ten, NULL);
    timer_gettime(quiet, &now);
    printf("SIGEV_NONE armed for 10 s, between 5 and 10 s left: %d\n", now.it_value.tv_sec >= 5 && now.it_value.tv_sec < 10);
    timer_delete(quiet);

    errno = 0;
    timer_t bad;
    r = timer_create(99, NULL, &bad);
    printf("timer_create of clock 99: %d %s\n", r, strerror(errno));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 0;
    errno = 0;
    r = timer_create(CLOCK_MONOTONIC, &ev, &bad);
    printf("timer_create of signal 0: %d %s\n", r, strerror(errno));
    timer_create(CLOCK_MONOTONIC, NULL, &bad);
    struct itimerspec wrong = { { 0, 0 }, { 0, 1000000000 } };
    errno = 0;
    r = timer_settime(bad, 0, &wrong, NULL);
    printf("timer_settime of 1e9 ns: %d %s\n", r, strerror(errno));
    timer_delete(bad);
    return 0;
}
