/* Calls the Greeting set's syscall (number 1000) and prints what it answered. Build it as a static PIE:
 *     gcc -O2 -static-pie -o greet greet.c
 * and run it in a keep whose configuration lists the set:  donjon run --config plugins.json ./greet */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
    char buffer[64];
    long length = syscall(1000, buffer, sizeof buffer);
    if (length < 0) {
        perror("syscall 1000 (greet)");
        return 1;
    }
    fwrite(buffer, 1, (size_t)length, stdout);
    return 0;
}
