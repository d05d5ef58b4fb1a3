/* Reads the monotonic clock around a 50 ms nanosleep and checks that time moved forward by at least that much. */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec before, after, res;
    if (clock_gettime(CLOCK_MONOTONIC, &before) != 0 || clock_getres(CLOCK_MONOTONIC, &res) != 0)
        return 1;
    struct timespec nap = {0, 50 * 1000 * 1000};
    if (nanosleep(&nap, NULL) != 0)
        return 2;
    if (clock_gettime(CLOCK_MONOTONIC, &after) != 0)
        return 3;
    long long elapsed = (after.tv_sec - before.tv_sec) * 1000000000LL + (after.tv_nsec - before.tv_nsec);
    printf("slept at least 50 ms: %s\n", elapsed >= 50000000LL ? "yes" : "no");
    printf("resolution positive: %s\n", (res.tv_sec > 0 || res.tv_nsec > 0) ? "yes" : "no");
    time_t now = time(NULL);
    printf("time after 2020: %s\n", now > 1577836800 ? "yes" : "no");
    return 0;
}
