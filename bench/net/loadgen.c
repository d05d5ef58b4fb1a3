/* The load generator of bench/net/run, for the servers of tests/Donjon.Tests/Workloads/suite/http.c and stream.c.
     loadgen http PORT CONNECTIONS REQUESTS   REQUESTS in all over CONNECTIONS persistent connections to
                                             127.0.0.1:PORT, one outstanding per connection ("GET /bytes/64");
                                             every answer is checked byte for byte. Prints requests per second.
     loadgen stream PORT BYTES               sends BYTES on one connection, shuts its sending side, and waits for
                                             the server's count of what it received. Prints MB/s (10^6 bytes).
   Connecting is retried for 120 s (the server may still be starting); the clock starts once every connection is
   up. Any short, wrong or missing answer is an error on stderr and status 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_with_retry(int port) {
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double deadline = now() + 120;
    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(s, (struct sockaddr *)&address, sizeof address) == 0) {
            int one = 1;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return s;
        }
        close(s);
        if (now() > deadline) {
            fprintf(stderr, "loadgen: nothing listens on 127.0.0.1:%d after 120 s\n", port);
            exit(1);
        }
        usleep(20000);
    }
}

static void send_all(int s, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = send(s, data, length, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror("loadgen: send");
            exit(1);
        }
        data += n;
        length -= (size_t)n;
    }
}

struct connection {
    int fd;
    long remaining;
    size_t got;
};

static int http(int port, int connections, long requests) {
    static const char request[] = "GET /bytes/64 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char expected[512];
    int header = snprintf(expected, sizeof expected,
                          "HTTP/1.1 200 OK\r\nServer: donjon-suite\r\nContent-Type: text/plain\r\nContent-Length: 64\r\n\r\n");
    for (int i = 0; i < 64; i++)
        expected[header + i] = (char)('a' + i % 26);
    size_t expected_length = (size_t)header + 64;
    struct connection *c = calloc((size_t)connections, sizeof *c);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < connections; i++) {
        c[i].fd = connect_with_retry(port);
        c[i].remaining = requests / connections + (i < requests % connections);
        struct epoll_event watch = { .events = EPOLLIN, .data.ptr = &c[i] };
        epoll_ctl(epoll, EPOLL_CTL_ADD, c[i].fd, &watch);
    }
    double start = now();
    long outstanding = 0, answered = 0;
    for (int i = 0; i < connections; i++)
        if (c[i].remaining > 0) {
            send_all(c[i].fd, request, sizeof request - 1);
            outstanding++;
        }
    char buffer[512];
    while (outstanding > 0) {
        struct epoll_event ready[64];
        int n = epoll_wait(epoll, ready, 64, 60000);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            fprintf(stderr, "loadgen: no answer for 60 s (%ld answered)\n", answered);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct connection *k = ready[i].data.ptr;
            ssize_t got = recv(k->fd, buffer, expected_length - k->got, 0);
            if (got <= 0 || memcmp(buffer, expected + k->got, (size_t)got) != 0) {
                fprintf(stderr, "loadgen: %s after %ld answers\n", got < 0 ? strerror(errno) : got == 0 ? "connection closed" : "a wrong answer", answered);
                return 1;
            }
            k->got += (size_t)got;
            if (k->got < expected_length)
                continue;
            k->got = 0;
            answered++;
            if (--k->remaining > 0)
                send_all(k->fd, request, sizeof request - 1);
            else
                outstanding--;
        }
    }
    double elapsed = now() - start;
    printf("%.0f\n", (double)answered / elapsed);
    return 0;
}

static int stream(int port, long long bytes) {
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    int s = connect_with_retry(port);
    double start = now();
    for (long long left = bytes; left > 0;) {
        size_t n = left < (long long)sizeof block ? (size_t)left : sizeof block;
        send_all(s, block, n);
        left -= (long long)n;
    }
    shutdown(s, SHUT_WR);
    char answer[64];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof answer - 1 && (n = recv(s, answer + got, sizeof answer - 1 - got, 0)) > 0)
        got += (size_t)n;
    answer[got] = 0;
    double elapsed = now() - start;
    if (atoll(answer) != bytes) {
        fprintf(stderr, "loadgen: the server received '%s' bytes of %lld\n", answer, bytes);
        return 1;
    }
    printf("%.0f\n", (double)bytes / elapsed / 1e6);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "http") && atoi(argv[3]) > 0 && atol(argv[4]) > 0)
        return http(atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "stream") && atoll(argv[3]) > 0)
        return stream(atoi(argv[2]), atoll(argv[3]));
    fprintf(stderr, "usage: loadgen http PORT CONNECTIONS REQUESTS | loadgen stream PORT BYTES\n");
    return 2;
}
