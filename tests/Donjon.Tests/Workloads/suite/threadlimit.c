/* The policy's thread limit: create threads that wait until main releases them, until pthread_create fails; say
   how many and with which error, then release and join them all. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int released;

static void *wait_for_release(void *arg)
{
    pthread_mutex_lock(&lock);
    while (!released)
        pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    return arg;
}

int main(void)
{
    pthread_t threads[64];
    int created = 0, error = 0;
    while (created < 64 && (error = pthread_create(&threads[created], NULL, wait_for_release, NULL)) == 0)
        created++;
    printf("created %d threads, then: %s\n", created, error ? strerror(error) : "no error");
    pthread_mutex_lock(&lock);
    released = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    printf("joined %d\n", created);
    return 0;
}
