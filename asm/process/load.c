/*
 * asm/process/load.c -- the part of the process shim's start-up that is clearer in C: check the block, the
 * image and the configuration page, and carry the image out.
 *
 * Entry points
 *   dj_process_load()            from _start (entry.S); exits 121/122/123 on failure
 *   dj_report_internal_fault()   from dj_fault (signals.S)
 *
 * Flow of dj_process_load
 *   1. the block header (marshal.c) -> 122
 *   2. the image blob (image.c): nothing may overlap the shim's image, the blob or the block -> 121
 *   3. the configuration page, copied into the shim (marshal.c) -> 121
 *   4. each region: mmap MAP_FIXED_NOREPLACE, anonymous, read-write (so nothing already there, such as the
 *      kernel's vDSO or the shim's own stack, is ever replaced); copy its data; mprotect to its final
 *      permissions, which are never writable and executable at once (image.c refused that) -> 123
 *   5. unmap the blob: the workload never sees it, and the shim needs nothing more from it
 *   6. the memory state (memory.c) and the workload's entry point and stack pointer
 *
 * Flow of dj_process_isolate (after dj_process_load, before the signal handlers and the filter)
 *   1. RLIMIT_CORE := 0: a keep that dies of a signal leaves no core file in Donjon's directory
 *   2. read /proc/self/maps whole, then unmap every mapping of the user half that is neither the shim's image
 *      nor the block nor an image region: the kernel's initial stack (_start moved off it), the vDSO and the
 *      vvar pages. The workload then finds nothing of the kernel's in its address space, time is asked of the
 *      host, and no mapping but the shim's and the block's answers differently from unmapped space. [vsyscall]
 *      lies above the user half and cannot be unmapped; its emulated calls pass the seccomp filter with an
 *      instruction pointer outside the shim's text, so they trap like any other call.
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

uint64_t dj_workload_entry;
uint64_t dj_workload_stack;

static struct dj_image image;   /* large (64 regions): static, not on the stack */
static struct dj_range block_range;
static struct dj_range threads_range;

#define PAGE_UP(x) (((x) + DJ_PAGE_SIZE - 1) & ~(uint64_t)(DJ_PAGE_SIZE - 1))

static unsigned region_protection(uint32_t permissions)
{
    unsigned prot = 0;
    if (permissions & DJ_REGION_PERMISSION_READ)
        prot |= LX_PROT_READ;
    if (permissions & DJ_REGION_PERMISSION_WRITE)
        prot |= LX_PROT_WRITE;
    if (permissions & DJ_REGION_PERMISSION_EXECUTE)
        prot |= LX_PROT_EXEC;
    return prot;
}

void dj_process_load(const uint8_t *blob, uint64_t blob_size, uint8_t *block, uint64_t block_size)
{
    const char *problem = dj_channel_open(block, block_size);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, problem);
    dj_doorbell_configure(block);       /* a 2.1 block: each ring says where it runs (doorbell.S) */
    /* One thread block per slot, reserved before the image is checked, so that no region may overlap it. */
    threads_range = dj_threads_reserve(dj_channel_slot_count());

    struct dj_range owned[4] = {
        { (uint64_t)__shim_start, (uint64_t)__shim_end },
        { (uint64_t)block, (uint64_t)block + PAGE_UP(block_size) },
        threads_range,
        { (uint64_t)blob, (uint64_t)blob + PAGE_UP(blob_size) },
    };
    problem = dj_image_check(blob, blob_size, owned, 4, &image);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_IMAGE, problem);
    problem = dj_table_load(blob + image.config_offset, image.config_size);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_IMAGE, problem);

    for (uint32_t i = 0; i < image.region_count; i++) {
        const struct dj_region *r = &image.regions[i];
        long mapped = dj_syscall6(LX_NR_MMAP, (long)r->address, (long)r->size, LX_PROT_READ | LX_PROT_WRITE,
                                  LX_MAP_PRIVATE | LX_MAP_ANONYMOUS | LX_MAP_FIXED_NOREPLACE, -1, 0);
        if (mapped != (long)r->address)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED,
                     dj_is_error(mapped) && mapped == -LX_EEXIST
                         ? "a region of the image overlaps an existing mapping (vDSO, vvar, or the shim's stack)"
                         : "could not map a region of the image");
        memcpy((void *)(r->address + r->data_offset), blob + r->blob_offset, r->data_size);
        if (dj_syscall3(LX_NR_MPROTECT, r->address, r->size, region_protection(r->permissions)) != 0)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not set the permissions of a region of the image");
    }

    dj_syscall2(LX_NR_MUNMAP, blob, blob_size);
    block_range = owned[1];
    dj_memory_init(&image, owned, 3);
    dj_threads_start();
    dj_signals_init();
    dj_workload_entry = image.entry_point;
    dj_workload_stack = image.stack_pointer;
}

/* ---- dj_process_isolate ---- */

#define MAPS_BUFFER_SIZE 32768      /* /proc/self/maps before the workload runs: about 10 lines of ~100 bytes */
#define KEPT_MAX (DJ_IMAGE_MAX_REGIONS + 3)

static uint64_t parse_hex(const char **cursor, const char *end, char stop)
{
    uint64_t value = 0;
    const char *p = *cursor;
    while (p < end && *p != stop) {
        char c = *p++;
        unsigned digit = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
        if (digit == 16 || value >> 60)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "/proc/self/maps has a line this shim cannot read");
        value = value << 4 | digit;
    }
    if (p == end)
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "/proc/self/maps has a line this shim cannot read");
    *cursor = p + 1;
    return value;
}

/* Unmaps [start, end) except the kept ranges (sorted, disjoint). */
static void unmap_except(uint64_t start, uint64_t end, const struct dj_range *kept, unsigned kept_count)
{
    uint64_t at = start;
    for (unsigned i = 0; i < kept_count && at < end; i++) {
        if (kept[i].end <= at)
            continue;
        if (kept[i].start >= end)
            break;
        if (kept[i].start > at && dj_syscall2(LX_NR_MUNMAP, at, kept[i].start - at) != 0)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not unmap a mapping the kernel gave the shim");
        at = kept[i].end > at ? kept[i].end : at;
    }
    if (at < end && dj_syscall2(LX_NR_MUNMAP, at, end - at) != 0)
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not unmap a mapping the kernel gave the shim");
}

void dj_process_isolate(void)
{
    uint64_t no_core[2] = { 0, 0 };
    if (dj_syscall4(LX_NR_PRLIMIT64, 0, LX_RLIMIT_CORE, no_core, 0) != 0)
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not set RLIMIT_CORE to 0");

    struct dj_range kept[KEPT_MAX];
    unsigned kept_count = 0;
    struct dj_range all[KEPT_MAX];
    all[0] = (struct dj_range){ (uint64_t)__shim_start, (uint64_t)__shim_end };
    all[1] = block_range;
    all[2] = threads_range;
    for (uint32_t i = 0; i < image.region_count; i++)
        all[3 + i] = (struct dj_range){ image.regions[i].address, image.regions[i].address + image.regions[i].size };
    for (unsigned i = 0; i < 3 + image.region_count; i++) {      /* insertion sort by start */
        unsigned j = kept_count++;
        while (j > 0 && kept[j - 1].start > all[i].start) {
            kept[j] = kept[j - 1];
            j--;
        }
        kept[j] = all[i];
    }

    static const char maps_path[] = "/proc/self/maps";
    char buffer[MAPS_BUFFER_SIZE];
    long fd = dj_syscall4(LX_NR_OPENAT, LX_AT_FDCWD, maps_path, LX_O_RDONLY | LX_O_CLOEXEC, 0);
    if (dj_is_error(fd))
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not open /proc/self/maps (is /proc mounted?)");
    uint64_t used = 0;
    for (;;) {
        if (used == sizeof buffer)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "/proc/self/maps is larger than the shim's 32 KiB buffer");
        long n = dj_syscall3(LX_NR_READ, fd, buffer + used, sizeof buffer - used);
        if (dj_is_error(n))
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "could not read /proc/self/maps");
        if (n == 0)
            break;
        used += (uint64_t)n;
    }
    dj_syscall1(LX_NR_CLOSE, fd);

    /* Each line: "start-end perms offset dev inode path". Only the range matters. */
    const char *cursor = buffer, *end = buffer + used;
    while (cursor < end) {
        uint64_t start = parse_hex(&cursor, end, '-');
        uint64_t stop = parse_hex(&cursor, end, ' ');
        while (cursor < end && *cursor++ != '\n')
            ;
        if (start >= LX_TASK_SIZE)
            continue;
        if (stop > LX_TASK_SIZE)
            stop = LX_TASK_SIZE;
        unmap_except(start, stop, kept, kept_count);
    }
}

/* ---- dj_die_by_signal ---- */

DJ_NORETURN void dj_die_by_signal(uint32_t signal)
{
    uint64_t default_action[4] = { LX_SIG_DFL, 0, 0, 0 };      /* struct sigaction: handler, flags, restorer, mask */
    uint64_t set = (uint64_t)1 << (signal - 1);
    dj_syscall4(LX_NR_RT_SIGACTION, signal, default_action, 0, LX_SIGSET_SIZE);
    long tid = dj_syscall1(LX_NR_GETTID, 0);
    dj_syscall3(LX_NR_TGKILL, dj_pid, tid, signal);              /* pending: the handler blocks it */
    dj_syscall4(LX_NR_RT_SIGPROCMASK, LX_SIG_UNBLOCK, &set, 0, LX_SIGSET_SIZE);   /* delivered: the end */
    dj_syscall1(LX_NR_EXIT_GROUP, DJ_EXIT_SIGNAL_BASE + signal);  /* not reached */
    for (;;)
        ;
}

/* "donjon-shim: internal fault: signal 11 at rip 0x... (address 0x...)" on stderr, and as a LOG item. */
void dj_report_internal_fault(uint32_t signal, uint64_t instruction_pointer, uint64_t address)
{
    static const char digits[] = "0123456789abcdef";
    char text[128];
    unsigned n = 0;
    const char *parts[] = { "donjon-shim: internal fault: signal ", " at rip 0x", " (address 0x", ")\n" };
    uint64_t values[] = { signal, instruction_pointer, address };
    for (unsigned p = 0; p < 4; p++) {
        for (const char *s = parts[p]; *s; s++)
            text[n++] = *s;
        if (p == 3)
            break;
        unsigned base = p == 0 ? 10 : 16;
        char tmp[20];
        unsigned k = 0;
        uint64_t v = values[p];
        do {
            tmp[k++] = digits[v % base];
            v /= base;
        } while (v);
        while (k)
            text[n++] = tmp[--k];
    }
    dj_syscall3(LX_NR_WRITE, 2, text, n);
    dj_report_log(DJ_LOG_LEVEL_ERROR, text + 13, n - 14);   /* without "donjon-shim: " and the newline */
}
