/* The escape suite: a workload with one read-write mount (argv[1]) and the host path of a secret file outside it
   (argv[2], with its directory argv[3]) tries every way out it can. Each attempt prints what it got; none may
   print the secret ("SECRET" never appears) or leave anything outside the mount. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mount;

static void attempt(const char *what, const char *path, int flags) {
    int fd = open(path, flags, 0644);
    if (fd < 0) { printf("%s: %s\n", what, strerror(errno)); return; }
    char buf[128] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("%s: OPENED, read %zd bytes: %s\n", what, n, buf);
    close(fd);
}

static char *in_mount(const char *name) {
    static char buffers[8][4096];
    static int next;
    char *p = buffers[next++ % 8];
    snprintf(p, 4096, "%s/%s", mount, name);
    return p;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    mount = argv[1];
    const char *secret = argv[2], *outside = argv[3];
    char path[4096];

    attempt("the secret by its host path", secret, O_RDONLY);
    snprintf(path, sizeof path, "%s/../secret.txt", mount);
    attempt("../ from the mount", path, O_RDONLY);
    snprintf(path, sizeof path, "%s/../../../../../../../../..%s", mount, secret);
    attempt("a ../ chain to the root", path, O_RDONLY);
    chdir(mount);
    attempt("a relative ../ chain", "../../../../../../../../../etc/passwd", O_RDONLY);

    symlink(secret, in_mount("absolute"));
    attempt("an absolute symlink planted in the mount", in_mount("absolute"), O_RDONLY);
    symlink("../secret.txt", in_mount("relative"));
    attempt("a relative symlink pointing outside", in_mount("relative"), O_RDONLY);
    symlink(outside, in_mount("dirlink"));
    attempt("a symlink to the outside directory", in_mount("dirlink/secret.txt"), O_RDONLY);
    attempt("the host's own planted symlink", in_mount("planted"), O_RDONLY);
    attempt("through the host's planted directory symlink", in_mount("planteddir/secret.txt"), O_RDONLY);

    snprintf(path, sizeof path, "/proc/self/root%s", secret);
    attempt("/proc/self/root", path, O_RDONLY);
    attempt("/proc/self/fd/0", "/proc/self/fd/0", O_RDONLY);
    symlink("/proc/self/root", in_mount("procroot"));
    snprintf(path, sizeof path, "%s/procroot%s", mount, secret);
    attempt("a symlink to /proc/self/root", path, O_RDONLY);

    int hard = link(secret, in_mount("hardlink"));
    printf("hard link to the host file: %s\n", hard == 0 ? "LINKED" : strerror(errno));
    attempt("the hard link", in_mount("hardlink"), O_RDONLY);

    snprintf(path, sizeof path, "%s/created-by-the-keep.txt", outside);
    symlink(path, in_mount("dangling"));
    attempt("O_CREAT through a dangling absolute symlink", in_mount("dangling"), O_WRONLY | O_CREAT);
    symlink("../created-by-the-keep.txt", in_mount("dangling-relative"));
    attempt("O_CREAT through a dangling relative symlink", in_mount("dangling-relative"), O_WRONLY | O_CREAT);

    printf("mkdir through the directory symlink: %s\n", mkdir(in_mount("dirlink/made"), 0755) == 0 ? "MADE" : strerror(errno));
    printf("unlink through the directory symlink: %s\n", unlink(in_mount("dirlink/secret.txt")) == 0 ? "REMOVED" : strerror(errno));
    printf("rename out through the directory symlink: %s\n",
           rename(in_mount("absolute"), in_mount("dirlink/moved")) == 0 ? "RENAMED" : strerror(errno));
    printf("chmod through the absolute symlink: %s\n", chmod(in_mount("absolute"), 0777) == 0 ? "CHANGED" : strerror(errno));
    printf("truncate through the absolute symlink: %s\n", truncate(in_mount("absolute"), 0) == 0 ? "TRUNCATED" : strerror(errno));
    printf("chdir out: %s\n", chdir(in_mount("dirlink")) == 0 ? "ENTERED" : strerror(errno));
    char cwd[4096];
    chdir("/");
    chdir("..");
    printf("getcwd after chdir(\"/..\"): %s\n", getcwd(cwd, sizeof cwd));
    struct stat st;
    printf("stat through the directory symlink: %s\n", stat(in_mount("dirlink/secret.txt"), &st) == 0 ? "FOUND" : strerror(errno));
    char target[256] = {0};
    ssize_t n = readlink(in_mount("absolute"), target, sizeof target - 1);
    printf("readlink of the planted link: %s\n", n > 0 ? "its target, as stored" : strerror(errno));

    /* The race: the host swaps planted-race between a directory inside the mount and a symlink to the outside,
       while this loop opens a file through it. */
    int leaked = 0, inside = 0;
    for (int i = 0; i < 10000; i++) {
        int fd = open(in_mount("race/secret.txt"), O_RDONLY);
        if (fd >= 0) {
            char buf[64] = {0};
            read(fd, buf, sizeof buf - 1);
            if (strstr(buf, "SECRET")) leaked++; else inside++;
            close(fd);
        }
    }
    printf("race: %d leaks in 10000 opens\n", leaked);
    fprintf(stderr, "race: %d opens reached the inside file\n", inside);
    return 0;
}
