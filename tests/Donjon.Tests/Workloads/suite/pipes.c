/* Pipes in the keep's descriptor table, with poll and its timeouts, and the built-in devices. Each line is one
   call, so that no output depends on the order in which C evaluates arguments. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long result) {
    int error = errno;
    if (result < 0) printf("%s: %ld %s\n", what, result, strerror(error));
    else printf("%s: %ld\n", what, result);
}

static long elapsed_ms(struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int main(void) {
    int p[2];
    char buf[64] = {0};
    show("pipe2", pipe2(p, O_CLOEXEC));
    show("read end F_GETFD", fcntl(p[0], F_GETFD));
    show("write end F_GETFD", fcntl(p[1], F_GETFD));
    struct pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    show("poll an empty pipe for 60 ms", poll(fds, 1, 60));
    printf("waited at least 50 ms: %d\n", elapsed_ms(&start) >= 50);
    show("poll the write end", poll(fds + 1, 1, 0));
    printf("POLLOUT %d\n", (fds[1].revents & POLLOUT) != 0);
    show("write", write(p[1], "through the pipe", 16));
    show("poll", poll(fds, 1, -1));
    printf("POLLIN %d\n", (fds[0].revents & POLLIN) != 0);
    fd_set readable, writable;
    FD_ZERO(&readable);
    FD_SET(p[0], &readable);
    FD_ZERO(&writable);
    FD_SET(p[1], &writable);
    struct timeval tv = {0, 30000};
    show("select a pipe with data and the write end", select(p[1] + 1, &readable, &writable, NULL, &tv));
    printf("readable %d writable %d\n", FD_ISSET(p[0], &readable) != 0, FD_ISSET(p[1], &writable) != 0);
    show("read", read(p[0], buf, sizeof buf - 1));
    printf("[%s]\n", buf);
    FD_ZERO(&readable);
    FD_SET(p[0], &readable);
    tv.tv_sec = 0;
    tv.tv_usec = 40000;
    clock_gettime(CLOCK_MONOTONIC, &start);
    show("select an empty pipe for 40 ms", select(p[0] + 1, &readable, NULL, NULL, &tv));
    printf("waited at least 30 ms: %d, readable %d\n", elapsed_ms(&start) >= 30, FD_ISSET(p[0], &readable) != 0);
    struct timespec ts = {0, 20000000};
    FD_ZERO(&readable);
    FD_SET(p[0], &readable);
    show("pselect an empty pipe for 20 ms", pselect(p[0] + 1, &readable, NULL, NULL, &ts, NULL));
    FD_ZERO(&readable);
    FD_SET(77, &readable);
    show("select a closed descriptor", select(78, &readable, NULL, NULL, NULL));
    show("lseek on a pipe", lseek(p[0], 0, SEEK_CUR));
    show("F_SETFL O_NONBLOCK", fcntl(p[0], F_SETFL, O_NONBLOCK));
    show("read an empty pipe without blocking", read(p[0], buf, 1));
    close(p[1]);
    show("poll after the writer closed", poll(fds, 1, 1000));
    printf("POLLHUP %d\n", (fds[0].revents & POLLHUP) != 0);
    show("read at the end", read(p[0], buf, 1));
    close(p[0]);
    fds[0].fd = 99;
    show("poll a closed descriptor", poll(fds, 1, 1000));
    printf("POLLNVAL %d\n", (fds[0].revents & POLLNVAL) != 0);

    int q[2];
    show("pipe", pipe(q));
    close(q[0]);
    signal(SIGPIPE, SIG_IGN);
    show("write to a pipe without a reader", write(q[1], "x", 1));
    close(q[1]);

    int null = open("/dev/null", O_RDWR);
    show("/dev/null write", write(null, "gone", 4));
    show("/dev/null read", read(null, buf, 4));
    close(null);
    int zero = open("/dev/zero", O_RDONLY);
    memset(buf, 1, 8);
    show("/dev/zero read", read(zero, buf, 8));
    printf("zeros %d\n", buf[0] == 0 && buf[7] == 0);
    close(zero);
    int full = open("/dev/full", O_WRONLY);
    show("/dev/full write", write(full, "x", 1));
    close(full);
    int urandom = open("/dev/urandom", O_RDONLY);
    show("/dev/urandom read", read(urandom, buf, 32));
    close(urandom);
    struct stat st;
    show("stat /dev/null", stat("/dev/null", &st));
    printf("character device %d\n", S_ISCHR(st.st_mode));
    fflush(stdout);
    FILE *out = fopen("/dev/stdout", "w");
    fprintf(out, "via /dev/stdout\n");
    fclose(out);
    printf("stdout still open: yes\n");
    return 0;
}
