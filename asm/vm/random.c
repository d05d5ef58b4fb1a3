/*
 * asm/vm/random.c -- getrandom inside the keep, from the CPU's own generator (RDRAND; RDSEED as the fallback).
 *
 * Entry point: dj_sys_getrandom(buffer, length, flags), from dj_keep_table (syscall.S).
 *
 * Flow: Linux's checks (flags; a request longer than MAX_RW_COUNT is shortened), then 256 bytes at a time: eight
 * bytes per RDRAND, each tried up to 10 times (Intel's advice: a failure is transient), then RDSEED; copied out
 * through dj_user_write, which refuses what is not the workload's. A fault part-way returns the bytes written so
 * far, as Linux does. The host never sees the bytes. On a CPU model without RDRAND (and when the generator keeps
 * failing before any byte is written), the call goes to the host like any other (the core handler set declares
 * getrandom).
 *
 * Labels: none (C). Register contract: System V, called by dj_syscall_entry (rdi, rsi, rdx = the syscall's
 *   arguments), interrupts off.
 *
 * Untrusted inputs: buffer, length, flags (the workload's).
 */
#include "vm.h"
#include "linux.h"

#define CHUNK          256
#define TRIES          10
#define MAX_RW_COUNT   0x7FFFF000ULL  /* INT_MAX rounded down to a page, as Linux caps every read */

static int random_word(uint64_t *word)
{
    for (int i = 0; i < TRIES; i++)
        if (dj_rdrand64(word))
            return 1;
    if (dj_cpu.rdseed)
        for (int i = 0; i < TRIES; i++)
            if (dj_rdseed64(word))
                return 1;
    return 0;
}

static long from_host(uint64_t buffer, uint64_t length, uint64_t flags)
{
    uint64_t args[DJ_MAX_ARGUMENTS] = { buffer, length, flags, 0, 0, 0 };
    return dj_marshal_syscall(LX_NR_GETRANDOM, args);
}

long dj_sys_getrandom(uint64_t buffer, uint64_t length, uint64_t flags)
{
    if (flags & ~(uint64_t)(LX_GRND_NONBLOCK | LX_GRND_RANDOM | LX_GRND_INSECURE))
        return -LX_EINVAL;
    if ((flags & LX_GRND_INSECURE) && (flags & LX_GRND_RANDOM))
        return -LX_EINVAL;
    if (!dj_cpu.rdrand)
        return from_host(buffer, length, flags);
    if (length > MAX_RW_COUNT)
        length = MAX_RW_COUNT;

    uint64_t chunk[CHUNK / 8];
    uint64_t done = 0;
    long result = 0;
    while (done < length) {
        uint64_t n = length - done < CHUNK ? length - done : CHUNK;
        for (uint64_t i = 0; i < (n + 7) / 8; i++) {
            if (!random_word(&chunk[i])) {
                result = done ? (long)done : from_host(buffer, length, flags);
                goto out;
            }
        }
        long r = dj_user_write(buffer + done, chunk, n);
        if (r) {
            result = done ? (long)done : r;
            goto out;
        }
        done += n;
    }
    result = (long)done;
out:
    memset(chunk, 0, sizeof chunk);
    return result;
}
