/* memory.c: the memory syscalls a VM keep handles itself (mmap, munmap, mprotect, mremap, madvise, brk), each
   checked for what Linux guarantees, with one line per check and no address printed, so that the output is the
   same natively and in a keep. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

static void line(const char *what, int ok) { printf("%s: %s\n", what, ok ? "yes" : "NO"); }

static void result(const char *what, long r) { printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok"); }

static int all(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

int main(void)
{
    char *a = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    line("mmap gives zeroed memory", a != MAP_FAILED && all(a, 16 * PAGE, 0));
    memset(a, 'x', 16 * PAGE);

    result("mprotect read-only", mprotect(a, 16 * PAGE, PROT_READ));
    line("still readable", all(a, 16 * PAGE, 'x'));
    result("mprotect read-write", mprotect(a, 16 * PAGE, PROT_READ | PROT_WRITE));
    a[0] = 'y';
    a[0] = 'x';

    char *b = mremap(a, 16 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    line("mremap grows", b != MAP_FAILED);
    line("old contents kept", all(b, 16 * PAGE, 'x'));
    line("new pages zeroed", all(b + 16 * PAGE, 48 * PAGE, 0));
    memset(b, 'z', 64 * PAGE);

    char *c = mremap(b, 64 * PAGE, 8 * PAGE, 0);
    line("mremap shrinks in place", c == b && all(c, 8 * PAGE, 'z'));

    result("madvise DONTNEED", madvise(c, 8 * PAGE, MADV_DONTNEED));
    line("discarded pages read as zero", all(c, 8 * PAGE, 0));

    char *d = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(c, 'm', 8 * PAGE);
    char *e = mremap(c, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, d + 8 * PAGE);
    line("mremap to a fixed address moves the contents", e == d + 8 * PAGE && all(e, 8 * PAGE, 'm'));
    line("the pages around it are untouched", all(d, 8 * PAGE, 0) && all(d + 16 * PAGE, 16 * PAGE, 0));

    char *f = mmap(d + 4 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    line("MAP_FIXED replaces part of a mapping with zeros", f == d + 4 * PAGE && all(f, 2 * PAGE, 0));
    void *g = mmap(d, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    line("MAP_FIXED_NOREPLACE over a mapping fails with EEXIST", g == MAP_FAILED && errno == EEXIST);

    result("munmap the middle", munmap(d + 12 * PAGE, 4 * PAGE));
    result("mprotect across the hole", mprotect(d + 8 * PAGE, 16 * PAGE, PROT_READ));
    line("both sides still there", all(d + 8 * PAGE, 4 * PAGE, 'm') && all(d + 16 * PAGE, 4 * PAGE, 0));
    result("munmap everything", munmap(d, 32 * PAGE));

    char *n = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    result("mprotect PROT_NONE to read-write", mprotect(n, 4 * PAGE, PROT_READ | PROT_WRITE));
    n[3 * PAGE] = 'n';
    line("now writable", n[3 * PAGE] == 'n' && all(n, 3 * PAGE, 0));
    munmap(n, 4 * PAGE);

    char *h = sbrk(0);
    line("sbrk grows", sbrk(256 * PAGE) == h);
    memset(h, 'h', 256 * PAGE);
    line("sbrk shrinks", sbrk(-(long)(256 * PAGE)) == h + 256 * PAGE && sbrk(0) == h);
    line("sbrk grows again", sbrk(16 * PAGE) == h);
    line("regrown heap reads as zero", all(h, 16 * PAGE, 0));

    errno = 0;
    result("mmap of length 0", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    result("munmap of an unaligned address", munmap((void *)(h + 1), PAGE));
    return 0;
}
