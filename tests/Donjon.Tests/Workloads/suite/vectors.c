/* The data path's vector and directory calls, byte for byte (FileTests): writev of many pieces, readv into many and
   partial iovecs with short reads, pwritev and preadv at offsets (a short read at the end of the file), getdents64 with
   small buffers, recvmsg into many and partial iovecs (stream and datagram, MSG_TRUNC), sendto of a large datagram, and
   EFAULT for a bad first iovec element. `vectors DIR` (FileTests): the pipe, positional and directory parts, in DIR, a
   read-write directory (the program removes what it makes there); `vectors --messages` (KeepSuiteTests, with the net
   set): the socket part. Everything it prints is the same natively and in a keep. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

/* The bytes of [p, p + n) as text, '.' for the sentinel byte the buffers start with. */
static void print_piece(const char *label, const char *p, size_t n)
{
    printf("  %s [", label);
    fwrite(p, 1, n, stdout);
    printf("]\n");
}

static uint32_t fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void many_pieces_through_a_pipe(void)
{
    int p[2];
    if (pipe(p) != 0)
        exit(3);

    /* 64 pieces of 0-6 bytes, zero-length ones among them. */
    static char storage[64][8];
    struct iovec pieces[64];
    size_t total = 0;
    for (int k = 0; k < 64; k++) {
        memset(storage[k], 'A' + k % 26, sizeof storage[k]);
        pieces[k].iov_base = storage[k];
        pieces[k].iov_len = (size_t)(k % 7);
        total += (size_t)(k % 7);
    }
    show("writev of 64 pieces", writev(p[1], pieces, 64));
    printf("  total %zu\n", total);

    /* Into nine iovecs of 253 bytes: a short read of the 189 queued. */
    static char in[9][200];
    size_t sizes[9] = { 1, 0, 2, 3, 5, 8, 13, 21, 200 };
    struct iovec into[9];
    for (int k = 0; k < 9; k++) {
        memset(in[k], '.', sizeof in[k]);
        into[k].iov_base = in[k];
        into[k].iov_len = sizes[k];
    }
    show("readv into 9 iovecs of 253 bytes", readv(p[0], into, 9));
    for (int k = 0; k < 9; k++) {
        char label[16];
        snprintf(label, sizeof label, "iov %d", k);
        print_piece(label, in[k], sizes[k] < 40 ? sizes[k] : 40);
    }
    int tail = 1;
    for (int k = 189 - 53; k < 200; k++) /* 53 bytes went to the first eight */
        tail &= in[8][k] == '.';
    printf("  the last iovec's bytes after the data untouched: %d\n", tail);

    /* A partial last iovec. */
    if (write(p[1], "0123456789", 10) != 10)
        exit(4);
    char a[4], b[4], c[4];
    memset(a, '.', 4);
    memset(b, '.', 4);
    memset(c, '.', 4);
    struct iovec three[3] = { { a, 4 }, { b, 4 }, { c, 4 } };
    show("readv of 10 into 4+4+4", readv(p[0], three, 3));
    print_piece("a", a, 4);
    print_piece("b", b, 4);
    print_piece("c", c, 4);

    /* A bad first element: EFAULT, nothing written. */
    struct iovec bad_first[2] = { { (void *)16, 4 }, { a, 4 } };
    show("writev with a bad first element", writev(p[1], bad_first, 2));
    close(p[1]);
    show("readv at end of pipe", readv(p[0], three, 3));
    close(p[0]);
}

static void positional_vectors(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        exit(5);

    /* 300000 bytes of a pattern between two short pieces, at offset 5. */
    size_t big_size = 300000;
    unsigned char *big = malloc(big_size);
    for (size_t i = 0; i < big_size; i++)
        big[i] = (unsigned char)(i * 7 + i / 251);
    struct iovec out[4] = { { "hello", 5 }, { " ", 1 }, { big, big_size }, { "world", 5 } };
    show("pwritev of 5+1+300000+5 at 5", pwritev(fd, out, 4, 5));
    struct stat st;
    fstat(fd, &st);
    printf("  size %lld\n", (long long)st.st_size);

    /* Back with another split, from offset 0: the five bytes before offset 5 are a hole of zeros. */
    char head[7], mid[3], last[8];
    unsigned char *rest = malloc(big_size);
    memset(head, '.', sizeof head);
    memset(mid, '.', sizeof mid);
    memset(last, '.', sizeof last);
    struct iovec in[4] = { { head, 7 }, { mid, 3 }, { rest, big_size - 2 }, { last, 8 } };
    long got = preadv(fd, in, 4, 0);
    show("preadv into 7+3+299998+8 from 0", got);
    printf("  head zeros %d %d %d %d %d then [%.2s]\n", head[0], head[1], head[2], head[3], head[4], head + 5);
    print_piece("mid", mid, 3);
    printf("  rest fnv %08x\n", fnv(rest, big_size - 2));
    printf("  last %02x %02x %02x then [%.5s]\n", (unsigned char)last[0], (unsigned char)last[1], (unsigned char)last[2], last + 3);

    /* Near the end of the file: a short read. */
    memset(head, '.', sizeof head);
    memset(mid, '.', sizeof mid);
    struct iovec two[2] = { { head, 7 }, { mid, 3 } };
    show("preadv of 10 at size - 4", preadv(fd, two, 2, st.st_size - 4));
    print_piece("head", head, 7);
    print_piece("mid", mid, 3);
    show("preadv at the end", preadv(fd, two, 2, st.st_size));

    /* A bad first element before the end of the file. */
    struct iovec bad_first[2] = { { (void *)16, 4 }, { mid, 3 } };
    show("preadv with a bad first element", preadv(fd, bad_first, 2, 0));

    close(fd);
    unlink(path);
    free(big);
    free(rest);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void directory_entries(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/entries", dir);
    if (mkdir(path, 0700) != 0)
        exit(6);
    for (int k = 0; k < 30; k++) {
        char name[4200];
        snprintf(name, sizeof name, "%s/entry-%02d", path, k);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0)
            exit(7);
        close(fd);
    }

    int d = open(path, O_RDONLY | O_DIRECTORY);
    char *names[64];
    int count = 0, calls = 0, untouched = 1;
    unsigned char buffer[96];
    for (;;) {
        memset(buffer, 0xee, sizeof buffer);
        long n = syscall(SYS_getdents64, d, buffer, sizeof buffer);
        if (n < 0) {
            show("getdents64", n);
            break;
        }
        if (n == 0)
            break;
        calls++;
        for (long k = n; k < (long)sizeof buffer; k++)
            untouched &= buffer[k] == 0xee;
        for (long at = 0; at < n;) {
            unsigned short reclen;
            memcpy(&reclen, buffer + at + 16, 2);
            const char *name = (const char *)buffer + at + 19;
            if (count < 64)
                names[count++] = strdup(name);
            at += reclen;
        }
    }
    printf("getdents64 in 96-byte buffers: %d names, more than 10 calls %d, bytes after each answer untouched %d\n",
           count, calls > 10, untouched);
    qsort(names, (size_t)count, sizeof names[0], by_name);
    printf(" ");
    for (int k = 0; k < count; k++) {
        printf(" %s", names[k]);
        free(names[k]);
    }
    printf("\n");
    lseek(d, 0, SEEK_SET);
    long small = syscall(SYS_getdents64, d, buffer, 10);
    show("getdents64 into 10 bytes", small);
    close(d);

    for (int k = 0; k < 30; k++) {
        char name[4200];
        snprintf(name, sizeof name, "%s/entry-%02d", path, k);
        unlink(name);
    }
    rmdir(path);
}

static void messages(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        exit(8);
    show("send 26 on a stream", send(sv[0], "abcdefghijklmnopqrstuvwxyz", 26, 0));
    char a[3], b[1], c[5], d[100];
    memset(d, '.', sizeof d);
    struct iovec in[4] = { { a, 3 }, { b, 0 }, { c, 5 }, { d, 100 } };
    struct msghdr m = { .msg_iov = in, .msg_iovlen = 4 };
    show("recvmsg into 3+0+5+100", recvmsg(sv[1], &m, 0));
    print_piece("a", a, 3);
    print_piece("c", c, 5);
    print_piece("d", d, 20);
    printf("  flags %d\n", m.msg_flags);

    /* Many one-byte iovecs: the first 32 of 40 bytes. */
    show("send 40 on a stream", send(sv[0], "0123456789012345678901234567890123456789", 40, 0));
    char ones[32];
    struct iovec each[32];
    for (int k = 0; k < 32; k++) {
        ones[k] = '.';
        each[k].iov_base = &ones[k];
        each[k].iov_len = 1;
    }
    struct msghdr many = { .msg_iov = each, .msg_iovlen = 32 };
    show("recvmsg into 32 one-byte iovecs", recvmsg(sv[1], &many, 0));
    print_piece("ones", ones, 32);
    char left[16];
    show("recv the rest", recv(sv[1], left, sizeof left, 0));
    print_piece("rest", left, 8);
    close(sv[0]);
    close(sv[1]);

    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0)
        exit(9);
    show("send a 20-byte datagram", send(sv[0], "datagram of 20 bytes", 20, 0));
    char x[4], y[4];
    memset(x, '.', 4);
    memset(y, '.', 4);
    struct iovec two[2] = { { x, 4 }, { y, 4 } };
    struct msghdr dm = { .msg_iov = two, .msg_iovlen = 2 };
    show("recvmsg of it into 4+4", recvmsg(sv[1], &dm, 0));
    print_piece("x", x, 4);
    print_piece("y", y, 4);
    printf("  MSG_TRUNC %d\n", (dm.msg_flags & MSG_TRUNC) != 0);

    /* A large datagram by sendto, received whole. */
    size_t size = 60000;
    unsigned char *out = malloc(size), *back = malloc(size);
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(i * 13 + i / 97);
    show("sendto of 60000", sendto(sv[0], out, size, 0, NULL, 0));
    memset(back, 0, size);
    show("recv of it", recv(sv[1], back, size, 0));
    printf("  the same bytes %d, fnv %08x\n", memcmp(out, back, size) == 0, fnv(back, size));
    free(out);
    free(back);
    close(sv[0]);
    close(sv[1]);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "--messages") == 0) {
        messages();
        return 0;
    }
    many_pieces_through_a_pipe();
    positional_vectors(argv[1]);
    directory_entries(argv[1]);
    return 0;
}
