/* Test workload: prints a greeting and its arguments, then exits 0.
   Built at test time by WorkloadBuilder as a glibc static-PIE, a dynamic PIE and a static non-PIE. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello from %s\n", argc > 0 ? argv[0] : "(no argv[0])");
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    return 0;
}
