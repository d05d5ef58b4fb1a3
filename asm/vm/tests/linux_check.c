/*
 * asm/vm/tests/linux_check.c -- keeps the Linux ABI values that only the VM shim uses (the LX_ names in
 * asm/vm/vm.h) equal to the system's kernel headers, as asm/tests/offsets_check.c does for asm/include/linux.h.
 *
 * asm/vm/shim.targets compiles and runs it before building the shim, and fails the build unless it prints OK.
 * Most checks are compile-time; the program only says so.
 */
#include <stdio.h>

#include <asm/unistd.h>
#include <asm/mman.h>
#include <linux/random.h>
#include <linux/mman.h>

#include "../../include/linux.h"
#include "../../include/protocol.h"
#include "../../include/shim.h"
#include "../vm.h"

#define SAME(a, b) _Static_assert((unsigned long long)(a) == (unsigned long long)(b), #a " != " #b)

SAME(LX_NR_GETRANDOM, __NR_getrandom);
SAME(LX_NR_CLOCK_GETTIME, __NR_clock_gettime);
SAME(LX_GRND_NONBLOCK, GRND_NONBLOCK);
SAME(LX_GRND_RANDOM, GRND_RANDOM);
SAME(LX_GRND_INSECURE, GRND_INSECURE);
SAME(LX_MADV_NORMAL, MADV_NORMAL);
SAME(LX_MADV_RANDOM, MADV_RANDOM);
SAME(LX_MADV_SEQUENTIAL, MADV_SEQUENTIAL);
SAME(LX_MADV_WILLNEED, MADV_WILLNEED);
SAME(LX_MADV_DONTNEED, MADV_DONTNEED);
SAME(LX_MADV_FREE, MADV_FREE);
SAME(LX_MADV_DONTFORK, MADV_DONTFORK);
SAME(LX_MADV_DOFORK, MADV_DOFORK);
SAME(LX_MADV_MERGEABLE, MADV_MERGEABLE);
SAME(LX_MADV_UNMERGEABLE, MADV_UNMERGEABLE);
SAME(LX_MADV_HUGEPAGE, MADV_HUGEPAGE);
SAME(LX_MADV_NOHUGEPAGE, MADV_NOHUGEPAGE);
SAME(LX_MADV_DONTDUMP, MADV_DONTDUMP);
SAME(LX_MADV_DODUMP, MADV_DODUMP);
SAME(LX_MADV_WIPEONFORK, MADV_WIPEONFORK);
SAME(LX_MADV_KEEPONFORK, MADV_KEEPONFORK);
SAME(LX_MADV_COLD, MADV_COLD);
SAME(LX_MADV_PAGEOUT, MADV_PAGEOUT);

int main(void)
{
    puts("OK");
    return 0;
}
