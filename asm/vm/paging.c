/*
 * asm/vm/paging.c -- guest-physical pages and the page tables: the shim's own address space, and the
 * workload's, page by page.
 *
 * Entry points
 *   dj_pages_init()      from dj_vm_main: the free RAM ranges (setup.c computed them from the E820 map)
 *   dj_page_alloc/free() a zeroed page / give one back; dj_pages_free_count()
 *   dj_paging_init()     from dj_vm_main: build the final page tables and switch to them
 *   dj_kernel_map()      from threads.c: one page of a thread's area
 *   dj_user_*()          from memory.c and setup.c (the image's regions): reserve, populate, release,
 *                        protect, discard, move workload pages; query them
 *   dj_page_fault()      from dj_trap (faults.c) on #PF
 *
 * The address space (docs/vm.md "Memory")
 *   lower half, PML4[0..255]   the workload's, 4 KiB pages, created on demand
 *   PML4[256]                  the direct map: guest RAM at DJ_VM_DIRECT_MAP + physical, 2 MiB pages, RW, NX
 *   PML4[511]                  the shim's image at DJ_VM_KERNEL_VIRTUAL_OFFSET + physical, 4 KiB pages with the
 *                              permissions of its sections (text R X, rodata R, data RW NX), the page below the
 *                              kernel stack left unmapped as a guard; and the local APIC's registers, uncached, at
 *                              DJ_VM_LAPIC_VIRTUAL; and from DJ_VM_THREAD_AREA_VIRTUAL the threads' areas (kernel
 *                              stacks, records), mapped page by page by dj_kernel_map when a thread is first made,
 *                              RW NX. Global, so no CR3 load flushes them.
 *   Until dj_paging_init switches, the boot page tables (boot.S) map physical 0-1 GiB at the shim's offset, and
 *   page-table pages are reached there; afterwards through the direct map.
 *
 * Workload page-table entries (the lowest level). Besides the hardware bits, software bits say what the
 * workload mapped, so that a page can be part of its address space without a frame yet:
 *   DJ_PTE_MAPPED      the page is mapped (mmap, brk, an image region); without it the entry is unused
 *   DJ_PTE_HAS_PAGE    a frame is attached (bits 12-51); without it the page is zero-filled on first touch
 *   bits 52-54         the workload's PROT_READ/WRITE/EXEC (the hardware ignores bits 52-58)
 *   present            exactly when a frame is attached and the protection is not PROT_NONE; then user,
 *                      writable iff PROT_WRITE, and NX unless PROT_EXEC (x86 cannot refuse reads: PROT_WRITE
 *                      and PROT_EXEC alone read as well, as on Linux)
 *   No entry is ever writable and executable: memory.c refuses PROT_WRITE|PROT_EXEC before it gets here.
 *
 * Demand paging: mmap, brk and the image's zero pages only reserve (DJ_PTE_MAPPED without a frame). The first
 * touch faults; dj_page_fault gives the page a zeroed frame if the access is one the protection allows.
 *
 * Labels: none (C). Register contract: System V for every entry point; dj_page_fault runs inside dj_trap with
 *   interrupts off.
 *
 * Untrusted inputs: none directly. The RAM ranges came from the host's E820 map and were checked by setup.c;
 * workload addresses reach here only after memory.c's checks (page-aligned, below LX_TASK_SIZE).
 */
#include "vm.h"
#include "linux.h"

#define PAGE                ((uint64_t)DJ_PAGE_SIZE)
#define LARGE_PAGE          ((uint64_t)0x200000)
#define GIB                 ((uint64_t)0x40000000)
#define ENTRIES             512
#define MAX_POOL_RANGES     48
#define FLUSH_EACH_LIMIT    32      /* more changed pages than this: reload CR3 instead of invlpg each */
#define PROT_MASK           (LX_PROT_READ | LX_PROT_WRITE | LX_PROT_EXEC)

/* Page-table pages are reached at physical + phys_offset: the boot mapping first (physical 0-1 GiB only), then
   the direct map. */
static uint64_t phys_offset = DJ_VM_KERNEL_VIRTUAL_OFFSET;
static uint64_t reachable_end = GIB;
static uint64_t pml4;               /* physical */
static uint64_t kernel_pd;          /* physical: the page directory of the shim's gigabyte (PML4 511, PDPT 510) */
static uint64_t nx_bit;

void *dj_phys_to_virt(uint64_t physical)
{
    return (void *)(physical + phys_offset);
}

/* ---- physical pages ---- */

static struct dj_memory_range pool[MAX_POOL_RANGES];
static unsigned pool_count, pool_index;
static uint64_t pool_next;          /* never-used pages: from here to the end of pool[pool_index], then the next */
static uint64_t free_list;          /* freed pages, linked through their first 8 bytes */
static uint64_t free_listed;

void dj_pages_init(const struct dj_memory_range *ranges, unsigned count)
{
    pool_count = count < MAX_POOL_RANGES ? count : MAX_POOL_RANGES;
    for (unsigned i = 0; i < pool_count; i++)
        pool[i] = ranges[i];
    pool_index = 0;
    pool_next = pool_count ? pool[0].start : 0;
}

uint64_t dj_page_alloc(void)
{
    uint64_t page;
    if (free_list) {
        page = free_list;
        free_list = *(uint64_t *)dj_phys_to_virt(page);
        free_listed--;
    } else {
        while (pool_index < pool_count && pool_next >= pool[pool_index].end) {
            pool_index++;
            if (pool_index < pool_count)
                pool_next = pool[pool_index].start;
        }
        if (pool_index >= pool_count)
            return 0;
        page = pool_next;
        pool_next += PAGE;
    }
    if (page + PAGE > reachable_end)
        dj_internal_error("a page beyond the boot mapping was needed before the direct map existed", page);
    /* Every page is cleared before use, fresh or not: the host wrote guest RAM before boot. */
    dj_vm_zero_page(dj_phys_to_virt(page));
    return page;
}

void dj_page_free(uint64_t page)
{
    *(uint64_t *)dj_phys_to_virt(page) = free_list;
    free_list = page;
    free_listed++;
}

uint64_t dj_pages_free_count(void)
{
    uint64_t count = free_listed;
    for (unsigned i = pool_index; i < pool_count; i++) {
        uint64_t start = i == pool_index ? pool_next : pool[i].start;
        if (pool[i].end > start)
            count += (pool[i].end - start) / PAGE;
    }
    return count;
}

/* ---- the shim's address space ---- */

static uint64_t *table(uint64_t physical) { return (uint64_t *)dj_phys_to_virt(physical & DJ_PTE_ADDRESS_MASK); }

static uint64_t must_alloc(void)
{
    uint64_t page = dj_page_alloc();
    if (!page)
        dj_internal_error("no guest memory left for the shim's page tables", 0);
    return page;
}

void dj_paging_init(uint64_t ram_end)
{
    uint32_t r[4];
    dj_cpuid(0x80000001, 0, r);
    nx_bit = (r[3] & (1u << 20)) ? DJ_PTE_NO_EXECUTE : 0;   /* setup.c set EFER.NXE when this bit is set */

    pml4 = must_alloc();
    uint64_t *top = table(pml4);
    uint64_t kernel_flags = DJ_PTE_PRESENT | DJ_PTE_WRITE;

    /* The direct map: every 2 MiB of RAM, up to ram_end. */
    uint64_t pdpt = must_alloc();
    top[DJ_VM_DIRECT_MAP_PML4_INDEX] = pdpt | kernel_flags;
    for (uint64_t gib = 0; gib * GIB < ram_end; gib++) {
        uint64_t pd = must_alloc();
        table(pdpt)[gib] = pd | kernel_flags;
        for (unsigned i = 0; i < ENTRIES; i++) {
            uint64_t physical = gib * GIB + i * LARGE_PAGE;
            if (physical >= ram_end)
                break;
            table(pd)[i] = physical | DJ_PTE_PRESENT | DJ_PTE_WRITE | DJ_PTE_LARGE | DJ_PTE_GLOBAL | nx_bit;
        }
    }

    /* The shim's image, page by page, with its sections' permissions. */
    uint64_t kpdpt = must_alloc();
    uint64_t kpd = must_alloc();
    top[DJ_VM_KERNEL_PML4_INDEX] = kpdpt | kernel_flags;
    table(kpdpt)[DJ_VM_KERNEL_PDPT_INDEX] = kpd | kernel_flags;
    kernel_pd = kpd;
    for (uint64_t v = (uint64_t)__kernel_start; v < (uint64_t)__kernel_end; v += PAGE) {
        uint64_t physical = v - DJ_VM_KERNEL_VIRTUAL_OFFSET;
        unsigned pd_index = (unsigned)((physical >> 21) & (ENTRIES - 1));
        if (!(table(kpd)[pd_index] & DJ_PTE_PRESENT))
            table(kpd)[pd_index] = must_alloc() | kernel_flags;
        uint64_t flags = DJ_PTE_PRESENT | DJ_PTE_GLOBAL;
        if (v >= (uint64_t)__kernel_text_end)
            flags |= nx_bit;
        if (v >= (uint64_t)__kernel_rodata_end)
            flags |= DJ_PTE_WRITE;
        if (v == (uint64_t)__kernel_stack_guard)
            flags = 0;
        table(table(kpd)[pd_index])[(physical >> 12) & (ENTRIES - 1)] = flags ? physical | flags : 0;
    }

    /* The local APIC's register page, uncached, past the image. */
    uint64_t apic = dj_rdmsr(DJ_MSR_APIC_BASE) & DJ_APIC_BASE_ADDRESS_MASK;
    uint64_t apic_offset = DJ_VM_LAPIC_VIRTUAL - DJ_VM_KERNEL_VIRTUAL_OFFSET;
    unsigned apic_pd_index = (unsigned)((apic_offset >> 21) & (ENTRIES - 1));
    if (!(table(kpd)[apic_pd_index] & DJ_PTE_PRESENT))
        table(kpd)[apic_pd_index] = must_alloc() | kernel_flags;
    table(table(kpd)[apic_pd_index])[(apic_offset >> 12) & (ENTRIES - 1)] =
        apic | DJ_PTE_PRESENT | DJ_PTE_WRITE | DJ_PTE_CACHE_DISABLE | DJ_PTE_WRITE_THROUGH | DJ_PTE_GLOBAL | nx_bit;

    dj_write_cr3(pml4);
    phys_offset = DJ_VM_DIRECT_MAP;
    reachable_end = ram_end;
}

long dj_kernel_map(uint64_t virtual, uint64_t physical)
{
    uint64_t offset = virtual - DJ_VM_KERNEL_VIRTUAL_OFFSET;
    if (virtual < DJ_VM_THREAD_AREA_VIRTUAL || offset >= GIB || (virtual & (PAGE - 1)))
        dj_internal_error("a shim mapping outside the thread area at", virtual);
    uint64_t *pd = table(kernel_pd);
    unsigned pd_index = (unsigned)((offset >> 21) & (ENTRIES - 1));
    if (!(pd[pd_index] & DJ_PTE_PRESENT)) {
        uint64_t page = dj_page_alloc();
        if (!page)
            return -LX_ENOMEM;
        pd[pd_index] = page | DJ_PTE_PRESENT | DJ_PTE_WRITE;
    }
    table(pd[pd_index])[(offset >> 12) & (ENTRIES - 1)] = physical | DJ_PTE_PRESENT | DJ_PTE_WRITE | DJ_PTE_GLOBAL | nx_bit;
    dj_invlpg(virtual);
    return 0;
}

void dj_flush_tlb(void)
{
    dj_write_cr3(dj_read_cr3());    /* the shim's own entries are global and stay */
}

/* ---- the workload's pages ---- */

struct flush {
    uint64_t count;
};

static void flush_page(struct flush *f, uint64_t address)
{
    if (f->count++ < FLUSH_EACH_LIMIT)
        dj_invlpg(address);
}

static void flush_done(const struct flush *f)
{
    if (f->count > FLUSH_EACH_LIMIT)
        dj_flush_tlb();
}

static uint32_t prot_of(uint64_t entry) { return (uint32_t)(entry >> DJ_PTE_PROT_SHIFT) & PROT_MASK; }

static uint64_t leaf(uint64_t frame, uint32_t prot, int has_page)
{
    uint64_t entry = DJ_PTE_MAPPED | ((uint64_t)(prot & PROT_MASK) << DJ_PTE_PROT_SHIFT);
    if (!has_page)
        return entry;
    entry |= (frame & DJ_PTE_ADDRESS_MASK) | DJ_PTE_HAS_PAGE;
    if (prot & PROT_MASK) {
        entry |= DJ_PTE_PRESENT | DJ_PTE_USER;
        if (prot & LX_PROT_WRITE)
            entry |= DJ_PTE_WRITE;
        if (!(prot & LX_PROT_EXEC))
            entry |= nx_bit;
    }
    return entry;
}

/* The lowest-level entry of a workload address, creating the tables on the way when `create`. NULL when a table
   is missing (and not to be created) or no page was left for it. */
static uint64_t *user_entry(uint64_t address, int create)
{
    uint64_t *t = table(pml4);
    for (int level = 3; level > 0; level--) {
        unsigned index = (unsigned)((address >> (12 + 9 * level)) & (ENTRIES - 1));
        uint64_t entry = t[index];
        if (!(entry & DJ_PTE_PRESENT)) {
            if (!create)
                return NULL;
            uint64_t page = dj_page_alloc();
            if (!page)
                return NULL;
            entry = page | DJ_PTE_PRESENT | DJ_PTE_WRITE | DJ_PTE_USER;
            t[index] = entry;
        }
        t = table(entry);
    }
    return &t[(address >> 12) & (ENTRIES - 1)];
}

/* The next address to look at after `address`, whose table is missing: the next 2 MiB boundary. */
static uint64_t skip_table(uint64_t address) { return (address | (LARGE_PAGE - 1)) + 1; }

/* Makes sure every table for [start, end) exists, so that the changes that follow cannot fail half-way. */
static long ensure_tables(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a < end; a = skip_table(a))
        if (!user_entry(a, 1))
            return -LX_ENOMEM;
    return 0;
}

long dj_user_reserve(uint64_t start, uint64_t end, uint32_t prot)
{
    long r = ensure_tables(start, end);
    if (r)
        return r;
    struct flush f = { 0 };
    for (uint64_t a = start; a < end; a += PAGE) {
        uint64_t *e = user_entry(a, 0);
        uint64_t old = *e;
        if (old & DJ_PTE_HAS_PAGE)
            dj_page_free(old & DJ_PTE_ADDRESS_MASK);
        *e = leaf(0, prot, 0);
        if (old & DJ_PTE_PRESENT)
            flush_page(&f, a);
    }
    flush_done(&f);
    return 0;
}

long dj_user_populate(uint64_t address, uint32_t prot, uint64_t *physical)
{
    uint64_t *e = user_entry(address, 1);
    if (!e)
        return -LX_ENOMEM;
    if (*e & DJ_PTE_HAS_PAGE) {
        *physical = *e & DJ_PTE_ADDRESS_MASK;
        return 0;
    }
    uint64_t frame = dj_page_alloc();
    if (!frame)
        return -LX_ENOMEM;
    *e = leaf(frame, prot, 1);
    dj_invlpg(address);
    *physical = frame;
    return 0;
}

void dj_user_release(uint64_t start, uint64_t end)
{
    struct flush f = { 0 };
    for (uint64_t a = start; a < end;) {
        uint64_t *e = user_entry(a, 0);
        if (!e) {
            a = skip_table(a);
            continue;
        }
        uint64_t old = *e;
        if (old & DJ_PTE_HAS_PAGE)
            dj_page_free(old & DJ_PTE_ADDRESS_MASK);
        *e = 0;
        if (old & DJ_PTE_PRESENT)
            flush_page(&f, a);
        a += PAGE;
    }
    flush_done(&f);
}

void dj_user_protect(uint64_t start, uint64_t end, uint32_t prot)
{
    struct flush f = { 0 };
    for (uint64_t a = start; a < end; a += PAGE) {
        uint64_t *e = user_entry(a, 0);
        if (!e || !(*e & DJ_PTE_MAPPED))
            continue;
        uint64_t old = *e;
        *e = leaf(old & DJ_PTE_ADDRESS_MASK, prot, (old & DJ_PTE_HAS_PAGE) != 0);
        if (old & DJ_PTE_PRESENT)
            flush_page(&f, a);
    }
    flush_done(&f);
}

void dj_user_discard(uint64_t start, uint64_t end)
{
    struct flush f = { 0 };
    for (uint64_t a = start; a < end;) {
        uint64_t *e = user_entry(a, 0);
        if (!e) {
            a = skip_table(a);
            continue;
        }
        uint64_t old = *e;
        if (old & DJ_PTE_HAS_PAGE) {
            dj_page_free(old & DJ_PTE_ADDRESS_MASK);
            *e = leaf(0, prot_of(old), 0);
            if (old & DJ_PTE_PRESENT)
                flush_page(&f, a);
        }
        a += PAGE;
    }
    flush_done(&f);
}

long dj_user_move(uint64_t from, uint64_t to, uint64_t size)
{
    long r = ensure_tables(to, to + size);
    if (r)
        return r;
    struct flush f = { 0 };
    for (uint64_t i = 0; i < size; i += PAGE) {
        uint64_t *source = user_entry(from + i, 0);
        uint64_t *target = user_entry(to + i, 0);
        uint64_t old = *target;
        if (old & DJ_PTE_HAS_PAGE)
            dj_page_free(old & DJ_PTE_ADDRESS_MASK);
        *target = source ? *source : 0;
        if (old & DJ_PTE_PRESENT)
            flush_page(&f, to + i);
        if (source) {
            if (*source & DJ_PTE_PRESENT)
                flush_page(&f, from + i);
            *source = 0;
        }
    }
    flush_done(&f);
    return 0;
}

int dj_user_prot(uint64_t address)
{
    uint64_t *e = user_entry(address, 0);
    return e && (*e & DJ_PTE_MAPPED) ? (int)prot_of(*e) : -1;
}

int dj_user_all_mapped(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a < end; a += PAGE) {
        uint64_t *e = user_entry(a, 0);
        if (!e || !(*e & DJ_PTE_MAPPED))
            return 0;
    }
    return 1;
}

int dj_user_none_mapped(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a < end;) {
        uint64_t *e = user_entry(a, 0);
        if (!e) {
            a = skip_table(a);
            continue;
        }
        if (*e & DJ_PTE_MAPPED)
            return 0;
        a += PAGE;
    }
    return 1;
}

/* #PF error code bits. */
#define PF_WRITE        0x2
#define PF_USER         0x4
#define PF_INSTRUCTION  0x10

int dj_page_fault(uint64_t address, uint64_t error_code)
{
    if (address >= LX_TASK_SIZE)
        return 0;
    uint64_t *e = user_entry(address, 0);
    if (!e || !(*e & DJ_PTE_MAPPED))
        return 0;
    uint64_t entry = *e;
    uint32_t prot = prot_of(entry);
    if (!prot)
        return 0;
    if ((error_code & PF_WRITE) && !(prot & LX_PROT_WRITE))
        return 0;
    if (error_code & PF_INSTRUCTION) {
        /* The shim never executes workload pages (SMEP says so where the CPU has it). */
        if (!(error_code & PF_USER) || !(prot & LX_PROT_EXEC))
            return 0;
    }
    /* Present, and the access is one the protection allows: every change to a present entry is flushed
       (flush_page), and the CPU caches no not-present entry, so this is not a stale translation. It is the
       workload's fault (or a reserved-bit fault, a shim bug, which faults.c reports). */
    if (entry & DJ_PTE_PRESENT)
        return 0;
    uint64_t frame = entry & DJ_PTE_ADDRESS_MASK;
    if (!(entry & DJ_PTE_HAS_PAGE)) {
        frame = dj_page_alloc();
        if (!frame)
            return -1;
    }
    *e = leaf(frame, prot, 1);
    return 1;
}

