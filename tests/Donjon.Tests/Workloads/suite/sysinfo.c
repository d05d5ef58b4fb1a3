/* sysinfo (SysinfoTests): argv[1] is the memory limit the keep's policy sets, in bytes. Prints relations between the
   fields, never host values: in a keep totalram is the limit (below the host's RAM), freeram at most that, no swap. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysinfo.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    unsigned long long limit = strtoull(argv[1], NULL, 10);
    struct sysinfo s;
    if (sysinfo(&s) != 0) {
        perror("sysinfo");
        return 1;
    }
    unsigned long long unit = s.mem_unit;
    printf("mem_unit: %u\n", s.mem_unit);
    printf("totalram is the limit: %d\n", (unsigned long long)s.totalram * unit == limit);
    printf("freeram at most totalram: %d\n", s.freeram <= s.totalram);
    printf("freeram above 0: %d\n", s.freeram > 0);
    printf("swap: %lu %lu\n", (unsigned long)s.totalswap, (unsigned long)s.freeswap);
    printf("shared, buffers, high: %lu %lu %lu\n", (unsigned long)s.sharedram, (unsigned long)s.bufferram, (unsigned long)s.totalhigh);
    printf("uptime above 0: %d\n", s.uptime > 0);
    printf("procs above 0: %d\n", s.procs > 0);
    return 0;
}
