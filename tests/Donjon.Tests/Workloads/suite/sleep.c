/* Announces itself, then sleeps for the number of seconds in argv[1] (a blocked syscall in the host). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    puts("sleeping");
    fflush(stdout);
    struct timespec nap = {argc > 1 ? atoi(argv[1]) : 30, 0};
    nanosleep(&nap, NULL);
    puts("woke");
    return 0;
}
