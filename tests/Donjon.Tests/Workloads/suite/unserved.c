/* Keep-suite workload: calls two syscalls no handler set serves (sysfs twice, getcpu once) and prints what each
   returned, so a test can check Donjon's warning for each and its summary at exit. Natively both succeed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    unsigned cpu, node;
    for (int i = 0; i < 2; i++) {
        long r = syscall(SYS_sysfs, 3);     /* the count of file system types */
        printf("sysfs: %ld %s\n", r, r < 0 ? strerror(errno) : "ok");
    }
    long r = syscall(SYS_getcpu, &cpu, &node, NULL);
    printf("getcpu: %ld %s\n", r, r < 0 ? strerror(errno) : "ok");
    return 0;
}
