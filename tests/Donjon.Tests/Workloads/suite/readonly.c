/* A read-only mount (argv[1], holding data.txt and dir/): reading works, and every write form is EROFS. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long result) {
    int error = errno;
    if (result < 0) printf("%s: %s\n", what, strerror(error));
    else printf("%s: ok\n", what);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char file[4096], dir[4096], fresh[4096], moved[4096], buf[64] = {0};
    snprintf(file, sizeof file, "%s/data.txt", argv[1]);
    snprintf(dir, sizeof dir, "%s/dir", argv[1]);
    snprintf(fresh, sizeof fresh, "%s/fresh", argv[1]);
    snprintf(moved, sizeof moved, "%s/moved.txt", argv[1]);

    int fd = open(file, O_RDONLY);
    show("open for reading", fd);
    show("read", read(fd, buf, sizeof buf - 1));
    printf("[%s]\n", buf);
    show("write to a read-only descriptor", write(fd, "x", 1));
    show("fchmod", fchmod(fd, 0600));
    show("ftruncate", ftruncate(fd, 0));
    close(fd);
    show("access R_OK", access(file, R_OK));
    show("access W_OK", access(file, W_OK));
    show("open O_WRONLY", open(file, O_WRONLY));
    show("open O_RDWR", open(file, O_RDWR));
    show("open O_RDONLY|O_TRUNC", open(file, O_RDONLY | O_TRUNC));
    show("open O_CREAT existing", open(file, O_RDONLY | O_CREAT, 0644));
    show("open O_CREAT new", open(fresh, O_WRONLY | O_CREAT, 0644));
    show("creat", creat(fresh, 0644));
    show("open O_TMPFILE", open(argv[1], O_TMPFILE | O_RDWR, 0600));
    show("unlink", unlink(file));
    show("rmdir", rmdir(dir));
    show("mkdir", mkdir(fresh, 0755));
    show("mkdir existing", mkdir(dir, 0755));
    show("rename", rename(file, moved));
    show("link", link(file, moved));
    show("symlink", symlink("data.txt", fresh));
    show("chmod", chmod(file, 0600));
    show("utimensat", utimensat(AT_FDCWD, file, NULL, 0));
    show("truncate", truncate(file, 0));
    show("chown", chown(file, getuid(), getgid()));
    FILE *f = fopen(file, "a");
    show("fopen append", f ? 0 : -1);
    f = fopen(file, "r");
    show("fopen read", f ? 0 : -1);
    return 0;
}
