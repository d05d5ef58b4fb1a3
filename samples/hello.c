/* The sample workload of the README: an ordinary C program, built as a static PIE. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    printf("Hello from inside a keep!\n");
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    const char *lang = getenv("LANG");
    printf("LANG = %s\n", lang ? lang : "(unset)");
    return 0;
}
