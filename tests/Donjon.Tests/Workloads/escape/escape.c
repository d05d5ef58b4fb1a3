/*
 * escape.c -- a hostile workload for the process keep's escape suite (tests/Donjon.Tests/Keeps/EscapeTests.cs).
 *
 * It prints "ready", then reads one line from stdin that the test found by looking at the shim from outside
 * (/proc/<shim>/maps and the shim's file):
 *     <gadget> <block> <text> <rodata> <bss> <donjon pid>      (hexadecimal, except the pid)
 * where <gadget> is the address of a `syscall; ret` sequence in the shim's text and <block> the shared block.
 * It then does what argv[1] says, the way a workload that had found the shim would:
 *   probe            every locally or host-served call that takes a pointer, on each shim address and on an
 *                    address that is surely unmapped: prints "same <call> <what>" or "DIFF <call> <what> ...".
 *   openat PATH      openat(PATH) through the gadget; prints what it read
 *   connect PORT     socket + connect to 127.0.0.1:PORT through the gadget
 *   kill             kill(donjon pid, SIGKILL) through the gadget
 *   fork             clone(SIGCHLD) through the gadget; the child spins forever
 *   execve PATH      execve("/bin/sh", ["sh", "-c", "echo escaped > PATH"]) through the gadget
 *   ptrace           ptrace(PTRACE_ATTACH, donjon pid) through the gadget
 *   forge            writes malformed and racing requests straight into the block, then a FAULT item with
 *                    signal 53, then exit_group(0) through the gadget
 * Built with -mno-red-zone: the gadget is entered with `call`, which pushes below the stack pointer.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long gadget;

static long via_shim(long number, long a0, long a1, long a2, long a3, long a4, long a5)
{
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    long result;
    __asm__ volatile("call *%[g]"
                     : "=a"(result)
                     : [g] "r"(gadget), "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

/* A raw syscall from the workload's own text: trapped and served by the keep. */
static long keep_call(long number, long a0, long a1, long a2, long a3, long a4, long a5)
{
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static int differences;

static void compare(const char *call, const char *what, long at_shim, long at_unmapped)
{
    if (at_shim == at_unmapped) {
        printf("same %s %s\n", call, what);
    } else {
        printf("DIFF %s %s: %ld at the shim, %ld unmapped\n", call, what, at_shim, at_unmapped);
        differences++;
    }
}

static void probe(const char *what, unsigned long target, unsigned long unmapped)
{
    unsigned long page = target & ~4095UL, upage = unmapped & ~4095UL;
#define PROBE(name, nr, a0, a1, a2, a3, a4, a5, ua0, ua1, ua2, ua3, ua4, ua5) \
    compare(name, what, keep_call(nr, a0, a1, a2, a3, a4, a5), keep_call(nr, ua0, ua1, ua2, ua3, ua4, ua5))
    PROBE("rt_sigprocmask(bad how)", SYS_rt_sigprocmask, 99, target, 0, 8, 0, 0, 99, unmapped, 0, 8, 0, 0);
    PROBE("rt_sigprocmask(SIG_BLOCK)", SYS_rt_sigprocmask, SIG_BLOCK, target, 0, 8, 0, 0, SIG_BLOCK, unmapped, 0, 8, 0, 0);
    PROBE("rt_sigprocmask(oldset)", SYS_rt_sigprocmask, SIG_BLOCK, 0, target, 8, 0, 0, SIG_BLOCK, 0, unmapped, 8, 0, 0);
    PROBE("rt_sigaction(act)", SYS_rt_sigaction, SIGUSR1, target, 0, 8, 0, 0, SIGUSR1, unmapped, 0, 8, 0, 0);
    PROBE("rt_sigaction(oldact)", SYS_rt_sigaction, SIGUSR1, 0, target, 8, 0, 0, SIGUSR1, 0, unmapped, 8, 0, 0);
    PROBE("sigaltstack", SYS_sigaltstack, target, 0, 0, 0, 0, 0, unmapped, 0, 0, 0, 0, 0);
    PROBE("arch_prctl(ARCH_GET_FS)", SYS_arch_prctl, 0x1003, target, 0, 0, 0, 0, 0x1003, unmapped, 0, 0, 0, 0);
    PROBE("mprotect", SYS_mprotect, page, 4096, 1, 0, 0, 0, upage, 4096, 1, 0, 0, 0);
    PROBE("madvise", SYS_madvise, page, 4096, 0, 0, 0, 0, upage, 4096, 0, 0, 0, 0);
    PROBE("mremap", SYS_mremap, page, 4096, 4096, 0, 0, 0, upage, 4096, 4096, 0, 0, 0);
    PROBE("mmap(MAP_FIXED_NOREPLACE)", SYS_mmap, page, 4096, 1, 0x100022, -1, 0, upage, 4096, 1, 0x100022, -1, 0);
    PROBE("write(bad fd)", SYS_write, 999, target, 8, 0, 0, 0, 999, unmapped, 8, 0, 0, 0);
    PROBE("write(stderr, 0 bytes)", SYS_write, 2, target, 0, 0, 0, 0, 2, unmapped, 0, 0, 0, 0);
    PROBE("nanosleep", SYS_nanosleep, target, 0, 0, 0, 0, 0, unmapped, 0, 0, 0, 0, 0);
    PROBE("clock_gettime", SYS_clock_gettime, 1, target, 0, 0, 0, 0, 1, unmapped, 0, 0, 0, 0);
    PROBE("uname", SYS_uname, target, 0, 0, 0, 0, 0, unmapped, 0, 0, 0, 0, 0);
    PROBE("munmap", SYS_munmap, page, 4096, 0, 0, 0, 0, upage, 4096, 0, 0, 0, 0);
}

/* docs/protocol.md §3 */
#define BLOCK_REQUEST_SIZE 0x14
#define BLOCK_DOORBELL 0x18
#define BLOCK_REQUEST_SEQUENCE 0x24
#define BLOCK_ITEMS 64

static uint64_t seed = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* Rings the host with whatever is in the block, racing it: the item keeps changing until the host answers. */
static int ring(volatile uint8_t *block, unsigned long doorbell, int race)
{
    __atomic_exchange_n((volatile uint32_t *)(block + BLOCK_DOORBELL), 1u, __ATOMIC_SEQ_CST);
    via_shim(SYS_futex, (long)doorbell, 1 /* FUTEX_WAKE */, 1, 0, 0, 0);
    for (unsigned long spins = 0; spins < 4000000000ul; spins++) {
        if (*(volatile uint32_t *)(block + BLOCK_DOORBELL) == 2) {
            *(volatile uint32_t *)(block + BLOCK_DOORBELL) = 0;
            return 1;
        }
        if (race)
            block[BLOCK_ITEMS + next_random() % 512] = (uint8_t)next_random();
        __builtin_ia32_pause();
    }
    return 0;
}

static void forge(volatile uint8_t *block)
{
    unsigned long doorbell = (unsigned long)(block + BLOCK_DOORBELL);
    int answered = 0;
    for (int i = 0; i < 2000; i++) {
        volatile uint8_t *item = block + BLOCK_ITEMS;
        for (int k = 0; k < 512; k++)
            item[k] = (uint8_t)next_random();
        uint32_t kind = (uint32_t)(next_random() % 3);
        kind = kind == 0 ? 1 : kind == 1 ? 4 + (uint32_t)(next_random() % 60) : 1;   /* never EXIT or FAULT */
        uint32_t size = (uint32_t)(next_random() % 4 == 0 ? next_random() : next_random() % 600);
        *(volatile uint32_t *)(item + 0) = size;
        *(volatile uint32_t *)(item + 4) = kind;
        *(volatile uint32_t *)(block + BLOCK_REQUEST_SIZE) = (uint32_t)(next_random() % 4 == 0 ? next_random() : next_random() % 700);
        *(volatile uint32_t *)(block + BLOCK_REQUEST_SEQUENCE) += 1;
        answered += ring(block, doorbell, i % 2);
    }
    printf("answered %d of 2000 malformed requests\n", answered);
    fflush(stdout);

    /* A FAULT item {size 40, kind 3, signal 53, vector -1, address, rip, code}, as if the shim had sent it. */
    volatile uint8_t *item = block + BLOCK_ITEMS;
    *(volatile uint32_t *)(item + 0) = 40;
    *(volatile uint32_t *)(item + 4) = 3;
    *(volatile uint32_t *)(item + 8) = 53;
    *(volatile int32_t *)(item + 12) = -1;
    *(volatile uint64_t *)(item + 16) = 0xdead;
    *(volatile uint64_t *)(item + 24) = 0xbeef;
    *(volatile uint64_t *)(item + 32) = 1;
    *(volatile uint32_t *)(block + BLOCK_REQUEST_SIZE) = 40;
    *(volatile uint32_t *)(block + BLOCK_REQUEST_SEQUENCE) += 1;
    ring(block, doorbell, 0);
    via_shim(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    unsigned long block, text, rodata, bss;
    long donjon;
    if (argc < 2)
        return 2;
    printf("ready\n");
    fflush(stdout);
    if (scanf("%lx %lx %lx %lx %lx %ld", &gadget, &block, &text, &rodata, &bss, &donjon) != 6) {
        printf("bad input\n");
        return 2;
    }
    const char *mode = argv[1];
    const char *operand = argc > 2 ? argv[2] : "";

    if (strcmp(mode, "probe") == 0) {
        const unsigned long unmapped = 0x10000;     /* below vm.mmap_min_addr: never mapped */
        probe("text", text, unmapped);
        probe("rodata", rodata, unmapped);
        probe("bss", bss, unmapped);
        probe("block", block, unmapped);
        printf("%d differences\n", differences);
        return 0;
    }
    if (strcmp(mode, "openat") == 0) {
        long fd = via_shim(SYS_openat, -100, (long)operand, 0, 0, 0, 0);
        char buffer[256] = { 0 };
        long n = fd >= 0 ? via_shim(SYS_read, fd, (long)buffer, sizeof buffer - 1, 0, 0, 0) : fd;
        printf("openat gave %ld, read %ld: %s\n", fd, n, buffer);
        return 0;
    }
    if (strcmp(mode, "connect") == 0) {
        long s = via_shim(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0, 0, 0, 0);
        unsigned char address[16] = { 2, 0, 0, 0, 127, 0, 0, 1 };
        int port = atoi(operand);
        address[2] = (unsigned char)(port >> 8);
        address[3] = (unsigned char)port;
        long r = via_shim(SYS_connect, s, (long)address, sizeof address, 0, 0, 0);
        printf("socket gave %ld, connect %ld\n", s, r);
        return 0;
    }
    if (strcmp(mode, "kill") == 0) {
        long r = via_shim(SYS_kill, donjon, SIGKILL, 0, 0, 0, 0);
        printf("kill gave %ld\n", r);
        return 0;
    }
    if (strcmp(mode, "fork") == 0) {
        long pid = via_shim(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
        if (pid == 0)
            for (;;)
                __builtin_ia32_pause();
        printf("clone gave %ld\n", pid);
        return 0;
    }
    if (strcmp(mode, "execve") == 0) {
        char command[512];
        snprintf(command, sizeof command, "echo escaped > '%s'", operand);
        const char *args[] = { "sh", "-c", command, NULL };
        const char *env[] = { NULL };
        long r = via_shim(SYS_execve, (long)"/bin/sh", (long)args, (long)env, 0, 0, 0);
        printf("execve gave %ld\n", r);
        return 0;
    }
    if (strcmp(mode, "ptrace") == 0) {
        long r = via_shim(SYS_ptrace, 16 /* PTRACE_ATTACH */, donjon, 0, 0, 0, 0);
        printf("ptrace gave %ld\n", r);
        return 0;
    }
    if (strcmp(mode, "forge") == 0) {
        forge((volatile uint8_t *)block);
        return 0;
    }
    printf("unknown mode %s\n", mode);
    return 2;
}
