/* compute.c: a compute-bound loop (a sieve, then an integer hash chain) whose result does not depend on the
   platform: built as a module and natively, the two must print the same line. argv[1] scales the work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1;
    const unsigned limit = 1u << 20;
    unsigned char *composite = calloc(limit, 1);
    if (composite == NULL)
        return 1;
    uint64_t hash = 1469598103934665603ull;
    unsigned primes = 0;
    for (unsigned round = 0; round < rounds; round++) {
        for (unsigned i = 0; i < limit; i++)
            composite[i] = 0;
        primes = 0;
        for (unsigned i = 2; i < limit; i++) {
            if (composite[i])
                continue;
            primes++;
            hash = (hash ^ i) * 1099511628211ull;
            for (unsigned j = i * 2; j < limit; j += i)
                composite[j] = 1;
        }
    }
    printf("rounds=%u primes below %u: %u, hash %016llx\n", rounds, limit, primes, (unsigned long long)hash);
    free(composite);
    return 0;
}
