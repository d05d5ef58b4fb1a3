/* Writes "y" lines until the reader goes away: then SIGPIPE ends it (status 141), as `yes | head -1`. */
#include <string.h>
#include <unistd.h>

int main(void)
{
    char line[4096];
    for (unsigned i = 0; i < sizeof line; i += 2)
        memcpy(line + i, "y\n", 2);
    for (;;)
        if (write(1, line, sizeof line) < 0)
            return 3;   /* only if SIGPIPE did not end it: EPIPE without the signal */
}
