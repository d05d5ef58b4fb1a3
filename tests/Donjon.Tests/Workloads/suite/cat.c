/* Prints its working directory, then each file named on its command line, or why fopen failed (exit 1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char buf[4096];
    if (argc > 1 && getcwd(buf, sizeof buf)) printf("cwd %s\n", buf);
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) { printf("fopen %s: %s\n", argv[i], strerror(errno)); status = 1; continue; }
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
    }
    return status;
}
