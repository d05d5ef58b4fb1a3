/* Writes one line from three pieces with writev(2). */
#include <stdio.h>
#include <sys/uio.h>

int main(void)
{
    char a[] = "one ", b[] = "two ", c[] = "three\n";
    struct iovec parts[3] = {{a, 4}, {b, 4}, {c, 6}};
    ssize_t n = writev(1, parts, 3);
    printf("writev returned %zd\n", n);
    return 0;
}
