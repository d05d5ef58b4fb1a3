/* Files in a read-write directory (argv[1]): create, write, read back, rename, list, stat, truncate, links, remove;
   the working directory; descriptor flags. Prints only what is the same natively and in a keep; each line is one
   call, so that no output depends on the order in which C evaluates arguments. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* One call's result, and its errno's name when it failed. */
static void show(const char *what, long result) {
    int error = errno;
    if (result < 0) printf("%s: %ld %s\n", what, result, strerror(error));
    else printf("%s: %ld\n", what, result);
}

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) { printf("opendir %s: %s\n", dir, strerror(errno)); return; }
    char *names[64]; int n = 0; struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], compare);
    printf("list:");
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *dir = argv[1];
    char path[4096], other[4096], target[4096], buf[256];
    struct stat st;
    umask(022);

    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) { printf("fopen w: %s\n", strerror(errno)); return 1; }
    fprintf(f, "first line\nsecond line\n");
    fclose(f);
    f = fopen(path, "a");
    fputs("appended\n", f);
    fclose(f);
    f = fopen(path, "r");
    while (fgets(buf, sizeof buf, f)) printf("read: %s", buf);
    fclose(f);

    show("stat", stat(path, &st));
    printf("size %lld regular %d mode %o\n", (long long)st.st_size, S_ISREG(st.st_mode), st.st_mode & 0777);

    int fd = open(path, O_RDWR);
    show("lseek end", lseek(fd, 0, SEEK_END));
    show("pwrite", pwrite(fd, "FIRST", 5, 0));
    memset(buf, 0, sizeof buf);
    show("pread", pread(fd, buf, 10, 0));
    printf("[%s]\n", buf);
    char a[6] = {0}, b[7] = {0};
    struct iovec iov[2] = {{a, 5}, {b, 6}};
    lseek(fd, 0, SEEK_SET);
    show("readv", readv(fd, iov, 2));
    printf("[%s|%s]\n", a, b);
    show("ftruncate", ftruncate(fd, 5));
    show("fstat", fstat(fd, &st));
    printf("size %lld\n", (long long)st.st_size);
    int flags = fcntl(fd, F_GETFL);
    printf("F_GETFL rdwr %d append %d\n", (flags & O_ACCMODE) == O_RDWR, (flags & O_APPEND) != 0);
    show("F_SETFL append", fcntl(fd, F_SETFL, flags | O_APPEND));
    flags = fcntl(fd, F_GETFL);
    printf("append now %d\n", (flags & O_APPEND) != 0);
    show("F_GETFD", fcntl(fd, F_GETFD));
    show("F_SETFD", fcntl(fd, F_SETFD, FD_CLOEXEC));
    show("F_GETFD", fcntl(fd, F_GETFD));
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 20);
    printf("F_DUPFD_CLOEXEC at least 20: %d\n", copy >= 20);
    show("its F_GETFD", fcntl(copy, F_GETFD));
    show("dup2 to 30", dup2(fd, 30));
    show("30's F_GETFD", fcntl(30, F_GETFD));
    show("dup3 to 31 cloexec", dup3(fd, 31, O_CLOEXEC));
    show("31's F_GETFD", fcntl(31, F_GETFD));
    close(copy); close(30); close(31);
    show("F_GETFD of closed 31", fcntl(31, F_GETFD));
    show("fsync", fsync(fd));
    show("fdatasync", fdatasync(fd));
    close(fd);

    snprintf(other, sizeof other, "%s/renamed.txt", dir);
    show("rename", rename(path, other));
    show("access old", access(path, F_OK));
    show("access R_OK|W_OK", access(other, R_OK | W_OK));

    snprintf(path, sizeof path, "%s/sub", dir);
    show("mkdir", mkdir(path, 0755));
    show("mkdir again", mkdir(path, 0755));
    snprintf(path, sizeof path, "%s/sub/inner.txt", dir);
    fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0640);
    printf("create inner: %d\n", fd >= 0);
    show("create again O_EXCL", open(path, O_CREAT | O_EXCL | O_WRONLY, 0640));
    show("write", write(fd, "x", 1));
    close(fd);
    stat(path, &st);
    printf("inner mode %o\n", st.st_mode & 0777);
    show("chmod", chmod(path, 0600));
    stat(path, &st);
    printf("inner mode %o\n", st.st_mode & 0777);

    snprintf(path, sizeof path, "%s/link", dir);
    show("symlink", symlink("renamed.txt", path));
    memset(buf, 0, sizeof buf);
    show("readlink", readlink(path, buf, sizeof buf));
    printf("[%s]\n", buf);
    show("readlink of a file", readlink(other, buf, sizeof buf));
    show("lstat", lstat(path, &st));
    printf("is link %d\n", S_ISLNK(st.st_mode));
    show("stat", stat(path, &st));
    printf("is regular %d\n", S_ISREG(st.st_mode));
    snprintf(target, sizeof target, "%s/hard", dir);
    show("link", link(other, target));
    stat(other, &st);
    printf("nlink %d\n", (int)st.st_nlink);
    list(dir);

    /* The working directory. */
    show("chdir", chdir(dir));
    char *cwd = getcwd(buf, sizeof buf);
    printf("getcwd is the directory: %d\n", cwd && strcmp(cwd, dir) == 0);
    fd = open("renamed.txt", O_RDONLY);
    printf("relative open: %d\n", fd >= 0);
    close(fd);
    show("chdir sub", chdir("sub"));
    show("access ../renamed.txt", access("../renamed.txt", F_OK));
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
    fd = openat(dirfd, "sub/inner.txt", O_RDONLY);
    printf("openat dirfd: %d\n", fd >= 0);
    close(fd);
    show("openat through a file", openat(dirfd, "renamed.txt/x", O_RDONLY));
    show("fchdir", fchdir(dirfd));
    cwd = getcwd(buf, sizeof buf);
    printf("getcwd is the directory: %d\n", cwd && strcmp(cwd, dir) == 0);
    cwd = getcwd(buf, 2);
    printf("getcwd into 2 bytes: %s\n", cwd ? "ok" : strerror(errno));
    show("fstatat", fstatat(dirfd, "renamed.txt", &st, 0));
    printf("size %lld\n", (long long)st.st_size);
    show("unlinkat a directory without AT_REMOVEDIR", unlinkat(dirfd, "sub", 0));
    show("rmdir non-empty", rmdir("sub"));
    show("unlinkat inner", unlinkat(dirfd, "sub/inner.txt", 0));
    show("rmdir", unlinkat(dirfd, "sub", AT_REMOVEDIR));
    show("renameat2 noreplace", syscall(SYS_renameat2, dirfd, "hard", dirfd, "link", 1 /* RENAME_NOREPLACE */));
    show("unlink link", unlink("link"));
    show("unlink hard", unlink("hard"));
    show("unlink renamed.txt", unlink("renamed.txt"));
    close(dirfd);
    list(dir);
    show("open missing", open("missing.txt", O_RDONLY));
    show("unlink missing", unlink("missing.txt"));
    return 0;
}
