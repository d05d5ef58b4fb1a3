/* Uses thread-local storage and errno: both live in the TLS block that arch_prctl(ARCH_SET_FS) points at. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static __thread int counter = 41;
static __thread char label[16] = "tls-initial";

int main(void)
{
    counter++;
    printf("counter=%d label=%s\n", counter, label);
    errno = 0;
    ssize_t n = write(99, "x", 1);
    printf("write(99) = %zd, errno = %d (%s)\n", n, errno, strerror(errno));
    return 0;
}
