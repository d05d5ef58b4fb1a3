/*
 * asm/process/memory.c -- the workload's memory, handled inside the process keep: brk, anonymous
 * mmap/munmap/mprotect/mremap/madvise, and the checks on every workload pointer the shim follows.
 *
 * Entry points
 *   dj_memory_init()                        from dj_process_load (load.c)
 *   dj_sys_brk/mmap/munmap/mprotect/mremap/madvise()   from the SIGSYS dispatch (sigsys.S)
 *   dj_user_read/write/string()             for marshal.c and sigstate.c
 *   dj_memory_map_shim_near(), dj_memory_patch_code()   for patch.c
 *
 * Policy (why it is C: these are policy decisions with Linux's error codes, not register work)
 *   - The workload's address space is its image regions, its heap [heap base, heap base + max) and its mmap
 *     range [mmap base, mmap end), as the host laid them out. New mappings go into the mmap range, placed by
 *     the shim (vmspace.c, top-down like Linux), never by the kernel. MAP_FIXED is accepted inside the mmap
 *     range or inside one image region; elsewhere it fails with ENOMEM.
 *   - The memory limit counts everything the workload has mapped at once: its image regions (the initial stack
 *     among them), the heap's pages and the mmap range's.
 *   - Workload pointers, and the ranges of mprotect/madvise, are checked against what is the workload's (its
 *     image regions, its mapped heap, the mappings the shim placed in the mmap range), never against a list of
 *     what is not: anything else (the shim's image, .bss and alternate stack, the shared block, unmapped
 *     space) gets the same answer, EFAULT or ENOMEM, so no locally served call tells where the shim is. munmap
 *     skips what the shim owns and answers 0, as Linux does for a hole; MAP_FIXED there gives ENOMEM. The
 *     kernel's own mappings (stack, vDSO, vvar) are gone before the workload runs (load.c).
 *   - Never writable and executable at once: PROT_WRITE|PROT_EXEC -> EACCES, and mremap(old_size = 0), which
 *     would alias a shared mapping at a second address, -> EINVAL.
 *   - A file mapping (no MAP_ANONYMOUS) is anonymous memory filled with the file's bytes through the host
 *     (asm/common/filemap.c): the keep's descriptors live in the host, and no host file is ever mapped here.
 *   - Syscall-site patching (patch.c) maps its stub regions through dj_memory_map_shim_near, just outside every
 *     range the workload has or may map, and they become the shim's (munmap skips them); it writes the workload's
 *     code through dj_memory_patch_code, which makes the page read-write only for the write.
 *   The real mmap/munmap/mprotect/mremap/madvise are made here, from the shim's text, after these checks.
 *
 * Untrusted inputs: every argument (the workload's).
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

#define PAGE_MASK ((uint64_t)LX_PAGE_SIZE - 1)

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
#define OWNED_MAX (4 + DJ_PATCH_REGION_MAX)
static struct dj_range owned[OWNED_MAX];
static unsigned owned_count;

void dj_memory_init(const struct dj_image *image, const struct dj_range *owned_ranges, unsigned count)
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
    /* Sorted by address (insertion sort of at most 3), so munmap can walk around them. */
    owned_count = 0;
    for (unsigned i = 0; i < count && i < 3; i++) {
        unsigned j = owned_count++;
        while (j > 0 && owned[j - 1].start > owned_ranges[i].start) {
            owned[j] = owned[j - 1];
            j--;
        }
        owned[j] = owned_ranges[i];
    }
    /* Above the user address space nothing is the workload's either. */
    owned[owned_count++] = (struct dj_range){ LX_TASK_SIZE, UINT64_MAX };
}

/* Adds [start, end) to the shim's ranges, in address order (the TASK_SIZE entry stays last). 0, or -1 when full. */
static int add_owned(uint64_t start, uint64_t end)
{
    if (owned_count >= OWNED_MAX)
        return -1;
    unsigned j = owned_count++;
    while (j > 0 && owned[j - 1].start > start) {
        owned[j] = owned[j - 1];
        j--;
    }
    owned[j] = (struct dj_range){ start, end };
    return 0;
}

static int overlaps(uint64_t start, uint64_t end, uint64_t other_start, uint64_t other_end)
{
    return start < other_end && other_start < end;
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

/* Whether `more` bytes would take the workload past its memory limit. */
static int over_limit(uint64_t more)
{
    return more > memory_limit || in_use() > memory_limit - more;
}

/* ---- workload pointers: checked against what is the workload's, never against what is not ---- */

/* The end of the one workload range that contains `at` (an image region, the mapped heap, or a mapping the
   shim placed in the mmap range), or 0 when none does. */
static uint64_t workload_range_end(uint64_t at)
{
    for (uint32_t i = 0; i < region_count; i++)
        if (at >= regions[i].start && at < regions[i].end)
            return regions[i].end;
    if (at >= heap.base && at < heap.end)
        return heap.end;
    return dj_vm_range_end(&mmap_space, at);
}

/* The end of the run of workload ranges, adjacent to one another, that starts at `at`; `at` itself when `at`
   is not the workload's. Whatever lies outside (the shim, the block, unmapped space) looks the same: absent.
   So no answer a locally served call gives depends on where the shim is (docs/design.md, "Threat model"). */
static uint64_t workload_extent(uint64_t at)
{
    uint64_t end = at;
    for (uint32_t steps = 0; steps <= DJ_IMAGE_MAX_REGIONS + DJ_VMSPACE_MAX_RANGES; steps++) {
        uint64_t next = workload_range_end(end);
        if (next <= end)
            break;
        end = next;
    }
    return end;
}

/* Whether [start, start + size) lies wholly in the workload's ranges (size > 0, no wrap). */
static int is_workload(uint64_t start, uint64_t size)
{
    if (size > LX_TASK_SIZE || start > LX_TASK_SIZE - size)
        return 0;
    return workload_extent(start) - start >= size;
}

/* The bookkeeping changes only under mm_lock, and mm_sequence is odd while it does: a reader on another thread
   retries until it saw one stable state (a seqlock), so a check never mixes two. The readers never take the lock
   (the kick handler's delivery reads workload memory too, and may interrupt a holder). */
static volatile int mm_lock;
static uint32_t mm_sequence;

static void mm_begin(void)
{
    dj_lock(&mm_lock);
    __atomic_add_fetch(&mm_sequence, 1, __ATOMIC_SEQ_CST);
}

static void mm_end(void)
{
    __atomic_add_fetch(&mm_sequence, 1, __ATOMIC_SEQ_CST);
    dj_unlock(&mm_lock);
}

static uint64_t workload_extent_stable(uint64_t at)
{
    for (uint32_t attempt = 0;; attempt++) {
        uint32_t before = __atomic_load_n(&mm_sequence, __ATOMIC_SEQ_CST);
        if (before & 1) {
            dj_lock_relax(attempt);
            continue;
        }
        uint64_t answer = workload_extent(at);
        if (__atomic_load_n(&mm_sequence, __ATOMIC_SEQ_CST) == before)
            return answer;
    }
}

static int is_workload_stable(uint64_t start, uint64_t size)
{
    for (uint32_t attempt = 0;; attempt++) {
        uint32_t before = __atomic_load_n(&mm_sequence, __ATOMIC_SEQ_CST);
        if (before & 1) {
            dj_lock_relax(attempt);
            continue;
        }
        int answer = is_workload(start, size);
        if (__atomic_load_n(&mm_sequence, __ATOMIC_SEQ_CST) == before)
            return answer;
    }
}

int dj_user_range_ok(uint64_t start, uint64_t size)
{
    return size == 0 || is_workload_stable(start, size);
}

long dj_user_read(void *dst, uint64_t src, uint64_t size)
{
    if (size == 0)
        return 0;
    if (!is_workload_stable(src, size))
        return -LX_EFAULT;
    return dj_copy_user(dst, (const void *)src, size);
}

long dj_user_write(uint64_t dst, const void *src, uint64_t size)
{
    if (size == 0)
        return 0;
    if (!is_workload_stable(dst, size))
        return -LX_EFAULT;
    return dj_copy_user((void *)dst, src, size);
}

/* The string's extent is known only once it is read, so the copy is bounded to the workload's run of ranges
   that holds its start: the shim's bytes never reach the block, which the host can read at any time. */
long dj_user_string(void *dst, uint64_t src, uint64_t max)
{
    if (src >= LX_TASK_SIZE)
        return -LX_EFAULT;
    uint64_t end = workload_extent_stable(src);
    if (end == src)
        return -LX_EFAULT;
    int bounded = 0;
    if (end - src < max) {
        max = end - src;
        bounded = 1;
    }
    long n = dj_strncpy_user(dst, (const void *)src, max);
    if (n == -LX_ENAMETOOLONG && bounded)
        return -LX_EFAULT;
    return n;
}

/* ---- brk ---- */

static long sys_brk_locked(uint64_t address)
{
    /* Linux's contract: the result is the new break, or the old one when the request cannot be met. */
    if (address < heap.base || address > heap.limit)
        return (long)heap.brk;
    uint64_t end = page_up(address);
    if (end > heap.end) {
        uint64_t grow = end - heap.end;
        if (over_limit(grow))
            return (long)heap.brk;
        long r = dj_syscall6(LX_NR_MMAP, (long)heap.end, (long)grow, LX_PROT_READ | LX_PROT_WRITE,
                             LX_MAP_PRIVATE | LX_MAP_ANONYMOUS | LX_MAP_FIXED_NOREPLACE, -1, 0);
        if (r != (long)heap.end) {
            if (!dj_is_error(r))
                dj_syscall2(LX_NR_MUNMAP, r, grow);
            return (long)heap.brk;
        }
    } else if (end < heap.end) {
        dj_syscall2(LX_NR_MUNMAP, end, heap.end - end);
    }
    heap.end = end;
    heap.brk = address;
    return (long)address;
}

/* ---- mmap ---- */

#define MAP_ACCEPTED (LX_MAP_TYPE | LX_MAP_FIXED | LX_MAP_ANONYMOUS | LX_MAP_NORESERVE | LX_MAP_POPULATE | \
                      LX_MAP_NONBLOCK | LX_MAP_STACK | LX_MAP_FIXED_NOREPLACE | LX_MAP_DENYWRITE |           \
                      LX_MAP_EXECUTABLE)
#define PROT_ACCEPTED (LX_PROT_READ | LX_PROT_WRITE | LX_PROT_EXEC)

static long check_prot(uint64_t prot)
{
    if (prot & ~(uint64_t)PROT_ACCEPTED)
        return -LX_EINVAL;
    if ((prot & LX_PROT_WRITE) && (prot & LX_PROT_EXEC))
        return -LX_EACCES;
    return 0;
}

static long sys_mmap_locked(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset)
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
        return -LX_ENODEV;
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
        if (tracked && (!dj_vm_has_room(&mmap_space, 1) ||
                        over_limit(size - dj_vm_mapped_in(&mmap_space, start, end))))
            return -LX_ENOMEM;
        r = dj_syscall6(LX_NR_MMAP, (long)start, (long)size, (long)prot, (long)flags, -1, 0);
        if (!dj_is_error(r) && tracked)
            dj_vm_insert(&mmap_space, start, end);
        return r;
    }

    if (!dj_vm_has_room(&mmap_space, 1) || over_limit(size))
        return -LX_ENOMEM;
    uint64_t hint = address & PAGE_MASK ? page_up(address) : address;
    uint64_t start = dj_vm_find(&mmap_space, size, hint);
    if (start == DJ_VM_NONE)
        return -LX_ENOMEM;
    r = dj_syscall6(LX_NR_MMAP, (long)start, (long)size, (long)prot, (long)(flags | LX_MAP_FIXED_NOREPLACE), -1, 0);
    if (dj_is_error(r))
        return r == -LX_EEXIST ? -LX_ENOMEM : r;
    dj_vm_insert(&mmap_space, start, start + size);
    return r;
}

/* ---- munmap, mprotect, madvise ---- */

static long sys_munmap_locked(uint64_t address, uint64_t length)
{
    uint64_t start, end;
    if ((address & PAGE_MASK) || length == 0 || !user_span(address, length, &start, &end))
        return -LX_EINVAL;
    /* To the workload, what the shim owns is not mapped, and unmapping a hole is not an error: only the
       pieces around the shim's ranges are unmapped, and the answer is 0. Any other answer would let the
       workload find the shim by bisecting the address space with munmap. */
    struct dj_range pieces[OWNED_MAX + 1];
    unsigned count = 0;
    uint64_t at = start;
    for (unsigned i = 0; i < owned_count && at < end; i++) {
        if (owned[i].end <= at)
            continue;
        if (owned[i].start >= end)
            break;
        if (owned[i].start > at)
            pieces[count++] = (struct dj_range){ at, owned[i].start };
        at = owned[i].end;
    }
    if (at < end)
        pieces[count++] = (struct dj_range){ at, end };
    if (!dj_vm_has_room(&mmap_space, count))
        return -LX_ENOMEM;
    for (unsigned i = 0; i < count; i++) {
        long r = dj_syscall2(LX_NR_MUNMAP, pieces[i].start, pieces[i].end - pieces[i].start);
        if (r != 0)
            return r;
        dj_vm_remove(&mmap_space, pieces[i].start, pieces[i].end);
    }
    return 0;
}

static long sys_mprotect_locked(uint64_t address, uint64_t length, uint64_t prot)
{
    uint64_t start, end;
    if (address & PAGE_MASK)
        return -LX_EINVAL;
    long r = check_prot(prot);
    if (r)
        return r;
    if (length == 0)
        return 0;
    if (!user_span(address, length, &start, &end) || !is_workload(start, end - start))
        return -LX_ENOMEM;
    return dj_syscall3(LX_NR_MPROTECT, start, end - start, prot);
}

static long sys_madvise_locked(uint64_t address, uint64_t length, uint64_t advice)
{
    uint64_t start, end;
    if (address & PAGE_MASK)
        return -LX_EINVAL;
    if (length == 0)
        return 0;
    if (advice == LX_MADV_HWPOISON || advice == LX_MADV_SOFT_OFFLINE)
        return -LX_EPERM;       /* memory-error injection: CAP_SYS_ADMIN, which a keep never has */
    if (advice > LX_MADV_SOFT_OFFLINE)
        return -LX_EINVAL;
    if (!user_span(address, length, &start, &end))
        return -LX_EINVAL;
    if (!is_workload(start, end - start))
        return -LX_ENOMEM;
    return dj_syscall3(LX_NR_MADVISE, start, end - start, advice);
}

/* ---- mremap: only mappings the shim placed in the mmap range, and only inside it ---- */

static long sys_mremap_locked(uint64_t old_address, uint64_t old_length, uint64_t new_length, uint64_t flags,
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
    long r;

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
        r = dj_syscall6(LX_NR_MREMAP, (long)old_start, (long)old_size, (long)new_size,
                        LX_MREMAP_MAYMOVE | LX_MREMAP_FIXED, (long)start, 0);
        if (!dj_is_error(r)) {
            dj_vm_remove(&mmap_space, old_start, old_end);
            dj_vm_insert(&mmap_space, start, end);
        }
        return r;
    }

    if (new_size <= old_size) {
        r = dj_syscall6(LX_NR_MREMAP, (long)old_start, (long)old_size, (long)new_size, 0, 0, 0);
        if (!dj_is_error(r))
            dj_vm_remove(&mmap_space, old_start + new_size, old_end);
        return r;
    }

    if (over_limit(new_size - old_size))
        return -LX_ENOMEM;
    if (old_start + new_size <= mmap_space.end && dj_vm_is_free(&mmap_space, old_end, old_start + new_size)) {
        r = dj_syscall6(LX_NR_MREMAP, (long)old_start, (long)old_size, (long)new_size, 0, 0, 0);
        if (!dj_is_error(r))
            dj_vm_insert(&mmap_space, old_end, old_start + new_size);
        return r;
    }
    if (!(flags & LX_MREMAP_MAYMOVE))
        return -LX_ENOMEM;
    uint64_t start = dj_vm_find(&mmap_space, new_size, 0);
    if (start == DJ_VM_NONE)
        return -LX_ENOMEM;
    r = dj_syscall6(LX_NR_MREMAP, (long)old_start, (long)old_size, (long)new_size,
                    LX_MREMAP_MAYMOVE | LX_MREMAP_FIXED, (long)start, 0);
    if (!dj_is_error(r)) {
        dj_vm_remove(&mmap_space, old_start, old_end);
        dj_vm_insert(&mmap_space, start, start + new_size);
    }
    return r;
}

/* ---- the entry points: one memory call at a time, across threads ---- */

long dj_sys_brk(uint64_t address)
{
    mm_begin();
    long result = sys_brk_locked(address);
    mm_end();
    return result;
}

long dj_sys_mmap(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset)
{
    /* Outside the lock: dj_map_file comes back here for the memory, and its pread64 writes through dj_user_write,
       whose checks wait while the lock is held. */
    if (!(flags & LX_MAP_ANONYMOUS))
        return dj_map_file(address, length, prot, flags, fd, offset);
    mm_begin();
    long result = sys_mmap_locked(address, length, prot, flags, fd, offset);
    mm_end();
    return result;
}

long dj_sys_munmap(uint64_t address, uint64_t length)
{
    mm_begin();
    long result = sys_munmap_locked(address, length);
    mm_end();
    return result;
}

long dj_sys_mprotect(uint64_t address, uint64_t length, uint64_t prot)
{
    mm_begin();
    long result = sys_mprotect_locked(address, length, prot);
    mm_end();
    return result;
}

long dj_sys_madvise(uint64_t address, uint64_t length, uint64_t advice)
{
    mm_begin();
    long result = sys_madvise_locked(address, length, advice);
    mm_end();
    return result;
}

long dj_sys_mremap(uint64_t old_address, uint64_t old_length, uint64_t new_length, uint64_t flags,
                   uint64_t new_address)
{
    mm_begin();
    long result = sys_mremap_locked(old_address, old_length, new_length, flags, new_address);
    mm_end();
    return result;
}

/* ---- the shim's own mappings near the workload's code (patch.c's stubs) ---- */

uint64_t dj_memory_map_shim_near(uint64_t near, uint64_t size, uint64_t reach)
{
    /* Candidates: just outside each range the workload has or may map; the first that is free wins. */
    uint64_t candidates[2 * DJ_IMAGE_MAX_REGIONS + 4];
    unsigned count = 0;
    size = page_up(size);
    for (uint32_t i = 0; i < region_count; i++) {
        candidates[count++] = regions[i].start - size;
        candidates[count++] = page_up(regions[i].end);
    }
    candidates[count++] = heap.base - size;
    candidates[count++] = page_up(heap.limit);
    candidates[count++] = mmap_space.base - size;
    candidates[count++] = mmap_space.end;
    mm_begin();
    for (unsigned c = 0; c < count; c++) {
        uint64_t start = candidates[c] & ~PAGE_MASK, end = start + size;
        if (start < 0x10000 || end > LX_TASK_SIZE || end < start)
            continue;
        if ((start < near ? near - start : start - near) > reach || (end < near ? near - end : end - near) > reach)
            continue;
        int taken = overlaps(start, end, heap.base, heap.limit) ||
                    overlaps(start, end, mmap_space.base, mmap_space.end);
        for (uint32_t i = 0; i < region_count && !taken; i++)
            taken = overlaps(start, end, regions[i].start, regions[i].end);
        for (unsigned i = 0; i < owned_count && !taken; i++)
            taken = overlaps(start, end, owned[i].start, owned[i].end);
        if (taken || owned_count >= OWNED_MAX)
            continue;
        long mapped = dj_syscall6(LX_NR_MMAP, (long)start, (long)size, LX_PROT_READ | LX_PROT_WRITE,
                                  LX_MAP_PRIVATE | LX_MAP_ANONYMOUS | LX_MAP_FIXED_NOREPLACE, -1, 0);
        if (mapped != (long)start) {
            if (!dj_is_error(mapped))
                dj_syscall2(LX_NR_MUNMAP, mapped, size);   /* a kernel without MAP_FIXED_NOREPLACE: a hint */
            continue;
        }
        add_owned(start, end);
        mm_end();
        return start;
    }
    mm_end();
    return 0;
}

/* Writes `size` bytes at `address` of the workload's code, inside one page that is the workload's, and leaves the
   page PROT_READ|PROT_EXEC: read-write only for the write (never writable and executable at once). Under the
   memory lock, so that no workload mprotect or munmap of the page runs in between. 0, or -1 when the page is not
   the workload's or a protection change failed (the page is then left as the kernel has it, and the caller
   gives up). */
int dj_memory_patch_code(uint64_t address, const uint8_t *bytes, uint64_t size)
{
    uint64_t page = address & ~PAGE_MASK;
    if (size == 0 || size > LX_PAGE_SIZE || address + size < address || ((address + size - 1) & ~PAGE_MASK) != page)
        return -1;
    mm_begin();
    int result = -1;
    if (is_workload(page, LX_PAGE_SIZE) &&
        dj_syscall3(LX_NR_MPROTECT, page, LX_PAGE_SIZE, LX_PROT_READ | LX_PROT_WRITE) == 0) {
        memcpy((void *)address, bytes, size);
        result = dj_syscall3(LX_NR_MPROTECT, page, LX_PAGE_SIZE, LX_PROT_READ | LX_PROT_EXEC) == 0 ? 0 : -1;
    }
    mm_end();
    return result;
}
