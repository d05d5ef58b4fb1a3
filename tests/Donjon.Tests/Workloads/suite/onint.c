/* Signals Donjon forwards (SignalForwardingTests): a handler for SIGINT, SIGTERM and SIGUSR1, SIGWINCH ignored,
   then, by argv[1]: "spin" computes until a signal comes, "sleep" blocks in a 20 s nanosleep, "pause" in pause(),
   "ignore" ignores SIGINT too and sleeps. Prints "ready" first. */
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
