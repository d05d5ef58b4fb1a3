/* Signals Donjon forwards (SignalForwardingTests): a handler for SIGINT, SIGTERM and SIGUSR1, SIGWINCH ignored,
   then, by argv[1]: "spin" computes until a signal comes, "sleep" blocks in a 20 s nanosleep, "pause" in pause(),
   "ignore" ignores SIGINT too and sleeps, "read" blocks in a read of stdin (EINTR), "restart" does the same with
   SA_RESTART on the handlers, so the read goes on after the handler and returns what stdin then brings. Prints
   "ready" first. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on(int sig) { got = sig; }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "spin";
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on;
    if (strcmp(mode, "restart") == 0)
        sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGWINCH, SIG_IGN);
    if (strcmp(mode, "ignore") == 0)
        signal(SIGINT, SIG_IGN);
    printf("ready\n");
    if (strcmp(mode, "sleep") == 0 || strcmp(mode, "ignore") == 0) {
        struct timespec t = { 20, 0 }, rem;
        int r = nanosleep(&t, &rem);
        printf("nanosleep: %d, EINTR %d, signal %d\n", r, errno == EINTR, got);
    } else if (strcmp(mode, "read") == 0 || strcmp(mode, "restart") == 0) {
        char buffer[64];
        ssize_t n = read(0, buffer, sizeof buffer);
        printf("read: %zd, EINTR %d, signal %d\n", n, n < 0 && errno == EINTR, got);
    } else if (strcmp(mode, "pause") == 0) {
        pause();
        printf("pause returned, signal %d\n", got);
    } else {
        while (!got) {
        }
        printf("computing, saw signal %d\n", got);
    }
    return 42;
}
