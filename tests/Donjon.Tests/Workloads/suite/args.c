/* Prints every argument and one environment variable, to check argv and envp cross the boundary intact. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=[%s]\n", i, argv[i]);
    const char *value = getenv("DONJON_TEST_VALUE");
    printf("DONJON_TEST_VALUE=[%s]\n", value ? value : "(unset)");
    printf("HOME=[%s]\n", getenv("HOME") ? "set" : "(unset)");
    return 0;
}
