/* Times N proxied writes of 64 bytes to stdout (the bench sends it to /dev/null). Prints nanoseconds per call on
   stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    static const char line[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (write(1, line, sizeof line) != (ssize_t)sizeof line)
            return 3;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    fprintf(stderr, "%.1f\n", ns / (double)n);
    return 0;
}
