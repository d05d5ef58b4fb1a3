/* Exits with status 7 after writing to both streams. */
#include <stdio.h>

int main(void)
{
    fputs("to stdout\n", stdout);
    fputs("to stderr\n", stderr);
    return 7;
}
