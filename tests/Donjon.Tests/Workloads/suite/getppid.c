/* Calls getppid() argv[1] times (100000 by default) and says whether every answer was the first one's: the same
   line natively and in a keep. With argv[2] = "stats", asks the process keep for its syscall-patching counters
   (the shim-private DJ_NR_PATCH_STATS, asm/process/process.h) and prints them on stderr: natively, and in the VM
   keep, the call is answered ENOSYS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DJ_NR_PATCH_STATS 0x3D0A0001L

static long patch_stats(unsigned long stats[5])
{
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(DJ_NR_PATCH_STATS), "D"(stats) : "rcx", "r11", "memory");
    return result;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 100000;
    pid_t first = getppid();
    long same = 0;
    for (long i = 0; i < count; i++)
        if (getppid() == first)
            same++;
    printf("%ld getppid calls, all equal to the first: %s\n", count, same == count ? "yes" : "no");
    if (argc > 2 && strcmp(argv[2], "stats") == 0) {
        unsigned long stats[5] = { 0 };
        long result = patch_stats(stats);
        if (result == 0)
            fprintf(stderr, "patch stats: enabled=%lu patched=%lu refused=%lu traps=%lu direct=%lu\n", stats[0], stats[1],
                    stats[2], stats[3], stats[4]);
        else
            fprintf(stderr, "patch stats: none (%ld)\n", result);
    }
    return 0;
}
