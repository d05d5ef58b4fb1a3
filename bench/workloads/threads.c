/* Thread benchmarks, each printing one number on stdout:
 *   threads pingpong N   ns per round trip of a futex ping-pong between two threads (N round trips)
 *   threads create N     us per pthread_create + pthread_join (N times)
 *   threads cpu T N      ms for N units of pure computation split over T threads (compare T = 1 and 2)
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static _Atomic int turn;
static long rounds;

static void futex_wait(_Atomic int *word, int value) { syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0); }
static void futex_wake(_Atomic int *word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *pong(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        while (atomic_load(&turn) != 1)
            futex_wait(&turn, 0);
        atomic_store(&turn, 0);
        futex_wake(&turn);
    }
    return NULL;
}

static void *nothing(void *arg) { return arg; }

static volatile unsigned long sink;
static long units;
static void *compute(void *arg)
{
    long share = (long)arg;
    unsigned long x = 88172645463325252UL;
    for (long i = 0; i < share * 1000000L; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    sink += x;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[argc - 1]);
    long start = now_ns();
    if (argv[1][0] == 'p') {
        rounds = n;
        pthread_t t;
        pthread_create(&t, NULL, pong, NULL);
        for (long i = 0; i < n; i++) {
            atomic_store(&turn, 1);
            futex_wake(&turn);
            while (atomic_load(&turn) != 0)
                futex_wait(&turn, 1);
        }
        pthread_join(t, NULL);
        printf("%ld\n", (now_ns() - start) / n);
    } else if (argv[1][0] == 'c' && argv[1][1] == 'r') {
        for (long i = 0; i < n; i++) {
            pthread_t t;
            pthread_create(&t, NULL, nothing, NULL);
            pthread_join(t, NULL);
        }
        printf("%ld\n", (now_ns() - start) / n / 1000);
    } else {
        int threads = atoi(argv[2]);
        pthread_t t[16];
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, compute, (void *)(n / threads));
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
        printf("%ld\n", (now_ns() - start) / 1000000);
    }
    return 0;
}
