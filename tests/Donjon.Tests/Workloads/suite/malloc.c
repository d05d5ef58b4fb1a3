/* Allocates, fills, checks and frees blocks from 1 byte to 64 MiB (brk and mmap both get used). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    unsigned long total = 0;
    for (size_t size = 1; size <= (64u << 20); size *= 2) {
        unsigned char *p = malloc(size);
        if (!p) {
            printf("malloc(%zu) failed\n", size);
            return 1;
        }
        memset(p, (int)(size & 0xff), size);
        for (size_t i = 0; i < size; i += 4093)
            if (p[i] != (unsigned char)(size & 0xff))
                return 2;
        total += size;
        free(p);
    }
    void *many[1000];
    for (int i = 0; i < 1000; i++)
        many[i] = malloc((size_t)(i * 37 + 1));
    for (int i = 0; i < 1000; i++)
        free(many[i]);
    printf("allocated %lu bytes in all\n", total);
    return 0;
}
