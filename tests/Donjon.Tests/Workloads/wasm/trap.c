/* trap.wasm: traps in a named function, chosen by argv[1]: unreachable (default), out-of-bounds, stack-overflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void crash_unreachable(void) { __builtin_trap(); }

__attribute__((noinline)) static int read_out_of_bounds(unsigned address) { return *(volatile int *)(size_t)address; }

/* Not a tail call: every level keeps a wasm frame, so the wasm stack overflows before linear memory does. */
__attribute__((noinline)) static unsigned recurse_deeply(unsigned depth)
{
    if (depth == 0)
        return 1;
    return recurse_deeply(depth - 1) * 2654435761u + depth;
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "unreachable";
    printf("before the trap: %s\n", which);
    fflush(stdout);
    if (strcmp(which, "out-of-bounds") == 0)
        return read_out_of_bounds(0xfffffff0u);
    if (strcmp(which, "stack-overflow") == 0)
        return (int)recurse_deeply((unsigned)atoi("100000000"));
    crash_unreachable();
    return 0;
}
