/* Threads: N workers (argv[1], default 8) each add to a mutex-guarded counter and to their own thread-local
   counter; main joins them all and checks both, and that every thread had its own id. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread long mine;
static __thread long initialised = 42;
static pid_t ids[128];

static void *work(void *arg)
{
    long index = (long)arg;
    if (initialised != 42)
        return (void *)-1;
    for (int i = 0; i < ROUNDS; i++) {
        mine++;
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    ids[index] = (pid_t)syscall(SYS_gettid);
    return (void *)mine;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    if (n < 1 || n > 128)
        return 2;
    pthread_t threads[128];
    for (long i = 0; i < n; i++)
        if (pthread_create(&threads[i], NULL, work, (void *)i) != 0) {
            printf("pthread_create failed at %ld\n", i);
            return 1;
        }
    long tls_total = 0;
    for (int i = 0; i < n; i++) {
        void *result;
        pthread_join(threads[i], &result);
        tls_total += (long)result;
    }
    int distinct = 1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (ids[i] == ids[j] || ids[i] == getpid())
                distinct = 0;
    printf("%d threads: counter %ld, thread-local total %ld, distinct thread ids: %s\n", n, counter, tls_total,
           distinct ? "yes" : "no");
    return counter == (long)n * ROUNDS && tls_total == (long)n * ROUNDS && distinct ? 0 : 1;
}
