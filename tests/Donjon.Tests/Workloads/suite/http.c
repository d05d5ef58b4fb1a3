/* Two small HTTP/1.1 servers on 127.0.0.1:PORT, the same protocol, two shapes:
     http epoll PORT N     one thread, non-blocking sockets, every connection in one epoll set
     http threads PORT N   a thread per connection (pthread), blocking sockets
   Each prints "listening", answers N requests, prints "served N requests on C connections" and exits 0.

   What it speaks (the tests and bench/net compute the same answers on their own):
   - GET and HEAD. "/" answers "hello from the keep\n"; "/bytes/K" (0 <= K <= 1048576) answers K bytes,
     byte i being 'a' + i % 26; any other target is 404 with "not found\n". Another method is 405 (with
     "Allow: GET, HEAD"); a request with a body (Content-Length other than 0, or Transfer-Encoding), a malformed
     request line or a head over 8 KiB is 400 and the connection closes.
   - Persistent connections, as HTTP/1.1 has them by default: requests may be pipelined, and are answered in order.
     The server closes after the answer to a request that says "Connection: close", to any HTTP/1.0 request, and
     after a 400; such an answer carries "Connection: close".
   - Every answer: "HTTP/1.1 CODE REASON\r\nServer: donjon-suite\r\nContent-Type: text/plain\r\n
     Content-Length: LENGTH\r\n" [ "Allow: GET, HEAD\r\n" ] [ "Connection: close\r\n" ] "\r\n" then the body
     (none for HEAD, whose Content-Length is still the body's). No Date header, so answers are byte-exact. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_LIMIT 8192
#define BODY_LIMIT 1048576

struct buffer {
    char *data;
    size_t length, capacity;
};

static void append(struct buffer *b, const char *data, size_t length) {
    if (b->length + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->length + length)
            capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (!grown) {
            fprintf(stderr, "http: out of memory\n");
            exit(3);
        }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, length);
    b->length += length;
}

static void answer(struct buffer *out, int code, const char *reason, const char *body, size_t body_length,
                   int head_only, int closing, int allow) {
    char head[512];
    int length = snprintf(head, sizeof head,
                          "HTTP/1.1 %d %s\r\nServer: donjon-suite\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s%s\r\n",
                          code, reason, body_length, allow ? "Allow: GET, HEAD\r\n" : "", closing ? "Connection: close\r\n" : "");
    append(out, head, (size_t)length);
    if (!head_only)
        append(out, body, body_length);
}

static char pattern[BODY_LIMIT];

/* A header's value if the line [line, end) is "NAME: value" (NAME without case), else NULL. */
static const char *header(const char *line, const char *end, const char *name) {
    size_t n = strlen(name);
    if ((size_t)(end - line) <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *value = line + n + 1;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    return value;
}

static int value_is(const char *value, const char *end, const char *word) {
    size_t n = strlen(word);
    const char *stop = end;
    while (stop > value && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    return (size_t)(stop - value) == n && strncasecmp(value, word, n) == 0;
}

/* Answers the first request in [in, in + length) into out. Returns the bytes it used, 0 when the head is not
   complete yet, and sets *closing when the connection must close after this answer. */
static size_t serve_one(const char *in, size_t length, struct buffer *out, int *closing) {
    const char *end = memmem(in, length, "\r\n\r\n", 4);
    if (!end) {
        if (length >= HEAD_LIMIT) {
            const char body[] = "request head too large\n";
            answer(out, 400, "Bad Request", body, sizeof body - 1, 0, 1, 0);
            *closing = 1;
            return length;
        }
        return 0;
    }
    size_t used = (size_t)(end - in) + 4;
    const char *line_end = memmem(in, (size_t)(end - in) + 2, "\r\n", 2);
    const char *space1 = memchr(in, ' ', (size_t)(line_end - in));
    const char *space2 = space1 ? memchr(space1 + 1, ' ', (size_t)(line_end - space1 - 1)) : NULL;
    const char bad[] = "bad request\n";
    if (!space1 || !space2 || line_end - space2 != 9 || strncmp(space2 + 1, "HTTP/1.", 7) != 0 ||
        (space2[8] != '0' && space2[8] != '1')) {
        answer(out, 400, "Bad Request", bad, sizeof bad - 1, 0, 1, 0);
        *closing = 1;
        return used;
    }
    *closing = space2[8] == '0';
    int has_body = 0;
    for (const char *line = line_end + 2; line < end;) {
        const char *next = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
        const char *value;
        if ((value = header(line, next, "Connection")) && value_is(value, next, "close"))
            *closing = 1;
        if ((value = header(line, next, "Content-Length")) && !value_is(value, next, "0"))
            has_body = 1;
        if (header(line, next, "Transfer-Encoding"))
            has_body = 1;
        line = next + 2;
    }
    if (has_body) {
        answer(out, 400, "Bad Request", bad, sizeof bad - 1, 0, 1, 0);
        *closing = 1;
        return used;
    }
    size_t method_length = (size_t)(space1 - in);
    int head_only = method_length == 4 && !strncmp(in, "HEAD", 4);
    if (!head_only && !(method_length == 3 && !strncmp(in, "GET", 3))) {
        const char body[] = "method not allowed\n";
        answer(out, 405, "Method Not Allowed", body, sizeof body - 1, 0, *closing, 1);
        return used;
    }
    const char *target = space1 + 1;
    size_t target_length = (size_t)(space2 - target);
    const char hello[] = "hello from the keep\n", missing[] = "not found\n";
    if (target_length == 1 && target[0] == '/') {
        answer(out, 200, "OK", hello, sizeof hello - 1, head_only, *closing, 0);
        return used;
    }
    if (target_length > 7 && target_length <= 14 && !strncmp(target, "/bytes/", 7)) {
        size_t count = 0;
        int digits = 1;
        for (size_t i = 7; i < target_length; i++) {
            if (target[i] < '0' || target[i] > '9')
                digits = 0;
            else
                count = count * 10 + (size_t)(target[i] - '0');
        }
        if (digits && count <= BODY_LIMIT) {
            answer(out, 200, "OK", pattern, count, head_only, *closing, 0);
            return used;
        }
    }
    answer(out, 404, "Not Found", missing, sizeof missing - 1, head_only, *closing, 0);
    return used;
}

static int listen_on(int port, int flags) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 128) < 0) {
        perror("http: listen");
        exit(1);
    }
    printf("listening\n");
    fflush(stdout);
    return listener;
}

static long requests_goal;

/* ---- one thread, epoll ---- */

struct connection {
    int fd;
    char in[HEAD_LIMIT];
    size_t in_length;
    struct buffer out;
    size_t out_sent;
    int closing, writing;
};

static int epoll_server(int port) {
    int listener = listen_on(port, SOCK_NONBLOCK);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event watch = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &watch);
    long requests = 0, connections = 0, unsent = 0;
    while (requests < requests_goal || unsent > 0) {
        struct epoll_event ready[64];
        int n = epoll_wait(epoll, ready, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("http: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct connection *c = ready[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event add = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &add);
                    connections++;
                }
                continue;
            }
            int ended = 0;
            if (!c->closing && (ready[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                ssize_t got = recv(c->fd, c->in + c->in_length, sizeof c->in - c->in_length, 0);
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                    ended = 1;
                else if (got > 0)
                    c->in_length += (size_t)got;
                size_t before = c->out.length - c->out_sent, used, offset = 0;
                while (!c->closing && (used = serve_one(c->in + offset, c->in_length - offset, &c->out, &c->closing)) > 0) {
                    offset += used;
                    requests++;
                }
                memmove(c->in, c->in + offset, c->in_length - offset);
                c->in_length -= offset;
                unsent += (long)(c->out.length - c->out_sent - before);
            }
            while (c->out_sent < c->out.length) {
                ssize_t sent = send(c->fd, c->out.data + c->out_sent, c->out.length - c->out_sent, MSG_NOSIGNAL);
                if (sent < 0) {
                    if (errno != EAGAIN && errno != EINTR)
                        ended = 1;
                    break;
                }
                c->out_sent += (size_t)sent;
                unsent -= sent;
            }
            if (c->out_sent == c->out.length)
                c->out_sent = c->out.length = 0;
            if (ended || (c->closing && c->out.length == 0)) {
                unsent -= (long)(c->out.length - c->out_sent);
                close(c->fd);
                free(c->out.data);
                free(c);
                continue;
            }
            int writing = c->out.length > 0;
            if (writing != c->writing) {
                struct epoll_event change = { .events = writing ? EPOLLOUT : EPOLLIN, .data.ptr = c };
                epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &change);
                c->writing = writing;
            }
        }
    }
    printf("served %ld requests on %ld connections\n", requests, connections);
    return 0;
}

/* ---- a thread per connection ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long served_requests, accepted_connections;

static void *serve_connection(void *argument) {
    int fd = (int)(long)argument;
    char in[HEAD_LIMIT];
    size_t in_length = 0;
    struct buffer out = { 0 };
    int closing = 0;
    while (!closing) {
        ssize_t got = recv(fd, in + in_length, sizeof in - in_length, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        in_length += (size_t)got;
        size_t used, offset = 0;
        long answered = 0;
        while (!closing && (used = serve_one(in + offset, in_length - offset, &out, &closing)) > 0) {
            offset += used;
            answered++;
        }
        memmove(in, in + offset, in_length - offset);
        in_length -= offset;
        for (size_t sent = 0; sent < out.length;) {
            ssize_t n = send(fd, out.data + sent, out.length - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                closing = 1;
                break;
            }
            sent += (size_t)n;
        }
        out.length = 0;
        pthread_mutex_lock(&lock);
        served_requests += answered;
        if (served_requests >= requests_goal) {
            /* Every answer counted here was sent whole: end the process (the accepting thread with it). */
            printf("served %ld requests on %ld connections\n", served_requests, accepted_connections);
            fflush(stdout);
            exit(0);
        }
        pthread_mutex_unlock(&lock);
    }
    close(fd);
    free(out.data);
    return NULL;
}

static int threads_server(int port) {
    int listener = listen_on(port, 0);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 256 << 10);
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("http: accept");
            return 1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&lock);
        accepted_connections++;
        pthread_mutex_unlock(&lock);
        pthread_t thread;
        int failed = pthread_create(&thread, &attributes, serve_connection, (void *)(long)fd);
        if (failed) {
            fprintf(stderr, "http: pthread_create: %s\n", strerror(failed));
            return 1;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "epoll") && strcmp(argv[1], "threads")) || atoi(argv[2]) <= 0 || atol(argv[3]) <= 0) {
        fprintf(stderr, "usage: http epoll|threads PORT REQUESTS\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)('a' + i % 26);
    requests_goal = atol(argv[3]);
    int port = atoi(argv[2]);
    return strcmp(argv[1], "epoll") ? threads_server(port) : epoll_server(port);
}
