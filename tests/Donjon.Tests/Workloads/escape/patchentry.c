/*
 * patchentry.c -- a hostile workload against the process keep's direct entry of patched syscall sites
 * (asm/process/patch.S; tests/Donjon.Tests/Keeps/SyscallPatchingTests.cs).
 *
 * It needs no help from outside: it makes its own `mov eax, 39; syscall` (getpid) site trap twice, so that the keep
 * patches it, then reads the patch like any workload could: the site's first byte is now a `jmp rel32` to a stub
 * slot, whose quadword at +48 is the shim's direct entry. It then jumps into the stub and the entry with crafted
 * registers and stack, and compares each answer with what a trapped `syscall` gives for the same registers.
 * Prints one line per attempt, "same <what>" or "DIFF <what> <details>", then "<n> differences", and exits 0.
 * argv[1] = a host file the keep must not be able to read, argv[2] = a path no program may create.
 *
 * Attempts
 *   entry-openat / entry-execve   the entry with a published slot, rax = openat / execve and their arguments:
 *                                 the entry serves the slot's own number (getpid), never rax
 *   entry-crafted-stack           the same with rsp = a wild value: the entry never touches the workload's stack
 *   entry-fake-slot               the entry with rcx = a slot forged in the workload's memory (number openat, resume
 *                                 address its own): refused, the workload faults at address 0 (SIGSEGV)
 *   entry-shim-slot               rcx = the entry itself (inside the shim): refused the same way
 *   stub-trap-openat              the slot's `syscall` (+23) with rax = openat: trapped, so the keep's openat, the
 *                                 same answer as the workload's own trapped openat
 *   dynamic-*                     a dynamic site of its own (`mov edx, imm32; syscall`, the number the caller's
 *                                 eax), patched the same way (a `jmp` to the stub's copied instructions at +7):
 *                                 the entry with that slot and rax = openat serves the keep's openat (what a
 *                                 trapped openat gives); rax = execve, an x32 getpid, a shim-private number: each
 *                                 goes to the trap, the same answers as the workload's own trapped calls; the
 *                                 stub's own `syscall` (+0) with rax = execve: trapped, the same
 *   gs-forged                     (when wrgsbase is allowed) GS at a forged record, then at unmapped memory: the
 *                                 site still answers getpid, through the trap
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The site, in assembly so that its bytes are exactly `b8 27 00 00 00 0f 05`. After the syscall (site + 7) it
   returns normally, or, after a crafted jump, restores the saved stack pointer and returns to crafted()'s caller. */
extern long site_getpid(void);
extern char site_getpid_site[];
extern long site_dynamic(long number);
extern char site_dynamic_site[];
extern long crafted(uint64_t target, uint64_t rcx, uint64_t rax, uint64_t rdi, uint64_t rsi, uint64_t rdx, uint64_t rsp);
__asm__(
    ".text\n"
    ".globl site_getpid\n"
    ".globl site_getpid_site\n"
    "site_getpid:\n"
    "site_getpid_site:\n"
    "    .byte 0xb8, 0x27, 0x00, 0x00, 0x00\n"  /* mov eax, 39 */
    "    .byte 0x0f, 0x05\n"                     /* syscall */
    "site_getpid_tail:\n"
    "    cmpb $0, crafted_active(%rip)\n"
    "    jne 1f\n"
    "    ret\n"
    "1:  movb $0, crafted_active(%rip)\n"
    "    mov crafted_saved_rsp(%rip), %rsp\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n"
    /* A dynamic site (the number is the caller's eax): `mov edx, 0x5151; syscall`, then site_getpid's tail. */
    ".globl site_dynamic\n"
    ".globl site_dynamic_site\n"
    "site_dynamic:\n"
    "    mov %edi, %eax\n"
    "site_dynamic_site:\n"
    "    .byte 0xba, 0x51, 0x51, 0x00, 0x00\n"  /* mov edx, 0x5151 */
    "    .byte 0x0f, 0x05\n"                     /* syscall */
    "    jmp site_getpid_tail\n"
    /* crafted(target, rcx, rax, rdi, rsi, rdx, rsp): jumps to target with those registers; the entry's answer comes
       back through site_getpid's resume. SysV: rdi, rsi, rdx, rcx, r8, r9, [rsp+8]. */
    ".globl crafted\n"
    "crafted:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, crafted_saved_rsp(%rip)\n"
    "    movb $1, crafted_active(%rip)\n"
    "    mov %rdi, %r11\n"                      /* target */
    "    mov %rdx, %rax\n"
    "    mov 56(%rsp), %r12\n"                  /* the crafted rsp (7th argument, after 6 pushes + return) */
    "    mov %rcx, %rdi\n"
    "    mov %rsi, %rcx\n"                      /* rcx = the slot */
    "    mov %r8, %rsi\n"
    "    mov %r9, %rdx\n"
    "    mov $0x1111, %r10\n mov $0x2222, %r8\n mov $0x3333, %r9\n"
    "    mov %r12, %rsp\n"
    "    jmp *%r11\n"
    ".data\n"
    "crafted_active: .byte 0\n"
    ".balign 8\n"
    "crafted_saved_rsp: .quad 0\n"
    ".text\n");

static long trapped(long number, long a0, long a1, long a2)
{
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a0), "S"(a1), "d"(a2) : "rcx", "r11", "memory");
    return result;
}

static int differences;
static void compare(const char *what, long got, long expected)
{
    if (got == expected) {
        printf("same %s\n", what);
    } else {
        printf("DIFF %s got %ld expected %ld\n", what, got, expected);
        differences++;
    }
}

static sigjmp_buf fault_jump;
static volatile uint64_t fault_rip;
static void on_fault(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)info;
    fault_rip = (uint64_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
    siglongjmp(fault_jump, 1);
}

/* crafted() that is expected to fault at address 0 (the entry's answer to a wild jump): 1 when it did. */
static int faults_at_zero(uint64_t target, uint64_t rcx, uint64_t rax)
{
    static char stack[16384] __attribute__((aligned(16)));
    if (sigsetjmp(fault_jump, 1) == 0) {
        crafted(target, rcx, rax, 0, 0, 0, (uint64_t)(stack + sizeof stack));
        return 0;
    }
    __asm__ volatile("movb $0, crafted_active(%%rip)" ::: "memory");
    return fault_rip == 0;
}

static char secret_bytes[256];

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: patchentry SECRET-FILE MARKER-PATH\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction action = { 0 };
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    sigaction(SIGILL, &action, NULL);

    long pid = getpid();
    compare("site-before", site_getpid(), pid);
    compare("site-again", site_getpid(), pid);
    uint8_t *site = (uint8_t *)site_getpid_site;
    if (site[0] != 0xE9) {
        printf("DIFF not-patched first byte %02x\n", site[0]);
        printf("1 differences\n");
        return 0;
    }
    printf("patched\n");
    int32_t rel;
    memcpy(&rel, site + 1, 4);
    uint64_t slot = (uint64_t)site + 5 + (int64_t)rel, entry;
    memcpy(&entry, (void *)(slot + 48), 8);
    compare("site-patched", site_getpid(), pid);

    char *secret = argv[1], *marker = argv[2];
    static char *const sh_argv[] = { "sh", "-c", "echo escaped", NULL };
    static char wild_stack[4096] __attribute__((aligned(16)));

    /* The entry serves the slot's number, whatever rax says. */
    compare("entry-openat", crafted(entry, slot, SYS_openat, (uint64_t)AT_FDCWD, (uint64_t)secret, O_RDONLY,
                                    (uint64_t)(wild_stack + sizeof wild_stack)), pid);
    compare("entry-execve", crafted(entry, slot, SYS_execve, (uint64_t)"/bin/sh", (uint64_t)sh_argv, 0,
                                    (uint64_t)(wild_stack + sizeof wild_stack)), pid);
    /* A wild stack pointer: the entry never reads or writes the workload's stack. */
    compare("entry-crafted-stack", crafted(entry, slot, SYS_openat, 0, 0, 0, 0x10), pid);
    compare("entry-crafted-stack-high", crafted(entry, slot, SYS_openat, 0, 0, 0, 0x7ffffffff000ull - 8), pid);

    /* A slot forged in the workload's memory: not one the shim published. */
    uint8_t *forged = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(forged, (void *)slot, 64);
    uint64_t own_resume = (uint64_t)site + 7, openat_number = SYS_openat;
    memcpy(forged + 40, &own_resume, 8);
    memcpy(forged + 56, &openat_number, 4);
    compare("entry-fake-slot", faults_at_zero(entry, (uint64_t)forged, SYS_openat), 1);
    compare("entry-misaligned-slot", faults_at_zero(entry, slot + 8, SYS_openat), 1);
    compare("entry-shim-slot", faults_at_zero(entry, entry, SYS_openat), 1);

    /* The stub's own `syscall`, with any rax: a trapped call like the workload's own. */
    long via_stub = crafted(slot + 23, 0, SYS_openat, (uint64_t)AT_FDCWD, (uint64_t)secret, O_RDONLY,
                            (uint64_t)(wild_stack + sizeof wild_stack));
    long own = trapped(SYS_openat, AT_FDCWD, (long)secret, O_RDONLY);
    compare("stub-trap-openat", via_stub >= 0 ? 0 : via_stub, own >= 0 ? 0 : own);
    if (own >= 0) {
        long n = read((int)own, secret_bytes, sizeof secret_bytes - 1);
        printf("secret readable through the keep's own openat: %ld bytes\n", n);
    }
    long exec_via_stub = crafted(slot + 23, 0, SYS_execve, (uint64_t)"/bin/sh", (uint64_t)sh_argv, 0,
                                 (uint64_t)(wild_stack + sizeof wild_stack));
    long exec_own = trapped(SYS_execve, (long)"/bin/sh", (long)sh_argv, 0);
    compare("stub-trap-execve", exec_via_stub, exec_own);

    /* The dynamic site: patched after two getpid traps, then its slot and the entry with other numbers. */
    compare("dynamic-before", site_dynamic(SYS_getpid), pid);
    compare("dynamic-again", site_dynamic(SYS_getpid), pid);
    uint8_t *dynamic = (uint8_t *)site_dynamic_site;
    if (dynamic[0] != 0xE9) {
        printf("DIFF dynamic-not-patched first byte %02x\n", dynamic[0]);
        differences++;
    } else {
        printf("dynamic patched\n");
        memcpy(&rel, dynamic + 1, 4);
        uint64_t dslot = (uint64_t)dynamic + 5 + (int64_t)rel - 7;
        compare("dynamic-patched", site_dynamic(SYS_getpid), pid);
        compare("dynamic-getppid", site_dynamic(SYS_getppid), getppid());
        long entry_openat = crafted(entry, dslot, SYS_openat, (uint64_t)AT_FDCWD, (uint64_t)secret, O_RDONLY,
                                    (uint64_t)(wild_stack + sizeof wild_stack));
        long own_openat = trapped(SYS_openat, AT_FDCWD, (long)secret, O_RDONLY);
        compare("dynamic-entry-openat", entry_openat >= 0 ? 0 : entry_openat, own_openat >= 0 ? 0 : own_openat);
        compare("dynamic-entry-execve", crafted(entry, dslot, SYS_execve, (uint64_t)"/bin/sh", (uint64_t)sh_argv, 0,
                                                (uint64_t)(wild_stack + sizeof wild_stack)),
                trapped(SYS_execve, (long)"/bin/sh", (long)sh_argv, 0));
        compare("dynamic-entry-x32", crafted(entry, dslot, 0x40000000 | SYS_getpid, 0, 0, 0,
                                             (uint64_t)(wild_stack + sizeof wild_stack)),
                trapped(0x40000000 | SYS_getpid, 0, 0, 0));
        compare("dynamic-entry-private", crafted(entry, dslot, 0x3D0A0000, 0, 0, 0,
                                                 (uint64_t)(wild_stack + sizeof wild_stack)),
                trapped(0x3D0A0000, 0, 0, 0));
        compare("dynamic-entry-high-bits", crafted(entry, dslot, 0xFFFFFFFF00000000ull | SYS_getpid, 0, 0, 0,
                                                   (uint64_t)(wild_stack + sizeof wild_stack)),
                trapped((long)(0xFFFFFFFF00000000ull | SYS_getpid), 0, 0, 0));
        compare("dynamic-stub-trap-execve", crafted(dslot, 0, SYS_execve, (uint64_t)"/bin/sh", (uint64_t)sh_argv, 0,
                                                    (uint64_t)(wild_stack + sizeof wild_stack)),
                trapped(SYS_execve, (long)"/bin/sh", (long)sh_argv, 0));
        compare("dynamic-entry-crafted-stack", crafted(entry, dslot, SYS_getpid, 0, 0, 0, 0x10), pid);
    }

    /* GS forged with wrgsbase (when the kernel allows it to user space). */
    static uint8_t fake_block[0x4000] __attribute__((aligned(4096)));
    uint64_t fake = (uint64_t)fake_block;
    memcpy(fake_block + 0x3F00, &fake, 8);
    if (sigsetjmp(fault_jump, 1) == 0) {
        __asm__ volatile("wrgsbase %0" ::"r"(fake));
        compare("gs-forged-record", site_getpid(), pid);
        uint64_t unmapped = 0x10000;
        __asm__ volatile("wrgsbase %0" ::"r"(unmapped));
        compare("gs-unmapped", site_getpid(), pid);
        printf("gs forged\n");
    } else {
        printf("no wrgsbase\n");
    }
    compare("site-after", site_getpid(), pid);

    printf("marker %s\n", access(marker, F_OK) == 0 ? "EXISTS" : "absent");
    printf("%d differences\n", differences);
    return 0;
}
