/* Hostile arguments: a keep answers them as Linux does, and keeps running. A pointer to nothing and a kernel address
 * give EFAULT (the shim checks and copies, the host never follows a keep pointer), and a number no set declares gives
 * ENOSYS. Prints each result, then exits 0. (Not here yet: a read into a bad buffer at end of file, which Linux answers
 * EFAULT and both keeps answer 0, since their shims check an output buffer only when they copy into it.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static void show(const char *what, long result)
{
    printf("%s: %ld %s\n", what, result, result < 0 ? strerror(errno) : "");
    fflush(stdout);
}

int main(void)
{
    show("write from an unmapped page", syscall(SYS_write, 1, (void *)16, 10));
    show("number 1023", syscall(1023, 1, 2, 3));
    show("stat of a kernel-address path", syscall(SYS_stat, (void *)0xffff800000001000UL, (void *)16));
    puts("still running");
    return 0;
}
