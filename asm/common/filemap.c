/*
 * asm/common/filemap.c -- file-backed mmap, served inside the keep by copying: the mapping is anonymous memory the
 * shim places as for any mmap, filled with the file's bytes read through the host (pread64, served by the host's
 * handler sets like the workload's own reads), then given the protection the workload asked for. It is the only way
 * that works for a confidential keep too: the host never maps keep memory, and the keep never maps a host file.
 *
 * Entry point
 *   dj_map_file()   from each shim's dj_sys_mmap, for an mmap without MAP_ANONYMOUS
 *
 * Flow
 *   1. check the arguments as Linux would (offset page-aligned and not past 2^63, length, type, flags, protection);
 *   2. dj_sys_mmap(address, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | the placement flags):
 *      the shim's own placement and limits, MAP_FIXED included (the interpreter maps a library's segments over its
 *      reservation);
 *   3. pread64(fd, start + done, length - done, offset + done) until the length is filled or the file ends (the rest
 *      stays zero, as Linux's last page is); a short read goes on, an error unmaps and fails the mmap;
 *   4. dj_sys_mprotect(start, length, prot) when prot is not read-write.
 *
 * Semantics (docs/protocol.md §2, "File mappings")
 *   - MAP_PRIVATE: as Linux, except that the copy is made at mmap time (a later change to the file is not seen).
 *   - MAP_SHARED without PROT_WRITE: the same copy (a read-only shared map cannot tell the difference but for later
 *     changes to the file).
 *   - MAP_SHARED with PROT_WRITE: ENODEV. The writes could never reach the file, so a program that relies on them
 *     (a database's shared-memory index) gets an answer it handles (falls back to read/write), not silent loss.
 *   - A descriptor that is not a regular file (a pipe, a socket, a directory): ENODEV, as Linux for what has no
 *     mmap; one not open for reading: EACCES; a bad descriptor: EBADF.
 *
 * Untrusted inputs: every argument (the workload's) and every pread64 result (the host's): a result larger than
 * asked is refused (EIO) before it is counted.
 */
#include "shim.h"
#include "linux.h"

#define PAGE_MASK ((uint64_t)LX_PAGE_SIZE - 1)

static int is_error(long result) { return (unsigned long)result > -(unsigned long)(LX_MAX_ERRNO + 1); }
#define PROT_ALL (LX_PROT_READ | LX_PROT_WRITE | LX_PROT_EXEC)

static long fill(uint64_t start, uint64_t length, uint64_t fd, uint64_t offset)
{
    uint64_t done = 0;
    while (done < length) {
        uint64_t args[DJ_MAX_ARGUMENTS] = { fd, start + done, length - done, offset + done, 0, 0 };
        long r = dj_host_syscall(LX_NR_PREAD64, args);
        if (r == -LX_EINTR || r == -LX_ERESTARTSYS)
            continue;
        if (r < 0)
            return r;
        if (r == 0)
            break;
        if ((uint64_t)r > length - done)
            return -LX_EIO;
        done += (uint64_t)r;
    }
    return 0;
}

long dj_map_file(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t offset)
{
    uint64_t type = flags & LX_MAP_TYPE;
    if (offset & PAGE_MASK)
        return -LX_EINVAL;
    if (length == 0)
        return -LX_EINVAL;
    if (length > LX_TASK_SIZE)
        return -LX_ENOMEM;
    if (offset > (uint64_t)INT64_MAX - length)
        return -LX_EOVERFLOW;
    if (type != LX_MAP_SHARED && type != LX_MAP_PRIVATE && type != LX_MAP_SHARED_VALIDATE)
        return -LX_EINVAL;
    if (prot & ~(uint64_t)PROT_ALL)
        return -LX_EINVAL;
    if ((prot & LX_PROT_WRITE) && (prot & LX_PROT_EXEC))
        return -LX_EACCES;
    if (fd > INT32_MAX)
        return -LX_EBADF;
    if (type != LX_MAP_PRIVATE && (prot & LX_PROT_WRITE))
        return -LX_ENODEV;

    /* The copy is private whatever the type: MAP_DENYWRITE and MAP_EXECUTABLE mean nothing for anonymous memory. */
    uint64_t anonymous = (flags & ~(uint64_t)(LX_MAP_TYPE | LX_MAP_DENYWRITE | LX_MAP_EXECUTABLE)) |
                         LX_MAP_PRIVATE | LX_MAP_ANONYMOUS;
    long start = dj_sys_mmap(address, length, LX_PROT_READ | LX_PROT_WRITE, anonymous, (uint64_t)-1, 0);
    if (is_error(start))
        return start;

    long r = fill((uint64_t)start, length, fd, offset);
    if (r == 0 && prot != (LX_PROT_READ | LX_PROT_WRITE))
        r = dj_sys_mprotect((uint64_t)start, (length + PAGE_MASK) & ~PAGE_MASK, prot);
    if (r != 0) {
        dj_sys_munmap((uint64_t)start, length);
        if (r == -LX_ESPIPE || r == -LX_EISDIR || r == -LX_EINVAL)
            return -LX_ENODEV;
        if (r == -LX_EBADF)
            return -LX_EBADF;
        return r;
    }
    return start;
}
