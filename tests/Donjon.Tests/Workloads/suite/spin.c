/* Announces itself, then computes forever without a syscall. */
#include <stdio.h>

int main(void)
{
    puts("spinning");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;)
        n++;
}
