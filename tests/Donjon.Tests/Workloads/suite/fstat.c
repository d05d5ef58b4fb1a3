/* Reports what kind of file stdout is, through fstat(2), and whether it is a terminal. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    struct stat st;
    if (fstat(1, &st) != 0)
        return 1;
    const char *kind = S_ISREG(st.st_mode) ? "regular file" : S_ISFIFO(st.st_mode) ? "pipe" : S_ISCHR(st.st_mode) ? "character device" : "other";
    printf("stdout is a %s; isatty=%d\n", kind, isatty(1));
    return 0;
}
