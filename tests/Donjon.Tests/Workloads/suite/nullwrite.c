/* Writes through a null pointer: the workload must die by SIGSEGV (status 139). */
#include <stdio.h>

int main(void)
{
    puts("about to fault");
    fflush(stdout);
    volatile int *p = (volatile int *)0;
    *p = 42;
    return 0;
}
