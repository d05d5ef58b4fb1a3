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
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

uint64_t dj_workload_entry;
uint64_t dj_workload_stack;

static struct dj_image image;   /* large (64 regions): static, not on the stack */

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

    struct dj_range owned[3] = {
        { (uint64_t)__shim_start, (uint64_t)__shim_end },
        { (uint64_t)block, (uint64_t)block + PAGE_UP(block_size) },
        { (uint64_t)blob, (uint64_t)blob + PAGE_UP(blob_size) },
    };
    problem = dj_image_check(blob, blob_size, owned, 3, &image);
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
    dj_memory_init(&image, owned, 2);
    dj_workload_entry = image.entry_point;
    dj_workload_stack = image.stack_pointer;
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
