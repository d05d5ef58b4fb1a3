/* sendmsg, recvmsg, sendmmsg, recvmmsg over socketpairs, SCM_RIGHTS between the program's own descriptors, and the
   signal masks of ppoll, pselect6 and epoll_pwait. Everything it prints must be the same in a keep as natively. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig) { (void)sig; handled++; }

static int blocked_now(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, sig);
}

static void gather_and_scatter(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct iovec out[3] = { { "one ", 4 }, { "two ", 4 }, { "three", 5 } };
    struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };
    printf("sendmsg: %zd\n", sendmsg(sv[0], &m, 0));

    char a[5], b[20];
    memset(b, 0, sizeof b);
    struct iovec in[2] = { { a, sizeof a }, { b, sizeof b } };
    char name[64];
    struct msghdr r = { .msg_name = name, .msg_namelen = sizeof name, .msg_iov = in, .msg_iovlen = 2, .msg_flags = -1 };
    ssize_t n = recvmsg(sv[1], &r, 0);
    printf("recvmsg: %zd [%.5s|%s] namelen %u controllen %zu flags %d\n", n, a, b, r.msg_namelen, (size_t)r.msg_controllen, r.msg_flags);
    close(sv[0]);
    close(sv[1]);
}

static void pass_descriptor(void)
{
    int sv[2], p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct iovec one = { "F", 1 };
    struct msghdr m = { .msg_iov = &one, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    printf("sendmsg with SCM_RIGHTS: %zd\n", sendmsg(sv[0], &m, 0));
    close(p[1]);                    /* only the passed copy is left */

    char byte = 0;
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } back;
    memset(&back, 0, sizeof back);
    struct iovec in = { &byte, 1 };
    struct msghdr r = { .msg_iov = &in, .msg_iovlen = 1, .msg_control = back.buf, .msg_controllen = sizeof back.buf };
    ssize_t n = recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC);
    struct cmsghdr *got = CMSG_FIRSTHDR(&r);
    int fd = -1;
    if (got)
        memcpy(&fd, CMSG_DATA(got), sizeof fd);
    printf("recvmsg: %zd '%c' controllen %zu level %d type %d len %zu flags %d lowest free number %d\n", n, byte, (size_t)r.msg_controllen,
           got ? got->cmsg_level : -1, got ? got->cmsg_type : -1, got ? (size_t)got->cmsg_len : 0, r.msg_flags, fd == p[1]);
    const char text[] = "written through the passed descriptor";
    printf("write to it: %zd\n", write(fd, text, sizeof text - 1));
    close(fd);
    char echo[64] = { 0 };
    printf("pipe: %zd %s\n", read(p[0], echo, sizeof echo - 1), echo);
    close(p[0]);

    /* A descriptor that is not open: EBADF. */
    memcpy(CMSG_DATA(c), &(int){ 999 }, sizeof(int));
    errno = 0;
    ssize_t bad = sendmsg(sv[0], &m, 0);
    printf("SCM_RIGHTS of a closed descriptor: %zd %s\n", bad, strerror(errno));

    /* Too little room for the descriptor: MSG_CTRUNC. */
    int q[2];
    pipe(q);
    memcpy(CMSG_DATA(c), &q[0], sizeof(int));
    printf("sendmsg again: %zd\n", sendmsg(sv[0], &m, 0));
    char small[sizeof(struct cmsghdr)];
    struct msghdr t = { .msg_iov = &in, .msg_iovlen = 1, .msg_control = small, .msg_controllen = sizeof small };
    n = recvmsg(sv[1], &t, 0);
    printf("recvmsg into %zu bytes of control: %zd controllen %zu ctrunc %d\n", sizeof small, n, (size_t)t.msg_controllen, (t.msg_flags & MSG_CTRUNC) != 0);
    close(q[0]);
    close(q[1]);
    close(sv[0]);
    close(sv[1]);
}

static void datagrams(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct iovec parts[3] = { { "a", 1 }, { "bb", 2 }, { "ccc", 3 } };
    struct mmsghdr out[3];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) {
        out[i].msg_hdr.msg_iov = &parts[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(sv[0], out, 3, 0);
    printf("sendmmsg: %d, lengths %u %u %u\n", sent, out[0].msg_len, out[1].msg_len, out[2].msg_len);

    char bufs[4][8];
    struct iovec ins[4];
    struct mmsghdr in[4];
    memset(in, 0, sizeof in);
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < 4; i++) {
        ins[i] = (struct iovec){ bufs[i], sizeof bufs[i] - 1 };
        in[i].msg_hdr.msg_iov = &ins[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(sv[1], in, 4, MSG_DONTWAIT, NULL);
    printf("recvmmsg: %d:", got);
    for (int i = 0; i < got; i++)
        printf(" %u '%s'", in[i].msg_len, bufs[i]);
    printf("\n");

    /* A datagram larger than the buffer: cut, and MSG_TRUNC said. */
    send(sv[0], "0123456789", 10, 0);
    char four[4];
    struct iovec small = { four, sizeof four };
    struct msghdr r = { .msg_iov = &small, .msg_iovlen = 1 };
    ssize_t n = recvmsg(sv[1], &r, 0);
    printf("recvmsg of 10 into 4: %zd '%.4s' trunc %d\n", n, four, (r.msg_flags & MSG_TRUNC) != 0);
    send(sv[0], "0123456789", 10, 0);
    n = recvmsg(sv[1], &r, MSG_TRUNC);
    printf("recvmsg MSG_TRUNC: %zd\n", n);
    errno = 0;
    n = recvmsg(sv[1], &r, MSG_DONTWAIT);
    printf("recvmsg of nothing: %zd %s\n", n, strerror(errno));
    close(sv[0]);
    close(sv[1]);
}

static void *late_signal(void *arg)
{
    struct timespec wait = { 0, 100 * 1000 * 1000 };
    nanosleep(&wait, NULL);
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

static void masks(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    int p[2];
    pipe(p);
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);

    /* Pending while blocked; the call's mask unblocks it: EINTR at once, the handler runs, the old mask is back. */
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    raise(SIGUSR1);
    struct pollfd pfd = { p[0], POLLIN, 0 };
    struct timespec second = { 5, 0 };
    errno = 0;
    int r = ppoll(&pfd, 1, &second, &none);
    printf("ppoll unblocking a pending signal: %d %s, handled %d, blocked after %d\n", r, strerror(errno), handled, blocked_now(SIGUSR1));

    raise(SIGUSR1);
    fd_set reads;
    FD_ZERO(&reads);
    FD_SET(p[0], &reads);
    errno = 0;
    r = pselect(p[0] + 1, &reads, NULL, NULL, &second, &none);
    printf("pselect unblocking a pending signal: %d %s, handled %d, blocked after %d\n", r, strerror(errno), handled, blocked_now(SIGUSR1));

    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = p[0] };
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    raise(SIGUSR1);
    struct epoll_event got;
    errno = 0;
    r = epoll_pwait(ep, &got, 1, 5000, &none);
    printf("epoll_pwait unblocking a pending signal: %d %s, handled %d, blocked after %d\n", r, strerror(errno), handled, blocked_now(SIGUSR1));

    /* A mask that blocks it: the wait is not interrupted, and the signal comes once the mask is gone. */
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    handled = 0;
    pthread_t thread, self = pthread_self();
    pthread_create(&thread, NULL, late_signal, &self);
    struct timespec short_wait = { 0, 400 * 1000 * 1000 };
    r = ppoll(&pfd, 1, &short_wait, &usr1);
    int during = handled;
    pthread_join(thread, NULL);
    while (!handled)
        sched_yield();
    printf("ppoll blocking it: %d, handled on its return %d, after %d\n", r, during, handled);

    struct timespec zero = { 0, 0 };
    errno = 0;
    r = (int)syscall(SYS_ppoll, &pfd, 1, &zero, &none, 4);
    printf("ppoll with sigsetsize 4: %d %s\n", r, strerror(errno));
    close(ep);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    gather_and_scatter();
    pass_descriptor();
    datagrams();
    masks();
    return 0;
}
