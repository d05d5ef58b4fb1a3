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
 *   dj_patch_stats(buffer, wide)    dj_sigsys: DJ_NR_PATCH_STATS, the counters
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
 * The two rules (patch.S, "The rule"): a constant site (`mov eax, imm32; syscall`) gets a stub that loads its
 *   number; a dynamic site (1 to 3 plain data moves before the `syscall`, the first at least 5 bytes, their
 *   effects checked against the trapped context: decode, effects_agree, dynamic_site) gets a stub that runs a
 *   copy of those instructions and leaves the number in eax, which the entry checks at run time against
 *   DJ_PATCH_NEVER_DIRECT (the bitmap dj_patch_direct_numbers, which patchable() reads too). The constant rule is
 *   tried first. Every site's first 5 bytes become the `jmp`; nothing after them changes.
 *
 * Untrusted inputs: the trapped context's RIP, registers and the bytes and memory they name (read through
 *   dj_user_read, from the workload's ranges only: the candidate instructions, and the memory their effects are
 *   checked against), the stats buffer pointer (dj_user_write).
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
static uint64_t sites_patched, sites_refused, dynamic_patched;

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
   replaces the context), not the ends of threads, and no x32 or shim-private number: DJ_PATCH_NEVER_DIRECT
   (process.h), as the bitmap patch.S builds from it and a dynamic site's entry checks at run time. */
static int patchable(uint32_t number)
{
    return number < 512 && (dj_patch_direct_numbers[number >> 3] >> (number & 7)) & 1;
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
    stub[DJ_PATCH_SLOT_TO_FALLBACK] = DJ_PATCH_SLOT_FALLBACK;
    stub[DJ_PATCH_SLOT_TO_TRAP] = DJ_PATCH_SLOT_TRAP;
    stub[DJ_PATCH_SLOT_KIND] = 0;
}

/* The stub for a dynamic site [site, end) = the copied instructions `code` (n bytes) then `syscall`, at `slot`
   (patch.S, "The stubs"). */
static void build_dynamic_stub(uint8_t stub[DJ_PATCH_SLOT_SIZE], uint64_t slot, uint64_t end, const uint8_t *code,
                               uint32_t n)
{
    memset(stub, 0xCC, DJ_PATCH_SLOT_SIZE);
    stub[0] = 0x0F; stub[1] = 0x05;                         /*  0: syscall (trapped): the fallback, the resume */
    stub[2] = 0xE9;                                         /*  2: jmp end */
    put32(stub + 3, (uint32_t)(end - (slot + 7)));
    memcpy(stub + DJ_PATCH_DYNAMIC_CODE, code, n);          /*  7: the site's instructions, verbatim */
    uint32_t at = DJ_PATCH_DYNAMIC_CODE + n;
    stub[at] = 0x48; stub[at + 1] = 0x8D; stub[at + 2] = 0x0D;      /* lea rcx, [rip - (at + 7)] = the slot */
    put32(stub + at + 3, (uint32_t)-(int32_t)(at + 7));
    stub[at + 7] = 0xFF; stub[at + 8] = 0x25;                       /* jmp [rip + ...] = [slot + 48] */
    put32(stub + at + 9, DJ_PATCH_SLOT_ENTRY - (at + 13));
    put64(stub + DJ_PATCH_SLOT_RESUME, end);
    put64(stub + DJ_PATCH_SLOT_ENTRY, (uint64_t)dj_patch_entry);
    put32(stub + DJ_PATCH_SLOT_NUMBER, 0);
    stub[DJ_PATCH_SLOT_TO_FALLBACK] = DJ_PATCH_DYNAMIC_TRAP;
    stub[DJ_PATCH_SLOT_TO_TRAP] = DJ_PATCH_DYNAMIC_TRAP;
    stub[DJ_PATCH_SLOT_KIND] = 1;
}

/* ---- the dynamic rule: the instructions before a `syscall` whose number is not a constant `mov eax` ----
   An instruction the rule accepts: at most one REX prefix (no other prefix), then one of
     89 /r  mov r/m, reg      8b /r  mov reg, r/m      8d /r  lea reg, m (a memory operand)
     c7 /0  mov r/m, imm32    b8+r   mov reg, imm32 (imm64 with REX.W)
   with a ModRM memory operand addressed by registers only (no RIP-relative form, no absolute address without a
   base): plain data moves that mean the same wherever they are executed, never a branch, never a fault of their
   own beyond a load or store of the workload's own memory. */
struct insn {
    uint8_t length, opcode, wide;   /* wide: 64-bit operand (REX.W) */
    int8_t reg;                     /* the ModRM reg register (or b8+r's register) */
    int8_t base, index;             /* a memory operand's registers (-1: none); base -2: the operand is a register */
    int8_t rm;                      /* the register operand of ModRM mod 3 */
    uint8_t scale;
    int32_t displacement;
    uint64_t immediate;
};

static int decode(const uint8_t *p, uint32_t available, struct insn *out)
{
    uint32_t i = 0;
    uint8_t rex = 0;
    memset(out, 0, sizeof *out);
    out->base = out->index = out->rm = -1;
    if (available && (p[0] & 0xF0) == 0x40)
        rex = p[i++];
    if (i >= available)
        return 0;
    uint8_t op = p[i++];
    out->opcode = op;
    out->wide = (rex & 8) != 0;
    if (op >= 0xB8 && op <= 0xBF) {
        out->reg = (int8_t)((op & 7) | ((rex & 1) << 3));
        uint32_t size = out->wide ? 8 : 4;
        if (i + size > available)
            return 0;
        uint64_t imm = 0;
        memcpy(&imm, p + i, size);
        out->immediate = imm;
        out->opcode = 0xB8;
        out->length = (uint8_t)(i + size);
        return 1;
    }
    if (op != 0x89 && op != 0x8B && op != 0x8D && op != 0xC7)
        return 0;
    if (i >= available)
        return 0;
    uint8_t modrm = p[i++], mod = modrm >> 6, rm = modrm & 7;
    out->reg = (int8_t)(((modrm >> 3) & 7) | ((rex & 4) << 1));
    if (op == 0xC7 && (modrm & 0x38))
        return 0;                   /* c7 /0 only */
    if (mod == 3) {
        if (op == 0x8D)
            return 0;
        out->base = -2;
        out->rm = (int8_t)(rm | ((rex & 1) << 3));
    } else {
        if (rm == 4) {
            if (i >= available)
                return 0;
            uint8_t sib = p[i++], base = sib & 7, index = ((sib >> 3) & 7) | ((rex & 2) << 2);
            out->scale = (uint8_t)(1u << (sib >> 6));
            out->index = index == 4 ? -1 : (int8_t)index;
            if (base == 5 && mod == 0)
                return 0;           /* an absolute disp32: position-independent, but refused with the RIP form */
            out->base = (int8_t)(base | ((rex & 1) << 3));
        } else {
            if (rm == 5 && mod == 0)
                return 0;           /* RIP-relative: it would mean another address in the stub */
            out->base = (int8_t)(rm | ((rex & 1) << 3));
        }
        uint32_t size = mod == 1 ? 1 : mod == 2 ? 4 : 0;
        if (i + size > available)
            return 0;
        if (size == 1)
            out->displacement = (int8_t)p[i];
        else if (size == 4)
            memcpy(&out->displacement, p + i, 4);
        i += size;
    }
    if (op == 0xC7) {
        if (i + 4 > available)
            return 0;
        int32_t imm;
        memcpy(&imm, p + i, 4);
        out->immediate = out->wide ? (uint64_t)(int64_t)imm : (uint32_t)imm;
        i += 4;
    }
    out->length = (uint8_t)i;
    return 1;
}

/* The register an instruction writes (-1: it writes memory). */
static int written(const struct insn *x)
{
    if (x->opcode == 0x89 || x->opcode == 0xC7)
        return x->base == -2 ? x->rm : -1;
    return x->reg;
}

static const uint16_t uc_offset[16] = {
    LX_UC_RAX, LX_UC_RCX, LX_UC_RDX, LX_UC_RBX, LX_UC_RSP, LX_UC_RBP, LX_UC_RSI, LX_UC_RDI,
    LX_UC_R8, LX_UC_R9, LX_UC_R10, LX_UC_R11, LX_UC_R12, LX_UC_R13, LX_UC_R14, LX_UC_R15,
};

/* Whether register r holds, at the trap, the value it had before instruction `from` of the sequence: it is not
   written by that instruction or a later one, and it is not one the `syscall` itself changed (rax, rcx, r11). */
static int known(int r, const struct insn *seq, uint32_t from, uint32_t count)
{
    if (r < 0 || r == 0 || r == 1 || r == 11)
        return 0;
    for (uint32_t j = from; j < count; j++)
        if (written(&seq[j]) == r)
            return 0;
    return 1;
}

static uint64_t reg_of(const uint8_t *uc, int r)
{
    uint64_t v;
    memcpy(&v, uc + uc_offset[r], 8);
    return v;
}

/* The evidence that the bytes are the instructions that ran: each effect the trapped context can show (a register
   written and not written again, from a source still known; a store to an address still known) is checked
   against it. 1 when at least one was checked and all agreed; 0 otherwise (the site is left to the trap). */
static int effects_agree(const struct insn *seq, uint32_t count, const uint8_t *uc)
{
    uint32_t checked = 0;
    for (uint32_t k = 0; k < count; k++) {
        const struct insn *x = &seq[k];
        int memory = x->base >= 0;
        uint64_t address = 0;
        if (memory) {
            if (!known(x->base, seq, k, count) || (x->index >= 0 && !known(x->index, seq, k, count)))
                continue;
            address = reg_of(uc, x->base) + (x->index >= 0 ? reg_of(uc, x->index) * x->scale : 0) +
                      (uint64_t)(int64_t)x->displacement;
        }
        uint64_t mask = x->wide ? ~0ull : 0xFFFFFFFFull, value, expected;
        int destination = written(x);
        if (destination >= 0) {                     /* a register: its value at the trap */
            if (!known(destination, seq, k + 1, count) || destination == 0 || destination == 1 || destination == 11)
                continue;
            if (x->opcode == 0xB8 || x->opcode == 0xC7)
                expected = x->immediate & mask;
            else if (x->opcode == 0x8D)
                expected = address & mask;
            else if (x->base == -2 || x->opcode == 0x89) {
                int source = x->opcode == 0x89 ? x->reg : x->rm;
                if (!known(source, seq, k, count))
                    continue;
                expected = reg_of(uc, source) & mask;
            } else {
                if (!memory)
                    continue;
                uint64_t loaded = 0;
                if (dj_user_read(&loaded, address, x->wide ? 8 : 4) != 0)
                    return 0;
                expected = loaded;
            }
            value = reg_of(uc, destination);
        } else {                                    /* a store: the memory at the trap */
            if (!memory)
                continue;
            if (x->opcode == 0xC7)
                expected = x->immediate & mask;
            else if (known(x->reg, seq, k, count))
                expected = reg_of(uc, x->reg) & mask;
            else
                continue;
            value = 0;
            if (dj_user_read(&value, address, x->wide ? 8 : 4) != 0)
                return 0;
        }
        if (value != expected)
            return 0;
        checked++;
    }
    return checked > 0;
}

/* The dynamic rule (patch.S, "The rule"): the `syscall` at rip - 2 is preceded by 1 to 3 accepted instructions
   [site, rip - 2), the first at least 5 bytes long, at most DJ_PATCH_DYNAMIC_MAX bytes in all, in one page of the
   workload's, whose effects the trapped context shows. The nearest such start is taken. Returns the site, or 0;
   `bytes` receives [site, rip). */
static uint64_t dynamic_site(uint64_t rip, const uint8_t *uc, uint8_t *bytes, uint32_t *length)
{
    uint64_t call = rip - 2;
    uint64_t page = call & ~(uint64_t)(DJ_PAGE_SIZE - 1);
    uint8_t window[DJ_PATCH_DYNAMIC_MAX + 2];
    uint64_t lowest = call - DJ_PATCH_DYNAMIC_MAX;
    if (lowest < page)
        lowest = page;
    if (call - lowest < 5 || dj_user_read(window, lowest, rip - lowest) != 0)
        return 0;
    uint32_t span = (uint32_t)(call - lowest);
    if (window[span] != 0x0F || window[span + 1] != 0x05)
        return 0;
    for (uint32_t n = 5; n <= span; n++) {
        const uint8_t *p = window + span - n;
        struct insn seq[3];
        uint32_t count = 0, at = 0;
        while (at < n && count < 3 && decode(p + at, n - at, &seq[count]))
            at += seq[count++].length;
        if (at != n || seq[0].length < 5 || !effects_agree(seq, count, uc))
            continue;
        memcpy(bytes, p, n + 2);
        *length = n;
        return call - n;
    }
    return 0;
}

static void window_open(void) { __atomic_add_fetch(&window, 1, __ATOMIC_SEQ_CST); }
static void window_close(void) { __atomic_add_fetch(&window, 1, __ATOMIC_SEQ_CST); }

void dj_patch_consider(uint32_t number, const uint8_t *uc)
{
    if (!dj_patch_enabled || !patchable(number))
        return;
    uint64_t rip;
    memcpy(&rip, uc + LX_UC_RIP, 8);
    /* The constant rule: exactly `mov eax, imm32; syscall` (b8 imm32 0f 05), the immediate the trapped number, the
       7 bytes in one page of the workload's. Else the dynamic rule (dynamic_site). */
    uint8_t bytes[DJ_PATCH_DYNAMIC_MAX + 2];
    uint32_t length = 5, dynamic = 0;
    uint64_t site = rip - 7;
    if (rip < DJ_PAGE_SIZE)
        return;
    if ((site & ~(uint64_t)(DJ_PAGE_SIZE - 1)) != ((rip - 1) & ~(uint64_t)(DJ_PAGE_SIZE - 1)) ||
        dj_user_read(bytes, site, 7) != 0 || bytes[0] != 0xB8 || bytes[5] != 0x0F || bytes[6] != 0x05 ||
        memcmp(bytes + 1, &number, 4) != 0) {
        site = dynamic_site(rip, uc, bytes, &length);
        if (!site)
            return;
        dynamic = 1;
    }
    uint32_t size = length + 2;     /* [site, rip) */

    dj_lock(&patch_lock);
    uint8_t again[DJ_PATCH_DYNAMIC_MAX + 2];
    if (dj_user_read(again, site, size) != 0 || memcmp(again, bytes, size) != 0) {
        dj_unlock(&patch_lock);     /* another thread patched it, or the code changed */
        return;
    }
    uint64_t slot = free_slot_near(site);
    if (!slot || !within(slot, site + 5) || !within(slot + 30, rip)) {
        sites_refused++;
        dj_unlock(&patch_lock);
        return;
    }
    uint8_t stub[DJ_PATCH_SLOT_SIZE];
    if (dynamic)
        build_dynamic_stub(stub, slot, rip, bytes, length);
    else
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
        /* jmp to the slot (constant: over the `mov`) or to its copied instructions (dynamic: over the first
           instruction's first 5 bytes); every later byte, and the `syscall`, stays. */
        uint8_t jump[5] = { 0xE9 };
        put32(jump + 1, (uint32_t)(slot + (dynamic ? DJ_PATCH_DYNAMIC_CODE : 0) - (site + 5)));
        written = dj_memory_patch_code(site, jump, 5) == 0;
    }
    window_close();
    if (written) {
        sites_patched++;
        if (dynamic)
            dynamic_patched++;
    } else {
        sites_refused++;
    }
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

long dj_patch_stats(uint64_t buffer, uint64_t wide)
{
    struct patch_record *r = own_record();
    uint64_t stats[6] = { (uint64_t)dj_patch_enabled, __atomic_load_n(&sites_patched, __ATOMIC_RELAXED),
                          __atomic_load_n(&sites_refused, __ATOMIC_RELAXED), r->trap_count, r->direct_count,
                          __atomic_load_n(&dynamic_patched, __ATOMIC_RELAXED) };
    uint64_t size = wide == DJ_PATCH_STATS_WIDE ? sizeof stats : 5 * sizeof stats[0];
    return dj_user_write(buffer, stats, size) ? -LX_EFAULT : 0;
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
