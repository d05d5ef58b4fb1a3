/* Reads and writes with buffers the program does not own (FileTests): argv[1] is a file path the program may create.
   Linux copies only what it transfers: at end of file (or of a pipe with no writer, or /dev/null) a bad buffer is not
   touched and the answer is 0; a transfer into or out of it is EFAULT; a buffer whose valid part holds what is read
   gets it. The same output natively and in a keep. (Not compared: what a failed transfer leaves behind. Natively an
   EFAULT read consumes nothing; in a keep the host has read the bytes before the shim finds it cannot copy them out,
   so a file's offset has moved and a pipe's bytes are gone: plugins/syscalls/files/README.md, "Not yet".) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s: %ld%s\n", what, r, r < 0 ? (errno == EFAULT ? " EFAULT" : " another error") : "");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2)
        return 2;
    char *volatile bad = (char *)16;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, "abc", 3) != 3)
        return 3;
    show("read at EOF, bad buffer", read(fd, bad, 10));
    show("read of 0 bytes, bad buffer", read(fd, bad, 0));
    show("pread at EOF, bad buffer", pread(fd, bad, 10, 3));
    show("pread beyond EOF, bad buffer", pread(fd, bad, 10, 100));
    show("pread before EOF, bad buffer", pread(fd, bad, 10, 0));
    struct iovec v = { bad, 10 };
    show("readv at EOF, bad base", readv(fd, &v, 1));
    show("preadv at EOF, bad base", preadv(fd, &v, 1, 3));
    show("readv, bad iovec array", readv(fd, (struct iovec *)bad, 1));
    lseek(fd, 0, SEEK_SET);
    show("read before EOF, bad buffer", read(fd, bad, 10));
    show("write, bad buffer", write(fd, bad, 10));
    show("write of 0 bytes, bad buffer", write(fd, bad, 0));
    show("pwrite, bad buffer", pwrite(fd, bad, 10, 0));

    /* The last 3 bytes of a page, with nothing mapped after it: enough for the file's 3 bytes. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(pages + 4096, 4096);
    char *edge = pages + 4096 - 3;
    show("pread of 3 bytes into 3 valid ones, asking 100", pread(fd, edge, 100, 0));
    printf("they are: %.3s\n", edge);

    int p[2];
    pipe(p);
    close(p[1]);
    show("read of a pipe with no writer, bad buffer", read(p[0], bad, 10));
    close(p[0]);
    pipe(p);
    write(p[1], "xyz", 3);
    show("read of a pipe with data, bad buffer", read(p[0], bad, 10));
    close(p[0]);
    close(p[1]);
    int z = open("/dev/null", O_RDONLY);
    show("read of /dev/null, bad buffer", read(z, bad, 10));
    close(z);
    close(fd);
    unlink(argv[1]);
    return 0;
}
