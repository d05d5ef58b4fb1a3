/*
 * asm/common/vmspace.c -- which pages of one address range (a keep's mmap range) are mapped.
 *
 * The workload's anonymous mmap must land inside the mmap range the host chose, and the memory limit must
 * hold, so the shim places mappings itself instead of letting the kernel pick. This file is the bookkeeping
 * only: a sorted array of disjoint, never-adjacent mapped ranges. Callers check dj_vm_has_room() before they
 * change the real mappings, so that the bookkeeping after a successful change cannot fail.
 *
 * Shared by every shim; no system call, no policy.
 */
#include "shim.h"

void dj_vm_init(struct dj_vmspace *vm, uint64_t base, uint64_t end)
{
    vm->base = base;
    vm->end = end;
    vm->mapped = 0;
    vm->count = 0;
}

int dj_vm_contains(const struct dj_vmspace *vm, uint64_t start, uint64_t end)
{
    return start < end && start >= vm->base && end <= vm->end;
}

int dj_vm_has_room(const struct dj_vmspace *vm, uint32_t extra)
{
    return vm->count + extra <= DJ_VMSPACE_MAX_RANGES;
}

/* The index of the first range that ends after `address`. */
static uint32_t first_ending_after(const struct dj_vmspace *vm, uint64_t address)
{
    uint32_t low = 0, high = vm->count;
    while (low < high) {
        uint32_t mid = low + (high - low) / 2;
        if (vm->ranges[mid].end > address)
            high = mid;
        else
            low = mid + 1;
    }
    return low;
}

/* The end of the tracked range that contains `address`, or 0 when no tracked range does. */
uint64_t dj_vm_range_end(const struct dj_vmspace *vm, uint64_t address)
{
    uint32_t i = first_ending_after(vm, address);
    if (i < vm->count && vm->ranges[i].start <= address)
        return vm->ranges[i].end;
    return 0;
}

int dj_vm_is_free(const struct dj_vmspace *vm, uint64_t start, uint64_t end)
{
    uint32_t i = first_ending_after(vm, start);
    return i == vm->count || vm->ranges[i].start >= end;
}

int dj_vm_is_mapped(const struct dj_vmspace *vm, uint64_t start, uint64_t end)
{
    uint32_t i = first_ending_after(vm, start);
    return i < vm->count && vm->ranges[i].start <= start && vm->ranges[i].end >= end;
}

uint64_t dj_vm_mapped_in(const struct dj_vmspace *vm, uint64_t start, uint64_t end)
{
    uint64_t total = 0;
    for (uint32_t i = first_ending_after(vm, start); i < vm->count && vm->ranges[i].start < end; i++) {
        uint64_t s = vm->ranges[i].start > start ? vm->ranges[i].start : start;
        uint64_t e = vm->ranges[i].end < end ? vm->ranges[i].end : end;
        total += e - s;
    }
    return total;
}

/* Top-down first fit, as Linux places mappings; the hint wins when its pages are free. */
uint64_t dj_vm_find(const struct dj_vmspace *vm, uint64_t size, uint64_t hint)
{
    if (size == 0 || size > vm->end - vm->base)
        return DJ_VM_NONE;
    if (hint && hint <= vm->end - size && dj_vm_contains(vm, hint, hint + size) && dj_vm_is_free(vm, hint, hint + size))
        return hint;
    uint64_t gap_end = vm->end;
    for (uint32_t i = vm->count; ; i--) {
        uint64_t gap_start = i ? vm->ranges[i - 1].end : vm->base;
        if (gap_end - gap_start >= size)
            return gap_end - size;
        if (i == 0)
            return DJ_VM_NONE;
        gap_end = vm->ranges[i - 1].start;
    }
}

/* Replaces ranges [i, j) with the `n` ranges in `with`. */
static void splice(struct dj_vmspace *vm, uint32_t i, uint32_t j, const struct dj_range *with, uint32_t n)
{
    for (uint32_t k = i; k < j; k++)
        vm->mapped -= vm->ranges[k].end - vm->ranges[k].start;
    memmove(&vm->ranges[i + n], &vm->ranges[j], (vm->count - j) * sizeof(struct dj_range));
    for (uint32_t k = 0; k < n; k++) {
        vm->ranges[i + k] = with[k];
        vm->mapped += with[k].end - with[k].start;
    }
    vm->count = vm->count - (j - i) + n;
}

void dj_vm_insert(struct dj_vmspace *vm, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    /* Every range that overlaps or touches [start, end) merges into one. */
    uint32_t i = first_ending_after(vm, start);
    if (i > 0 && vm->ranges[i - 1].end == start)
        i--;
    uint32_t j = i;
    struct dj_range merged = { start, end };
    while (j < vm->count && vm->ranges[j].start <= end) {
        if (vm->ranges[j].start < merged.start)
            merged.start = vm->ranges[j].start;
        if (vm->ranges[j].end > merged.end)
            merged.end = vm->ranges[j].end;
        j++;
    }
    splice(vm, i, j, &merged, 1);
}

void dj_vm_remove(struct dj_vmspace *vm, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    uint32_t i = first_ending_after(vm, start);
    uint32_t j = i;
    while (j < vm->count && vm->ranges[j].start < end)
        j++;
    if (i == j)
        return;
    struct dj_range keep[2];
    uint32_t n = 0;
    if (vm->ranges[i].start < start)
        keep[n++] = (struct dj_range){ vm->ranges[i].start, start };
    if (vm->ranges[j - 1].end > end)
        keep[n++] = (struct dj_range){ end, vm->ranges[j - 1].end };
    splice(vm, i, j, keep, n);
}
