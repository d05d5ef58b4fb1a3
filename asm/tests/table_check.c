/*
 * asm/tests/table_check.c -- runs the shims' configuration-page check (dj_table_load, asm/common/marshal.c) natively
 * on a page read from a file, and prints what it answered: "ok", or the shim's refusal. The page is the host's, which
 * the shim does not trust; tests/Donjon.Tests/Protocol/ShimTableCheckTests.cs feeds it valid and hostile pages.
 *
 * Built by that test with the system gcc against marshal.c itself (no copy): the shim's other parts that marshal.c
 * reaches (doorbell, workload memory, threads, fatal) are stubs here that abort, because loading a page never
 * touches them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "shim.h"

void dj_doorbell_ring_wait(volatile uint8_t *block) { (void)block; abort(); }
long dj_user_read(void *dst, uint64_t src, uint64_t size) { (void)dst; (void)src; (void)size; abort(); }
long dj_user_write(uint64_t dst, const void *src, uint64_t size) { (void)dst; (void)src; (void)size; abort(); }
long dj_user_string(void *dst, uint64_t src, uint64_t max) { (void)dst; (void)src; (void)max; abort(); }
struct dj_thread *dj_thread_self(void) { abort(); }
void dj_fatal(int status, const char *message) { fprintf(stderr, "fatal %d: %s\n", status, message); exit(2); }
void dj_trace_configure(uint32_t flags) { (void)flags; }

int main(int argc, char **argv)
{
    static uint8_t page[1 << 20];
    if (argc != 2) {
        fprintf(stderr, "usage: table_check PAGE-FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t size = fread(page, 1, sizeof page, f);
    fclose(f);
    const char *problem = dj_table_load(page, size);
    printf("%s\n", problem ? problem : "ok");
    return 0;
}
