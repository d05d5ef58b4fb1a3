/* The receiving end of bench/net/run's stream figure: listens on 127.0.0.1:PORT, takes one connection, reads it to
   its end, answers with the count of bytes received (decimal and a newline) and exits 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: stream PORT\n");
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 1) < 0) {
        perror("stream: listen");
        return 1;
    }
    int s = accept(listener, NULL, NULL);
    if (s < 0) {
        perror("stream: accept");
        return 1;
    }
    static char buffer[1 << 18];
    long long total = 0;
    ssize_t n;
    while ((n = read(s, buffer, sizeof buffer)) > 0)
        total += n;
    if (n < 0) {
        perror("stream: read");
        return 1;
    }
    char answer[32];
    int length = snprintf(answer, sizeof answer, "%lld\n", total);
    if (write(s, answer, (size_t)length) != length)
        return 1;
    close(s);
    return 0;
}
