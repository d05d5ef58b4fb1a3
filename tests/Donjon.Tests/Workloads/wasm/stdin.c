/* stdin.wasm: reads stdin to end of file and prints the byte count and the FNV-1a 64 hash of what it read. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    static unsigned char buffer[65536];
    uint64_t hash = 1469598103934665603ull;
    unsigned long long total = 0;
    for (;;) {
        ssize_t got = read(0, buffer, sizeof buffer);
        if (got < 0) {
            perror("read");
            return 1;
        }
        if (got == 0)
            break;
        for (ssize_t i = 0; i < got; i++)
            hash = (hash ^ buffer[i]) * 1099511628211ull;
        total += (unsigned long long)got;
    }
    printf("read %llu bytes to EOF, fnv1a64 %016llx\n", total, (unsigned long long)hash);
    return 0;
}
