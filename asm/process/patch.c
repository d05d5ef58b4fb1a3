/*
 * asm/process/patch.c -- syscall-site patching in the process keep: the policy and the writes. The rule, the
 * stub and the direct entry's register contract are described at the top of patch.S; this file decides which
 * sites qualify, writes the stubs and the sites, and keeps the counters.
 *
 * Entry points
 *   dj_patch_configure(envp)        _start, on the kernel's stack: DONJON_PROCESS_PATCH=0 in the shim's
 *                                   environment (the host passes it on) turns patching off
 *   dj_patch_init()                 _start, before the filter: the thread blocks' range, thread 0's GS base
 *   dj_patch_consider(number, uc)   dj_sigsys, after each trapped call: patch its site when the rule allows
 *   dj_patch_resume()               dj_sigsys: DJ_NR_PATCH_RESUME, a direct call's way back through the trap
 *   dj_patch_stats(buffer)          dj_sigsys: DJ_NR_PATCH_STATS, the counters
 *   dj_patch_fault(siginfo, uc)     dj_fault: an instruction fetch that faulted only because a page was
 *                                   read-write for a patch is retried; a fault in the entry's GS read falls
 *                                   back to the trap
 *
 * The writes (Intel SDM vol. 3, 8.1.3 "Handling Self- and Cross-Modifying Code")
 *   A page is never writable and executable at once. To write a stub or a site, the shim makes the page
 *   PROT_READ|PROT_WRITE, writes, and makes it PROT_READ|PROT_EXEC again (memory.c, under the memory lock).
 *   Taking the execute permission away is a TLB shootdown: before mprotect returns, every CPU that runs a thread
 *   of the keep has taken an interrupt (its return is serializing) and can no longer fetch from the page. So no
 *   processor executes the bytes while they change, and each fetches them again only after a page fault or a
 *   context switch, both serializing: the SDM's cross-modifying protocol, with the kernel as the synchronizer.
 *   A thread that runs into the page meanwhile takes SIGSEGV (SEGV_ACCERR, an instruction fetch): dj_fault asks
 *   dj_patch_fault, which waits until the window is closed and retries the instruction, once per window, so a
 *   real fault still reaches the workload after at most one retry. While the page is read-write the workload's
 *   own stores to it succeed instead of faulting; the window is a few microseconds, once per site.
 *
 * Untrusted inputs: the trapped context's RIP and the bytes there (read through dj_user_read, from the workload's
 *   ranges only), the stats buffer pointer (dj_user_write).
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

#define REACH 0x7FF00000ull                 /* a rel32 jump's reach, less a margin */

extern char dj_patch_entry[], dj_patch_gs_load[], dj_patch_gs_bad[];

_Static_assert(sizeof(struct dj_thread) + 16 <= DJ_PATCH_AREA_OFFSET, "the patch record follows the thread record");
_Static_assert(DJ_PATCH_AREA_OFFSET + DJ_PATCH_AREA_SIZE <= DJ_THREAD_STATE_SIZE, "the patch record fits");
_Static_assert(DJ_PATCH_REGION_SIZE % DJ_PATCH_SLOT_SIZE == 0 && DJ_PAGE_SIZE % DJ_PATCH_SLOT_SIZE == 0,
               "slots never straddle a page");

int dj_patch_enabled = 1;

/* Read by patch.S: the thread blocks [start, end), and the stub regions' written slots [start, written end). */
uint64_t dj_patch_blocks_start, dj_patch_blocks_end;
struct dj_range dj_patch_regions[DJ_PATCH_REGION_MAX];
static uint32_t region_count;

static volatile int patch_lock;             /* one patcher at a time */
static uint64_t window;                     /* odd while a page is read-write for a patch */
static uint64_t sites_patched, sites_refused;

struct patch_record {
    uint64_t self, result, pending, direct_count, trap_count, retry_rip, retry_window, reserved;
};
_Static_assert(sizeof(struct patch_record) == DJ_PATCH_AREA_SIZE, "struct patch_record");

static struct patch_record *record_of(uint64_t block) { return (struct patch_record *)(block + DJ_PATCH_AREA_OFFSET); }
static struct patch_record *own_record(void) { return record_of((uint64_t)dj_thread_self()); }

void dj_patch_configure(char **envp)
{
    static const char off[] = "DONJON_PROCESS_PATCH=0";
    for (; *envp; envp++)
        if (memcmp(*envp, off, sizeof off) == 0)
            dj_patch_enabled = 0;
}

void dj_patch_init(void)
{
    struct dj_range blocks = dj_threads_area();
    dj_patch_blocks_start = blocks.start;
    dj_patch_blocks_end = blocks.end;
    uint64_t block0 = (uint64_t)dj_thread_self();
    record_of(block0)->self = block0;
    if (dj_syscall2(LX_NR_ARCH_PRCTL, DJ_ARCH_SET_GS, block0) != 0)
        dj_patch_enabled = 0;       /* without GS the entry cannot find its thread: traps only */
}

/* Which calls may take the direct entry: not the ones that need the kernel's context of the trap (rt_sigreturn,
   sigaltstack's stack pointer, clone and clone3's copy of the caller, fork, vfork), not execve (the host's, but it
   replaces the context), not the ends of threads, and no x32 or shim-private number. */
static int patchable(uint32_t number)
{
    if (number >= DJ_KEEP_TABLE_COUNT && number >= 512)
        return 0;
    switch (number) {
    case LX_NR_RT_SIGRETURN: case LX_NR_SIGALTSTACK: case LX_NR_CLONE: case LX_NR_CLONE3: case LX_NR_FORK:
    case LX_NR_VFORK: case 59 /* execve */: case 322 /* execveat */: case LX_NR_EXIT: case LX_NR_EXIT_GROUP:
        return 0;
    default:
        return number < 512;
    }
}

static int within(uint64_t a, uint64_t b) { return (a < b ? b - a : a - b) <= REACH; }

/* A free slot whose stub can reach [site, site + 7) and back; 0 when there is none. Under patch_lock. */
static uint64_t free_slot_near(uint64_t site)
{
    for (uint32_t i = 0; i < region_count; i++) {
        struct dj_range *r = &dj_patch_regions[i];
        uint64_t region_start = r->start;
        if (r->end - region_start < DJ_PATCH_REGION_SIZE && within(region_start, site) &&
            within(region_start + DJ_PATCH_REGION_SIZE, site))
            return r->end;
    }
    if (region_count >= DJ_PATCH_REGION_MAX)
        return 0;
    uint64_t start = dj_memory_map_shim_near(site, DJ_PATCH_REGION_SIZE, REACH);
    if (!start)
        return 0;
    memset((void *)start, 0xCC, DJ_PATCH_REGION_SIZE);      /* int3 everywhere no stub is */
    if (dj_syscall3(LX_NR_MPROTECT, start, DJ_PATCH_REGION_SIZE, LX_PROT_READ | LX_PROT_EXEC) != 0)
        return 0;                    /* left mapped and the shim's, unused */
    __atomic_store_n(&dj_patch_regions[region_count].start, start, __ATOMIC_RELEASE);
    __atomic_store_n(&dj_patch_regions[region_count].end, start, __ATOMIC_RELEASE);
    region_count++;
    return start;
}

static void put32(uint8_t *at, uint32_t value) { memcpy(at, &value, 4); }
static void put64(uint8_t *at, uint64_t value) { memcpy(at, &value, 8); }

/* The stub for the site [site, site + 7) = `mov eax, number; syscall`, at `slot` (patch.S, "The stub"). */
static void build_stub(uint8_t stub[DJ_PATCH_SLOT_SIZE], uint64_t slot, uint64_t site, uint32_t number)
{
    memset(stub, 0xCC, DJ_PATCH_SLOT_SIZE);
    stub[0] = 0xB8;                                         /*  0: mov eax, number */
    put32(stub + 1, number);
    stub[5] = 0x48; stub[6] = 0x8D; stub[7] = 0x0D;         /*  5: lea rcx, [rip - 12] = the slot */
    put32(stub + 8, (uint32_t)-12);
    stub[12] = 0xFF; stub[13] = 0x25;                       /* 12: jmp [rip + 30] = [slot + 48] */
    put32(stub + 14, DJ_PATCH_SLOT_ENTRY - 18);
    stub[18] = 0xB8;                                        /* 18: mov eax, number (the fallback) */
    put32(stub + 19, number);
    stub[23] = 0x0F; stub[24] = 0x05;                       /* 23: syscall (trapped) */
    stub[25] = 0xE9;                                        /* 25: jmp site + 7 */
    put32(stub + 26, (uint32_t)((site + 7) - (slot + 30)));
    put64(stub + DJ_PATCH_SLOT_RESUME, site + 7);
    put64(stub + DJ_PATCH_SLOT_ENTRY, (uint64_t)dj_patch_entry);
    put32(stub + DJ_PATCH_SLOT_NUMBER, number);
}

static void window_open(void) { __atomic_add_fetch(&window, 1, __ATOMIC_SEQ_CST); }
static void window_close(void) { __atomic_add_fetch(&window, 1, __ATOMIC_SEQ_CST); }

void dj_patch_consider(uint32_t number, const uint8_t *uc)
{
    if (!dj_patch_enabled || !patchable(number))
        return;
    uint64_t rip;
    memcpy(&rip, uc + LX_UC_RIP, 8);
    uint64_t site = rip - 7;
    uint8_t bytes[7];
    /* The rule: exactly `mov eax, imm32; syscall` (b8 imm32 0f 05), the immediate the trapped number, the 7 bytes
       in one page of the workload's. */
    if (rip < 7 || (site & ~(uint64_t)(DJ_PAGE_SIZE - 1)) != ((rip - 1) & ~(uint64_t)(DJ_PAGE_SIZE - 1)) ||
        dj_user_read(bytes, site, 7) != 0 || bytes[0] != 0xB8 || bytes[5] != 0x0F || bytes[6] != 0x05)
        return;
    uint32_t immediate;
    memcpy(&immediate, bytes + 1, 4);
    if (immediate != number)
        return;

    dj_lock(&patch_lock);
    uint8_t again[7];
    if (dj_user_read(again, site, 7) != 0 || memcmp(again, bytes, 7) != 0) {
        dj_unlock(&patch_lock);     /* another thread patched it, or the code changed */
        return;
    }
    uint64_t slot = free_slot_near(site);
    if (!slot || !within(slot, site + 5) || !within(slot + 30, site + 7)) {
        sites_refused++;
        dj_unlock(&patch_lock);
        return;
    }
    uint8_t stub[DJ_PATCH_SLOT_SIZE];
    build_stub(stub, slot, site, number);
    uint64_t page = slot & ~(uint64_t)(DJ_PAGE_SIZE - 1);
    window_open();
    int written = dj_syscall3(LX_NR_MPROTECT, page, DJ_PAGE_SIZE, LX_PROT_READ | LX_PROT_WRITE) == 0;
    if (written)
        memcpy((void *)slot, stub, DJ_PATCH_SLOT_SIZE);
    if (dj_syscall3(LX_NR_MPROTECT, page, DJ_PAGE_SIZE, LX_PROT_READ | LX_PROT_EXEC) != 0)
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not make a page of syscall stubs executable again");
    if (written) {
        /* The slot is published before any site jumps to it: the entry accepts only published slots. */
        struct dj_range *r = 0;
        for (uint32_t i = 0; i < region_count; i++)
            if (slot >= dj_patch_regions[i].start && slot < dj_patch_regions[i].start + DJ_PATCH_REGION_SIZE)
                r = &dj_patch_regions[i];
        __atomic_store_n(&r->end, slot + DJ_PATCH_SLOT_SIZE, __ATOMIC_RELEASE);
        uint8_t jump[5] = { 0xE9 };                         /* jmp slot, over the `mov`; the `syscall` stays */
        put32(jump + 1, (uint32_t)(slot - (site + 5)));
        written = dj_memory_patch_code(site, jump, 5) == 0;
    }
    window_close();
    if (written)
        sites_patched++;
    else
        sites_refused++;
    dj_unlock(&patch_lock);
}

long dj_patch_resume(void)
{
    struct patch_record *r = own_record();
    if (!r->pending)
        return -LX_ENOSYS;
    r->pending = 0;
    return (long)r->result;
}

long dj_patch_stats(uint64_t buffer)
{
    struct patch_record *r = own_record();
    uint64_t stats[5] = { (uint64_t)dj_patch_enabled, __atomic_load_n(&sites_patched, __ATOMIC_RELAXED),
                          __atomic_load_n(&sites_refused, __ATOMIC_RELAXED), r->trap_count, r->direct_count };
    return dj_user_write(buffer, stats, sizeof stats) ? -LX_EFAULT : 0;
}

int dj_patch_fault(const uint8_t *siginfo, uint8_t *uc)
{
    int32_t signal, code;
    uint64_t rip, address;
    memcpy(&signal, siginfo + LX_SI_SIGNO, 4);
    memcpy(&code, siginfo + LX_SI_CODE, 4);
    memcpy(&address, siginfo + LX_SI_ADDR, 8);
    memcpy(&rip, uc + LX_UC_RIP, 8);
    /* The direct entry's read of GS faulted: GS is not one the shim set (the workload's wrgsbase): the trap. */
    if (rip == (uint64_t)dj_patch_gs_load) {
        uint64_t bad = (uint64_t)dj_patch_gs_bad;
        memcpy(uc + LX_UC_RIP, &bad, 8);
        return 1;
    }
    if (signal != LX_SIGSEGV || code != DJ_SEGV_ACCERR || address < rip || address - rip >= 16 ||
        !__atomic_load_n(&window, __ATOMIC_SEQ_CST))
        return 0;
    uint64_t now;
    for (uint32_t attempt = 0; (now = __atomic_load_n(&window, __ATOMIC_SEQ_CST)) & 1; attempt++)
        dj_lock_relax(attempt);
    struct patch_record *r = own_record();
    if (r->retry_rip == rip && r->retry_window == now)
        return 0;                   /* already retried with no window open since: a real fault */
    r->retry_rip = rip;
    r->retry_window = now;
    return 1;
}
