/* pthread_once, a semaphore with a timed wait that runs out, and a mutex/condition pair, in a program with one
   thread: what glibc and musl build on futex. A keep-suite program. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

static int initialised;
static void init(void) { initialised++; }

int main(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init);
    pthread_once(&once, init);
    printf("pthread_once ran init %d time(s)\n", initialised);

    sem_t sem;
    sem_init(&sem, 0, 1);
    printf("sem_trywait: %d\n", sem_trywait(&sem));
    struct timespec start, deadline, end;
    clock_gettime(CLOCK_REALTIME, &start);
    deadline = start;
    deadline.tv_nsec += 50 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int r = sem_timedwait(&sem, &deadline);
    int error = errno;
    clock_gettime(CLOCK_REALTIME, &end);
    long waited_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    printf("sem_timedwait: %d, ETIMEDOUT: %d, waited at least 45 ms: %d\n", r, error == ETIMEDOUT, waited_ms >= 45);

    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&mutex);
    pthread_cond_signal(&cond);
    pthread_cond_broadcast(&cond);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 20 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    r = pthread_cond_timedwait(&cond, &mutex, &deadline);
    printf("pthread_cond_timedwait: ETIMEDOUT %d\n", r == ETIMEDOUT);
    pthread_mutex_unlock(&mutex);
    printf("sched_yield: %d\n", sched_yield());
    return 0;
}
