/* Threads that wait in different ways: a thread that spins without a system call must not keep another from
   running (on one vCPU that needs preemption); a timed condition wait ends early when signalled and runs out
   otherwise; a signal sent to one thread with tgkill reaches its handler. A keep-suite program. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int ready;
static volatile sig_atomic_t got;

static void on_usr1(int sig) { got = sig; }

static void *spin(void *arg)
{
    (void)arg;
    while (!stop)
        ;
    return NULL;
}

static void *signal_later(void *arg)
{
    (void)arg;
    usleep(30000);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_signal(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *wait_for_signal(void *arg)
{
    (void)arg;
    while (!got)
        usleep(1000);
    return NULL;
}

static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static struct timespec realtime_in(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

int main(void)
{
    pthread_t spinner, signaller, target;
    struct timespec start;

    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_create(&spinner, NULL, spin, NULL);
    usleep(100000);
    stop = 1;
    pthread_join(spinner, NULL);
    printf("main slept beside a spinning thread: %s\n", ms_since(&start) >= 100 ? "yes" : "no");

    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_create(&signaller, NULL, signal_later, NULL);
    struct timespec deadline = realtime_in(10000);
    int r = 0;
    pthread_mutex_lock(&lock);
    while (!ready && r == 0)
        r = pthread_cond_timedwait(&changed, &lock, &deadline);
    pthread_mutex_unlock(&lock);
    printf("timed wait signalled: %d, well before its 10 s deadline: %s\n", r, ms_since(&start) < 5000 ? "yes" : "no");
    pthread_join(signaller, NULL);

    clock_gettime(CLOCK_MONOTONIC, &start);
    deadline = realtime_in(50);
    pthread_mutex_lock(&lock);
    r = pthread_cond_timedwait(&changed, &lock, &deadline);
    pthread_mutex_unlock(&lock);
    printf("timed wait ran out: %s, after at least 45 ms: %s\n", r == ETIMEDOUT ? "yes" : "no", ms_since(&start) >= 45 ? "yes" : "no");

    signal(SIGUSR1, on_usr1);
    pthread_create(&target, NULL, wait_for_signal, NULL);
    usleep(10000);
    pthread_kill(target, SIGUSR1);
    pthread_join(target, NULL);
    printf("pthread_kill reached the handler: signal %d\n", (int)got);
    return 0;
}
