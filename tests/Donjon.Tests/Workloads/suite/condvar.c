/* A bounded queue between two producers and two consumers, on one mutex and two condition variables: every
   item is consumed once, and the sums match. */
#include <pthread.h>
#include <stdio.h>

#define ITEMS 20000
#define CAPACITY 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static long queue[CAPACITY];
static int head, count, producers_left = 2;
static long consumed_sum, consumed_count;

static void *produce(void *arg)
{
    long base = (long)arg;
    for (long i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (count == CAPACITY)
            pthread_cond_wait(&not_full, &lock);
        queue[(head + count++) % CAPACITY] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consume(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (count == 0 && producers_left > 0)
            pthread_cond_wait(&not_empty, &lock);
        if (count == 0) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        long item = queue[head];
        head = (head + 1) % CAPACITY;
        count--;
        consumed_sum += item;
        consumed_count++;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
    }
}

int main(void)
{
    pthread_t p[2], c[2];
    pthread_create(&c[0], NULL, consume, NULL);
    pthread_create(&c[1], NULL, consume, NULL);
    pthread_create(&p[0], NULL, produce, (void *)0L);
    pthread_create(&p[1], NULL, produce, (void *)1000000L);
    for (int i = 0; i < 2; i++) {
        pthread_join(p[i], NULL);
        pthread_join(c[i], NULL);
    }
    long expected = 2L * ITEMS * (ITEMS + 1) / 2 + 1000000L * ITEMS;
    printf("consumed %ld items, sum %ld, expected %ld\n", consumed_count, consumed_sum, expected);
    return consumed_count == 2 * ITEMS && consumed_sum == expected ? 0 : 1;
}
