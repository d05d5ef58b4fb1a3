/* File benchmarks, each printing one figure on stderr, timed inside the program so that start-up is not counted:
     files read FILE          sequential read in 1 MiB reads: MB/s
     files open DIR N         open + fstat + close of DIR/0 .. DIR/N-1: ns per file
     files list DIR           opendir + readdir of every entry + closedir: ms per listing (median-free: one pass) */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buffer[1 << 20];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    if (strcmp(argv[1], "read") == 0) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0)
            return 3;
        long long total = 0;
        double a = now();
        for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
            total += n;
        double b = now();
        fprintf(stderr, "%.0f\n", total / 1e6 / (b - a));
        return 0;
    }
    if (strcmp(argv[1], "open") == 0 && argc > 3) {
        int count = atoi(argv[3]);
        char path[4096];
        struct stat st;
        double a = now();
        for (int i = 0; i < count; i++) {
            snprintf(path, sizeof path, "%s/%d", argv[2], i);
            int fd = open(path, O_RDONLY);
            if (fd < 0 || fstat(fd, &st) != 0)
                return 4;
            close(fd);
        }
        double b = now();
        fprintf(stderr, "%.0f\n", (b - a) * 1e9 / count);
        return 0;
    }
    if (strcmp(argv[1], "list") == 0) {
        double a = now();
        DIR *d = opendir(argv[2]);
        if (!d)
            return 5;
        long entries = 0;
        while (readdir(d))
            entries++;
        closedir(d);
        double b = now();
        fprintf(stderr, "%.1f\n", (b - a) * 1e3);
        return entries > 2 ? 0 : 6;
    }
    return 2;
}
