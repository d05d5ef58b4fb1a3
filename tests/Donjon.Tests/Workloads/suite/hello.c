/* Prints a greeting. */
#include <stdio.h>

int main(void)
{
    puts("hello, keep");
    return 0;
}
