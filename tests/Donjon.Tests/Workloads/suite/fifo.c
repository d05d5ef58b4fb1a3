/* Opening a FIFO (FileTests): argv[1] is a FIFO made by mkfifo, argv[2] the mode.
   "threads": a thread's blocking open for writing waits for a reader while the main thread goes on, then the same the
   other way round; O_RDWR and O_NONBLOCK never wait (ENXIO for a writer with no reader); no descriptor shows the
   O_NONBLOCK it was not opened with. The same output natively and in a keep.
   "signal": prints "ready", then blocks in an open for reading until a SIGUSR1 (no SA_RESTART) makes it EINTR.
   "restart": the same under SA_RESTART: the open goes on after the handler, and reads what the writer sends.
   "exit": a thread blocks in the open; the main thread exits with 3 while it waits.
   "probe" (run natively after a keep): whether any reader is left, by an O_WRONLY|O_NONBLOCK open. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *fifo;
static volatile int opened;
static volatile sig_atomic_t got;

static void on(int sig) { got = sig; }

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static void *writer(void *arg)
{
    (void)arg;
    int fd = open(fifo, O_WRONLY);
    opened = 1;
    if (fd < 0) {
        printf("writer open: %s\n", strerror(errno));
        return NULL;
    }
    printf("writer O_NONBLOCK: %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    write(fd, "from the writer thread\n", 23);
    close(fd);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    int fd = open(fifo, O_RDONLY);
    opened = 1;
    if (fd < 0) {
        printf("reader open: %s\n", strerror(errno));
        return NULL;
    }
    char buffer[64];
    ssize_t n = read(fd, buffer, sizeof buffer);
    printf("reader thread read: %.*s", (int)(n > 0 ? n : 0), buffer);
    close(fd);
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    int fd = open(fifo, O_RDONLY);
    printf("the waiting open returned %d\n", fd);
    return NULL;
}

static int threads(void)
{
    pthread_t t;
    opened = 0;
    pthread_create(&t, NULL, writer, NULL);
    pause_ms(300);
    printf("writer still waiting for a reader: %d\n", !opened);
    int fd = open(fifo, O_RDONLY);
    char buffer[64];
    ssize_t n = read(fd, buffer, sizeof buffer);
    pthread_join(t, NULL);
    printf("main read: %.*s", (int)(n > 0 ? n : 0), buffer);
    printf("reader O_NONBLOCK: %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    close(fd);

    opened = 0;
    pthread_create(&t, NULL, reader, NULL);
    pause_ms(300);
    printf("reader still waiting for a writer: %d\n", !opened);
    fd = open(fifo, O_WRONLY);
    write(fd, "from the main thread\n", 21);
    close(fd);
    pthread_join(t, NULL);

    fd = open(fifo, O_RDWR);
    printf("O_RDWR opens at once: %d\n", fd >= 0);
    close(fd);
    fd = open(fifo, O_WRONLY | O_NONBLOCK);
    printf("O_WRONLY|O_NONBLOCK with no reader: %d %s\n", fd, fd < 0 ? strerror(errno) : "");
    fd = open(fifo, O_RDONLY | O_NONBLOCK);
    printf("O_RDONLY|O_NONBLOCK opens at once: %d, O_NONBLOCK %d\n", fd >= 0, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    int w = open(fifo, O_WRONLY);
    printf("O_WRONLY with a reader opens at once: %d, O_NONBLOCK %d\n", w >= 0, (fcntl(w, F_GETFL) & O_NONBLOCK) != 0);
    close(w);
    close(fd);

    fd = open("/dev/null", O_WRONLY);
    printf("/dev/null O_NONBLOCK: %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 3)
        return 2;
    fifo = argv[1];
    const char *mode = argv[2];
    if (strcmp(mode, "threads") == 0)
        return threads();
    if (strcmp(mode, "probe") == 0) {
        int fd = open(fifo, O_WRONLY | O_NONBLOCK);
        printf("a reader is left: %s\n", fd >= 0 ? "yes" : strerror(errno));
        return 0;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on;
    if (strcmp(mode, "restart") == 0)
        sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    if (strcmp(mode, "exit") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, waiter, NULL);
        pause_ms(300);
        printf("exiting while a thread waits\n");
        _exit(3);
    }
    printf("ready\n");
    int fd = open(fifo, O_RDONLY);
    int error = errno;
    printf("open: %s, EINTR %d, signal %d\n", fd >= 0 ? "ok" : "failed", fd < 0 && error == EINTR, got);
    if (fd >= 0) {
        char buffer[64];
        ssize_t n = read(fd, buffer, sizeof buffer);
        printf("read: %.*s", (int)(n > 0 ? n : 0), buffer);
    }
    return 42;
}
