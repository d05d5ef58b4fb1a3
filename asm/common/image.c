/*
 * asm/common/image.c -- checks the keep image blob (docs/protocol.md §1) before a shim carries it out.
 *
 * Entry point: dj_image_check(). Pure computation over the blob: no system call, no global state, so every
 * shim shares it.
 *
 * The blob comes from the host, which the shim does not trust. Every field is read once, into *image, and
 * only that copy is checked and used. Every sum of two untrusted 64-bit values is checked for wrap-around
 * before it is compared.
 */
#include "shim.h"

static uint64_t load_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof v); return v; }
static uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof v); return v; }
static uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof v); return v; }

#define PAGE_MASK ((uint64_t)DJ_PAGE_SIZE - 1)

static int page_aligned(uint64_t value) { return (value & PAGE_MASK) == 0; }

/* [start, start + size) as a range, or 0 if the sum wraps or passes the user address space. */
static int make_range(uint64_t start, uint64_t size, struct dj_range *range)
{
    if (size > (uint64_t)DJ_IMAGE_MAX_ADDRESS || start > (uint64_t)DJ_IMAGE_MAX_ADDRESS - size)
        return 0;
    range->start = start;
    range->end = start + size;
    return 1;
}

static int overlap(const struct dj_range *a, const struct dj_range *b)
{
    return a->start < b->end && b->start < a->end && a->start < a->end && b->start < b->end;
}

/* Whether [offset, offset + size) lies inside [0, limit), without wrapping. */
static int inside(uint64_t offset, uint64_t size, uint64_t limit)
{
    return offset <= limit && size <= limit - offset;
}

const char *dj_image_check(const uint8_t *blob, uint64_t blob_size, const struct dj_range *forbidden,
                           unsigned forbidden_count, struct dj_image *image)
{
    if (blob_size < DJ_IMAGE_HEADER_SIZE)
        return "image blob: smaller than its 128-byte header";
    if (load_u32(blob + DJ_IMAGE_MAGIC_OFFSET) != DJ_IMAGE_MAGIC)
        return "image blob: bad magic (expected \"DJNI\")";
    if (load_u16(blob + DJ_IMAGE_VERSION_MAJOR_OFFSET) != DJ_IMAGE_VERSION_MAJOR)
        return "image blob: major version is not 1";
    if (load_u32(blob + DJ_IMAGE_HEADER_SIZE_OFFSET) != DJ_IMAGE_HEADER_SIZE)
        return "image blob: header size is not 128";
    if (load_u64(blob + DJ_IMAGE_BLOB_SIZE_OFFSET) != blob_size)
        return "image blob: the blob size field differs from the descriptor's size";

    uint32_t count = load_u32(blob + DJ_IMAGE_REGION_COUNT_OFFSET);
    if (count == 0 || count > DJ_IMAGE_MAX_REGIONS)
        return "image blob: region count is not 1-64";
    if (!inside(DJ_IMAGE_REGIONS_OFFSET, (uint64_t)count * DJ_REGION_SIZE, blob_size))
        return "image blob: the region descriptors run past the blob";

    image->entry_point = load_u64(blob + DJ_IMAGE_ENTRY_POINT_OFFSET);
    image->stack_pointer = load_u64(blob + DJ_IMAGE_STACK_POINTER_OFFSET);
    image->heap_base = load_u64(blob + DJ_IMAGE_HEAP_BASE_OFFSET);
    image->heap_max_size = load_u64(blob + DJ_IMAGE_HEAP_MAX_SIZE_OFFSET);
    image->mmap_base = load_u64(blob + DJ_IMAGE_MMAP_BASE_OFFSET);
    image->mmap_end = load_u64(blob + DJ_IMAGE_MMAP_END_OFFSET);
    image->config_offset = load_u64(blob + DJ_IMAGE_CONFIG_OFFSET_OFFSET);
    image->config_size = load_u64(blob + DJ_IMAGE_CONFIG_SIZE_OFFSET);
    image->memory_limit = load_u64(blob + DJ_IMAGE_MEMORY_LIMIT_OFFSET);
    image->region_count = count;

    if (!inside(image->config_offset, image->config_size, blob_size))
        return "image blob: the configuration page runs past the blob";
    if (image->config_size < DJ_CONFIG_HEADER_SIZE)
        return "image blob: the configuration page is smaller than its header";

    /* The heap and the mmap range are reserved address space: nothing else may ever be placed there. */
    struct dj_range heap, mmap_range;
    if (!page_aligned(image->heap_base))
        return "image blob: heap base is not page-aligned";
    if (!make_range(image->heap_base, image->heap_max_size, &heap) || heap.end > (DJ_IMAGE_MAX_ADDRESS & ~PAGE_MASK))
        return "image blob: the heap runs past the user address space";
    heap.end = (heap.end + PAGE_MASK) & ~PAGE_MASK;  /* brk maps whole pages */
    if (!page_aligned(image->mmap_base) || !page_aligned(image->mmap_end))
        return "image blob: the mmap range is not page-aligned";
    if (image->mmap_base > image->mmap_end || image->mmap_end > DJ_IMAGE_MAX_ADDRESS)
        return "image blob: the mmap range ends before it starts, or runs past the user address space";
    mmap_range.start = image->mmap_base;
    mmap_range.end = image->mmap_end;
    if (overlap(&heap, &mmap_range))
        return "image blob: the heap and the mmap range overlap";
    for (unsigned f = 0; f < forbidden_count; f++) {
        if (overlap(&heap, &forbidden[f]))
            return "image blob: the heap overlaps the shim, the blob or the block";
        if (overlap(&mmap_range, &forbidden[f]))
            return "image blob: the mmap range overlaps the shim, the blob or the block";
    }

    unsigned stacks = 0;
    int entry_ok = 0, stack_ok = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *d = blob + DJ_IMAGE_REGIONS_OFFSET + (uint64_t)i * DJ_REGION_SIZE;
        struct dj_region *r = &image->regions[i];
        r->address = load_u64(d + DJ_REGION_ADDRESS_OFFSET);
        r->size = load_u64(d + DJ_REGION_SIZE_OFFSET);
        r->permissions = load_u32(d + DJ_REGION_PERMISSIONS_OFFSET);
        r->kind = load_u32(d + DJ_REGION_KIND_OFFSET);
        r->data_offset = load_u64(d + DJ_REGION_DATA_OFFSET_OFFSET);
        r->blob_offset = load_u64(d + DJ_REGION_BLOB_OFFSET_OFFSET);
        r->data_size = load_u64(d + DJ_REGION_DATA_SIZE_OFFSET);

        struct dj_range range;
        if (r->size == 0 || !page_aligned(r->address) || !page_aligned(r->size))
            return "image blob: a region's address or size is zero or not page-aligned";
        if (!make_range(r->address, r->size, &range))
            return "image blob: a region runs past the user address space";
        if (!inside(r->data_offset, r->data_size, r->size))
            return "image blob: a region's data runs past the region";
        if (!inside(r->blob_offset, r->data_size, blob_size))
            return "image blob: a region's data runs past the blob";
        if (r->permissions & ~(uint32_t)(DJ_REGION_PERMISSION_READ | DJ_REGION_PERMISSION_WRITE |
                                         DJ_REGION_PERMISSION_EXECUTE))
            return "image blob: a region has unknown permission bits";
        if ((r->permissions & DJ_REGION_PERMISSION_WRITE) && (r->permissions & DJ_REGION_PERMISSION_EXECUTE))
            return "image blob: a region is both writable and executable";
        if (r->kind != DJ_REGION_KIND_SEGMENT && r->kind != DJ_REGION_KIND_STACK)
            return "image blob: a region has an unknown kind";

        if (overlap(&range, &heap))
            return "image blob: a region overlaps the heap";
        if (overlap(&range, &mmap_range))
            return "image blob: a region overlaps the mmap range";
        for (unsigned f = 0; f < forbidden_count; f++)
            if (overlap(&range, &forbidden[f]))
                return "image blob: a region overlaps the shim, the blob or the block";
        for (uint32_t j = 0; j < i; j++) {
            struct dj_range other = { image->regions[j].address,
                                      image->regions[j].address + image->regions[j].size };
            if (overlap(&range, &other))
                return "image blob: two regions overlap";
        }

        if (r->kind == DJ_REGION_KIND_SEGMENT && (r->permissions & DJ_REGION_PERMISSION_EXECUTE) &&
            image->entry_point >= range.start && image->entry_point < range.end)
            entry_ok = 1;
        if (r->kind == DJ_REGION_KIND_STACK) {
            stacks++;
            /* argc (8 bytes) must be readable at the initial stack pointer. */
            if (image->stack_pointer >= range.start && image->stack_pointer <= range.end - 8)
                stack_ok = 1;
        }
    }

    if (!entry_ok)
        return "image blob: the entry point lies in no executable segment";
    if (stacks != 1)
        return "image blob: there is not exactly one stack region";
    if (!stack_ok)
        return "image blob: the initial stack pointer lies outside the stack region";
    if (image->stack_pointer & 15)
        return "image blob: the initial stack pointer is not 16-byte aligned";
    return NULL;
}
