/* Fills two buffers with getrandom(2) and checks they are full and differ. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int main(void)
{
    unsigned char a[64], b[64];
    ssize_t na = getrandom(a, sizeof a, 0);
    ssize_t nb = getrandom(b, sizeof b, 0);
    printf("got %zd and %zd bytes\n", na, nb);
    printf("different: %s\n", memcmp(a, b, sizeof a) != 0 ? "yes" : "no");
    return 0;
}
