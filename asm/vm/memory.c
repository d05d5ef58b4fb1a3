/*
 * asm/vm/memory.c -- the workload's memory, handled inside the VM keep: brk, anonymous mmap/munmap/mprotect/
 * mremap/madvise, and the checks on every workload pointer the shim follows.
 *
 * Entry points
 *   dj_memory_init()                                   from dj_vm_main (setup.c), before the workload runs
 *   dj_sys_brk/mmap/munmap/mprotect/mremap/madvise()   from dj_keep_table (syscall.S)
 *   dj_user_read/write/string()                        for marshal.c, sigstate.c, random.c and syscall.S
 *
 * Policy: the process keep's (asm/process/memory.c), so that a workload sees the same answers in both keeps:
 *   - The workload's address space is its image regions, its heap [heap base, heap base + max) and its mmap range
 *     [mmap base, mmap end), as the host laid them out. New mappings go into the mmap range, placed top-down
 *     (vmspace.c). MAP_FIXED is accepted inside the mmap range or inside one image region; elsewhere ENOMEM.
 *   - The memory limit counts everything the workload has mapped at once: its image regions (the initial stack
 *     among them), the heap's pages and the mmap range's.
 *   - Never writable and executable at once: PROT_WRITE|PROT_EXEC -> EACCES; mremap(old_size = 0) -> EINVAL.
 *   - A file mapping (no MAP_ANONYMOUS) is anonymous memory filled with the file's bytes through the host
 *     (asm/common/filemap.c): the keep's descriptors live in the host, and no host file is ever mapped here.
 * What differs is the mechanism: the shim owns the page tables (paging.c). A mapping is reserved, and each page
 * gets a zeroed frame when first touched, as Linux does; munmap and MADV_DONTNEED give frames back. Nothing of
 * the shim lies in the lower half, so no workload address can reach the shim's memory: a pointer is refused only
 * when it leaves the user half, and a copy that faults on an unmapped page returns EFAULT (copy.S).
 *
 * Labels: none (C). Register contract: System V; the dj_sys_* handlers are called by dj_syscall_entry with the
 *   syscall's arguments in rdi, rsi, rdx, rcx (the syscall's r10), r8, r9, interrupts off.
 *
 * dj_user_write also accepts, during a call the shim itself makes for the running thread (futex.c's reading of the
 *   host's clock), the one 16-byte shim buffer that thread named (struct dj_vm_thread.shim_window): the host's
 *   reply is then copied there as into workload memory, and nowhere else in the shim.
 *
 * Untrusted inputs: every argument (the workload's).
 */
#include "vm.h"
#include "linux.h"

#define PAGE_MASK ((uint64_t)LX_PAGE_SIZE - 1)
#define PROT_ACCEPTED (LX_PROT_READ | LX_PROT_WRITE | LX_PROT_EXEC)
#define MAP_ACCEPTED (LX_MAP_TYPE | LX_MAP_FIXED | LX_MAP_ANONYMOUS | LX_MAP_NORESERVE | LX_MAP_POPULATE | \
                      LX_MAP_NONBLOCK | LX_MAP_STACK | LX_MAP_FIXED_NOREPLACE | LX_MAP_DENYWRITE |           \
                      LX_MAP_EXECUTABLE)

static struct dj_vmspace mmap_space;
static struct {
    uint64_t base;      /* the initial break */
    uint64_t limit;     /* base + maximum size */
    uint64_t brk;       /* the current break, exactly as the workload set it */
    uint64_t end;       /* page_up(brk): the end of the mapped heap */
} heap;
static uint64_t memory_limit;
static uint64_t image_size;  /* the image's regions: counted against the limit from the start */
static struct dj_range regions[DJ_IMAGE_MAX_REGIONS];
static uint32_t region_count;

void dj_memory_init(const struct dj_image *image)
{
    dj_vm_init(&mmap_space, image->mmap_base, image->mmap_end);
    heap.base = image->heap_base;
    heap.limit = image->heap_base + image->heap_max_size;
    heap.brk = image->heap_base;
    heap.end = image->heap_base;
    memory_limit = image->memory_limit;
    region_count = image->region_count;
    image_size = 0;
    for (uint32_t i = 0; i < region_count; i++)
        regions[i] = (struct dj_range){ image->regions[i].address,
                                        image->regions[i].address + image->regions[i].size };
    for (uint32_t i = 0; i < region_count; i++)
        image_size += image->regions[i].size;
}

/* ---- helpers ---- */

static uint64_t page_up(uint64_t value) { return (value + PAGE_MASK) & ~PAGE_MASK; }

/* [start, start + length rounded up to pages) as [*s, *e); 0 if it wraps or leaves the user space. */
static int user_span(uint64_t start, uint64_t length, uint64_t *s, uint64_t *e)
{
    if (length > LX_TASK_SIZE || start > LX_TASK_SIZE - page_up(length))
        return 0;
    *s = start;
    *e = start + page_up(length);
    return 1;
}

static int inside_one_region(uint64_t start, uint64_t end)
{
    for (uint32_t i = 0; i < region_count; i++)
        if (start >= regions[i].start && end <= regions[i].end)
            return 1;
    return 0;
}

static uint64_t in_use(void) { return image_size + mmap_space.mapped + (heap.end - heap.base); }

static int over_limit(uint64_t more)
{
    return more > memory_limit || in_use() > memory_limit - more;
}

static long check_prot(uint64_t prot)
{
    if (prot & ~(uint64_t)PROT_ACCEPTED)
        return -LX_EINVAL;
    if ((prot & LX_PROT_WRITE) && (prot & LX_PROT_EXEC))
        return -LX_EACCES;
    return 0;
}

/* ---- workload pointers ---- */

long dj_user_read(void *dst, uint64_t src, uint64_t size)
{
    if (size == 0)
        return 0;
    if (size > LX_TASK_SIZE || src > LX_TASK_SIZE - size)
        return -LX_EFAULT;
    return dj_vm_copy_user(dst, (const void *)src, size);
}

long dj_user_write(uint64_t dst, const void *src, uint64_t size)
{
    if (size == 0)
        return 0;
    /* A call the shim itself makes for the running thread (futex.c's clock reading) names a shim buffer as its
       output: only that buffer, only during that call, only from the running thread's own exchange. */
    uint64_t window = dj_vm_current ? dj_vm_current->shim_window : 0;
    if (window && dst == window && size <= 16) {
        memcpy((void *)dst, src, size);
        return 0;
    }
    if (size > LX_TASK_SIZE || dst > LX_TASK_SIZE - size)
        return -LX_EFAULT;
    return dj_vm_copy_user((void *)dst, src, size);
}

/* The copy stops at the end of the user half: a string that runs into it is a bad pointer, EFAULT. */
long dj_user_string(void *dst, uint64_t src, uint64_t max)
{
    if (src >= LX_TASK_SIZE)
        return -LX_EFAULT;
    int bounded = 0;
    if (LX_TASK_SIZE - src < max) {
        max = LX_TASK_SIZE - src;
        bounded = 1;
    }
    long n = dj_strncpy_user(dst, (const void *)src, max);
    if (n == -LX_ENAMETOOLONG && bounded)
        return -LX_EFAULT;
    return n;
}

/* ---- brk ---- */

long dj_sys_brk(uint64_t address)
{
    /* Linux's contract: the result is the new break, or the old one when the request cannot be met. */
    if (address < heap.base || address > heap.limit)
        return (long)heap.brk;
    uint64_t end = page_up(address);
    if (end > heap.end) {
        if (over_limit(end - heap.end) ||
            dj_user_reserve(heap.end, end, LX_PROT_READ | LX_PROT_WRITE) != 0)
            return (long)heap.brk;
    } else if (end < heap.end) {
        dj_user_release(end, heap.end);
    }
    heap.end = end;
    heap.brk = address;
    return (long)address;
}

/* ---- mmap ---- */

long dj_sys_mmap(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset)
{
    (void)fd;
    if (offset & PAGE_MASK)
        return -LX_EINVAL;
    if (length == 0)
        return -LX_EINVAL;
    if (length > LX_TASK_SIZE)
        return -LX_ENOMEM;
    uint64_t type = flags & LX_MAP_TYPE;
    if (type != LX_MAP_SHARED && type != LX_MAP_PRIVATE && type != LX_MAP_SHARED_VALIDATE)
        return -LX_EINVAL;
    if (!(flags & LX_MAP_ANONYMOUS))
        return dj_map_file(address, length, prot, flags, fd, offset);
    if (flags & ~(uint64_t)MAP_ACCEPTED)
        return -LX_EINVAL;
    long r = check_prot(prot);
    if (r)
        return r;
    uint64_t size = page_up(length);

    if (flags & (LX_MAP_FIXED | LX_MAP_FIXED_NOREPLACE)) {
        uint64_t start, end;
        if (address & PAGE_MASK)
            return -LX_EINVAL;
        if (!user_span(address, length, &start, &end))
            return -LX_ENOMEM;
        int tracked = dj_vm_contains(&mmap_space, start, end);
        if (!tracked && !inside_one_region(start, end))
            return -LX_ENOMEM;
        if ((flags & LX_MAP_FIXED_NOREPLACE) && !dj_user_none_mapped(start, end))
            return -LX_EEXIST;
        if (tracked && (!dj_vm_has_room(&mmap_space, 1) ||
                        over_limit(size - dj_vm_mapped_in(&mmap_space, start, end))))
            return -LX_ENOMEM;
        r = dj_user_reserve(start, end, (uint32_t)prot);
        if (r)
            return r;
        if (tracked)
            dj_vm_insert(&mmap_space, start, end);
        return (long)start;
    }

    if (!dj_vm_has_room(&mmap_space, 1) || over_limit(size))
        return -LX_ENOMEM;
    uint64_t hint = address & PAGE_MASK ? page_up(address) : address;
    uint64_t start = dj_vm_find(&mmap_space, size, hint);
    if (start == DJ_VM_NONE)
        return -LX_ENOMEM;
    r = dj_user_reserve(start, start + size, (uint32_t)prot);
    if (r)
        return r;
    dj_vm_insert(&mmap_space, start, start + size);
    return (long)start;
}

/* ---- munmap, mprotect, madvise ---- */

long dj_sys_munmap(uint64_t address, uint64_t length)
{
    uint64_t start, end;
    if ((address & PAGE_MASK) || length == 0 || !user_span(address, length, &start, &end))
        return -LX_EINVAL;
    if (!dj_vm_has_room(&mmap_space, 1))
        return -LX_ENOMEM;
    dj_user_release(start, end);
    dj_vm_remove(&mmap_space, start, end);
    return 0;
}

long dj_sys_mprotect(uint64_t address, uint64_t length, uint64_t prot)
{
    uint64_t start, end;
    if (address & PAGE_MASK)
        return -LX_EINVAL;
    long r = check_prot(prot);
    if (r)
        return r;
    if (length == 0)
        return 0;
    if (!user_span(address, length, &start, &end) || !dj_user_all_mapped(start, end))
        return -LX_ENOMEM;
    dj_user_protect(start, end, (uint32_t)prot);
    return 0;
}

long dj_sys_madvise(uint64_t address, uint64_t length, uint64_t advice)
{
    uint64_t start, end;
    if (address & PAGE_MASK)
        return -LX_EINVAL;
    switch (advice) {
    case LX_MADV_NORMAL: case LX_MADV_RANDOM: case LX_MADV_SEQUENTIAL: case LX_MADV_WILLNEED:
    case LX_MADV_DONTNEED: case LX_MADV_FREE: case LX_MADV_DONTFORK: case LX_MADV_DOFORK:
    case LX_MADV_MERGEABLE: case LX_MADV_UNMERGEABLE: case LX_MADV_HUGEPAGE: case LX_MADV_NOHUGEPAGE:
    case LX_MADV_DONTDUMP: case LX_MADV_DODUMP: case LX_MADV_WIPEONFORK: case LX_MADV_KEEPONFORK:
    case LX_MADV_COLD: case LX_MADV_PAGEOUT:
        break;
    default:
        return -LX_EINVAL;      /* MADV_REMOVE and the rest have no meaning for the keep's private memory */
    }
    if (length == 0)
        return 0;
    if (!user_span(address, length, &start, &end))
        return -LX_EINVAL;
    if (!dj_user_all_mapped(start, end))
        return -LX_ENOMEM;
    /* DONTNEED and FREE: the next touch reads zeros, as for Linux's private anonymous memory. The rest are hints
       the keep has no use for. */
    if (advice == LX_MADV_DONTNEED || advice == LX_MADV_FREE)
        dj_user_discard(start, end);
    return 0;
}

/* ---- mremap: only mappings the shim placed in the mmap range, and only inside it ---- */

/* Moves [old_start, old_start + old_size) to `start` and gives it `new_size` bytes there: the moved pages keep
   their frames, a longer mapping gets lazily zero-filled pages with the protection of the old mapping's last
   page, a shorter one gives the rest back. The target range has been checked and is released first. */
static long move_mapping(uint64_t old_start, uint64_t old_size, uint64_t start, uint64_t new_size)
{
    uint64_t moved = new_size < old_size ? new_size : old_size;
    int prot = dj_user_prot(old_start + old_size - LX_PAGE_SIZE);
    dj_user_release(start, start + new_size);
    if (new_size > old_size && dj_user_reserve(start + old_size, start + new_size, (uint32_t)(prot < 0 ? 0 : prot)))
        return -LX_ENOMEM;
    if (dj_user_move(old_start, start, moved)) {
        dj_user_release(start, start + new_size);
        return -LX_ENOMEM;
    }
    dj_user_release(old_start, old_start + old_size);
    dj_vm_remove(&mmap_space, old_start, old_start + old_size);
    dj_vm_insert(&mmap_space, start, start + new_size);
    return (long)start;
}

long dj_sys_mremap(uint64_t old_address, uint64_t old_length, uint64_t new_length, uint64_t flags,
                   uint64_t new_address)
{
    uint64_t old_start, old_end;
    if (flags & ~(uint64_t)(LX_MREMAP_MAYMOVE | LX_MREMAP_FIXED | LX_MREMAP_DONTUNMAP))
        return -LX_EINVAL;
    if ((flags & LX_MREMAP_FIXED) && !(flags & LX_MREMAP_MAYMOVE))
        return -LX_EINVAL;
    if (flags & LX_MREMAP_DONTUNMAP)
        return -LX_EINVAL;
    if (old_address & PAGE_MASK)
        return -LX_EINVAL;
    if (old_length == 0 || new_length == 0)
        return -LX_EINVAL;
    if (old_length > LX_TASK_SIZE || new_length > LX_TASK_SIZE)
        return -LX_EINVAL;
    if (!user_span(old_address, old_length, &old_start, &old_end))
        return -LX_EFAULT;
    if (!dj_vm_contains(&mmap_space, old_start, old_end) || !dj_vm_is_mapped(&mmap_space, old_start, old_end))
        return -LX_EFAULT;
    if (!dj_vm_has_room(&mmap_space, 2))
        return -LX_ENOMEM;
    uint64_t old_size = old_end - old_start;
    uint64_t new_size = page_up(new_length);

    if (flags & LX_MREMAP_FIXED) {
        uint64_t start, end;
        if (new_address & PAGE_MASK)
            return -LX_EINVAL;
        if (!user_span(new_address, new_length, &start, &end) || !dj_vm_contains(&mmap_space, start, end))
            return -LX_ENOMEM;
        if (start < old_end && old_start < end)
            return -LX_EINVAL;
        uint64_t replaced = dj_vm_mapped_in(&mmap_space, start, end);
        if (new_size > old_size + replaced && over_limit(new_size - old_size - replaced))
            return -LX_ENOMEM;
        dj_vm_remove(&mmap_space, start, end);
        return move_mapping(old_start, old_size, start, new_size);
    }

    if (new_size <= old_size) {
        dj_user_release(old_start + new_size, old_end);
        dj_vm_remove(&mmap_space, old_start + new_size, old_end);
        return (long)old_start;
    }

    if (over_limit(new_size - old_size))
        return -LX_ENOMEM;
    if (old_start + new_size <= mmap_space.end && dj_vm_is_free(&mmap_space, old_end, old_start + new_size)) {
        int prot = dj_user_prot(old_end - LX_PAGE_SIZE);
        if (dj_user_reserve(old_end, old_start + new_size, (uint32_t)(prot < 0 ? 0 : prot)))
            return -LX_ENOMEM;
        dj_vm_insert(&mmap_space, old_end, old_start + new_size);
        return (long)old_start;
    }
    if (!(flags & LX_MREMAP_MAYMOVE))
        return -LX_ENOMEM;
    uint64_t start = dj_vm_find(&mmap_space, new_size, 0);
    if (start == DJ_VM_NONE)
        return -LX_ENOMEM;
    return move_mapping(old_start, old_size, start, new_size);
}
