/* Threads that block (KeepLifecycleTests): two sleep 30 s, one waits on a condition variable nobody signals, one
   spins; main prints "sleeping" once they all run, then joins them (for ever, until Donjon is killed). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int started;

static void mark(void)
{
    pthread_mutex_lock(&lock);
    started++;
    pthread_mutex_unlock(&lock);
}

static void *sleeper(void *arg)
{
    (void)arg;
    mark();
    struct timespec t = { 30, 0 };
    nanosleep(&t, NULL);
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    started++;
    pthread_cond_wait(&never, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    mark();
    for (volatile unsigned long i = 0;; i++) {
    }
    return NULL;
}

int main(void)
{
    pthread_t t[4];
    pthread_create(&t[0], NULL, sleeper, NULL);
    pthread_create(&t[1], NULL, sleeper, NULL);
    pthread_create(&t[2], NULL, waiter, NULL);
    pthread_create(&t[3], NULL, spinner, NULL);
    for (;;) {
        pthread_mutex_lock(&lock);
        int n = started;
        pthread_mutex_unlock(&lock);
        if (n == 4)
            break;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    printf("sleeping\n");
    fflush(stdout);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    return 0;
}
