/* Timers as signals: alarm + pause, alarm's remaining seconds, a periodic setitimer ringing three times into a
   sigsuspend loop, getitimer of a disarmed timer, and an alarm that interrupts a long nanosleep. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t rings;
static void on_alarm(int sig) { (void)sig; rings++; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);

    alarm(1);
    pause();
    printf("alarm + pause: rang %d time(s)\n", rings);

    alarm(30);
    unsigned left = alarm(0);
    printf("alarm(0) after alarm(30): %u seconds were left\n", left);

    struct itimerval every = { { 0, 50000 }, { 0, 50000 } }, none = { { 0, 0 }, { 0, 0 } }, now;
    rings = 0;
    sigset_t blocked, empty;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGALRM);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    setitimer(ITIMER_REAL, &every, NULL);
    while (rings < 3)
        sigsuspend(&empty);
    setitimer(ITIMER_REAL, &none, NULL);
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
    getitimer(ITIMER_REAL, &now);
    printf("periodic timer: rang %d times, then disarmed: %ld.%06ld\n", rings, (long)now.it_value.tv_sec, (long)now.it_value.tv_usec);

    rings = 0;
    alarm(1);
    struct timespec ten = { 10, 0 }, rem;
    int r = nanosleep(&ten, &rem);
    printf("nanosleep interrupted by the alarm: %d, EINTR %d, rang %d, remaining more than 5 s: %d\n", r, errno == EINTR, rings,
           rem.tv_sec >= 5);
    return 0;
}
