/* Copies stdin to stdout until end of file, with read(2) and write(2), handling short writes. */
#include <unistd.h>

int main(void)
{
    static char buffer[65536];
    for (;;) {
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n == 0)
            return 0;
        if (n < 0)
            return 2;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buffer + done, (size_t)(n - done));
            if (w <= 0)
                return 3;
            done += w;
        }
    }
}
