/* hello.wasm: prints its arguments and its whole environment (sorted), so that a keep's WASI args and environment
   can be compared byte for byte with the native launcher's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    printf("hello from WebAssembly: argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    size_t count = 0;
    while (environ[count] != NULL)
        count++;
    qsort(environ, count, sizeof *environ, compare);
    for (size_t i = 0; i < count; i++)
        printf("env %s\n", environ[i]);
    return 0;
}
