/* openat2 (FileTests): argv[1] is a directory the program may write (a read-write mount in the keep). It makes
   inner/, files and symbolic links in it, then prints what openat2 answers for struct open_how's checks and each
   RESOLVE_* flag, relative to a dirfd of inner/, and removes what it made. The same output natively and in a keep.
   With argv[2] "escape", argv[1] is a mount whose "up" links out of it ("../outer.txt") and "abs" to "/f.txt": the
   program prints what openat2 answers through them with each flag (the keep's mount confines every one). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define R_NO_XDEV 0x01
#define R_NO_MAGICLINKS 0x02
#define R_NO_SYMLINKS 0x04
#define R_BENEATH 0x08
#define R_IN_ROOT 0x10
#define R_CACHED 0x20

struct how {
    uint64_t flags, mode, resolve;
    uint64_t extension[5];
};

static int dirfd_inner;

/* errno's name, the same with glibc and musl (their strerror texts differ). */
static const char *name(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL";
    case E2BIG: return "E2BIG";
    case EAGAIN: return "EAGAIN";
    case ENOENT: return "ENOENT";
    case EXDEV: return "EXDEV";
    case ELOOP: return "ELOOP";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    default: return strerror(e);
    }
}

static long openat2_(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve, size_t size, uint64_t extension)
{
    struct how h;
    memset(&h, 0, sizeof h);
    h.flags = flags;
    h.mode = mode;
    h.resolve = resolve;
    h.extension[0] = extension;
    return syscall(SYS_openat2, dirfd, path, &h, size);
}

/* Prints the result: "ok" and the first bytes read, or the error. */
static void show(const char *what, long fd)
{
    if (fd < 0) {
        printf("%s: %s\n", what, name(errno));
        return;
    }
    char buffer[32];
    ssize_t n = read((int)fd, buffer, sizeof buffer - 1);
    if (n > 0 && buffer[n - 1] == '\n')
        n--;
    printf("%s: ok [%.*s]\n", what, (int)(n > 0 ? n : 0), buffer);
    close((int)fd);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    if (argc > 2 && strcmp(argv[2], "escape") == 0) {
        int root = open(".", O_RDONLY | O_DIRECTORY);
        show("up", openat2_(root, "up", O_RDONLY, 0, 0, 24, 0));
        show("up, BENEATH", openat2_(root, "up", O_RDONLY, 0, R_BENEATH, 24, 0));
        show("up, IN_ROOT", openat2_(root, "up", O_RDONLY, 0, R_IN_ROOT, 24, 0));
        show("up, NO_XDEV", openat2_(root, "up", O_RDONLY, 0, R_NO_XDEV, 24, 0));
        show("../outer.txt", openat2_(root, "../outer.txt", O_RDONLY, 0, 0, 24, 0));
        show("../outer.txt, IN_ROOT", openat2_(root, "../outer.txt", O_RDONLY, 0, R_IN_ROOT, 24, 0));
        show("abs", openat2_(root, "abs", O_RDONLY, 0, 0, 24, 0));
        show("abs, IN_ROOT", openat2_(root, "abs", O_RDONLY, 0, R_IN_ROOT, 24, 0));
        show("f.txt, IN_ROOT", openat2_(root, "/f.txt", O_RDONLY, 0, R_IN_ROOT, 24, 0));
        return 0;
    }
    mkdir("inner", 0755);
    mkdir("inner/sub", 0755);
    put("outer.txt", "outer\n");
    put("inner/f.txt", "inner f\n");
    symlink("f.txt", "inner/rel");
    symlink("../outer.txt", "inner/up");
    symlink("/f.txt", "inner/abs");
    dirfd_inner = open("inner", O_RDONLY | O_DIRECTORY);

    show("size 0", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, 0, 0, 0));
    show("size 23", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, 0, 23, 0));
    show("size 24", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, 0, 24, 0));
    show("size 64, zero extension", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, 0, 64, 0));
    show("size 64, non-zero extension", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, 0, 64, 1));
    static uint64_t big[1024];    /* 8 KiB, all readable: the size alone is refused (a keep's shim copies size bytes) */
    big[0] = O_RDONLY;
    errno = 0;
    show("size 4097", syscall(SYS_openat2, AT_FDCWD, "outer.txt", big, (size_t)4097));
    show("unknown flag bit 33", openat2_(AT_FDCWD, "outer.txt", O_RDONLY | (1ULL << 33), 0, 0, 24, 0));
    show("unknown resolve flag", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, 0x40, 24, 0));
    show("BENEATH|IN_ROOT", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0, R_BENEATH | R_IN_ROOT, 24, 0));
    show("a mode without O_CREAT", openat2_(AT_FDCWD, "outer.txt", O_RDONLY, 0644, 0, 24, 0));
    show("mode bits beyond 07777", openat2_(AT_FDCWD, "new.txt", O_WRONLY | O_CREAT, 010644, 0, 24, 0));
    show("O_PATH|O_APPEND", openat2_(AT_FDCWD, "outer.txt", O_PATH | O_APPEND, 0, 0, 24, 0));
    show("CACHED with O_CREAT", openat2_(AT_FDCWD, "new.txt", O_WRONLY | O_CREAT, 0644, R_CACHED, 24, 0));
    show("an empty path", openat2_(AT_FDCWD, "", O_RDONLY, 0, 0, 24, 0));

    show("BENEATH f.txt", openat2_(dirfd_inner, "f.txt", O_RDONLY, 0, R_BENEATH, 24, 0));
    show("BENEATH sub/../f.txt", openat2_(dirfd_inner, "sub/../f.txt", O_RDONLY, 0, R_BENEATH, 24, 0));
    show("BENEATH ../outer.txt", openat2_(dirfd_inner, "../outer.txt", O_RDONLY, 0, R_BENEATH, 24, 0));
    show("BENEATH an absolute path", openat2_(dirfd_inner, argv[1], O_RDONLY | O_DIRECTORY, 0, R_BENEATH, 24, 0));
    show("BENEATH rel", openat2_(dirfd_inner, "rel", O_RDONLY, 0, R_BENEATH, 24, 0));
    show("BENEATH up (a link out of the dirfd)", openat2_(dirfd_inner, "up", O_RDONLY, 0, R_BENEATH, 24, 0));
    show("BENEATH abs (an absolute link)", openat2_(dirfd_inner, "abs", O_RDONLY, 0, R_BENEATH, 24, 0));
    show("no flags, up", openat2_(dirfd_inner, "up", O_RDONLY, 0, 0, 24, 0));
    show("IN_ROOT abs", openat2_(dirfd_inner, "abs", O_RDONLY, 0, R_IN_ROOT, 24, 0));
    show("IN_ROOT /f.txt", openat2_(dirfd_inner, "/f.txt", O_RDONLY, 0, R_IN_ROOT, 24, 0));
    show("IN_ROOT ../../f.txt", openat2_(dirfd_inner, "../../f.txt", O_RDONLY, 0, R_IN_ROOT, 24, 0));
    show("IN_ROOT up", openat2_(dirfd_inner, "up", O_RDONLY, 0, R_IN_ROOT, 24, 0));
    show("NO_SYMLINKS rel", openat2_(dirfd_inner, "rel", O_RDONLY, 0, R_NO_SYMLINKS, 24, 0));
    show("NO_SYMLINKS f.txt", openat2_(dirfd_inner, "f.txt", O_RDONLY, 0, R_NO_SYMLINKS, 24, 0));
    long link = openat2_(dirfd_inner, "rel", O_PATH | O_NOFOLLOW, 0, R_NO_SYMLINKS, 24, 0);
    printf("NO_SYMLINKS|O_NOFOLLOW|O_PATH rel: %s\n", link >= 0 ? "ok" : name(errno));
    if (link >= 0)
        close((int)link);
    show("NO_MAGICLINKS rel", openat2_(dirfd_inner, "rel", O_RDONLY, 0, R_NO_MAGICLINKS, 24, 0));
    show("NO_XDEV f.txt", openat2_(dirfd_inner, "f.txt", O_RDONLY, 0, R_NO_XDEV, 24, 0));
    show("NO_XDEV|BENEATH sub/../rel", openat2_(dirfd_inner, "sub/../rel", O_RDONLY, 0, R_NO_XDEV | R_BENEATH, 24, 0));

    long fd = openat2_(dirfd_inner, "made.txt", O_WRONLY | O_CREAT | O_EXCL, 0600, R_BENEATH, 24, 0);
    printf("BENEATH O_CREAT: %s\n", fd >= 0 ? "ok" : name(errno));
    if (fd >= 0) {
        write((int)fd, "made\n", 5);
        close((int)fd);
    }
    show("the made file", openat2_(AT_FDCWD, "inner/made.txt", O_RDONLY, 0, 0, 24, 0));
    show("O_CREAT|O_EXCL again", openat2_(dirfd_inner, "made.txt", O_WRONLY | O_CREAT | O_EXCL, 0600, R_BENEATH, 24, 0));
    struct stat st;
    stat("inner/made.txt", &st);
    printf("its mode: %o\n", (unsigned)(st.st_mode & 0777));
    fd = openat2_(AT_FDCWD, "inner", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0, 24, 0);
    printf("a directory, O_CLOEXEC: %s, FD_CLOEXEC %d\n", fd >= 0 ? "ok" : name(errno), fd >= 0 ? fcntl((int)fd, F_GETFD) : -1);
    close((int)fd);
    show("a missing file", openat2_(AT_FDCWD, "missing", O_RDONLY, 0, 0, 24, 0));

    close(dirfd_inner);
    unlink("inner/made.txt");
    unlink("inner/rel");
    unlink("inner/up");
    unlink("inner/abs");
    unlink("inner/f.txt");
    rmdir("inner/sub");
    rmdir("inner");
    unlink("outer.txt");
    return 0;
}
