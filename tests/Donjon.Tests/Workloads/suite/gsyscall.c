/* Calls libc's generic syscall() (a dynamic site: the number is not a constant `mov eax` before its `syscall`) in
   loops, from several threads, with signals arriving during the calls, then ends with syscall(SYS_exit_group, 3).
   The same output natively and in a keep (tests/Donjon.Tests/Keeps/SyscallPatchingTests.cs). argv[1] = the loop
   count (100000 by default); argv[2] = "stats": the process keep's patching counters on stderr (the wide form of the
   shim-private DJ_NR_PATCH_STATS, asm/process/process.h; natively and in the VM keep -ENOSYS).
   Also: with glibc, a thread started by syscall(SYS_clone, ...) itself, which ends by syscall(SYS_exit, 0): clone
   and exit through a patched generic site still take the trap (asm/process/patch.S, "The rule"). */
#define _GNU_SOURCE
#include <errno.h>
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DJ_NR_PATCH_STATS 0x3D0A0001L
#define DJ_PATCH_STATS_WIDE 0x3D0A5157L

static long count;

static long futex(volatile uint32_t *word, int op, uint32_t value)
{
    return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static long loops(void)
{
    long bad = 0;
    long parent = syscall(SYS_getppid), tid = syscall(SYS_gettid);
    if (tid != gettid())
        bad++;
    uint32_t word = 7;
    for (long i = 0; i < count; i++) {
        if (syscall(SYS_getppid) != parent)
            bad++;
        if (syscall(SYS_gettid) != tid)
            bad++;
        if (futex(&word, FUTEX_WAKE_PRIVATE, 1) != 0)
            bad++;
        if ((i & 63) == 0 && (futex(&word, FUTEX_WAIT_PRIVATE, 8) != -1 || errno != EAGAIN))
            bad++;
    }
    return bad;
}

static void *thread_loops(void *argument)
{
    (void)argument;
    return (void *)loops();
}

/* Two threads hand a token back and forth through syscall(SYS_futex): waits that block, wakes that wake. */
static volatile uint32_t token;
static long rounds;

static void *ping(void *argument)
{
    uint32_t me = (uint32_t)(uintptr_t)argument;
    for (long i = 0; i < rounds; i++) {
        while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != me)
            futex(&token, FUTEX_WAIT_PRIVATE, 1 - me);
        __atomic_store_n(&token, 1 - me, __ATOMIC_RELEASE);
        futex(&token, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

static volatile sig_atomic_t handled;
static void on_signal(int signal)
{
    (void)signal;
    handled++;
}

/* A wait in syscall(SYS_futex) that a signal interrupts: restarted under SA_RESTART (it ends when woken), EINTR
   without. The helper signals every 10 ms until the waiter says it is done, then (restart case) wakes it. */
static volatile uint32_t gate, done;
static pthread_t waiter;
static int restarting;

static void *signaller(void *argument)
{
    (void)argument;
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int sent = 0; !__atomic_load_n(&done, __ATOMIC_ACQUIRE); sent++) {
        nanosleep(&pause, NULL);
        pthread_kill(waiter, SIGUSR1);
        if (restarting && sent >= 3 && handled > 0) {
            __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
            futex(&gate, FUTEX_WAKE_PRIVATE, 1);
        }
    }
    return NULL;
}

static void interrupted_wait(int restart)
{
    struct sigaction action = { 0 };
    action.sa_handler = on_signal;
    action.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &action, NULL);
    handled = 0;
    gate = 0;
    done = 0;
    restarting = restart;
    waiter = pthread_self();
    pthread_t helper;
    pthread_create(&helper, NULL, signaller, NULL);
    long result;
    int error;
    do {
        result = futex(&gate, FUTEX_WAIT_PRIVATE, 0);
        error = errno;
    } while (restart ? __atomic_load_n(&gate, __ATOMIC_ACQUIRE) == 0 : !(result == -1 && error == EINTR));
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    pthread_join(helper, NULL);
    if (restart)
        printf("SA_RESTART wait: %s, handler ran: %s\n", result == 0 || (result == -1 && error == EAGAIN) ? "woken" : strerror(error),
               handled > 0 ? "yes" : "no");
    else
        printf("plain wait: %s, handler ran: %s\n", result == -1 ? strerror(error) : "returned", handled > 0 ? "yes" : "no");
}

#ifdef __GLIBC__
/* A thread made by syscall(SYS_clone) itself: it returns from glibc's syscall() on its own stack, whose top word is
   the address of clone_child (glibc's wrapper ends with `ret`), and ends with syscall(SYS_exit, 0). */
static volatile uint32_t child_tid_word = 1;
static volatile long child_result = -1;
static _Noreturn void clone_child(void)
{
    long parent = syscall(SYS_getppid), same = 0;
    for (int i = 0; i < 1000; i++)
        same += syscall(SYS_getppid) == parent;
    child_result = same;
    syscall(SYS_exit, 0);
    __builtin_unreachable();
}

static void raw_clone(void)
{
    static uint64_t stack[8192] __attribute__((aligned(16)));
    uint64_t *top = &stack[8192 - 2];
    top[0] = (uint64_t)(uintptr_t)clone_child;
    unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                          CLONE_CHILD_CLEARTID;
    long tid = syscall(SYS_clone, flags, top, NULL, &child_tid_word, 0);
    if (tid <= 0) {
        printf("clone through syscall(): failed (%ld)\n", tid);
        return;
    }
    while (__atomic_load_n(&child_tid_word, __ATOMIC_ACQUIRE) != 0)
        syscall(SYS_futex, &child_tid_word, FUTEX_WAIT, 1, NULL, NULL, 0);
    printf("clone through syscall(): a thread that made %ld equal calls and ended by syscall(SYS_exit)\n", child_result);
}
#else
static void raw_clone(void) { printf("clone through syscall(): a thread that made 1000 equal calls and ended by syscall(SYS_exit)\n"); }
#endif

int main(int argc, char **argv)
{
    count = argc > 1 ? atol(argv[1]) : 100000;
    setvbuf(stdout, NULL, _IONBF, 0);

    printf("main thread loops: %ld bad answers\n", loops());

    pthread_t threads[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&threads[i], NULL, thread_loops, NULL);
    long bad = 0;
    for (int i = 0; i < 3; i++) {
        void *result;
        pthread_join(threads[i], &result);
        bad += (long)result;
    }
    printf("three threads' loops: %ld bad answers\n", bad);

    rounds = count / 50 + 100;
    pthread_t a, b;
    pthread_create(&a, NULL, ping, (void *)0);
    pthread_create(&b, NULL, ping, (void *)1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("futex ping-pong: %ld rounds, token %u\n", rounds, token);

    /* A timer's signals arriving during the loops' calls (SA_RESTART). */
    struct sigaction action = { 0 };
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, NULL);
    struct itimerval every = { { 0, 500 }, { 0, 500 } }, off = { 0 };
    handled = 0;
    setitimer(ITIMER_REAL, &every, NULL);
    bad = loops();
    struct timespec pause = { 0, 5 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    setitimer(ITIMER_REAL, &off, NULL);
    printf("loops under a 0.5 ms timer: %ld bad answers, signals handled: %s\n", bad, handled > 0 ? "yes" : "no");

    interrupted_wait(1);
    interrupted_wait(0);
    raw_clone();

    if (argc > 2 && strcmp(argv[2], "stats") == 0) {
        unsigned long stats[6] = { 0 };
        long result;
        __asm__ volatile("syscall" : "=a"(result) : "a"(DJ_NR_PATCH_STATS), "D"(stats), "S"(DJ_PATCH_STATS_WIDE)
                         : "rcx", "r11", "memory");
        if (result == 0)
            fprintf(stderr, "patch stats: enabled=%lu patched=%lu refused=%lu traps=%lu direct=%lu dynamic=%lu\n",
                    stats[0], stats[1], stats[2], stats[3], stats[4], stats[5]);
        else
            fprintf(stderr, "patch stats: none (%ld)\n", result);
    }
    printf("exit_group through syscall()\n");
    syscall(SYS_exit_group, 3);
    return 0;
}
