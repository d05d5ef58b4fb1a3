/* Sockets, epoll and eventfd in a keep, under the network policy. One program, four modes:
     net server PORT N   an epoll server on 127.0.0.1:PORT: answers N connections, one line each, then exits
     net client PORT     connects to 127.0.0.1:PORT, sends a line, prints the answer
     net udp PORT        binds UDP 127.0.0.1:PORT, answers one datagram to its sender
     net deny PORT       bind, connect, datagram send and an implicit bind that the policy refuses
     net udpclient PORT  sends a datagram to 127.0.0.1:PORT and prints the answer, then again through a connected socket
     net abstract NAME   connect, datagram send, bind and autobind of the abstract AF_UNIX name NAME
     net resolve PORT NAME...  prints /etc/hosts and /etc/resolv.conf (their lines but comments), then resolves each NAME with getaddrinfo
                         (IPv4, stream) and connects to the first address at PORT
   Every line it prints is the same natively and in a keep that is granted what the mode needs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int is_loopback(const struct sockaddr_in *a, socklen_t length) {
    return length == sizeof *a && a->sin_family == AF_INET && a->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

static void outcome(const char *what, int result) {
    printf("%s: %s\n", what, result < 0 ? strerror(errno) : "ok");
}

#define MAX_FD 1024
static char pending[MAX_FD][256];
static size_t pending_length[MAX_FD];

static int server(int port, int count) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    outcome("setsockopt SO_REUSEADDR", setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    struct sockaddr_in address = loopback(port);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) {
        outcome("bind", -1);
        return 1;
    }
    outcome("listen", listen(listener, 64));
    struct sockaddr_in bound;
    socklen_t bound_length = sizeof bound;
    getsockname(listener, (struct sockaddr *)&bound, &bound_length);
    printf("getsockname: port %s, loopback %d\n", ntohs(bound.sin_port) == port ? "as asked" : "other", is_loopback(&bound, bound_length));
    int type = 0;
    socklen_t type_length = sizeof type;
    getsockopt(listener, SOL_SOCKET, SO_TYPE, &type, &type_length);
    printf("SO_TYPE stream %d, length %d\n", type == SOCK_STREAM, (int)type_length);
    printf("listening\n");
    fflush(stdout);

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int event = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event add = { .events = EPOLLIN, .data.fd = listener };
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &add);
    add.data.fd = event;
    epoll_ctl(epoll, EPOLL_CTL_ADD, event, &add);

    int served = 0, from_loopback = 0, eventfd_seen = 0, peers_named = 0;
    while (served < count) {
        struct epoll_event ready[16];
        int n = epoll_wait(epoll, ready, 16, 20000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            printf("epoll_wait: %d %s\n", n, n < 0 ? strerror(errno) : "timed out");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == event) {
                uint64_t value;
                if (read(event, &value, sizeof value) == sizeof value && value == 1)
                    eventfd_seen++;
                epoll_ctl(epoll, EPOLL_CTL_DEL, event, NULL);
            } else if (fd == listener) {
                struct sockaddr_in peer;
                socklen_t peer_length = sizeof peer;
                int connection = accept4(listener, (struct sockaddr *)&peer, &peer_length, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (connection < 0 || connection >= MAX_FD)
                    continue;
                from_loopback += is_loopback(&peer, peer_length);
                struct sockaddr_in named;
                socklen_t named_length = sizeof named;
                if (getpeername(connection, (struct sockaddr *)&named, &named_length) == 0 && named.sin_port == peer.sin_port)
                    peers_named++;
                setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                pending_length[connection] = 0;
                struct epoll_event watch = { .events = EPOLLIN, .data.fd = connection };
                epoll_ctl(epoll, EPOLL_CTL_ADD, connection, &watch);
            } else {
                ssize_t got = recv(fd, pending[fd] + pending_length[fd], sizeof pending[fd] - 1 - pending_length[fd], 0);
                if (got < 0 && errno == EAGAIN)
                    continue;
                if (got > 0)
                    pending_length[fd] += (size_t)got;
                char *newline = memchr(pending[fd], '\n', pending_length[fd]);
                if (!newline && got > 0 && pending_length[fd] < sizeof pending[fd] - 1)
                    continue;
                char reply[300];
                int length = snprintf(reply, sizeof reply, "hello, %.*s\n", newline ? (int)(newline - pending[fd]) : 0, pending[fd]);
                send(fd, reply, (size_t)length, MSG_NOSIGNAL);
                close(fd);
                served++;
            }
        }
    }
    printf("served %d, from loopback %d, peers named %d, eventfd seen %d\n", served, from_loopback, peers_named, eventfd_seen);
    return 0;
}

static int client(int port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = loopback(port);
    if (connect(s, (struct sockaddr *)&address, sizeof address) < 0) {
        outcome("connect", -1);
        return 1;
    }
    struct sockaddr_in peer;
    socklen_t peer_length = sizeof peer;
    getpeername(s, (struct sockaddr *)&peer, &peer_length);
    printf("connected to port %s, loopback %d\n", ntohs(peer.sin_port) == port ? "as asked" : "other", is_loopback(&peer, peer_length));
    const char line[] = "hello from the keep\n";
    printf("sent %zd\n", send(s, line, sizeof line - 1, 0));
    char answer[256];
    size_t total = 0;
    ssize_t got;
    while ((got = recv(s, answer + total, sizeof answer - 1 - total, 0)) > 0)
        total += (size_t)got;
    answer[total] = 0;
    printf("answer: %s", answer);
    outcome("shutdown", shutdown(s, SHUT_RDWR));
    close(s);
    return 0;
}

/* Connects, asks with one line, and copies everything the server sends to stdout until it closes. */
static int fetch(int port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = loopback(port);
    if (connect(s, (struct sockaddr *)&address, sizeof address) < 0) {
        outcome("connect", -1);
        return 1;
    }
    send(s, "GET\n", 4, 0);
    static char buffer[65536];
    ssize_t got;
    while ((got = recv(s, buffer, sizeof buffer, 0)) > 0) {
        for (ssize_t done = 0; done < got;) {
            ssize_t w = write(1, buffer + done, (size_t)(got - done));
            if (w <= 0)
                return 2;
            done += w;
        }
    }
    close(s);
    return got < 0 ? 3 : 0;
}

static int udp(int port) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = loopback(port);
    if (bind(s, (struct sockaddr *)&address, sizeof address) < 0) {
        outcome("bind", -1);
        return 1;
    }
    printf("udp bound\n");
    fflush(stdout);
    char datagram[512];
    struct sockaddr_in from;
    socklen_t from_length = sizeof from;
    ssize_t got = recvfrom(s, datagram, sizeof datagram - 1, 0, (struct sockaddr *)&from, &from_length);
    if (got < 0) {
        outcome("recvfrom", -1);
        return 1;
    }
    datagram[got] = 0;
    printf("udp got %zd bytes: %s, from loopback %d\n", got, datagram, is_loopback(&from, from_length));
    char reply[600];
    int length = snprintf(reply, sizeof reply, "pong: %s", datagram);
    printf("udp sent %zd\n", sendto(s, reply, (size_t)length, 0, (struct sockaddr *)&from, from_length));
    return 0;
}

static int deny(int port) {
    struct sockaddr_in address = loopback(port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    outcome("bind", bind(s, (struct sockaddr *)&address, sizeof address));
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    outcome("connect", connect(s, (struct sockaddr *)&address, sizeof address));
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    outcome("sendto", (int)sendto(s, "x", 1, 0, (struct sockaddr *)&address, sizeof address));
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    outcome("listen unbound", listen(s, 1));
    close(s);
    return 0;
}

static int udp_client(int port) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = loopback(port);
    const char ping[] = "ping from the keep";
    printf("udp client sent %zd\n", sendto(s, ping, sizeof ping - 1, 0, (struct sockaddr *)&address, sizeof address));
    char answer[512];
    struct sockaddr_in from;
    socklen_t from_length = sizeof from;
    ssize_t got = recvfrom(s, answer, sizeof answer - 1, 0, (struct sockaddr *)&from, &from_length);
    if (got < 0) {
        outcome("recvfrom", -1);
        return 1;
    }
    answer[got] = 0;
    printf("udp client got %zd bytes: %s, from the server %d\n", got, answer,
           is_loopback(&from, from_length) && ntohs(from.sin_port) == port);
    outcome("udp connect", connect(s, (struct sockaddr *)&address, sizeof address));
    printf("udp connected sent %zd\n", send(s, "again", 5, 0));
    got = recv(s, answer, sizeof answer - 1, 0);
    if (got < 0) {
        outcome("recv", -1);
        return 1;
    }
    answer[got] = 0;
    printf("udp connected got %zd bytes: %s\n", got, answer);
    close(s);
    return 0;
}

static int abstract_unix(const char *name) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t length = strlen(name);
    if (length + 1 > sizeof address.sun_path)
        return 2;
    memcpy(address.sun_path + 1, name, length);
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    outcome("connect abstract", connect(s, (struct sockaddr *)&address, size));
    close(s);
    s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    outcome("sendto abstract", (int)sendto(s, "x", 1, 0, (struct sockaddr *)&address, size));
    close(s);
    address.sun_path[length] = '2'; /* NAME with its last byte changed: free, so the host would let anyone bind it */
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    outcome("bind abstract", bind(s, (struct sockaddr *)&address, size));
    close(s);
    s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    outcome("autobind", bind(s, (struct sockaddr *)&address, sizeof(sa_family_t)));
    close(s);
    return 0;
}

static int resolve(int port, int count, char **names) {
    const char *files[] = { "/etc/hosts", "/etc/resolv.conf" }, *labels[] = { "hosts", "resolv.conf" };
    for (int f = 0; f < 2; f++) {
        FILE *file = fopen(files[f], "r");
        char line[256];
        if (!file)
            printf("%s: %s\n", files[f], strerror(errno));
        while (file && fgets(line, sizeof line, file))
            if (line[0] != '#')
                printf("%s: %s", labels[f], line);
        if (file)
            fclose(file);
    }
    for (int i = 0; i < count; i++) {
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *found = NULL;
        int failed = getaddrinfo(names[i], NULL, &hints, &found);
        if (failed) {
            printf("resolve %s: failed\n", names[i]);
            fprintf(stderr, "resolve %s: %s\n", names[i], gai_strerror(failed));
            continue;
        }
        struct sockaddr_in address = *(struct sockaddr_in *)found->ai_addr;
        freeaddrinfo(found);
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
        address.sin_port = htons((unsigned short)port);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        printf("resolve %s: %s\n", names[i], text);
        outcome("connect", connect(s, (struct sockaddr *)&address, sizeof address));
        close(s);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: net server|client|udp|deny PORT [N]\n");
        return 2;
    }
    int port = atoi(argv[2]);
    if (!strcmp(argv[1], "server")) return server(port, argc > 3 ? atoi(argv[3]) : 1);
    if (!strcmp(argv[1], "client")) return client(port);
    if (!strcmp(argv[1], "udp")) return udp(port);
    if (!strcmp(argv[1], "fetch")) return fetch(port);
    if (!strcmp(argv[1], "deny")) return deny(port);
    if (!strcmp(argv[1], "udpclient")) return udp_client(port);
    if (!strcmp(argv[1], "abstract")) return abstract_unix(argv[2]);
    if (!strcmp(argv[1], "resolve")) return resolve(port, argc - 3, argv + 3);
    return 2;
}
