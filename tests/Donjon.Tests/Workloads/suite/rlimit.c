/* Keep-suite workload: lowers RLIMIT_NOFILE's soft limit, raises it back to the hard limit, tries to raise the hard
   limit (EPERM), then lowers the hard limit; prints each result, as a libc conformance test would. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static void show(const char *what, int r)
{
    struct rlimit now;
    getrlimit(RLIMIT_NOFILE, &now);
    printf("%s: %s; now %llu/%llu\n", what, r == 0 ? "ok" : strerror(errno), (unsigned long long)now.rlim_cur, (unsigned long long)now.rlim_max);
}

int main(void)
{
    struct rlimit start;
    getrlimit(RLIMIT_NOFILE, &start);
    rlim_t hard = start.rlim_max;
    show("lower soft", setrlimit(RLIMIT_NOFILE, &(struct rlimit){ hard / 2, hard }));
    show("raise soft to hard", setrlimit(RLIMIT_NOFILE, &(struct rlimit){ hard, hard }));
    show("raise hard", setrlimit(RLIMIT_NOFILE, &(struct rlimit){ hard + 1, hard + 1 }));
    show("lower hard", setrlimit(RLIMIT_NOFILE, &(struct rlimit){ hard / 4, hard / 4 }));
    show("raise lowered hard", setrlimit(RLIMIT_NOFILE, &(struct rlimit){ hard, hard }));
    return 0;
}
