/* locks.c -- fcntl record locks (F_GETLK, F_SETLK, F_SETLKW and the F_OFD_ forms) and lockf.
   locks FILE            the locks one process can see: its own POSIX locks, OFD locks between two descriptors, a
                         waiting OFD lock released by another thread, the release on close, lockf, bad arguments.
   locks FILE hold       takes a POSIX write lock on bytes 0-99, prints "held", and keeps it until stdin ends.
   locks FILE probe      another process's view of that lock: F_SETLK and F_OFD_SETLK fail, F_GETLK reports it.
   locks FILE signal     prints "ready", then waits in F_SETLKW until a SIGUSR1 (no SA_RESTART) makes it EINTR.
   locks FILE restart    the same under SA_RESTART: the wait goes on after the handler and is granted when the
                         holder lets go. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static const char *type_name(int type)
{
    return type == F_RDLCK ? "F_RDLCK" : type == F_WRLCK ? "F_WRLCK" : type == F_UNLCK ? "F_UNLCK" : "?";
}

static const char *error_name(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case EACCES: return "EACCES";
    case EINTR: return "EINTR";
    default: return strerror(e);
    }
}

/* The raw call, so that neither libc rewrites the command or the structure. */
static long lock(int fd, int cmd, short type, short whence, off_t start, off_t len, struct flock *out)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = whence;
    fl.l_start = start;
    fl.l_len = len;
    long r = syscall(SYS_fcntl, fd, cmd, &fl);
    if (out)
        *out = fl;
    return r;
}

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, error_name(errno));
    else
        printf("%s: %ld\n", what, r);
}

static void show_get(const char *what, int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl;
    long r = lock(fd, cmd, type, SEEK_SET, start, len, &fl);
    if (r < 0) {
        printf("%s: -1 %s\n", what, error_name(errno));
        return;
    }
    if (fl.l_type == F_UNLCK)
        printf("%s: F_UNLCK\n", what);
    else
        printf("%s: %s start %lld len %lld pid %s\n", what, type_name(fl.l_type), (long long)fl.l_start,
               (long long)fl.l_len, fl.l_pid == -1 ? "-1" : fl.l_pid == getpid() ? "mine" : fl.l_pid == 0 ? "0" : "other");
}

static int waiter_fd;
static volatile int waiter_granted;
static long waiter_result;

static void *waiter(void *arg)
{
    (void)arg;
    waiter_result = lock(waiter_fd, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 10, NULL);
    waiter_granted = 1;
    return NULL;
}

static int one_process(const char *path)
{
    int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int b = open(path, O_RDWR);
    if (a < 0 || b < 0) {
        perror("open");
        return 1;
    }
    char bytes[100];
    memset(bytes, 'x', sizeof bytes);
    if (write(a, bytes, sizeof bytes) != (ssize_t)sizeof bytes)
        return 1;

    printf("-- POSIX locks of one process\n");
    show("F_SETLK write 0-9 on a", lock(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, NULL));
    show_get("F_GETLK write 0-9 from b", b, F_GETLK, F_WRLCK, 0, 10);
    show("F_SETLK write 5-14 on b (same process)", lock(b, F_SETLK, F_WRLCK, SEEK_SET, 5, 10, NULL));
    show_get("F_OFD_GETLK write 0-19 from b", b, F_OFD_GETLK, F_WRLCK, 0, 20);
    show("F_OFD_SETLK read 0-0 on b", lock(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1, NULL));
    show("F_SETLK unlock 0-99 on a", lock(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));
    show_get("F_OFD_GETLK write 0-19 from b after unlock", b, F_OFD_GETLK, F_WRLCK, 0, 20);

    printf("-- OFD locks between two descriptors\n");
    show("F_OFD_SETLK write 20-29 on a", lock(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 20, 10, NULL));
    show("F_OFD_SETLK write 25-25 on a again (same description)", lock(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 25, 1, NULL));
    show("F_OFD_SETLK read 25-34 on b", lock(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 25, 10, NULL));
    show_get("F_OFD_GETLK read 20-39 from b", b, F_OFD_GETLK, F_RDLCK, 20, 20);
    show_get("F_GETLK read 0-0 from b (no conflict)", b, F_GETLK, F_RDLCK, 0, 1);
    show("F_SETLK write 28-28 on b (POSIX against OFD)", lock(b, F_SETLK, F_WRLCK, SEEK_SET, 28, 1, NULL));
    int dup_a = dup(a);
    show_get("F_OFD_GETLK write 20-29 from a dup of a (same description)", dup_a, F_OFD_GETLK, F_WRLCK, 20, 10);
    close(dup_a);
    show_get("F_OFD_GETLK write 20-29 from b after closing the dup", b, F_OFD_GETLK, F_WRLCK, 20, 10);
    show("F_OFD_SETLK unlock 0-99 on a", lock(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));
    show("F_OFD_SETLK unlock 0-99 on b", lock(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));

    printf("-- F_OFD_SETLKW waits for a thread's lock\n");
    show("F_OFD_SETLK write 0-9 on a", lock(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10, NULL));
    waiter_fd = b;
    pthread_t thread;
    pthread_create(&thread, NULL, waiter, NULL);
    usleep(100 * 1000);
    printf("thread still waiting: %d\n", !waiter_granted);
    show("F_OFD_SETLK unlock 0-9 on a", lock(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 10, NULL));
    pthread_join(thread, NULL);
    printf("thread F_OFD_SETLKW: %ld\n", waiter_result);
    show("F_OFD_SETLK write 0-9 on a now", lock(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10, NULL));
    show("F_OFD_SETLK unlock 0-99 on b", lock(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));

    printf("-- SEEK_CUR and SEEK_END\n");
    lseek(b, 50, SEEK_SET);
    show("F_OFD_SETLK write 10 from SEEK_CUR 50 on b", lock(b, F_OFD_SETLK, F_WRLCK, SEEK_CUR, 10, 5, NULL));
    show_get("F_OFD_GETLK write 0-99 from a", a, F_OFD_GETLK, F_WRLCK, 0, 100);
    show("F_OFD_SETLK unlock 0-99 on a", lock(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));
    show("F_OFD_SETLK read -10 from SEEK_END on a", lock(a, F_OFD_SETLK, F_RDLCK, SEEK_END, -10, 10, NULL));
    show_get("F_OFD_GETLK write 0-99 from b", b, F_OFD_GETLK, F_WRLCK, 0, 100);
    show("F_OFD_SETLK unlock 0-99 on a", lock(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));
    show("F_OFD_SETLK unlock 0-99 on b", lock(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 100, NULL));

    printf("-- lockf\n");
    lseek(a, 0, SEEK_SET);
    show("lockf F_TLOCK 10 on a", lockf(a, F_TLOCK, 10));
    show("lockf F_TEST 10 on b (same process)", lockf(b, F_TEST, 10));
    show_get("F_OFD_GETLK write 0-9 from b", b, F_OFD_GETLK, F_WRLCK, 0, 10);
    show("lockf F_ULOCK 10 on a", lockf(a, F_ULOCK, 10));
    show_get("F_OFD_GETLK write 0-9 from b after F_ULOCK", b, F_OFD_GETLK, F_WRLCK, 0, 10);
    show("lockf F_LOCK 10 on a", lockf(a, F_LOCK, 10));

    printf("-- closing any descriptor releases the POSIX locks\n");
    int c = open(path, O_RDONLY);
    close(c);
    show_get("F_OFD_GETLK write 0-9 from b after closing another descriptor", b, F_OFD_GETLK, F_WRLCK, 0, 10);
    show("F_SETLK write 0-9 on a", lock(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, NULL));
    int d = dup(a);
    close(d);
    show_get("F_OFD_GETLK write 0-9 from b after closing a dup", b, F_OFD_GETLK, F_WRLCK, 0, 10);

    printf("-- bad arguments\n");
    show("F_SETLK l_type 7", lock(a, F_SETLK, 7, SEEK_SET, 0, 10, NULL));
    show("F_SETLK l_whence 9", lock(a, F_SETLK, F_WRLCK, 9, 0, 10, NULL));
    show("F_SETLK l_start -1", lock(a, F_SETLK, F_WRLCK, SEEK_SET, -1, 10, NULL));
    show("F_GETLK l_type F_UNLCK", lock(a, F_GETLK, F_UNLCK, SEEK_SET, 0, 10, NULL));
    struct flock pid_set;
    memset(&pid_set, 0, sizeof pid_set);
    pid_set.l_type = F_WRLCK;
    pid_set.l_len = 1;
    pid_set.l_pid = 5;
    show("F_OFD_SETLK l_pid 5", syscall(SYS_fcntl, a, F_OFD_SETLK, &pid_set));
    show("F_SETLK on a closed descriptor", lock(99, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, NULL));
    int ro = open(path, O_RDONLY);
    show("F_SETLK write on a read-only descriptor", lock(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 10, NULL));
    close(ro);
    show("F_SETLK NULL", syscall(SYS_fcntl, a, F_SETLK, (void *)0));
    show("F_GETLK NULL", syscall(SYS_fcntl, a, F_GETLK, (void *)0));
    show("F_OFD_SETLKW bad pointer", syscall(SYS_fcntl, a, F_OFD_SETLKW, (void *)16));
    show("F_GETFL still a value", syscall(SYS_fcntl, a, F_GETFL) & O_ACCMODE);
    close(a);
    close(b);
    unlink(path);
    return 0;
}

static int hold(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100, NULL) < 0) {
        perror("hold");
        return 1;
    }
    printf("held\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    return 0;
}

static int probe(const char *path)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    long r = lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10, NULL);
    printf("F_SETLK write 10-19: %s\n", r < 0 && (errno == EAGAIN || errno == EACCES) ? "EAGAIN or EACCES" : r < 0 ? error_name(errno) : "granted");
    r = lock(fd, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1, NULL);
    printf("F_OFD_SETLK read 0-0: %s\n", r < 0 ? error_name(errno) : "granted");
    show_get("F_GETLK read 50-149", fd, F_GETLK, F_RDLCK, 50, 100);
    show_get("F_OFD_GETLK write 100-199", fd, F_OFD_GETLK, F_WRLCK, 100, 100);
    show("F_SETLK write 100-199", lock(fd, F_SETLK, F_WRLCK, SEEK_SET, 100, 100, NULL));
    return 0;
}

static volatile sig_atomic_t got;

static void on_signal(int signal) { got = signal; }

static int wait_for(const char *path, int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    long r = lock(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 10, NULL);
    int error = errno;
    printf("F_SETLKW: %s, signal %d\n", r == 0 ? "granted" : error_name(error), (int)got);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2)
        return 2;
    const char *mode = argc > 2 ? argv[2] : "";
    if (strcmp(mode, "hold") == 0)
        return hold(argv[1]);
    if (strcmp(mode, "probe") == 0)
        return probe(argv[1]);
    if (strcmp(mode, "signal") == 0 || strcmp(mode, "restart") == 0)
        return wait_for(argv[1], strcmp(mode, "restart") == 0);
    return one_process(argv[1]);
}
