/* Copies stdin to stdout in 1 MiB reads and prints the throughput in MB/s on stderr, timed from the first byte
   to end of file, so that start-up is not counted. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char buffer[1 << 20];

int main(void)
{
    struct timespec a, b;
    long long total = 0;
    int started = 0;
    for (;;) {
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n <= 0)
            break;
        if (!started) {
            clock_gettime(CLOCK_MONOTONIC, &a);
            started = 1;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buffer + done, (size_t)(n - done));
            if (w <= 0)
                return 3;
            done += w;
        }
        total += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "%.1f\n", (double)total / seconds / 1e6);
    return 0;
}
