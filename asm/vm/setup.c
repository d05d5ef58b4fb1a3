/*
 * asm/vm/setup.c -- the VM shim's start-up, in C: from the boot page tables to the workload's first instruction.
 *
 * Entry points
 *   dj_vm_main(start_info)      from dj_start64 (boot.S); never returns
 *   dj_internal_error()         a shim problem: a line on COM1, then the keep ends with status 125
 *   dj_cpu                      the CPU features found here, for the other parts
 *
 * Flow of dj_vm_main (the statuses are the process shim's, docs/protocol.md §5, plus 125)
 *   1. the PVH start info and its E820 memory map (QEMU's, so the host's): guest RAM ranges      else 120
 *   2. the block's size, from slot 0's header (slot size DJ_VM_SLOT_SIZE, 1 to DJ_VM_MAX_SLOTS slots), which
 *      places the blob at the next DJ_VM_BLOB_ALIGNMENT boundary; the blob's size, from its header there; the
 *      shim's image, the block and the blob must lie in RAM; the rest is the page pool           else 120/121/122
 *   3. the CPU: CR0, CR4 (SSE, XSAVE, global pages, SMEP, UMIP where the CPU model has them), XCR0, EFER (NX,
 *      SYSCALL), the x87/SSE reset state; GDT, TSS, IDT; STAR/LSTAR/CSTAR/SFMASK
 *   4. the final page tables (paging.c), then the PIC and COM2 (the doorbell line, docs/vm.md), and the local
 *      APIC timer with the TSC's rate (threads.c)
 *   5. the shared block header (marshal.c)                                                      else 122
 *   6. the image blob and its configuration page (image.c, marshal.c)                            else 121
 *   7. each region reserved with its permissions; the pages that hold data get frames and the data (the rest
 *      is filled with zeros on first touch)                                                     else 123
 *   8. the blob's pages join the pool; "donjon-vm: ready" on COM1 (the host's start handshake); ring 3
 *
 * Labels: none (C). Register contract: System V; dj_vm_main(edi = start info) runs on the kernel stack with
 *   interrupts off and never returns.
 *
 * Untrusted inputs: the start info and memory map (QEMU's), the blob and the block header (the host's). Each is
 *   copied once and only the copy is checked and used; the blob's regions are checked by image.c.
 */
#include "vm.h"
#include "linux.h"

_Static_assert(DJ_REGION_PERMISSION_READ == LX_PROT_READ && DJ_REGION_PERMISSION_WRITE == LX_PROT_WRITE &&
                   DJ_REGION_PERMISSION_EXECUTE == LX_PROT_EXEC,
               "region permissions are PROT_* values");
_Static_assert(DJ_VM_SLOT_SIZE % DJ_PAGE_SIZE == 0 && DJ_VM_SLOT_SIZE >= DJ_BLOCK_MIN_SLOT_SIZE, "the VM keep's slots");
_Static_assert(DJ_VM_BLOCK_ADDRESS + (uint64_t)DJ_VM_SLOT_SIZE * DJ_VM_MAX_SLOTS + DJ_VM_BLOB_ALIGNMENT <= 0x40000000,
               "the largest block and the blob's header lie in the boot mapping (below 1 GiB)");
_Static_assert(DJ_VM_MAX_SLOTS <= DJ_MAX_THREADS, "slots are threads");
_Static_assert(DJ_VM_LAPIC_VIRTUAL - DJ_VM_KERNEL_VIRTUAL_OFFSET >= DJ_VM_KERNEL_LIMIT &&
                   DJ_VM_LAPIC_VIRTUAL - DJ_VM_KERNEL_VIRTUAL_OFFSET < 0x40000000,
               "the local APIC's page lies past the shim's image, in the shim's gigabyte");
_Static_assert(sizeof(struct dj_trap_frame) == DJ_VM_FRAME_SIZE, "trap frame size");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, r15) == DJ_VM_FRAME_R15, "trap frame r15");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, rax) == DJ_VM_FRAME_RAX, "trap frame rax");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, error_code) == DJ_VM_FRAME_ERROR_CODE, "trap frame error code");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, cs) == DJ_VM_FRAME_CS, "trap frame cs");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, rflags) == DJ_VM_FRAME_RFLAGS, "trap frame rflags");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, vector) == DJ_VM_FRAME_VECTOR, "trap frame vector");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, rip) == DJ_VM_FRAME_RIP, "trap frame rip");
_Static_assert(__builtin_offsetof(struct dj_trap_frame, rsp) == DJ_VM_FRAME_RSP, "trap frame rsp");

struct dj_cpu dj_cpu;

extern char dj_kernel_stack_top[], dj_critical_stack_top[];

#define PAGE            ((uint64_t)DJ_PAGE_SIZE)
#define GIB             ((uint64_t)0x40000000)
#define LOW_MEMORY_END  ((uint64_t)0x100000)

/* ---- COM1 lines ---- */

struct text {
    char bytes[240];
    unsigned length;
};

static void text_add(struct text *t, const char *s)
{
    while (*s && t->length < sizeof t->bytes)
        t->bytes[t->length++] = *s++;
}

static void text_hex(struct text *t, uint64_t value)
{
    static const char digits[] = "0123456789abcdef";
    text_add(t, "0x");
    int shift = 60;
    while (shift > 0 && !(value >> shift))
        shift -= 4;
    for (; shift >= 0 && t->length < sizeof t->bytes; shift -= 4)
        t->bytes[t->length++] = digits[(value >> shift) & 15];
}

static void console_line(const struct text *t)
{
    dj_console_write("donjon-vm: ", 11);
    dj_console_write(t->bytes, t->length);
    dj_console_write("\n", 1);
}

void dj_internal_error(const char *what, uint64_t value)
{
    struct text t = { .length = 0 };
    text_add(&t, "internal error: ");
    text_add(&t, what);
    text_add(&t, " ");
    text_hex(&t, value);
    console_line(&t);
    dj_vm_exit(DJ_VM_EXIT_INTERNAL_ERROR);
}

/* ---- 1, 2: guest memory ---- */

/* struct hvm_start_info and struct hvm_memmap_table_entry of the Xen PVH boot ABI (version 1). */
#define START_INFO_MAGIC    0x336EC578
#define MEMMAP_TYPE_RAM     1
#define MAX_MEMMAP_ENTRIES  128
#define MAX_RAM_RANGES      16

struct start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};

struct memmap_entry {
    uint64_t address, size;
    uint32_t type, reserved;
};

static struct dj_memory_range ram[MAX_RAM_RANGES];
static unsigned ram_count;

/* Physical memory below 1 GiB, through the boot mapping (boot.S); only before dj_paging_init. */
static const void *boot_physical(uint64_t physical, uint64_t size)
{
    if (physical >= GIB || size > GIB - physical)
        return NULL;
    return (const void *)(physical + DJ_VM_KERNEL_VIRTUAL_OFFSET);
}

static void read_memory_map(uint32_t start_info_address)
{
    struct start_info info;
    const void *p = boot_physical(start_info_address, sizeof info);
    if (!start_info_address || !p)
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "no PVH start info (QEMU must boot the shim with -kernel)");
    memcpy(&info, p, sizeof info);
    if (info.magic != START_INFO_MAGIC || info.version < 1)
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "the PVH start info has a bad magic or no memory map (version 0)");
    if (info.memmap_entries == 0 || info.memmap_entries > MAX_MEMMAP_ENTRIES)
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "the PVH memory map has no entries, or more than 128");
    const uint8_t *map = boot_physical(info.memmap_paddr, (uint64_t)info.memmap_entries * sizeof(struct memmap_entry));
    if (!map)
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "the PVH memory map lies above 1 GiB");

    for (uint32_t i = 0; i < info.memmap_entries; i++) {
        struct memmap_entry e;
        memcpy(&e, map + (uint64_t)i * sizeof e, sizeof e);
        if (e.type != MEMMAP_TYPE_RAM || e.size == 0 || e.address > DJ_VM_MAX_MEMORY_SIZE)
            continue;
        uint64_t start = (e.address + PAGE - 1) & ~(PAGE - 1);
        uint64_t end = e.size > DJ_VM_MAX_MEMORY_SIZE - e.address ? DJ_VM_MAX_MEMORY_SIZE : e.address + e.size;
        end &= ~(PAGE - 1);
        if (start < LOW_MEMORY_END)
            start = LOW_MEMORY_END;     /* firmware, start info: never the shim's */
        if (end <= start)
            continue;
        if (ram_count == MAX_RAM_RANGES)
            dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "the PVH memory map has more than 16 RAM ranges");
        /* Insert in order; overlapping entries make no sense. */
        unsigned k = ram_count;
        while (k > 0 && ram[k - 1].start > start) {
            ram[k] = ram[k - 1];
            k--;
        }
        ram[k] = (struct dj_memory_range){ start, end };
        ram_count++;
    }
    for (unsigned i = 1; i < ram_count; i++)
        if (ram[i].start < ram[i - 1].end)
            dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "the PVH memory map has overlapping RAM ranges");
    if (ram_count == 0)
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "the PVH memory map has no RAM above 1 MiB");
}

static int in_ram(uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < ram_count; i++)
        if (start >= ram[i].start && end <= ram[i].end)
            return 1;
    return 0;
}

/* ---- 3: the CPU ---- */

struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base;
};

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};

struct __attribute__((packed)) table_register {
    uint16_t limit;
    uint64_t base;
};

static uint64_t gdt[DJ_VM_GDT_ENTRIES] __attribute__((aligned(16)));
static struct idt_gate idt[DJ_VM_IDT_ENTRIES] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));

#define GATE_INTERRUPT_KERNEL 0x8E      /* present, DPL 0, 64-bit interrupt gate */
#define GATE_INTERRUPT_USER   0xEE      /* present, DPL 3: `int3` and `into` from ring 3 */
#define TSS_AVAILABLE         0x89      /* present, 64-bit TSS, available */

static void cpu_features(void)
{
    uint32_t r[4];
    dj_cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    dj_cpuid(1, 0, r);
    dj_cpu.xsave = (r[2] >> 26) & 1;
    dj_cpu.rdrand = (r[2] >> 30) & 1;
    if (!((r[3] >> 24) & 1) || !((r[3] >> 25) & 1) || !((r[3] >> 26) & 1))
        dj_fatal(DJ_VM_EXIT_INTERNAL_ERROR, "the virtual CPU lacks FXSR, SSE or SSE2");
    if (max_leaf >= 7) {
        dj_cpuid(7, 0, r);
        dj_cpu.smep = (r[1] >> 7) & 1;
        dj_cpu.rdseed = (r[1] >> 18) & 1;
        dj_cpu.umip = (r[2] >> 2) & 1;
    }
    dj_cpuid(0x80000001, 0, r);
    dj_cpu.nx = (r[3] >> 20) & 1;
    if (!((r[3] >> 11) & 1))
        dj_fatal(DJ_VM_EXIT_INTERNAL_ERROR, "the virtual CPU lacks SYSCALL/SYSRET");
}

/* XCR0: every user state component the CPU model offers among x87, SSE, AVX and AVX-512 (whose three
   components go together), so that libc's start-up sees the same features as natively and picks its routines
   by them. */
static uint64_t user_xcr0(void)
{
    uint32_t r[4];
    dj_cpuid(0xD, 0, r);
    uint64_t supported = ((uint64_t)r[3] << 32 | r[0]) & DJ_XCR0_USER_MASK;
    uint64_t xcr0 = supported & 0x3;                            /* x87, SSE */
    if (supported & 0x4) {
        xcr0 |= 0x4;                                            /* AVX */
        if ((supported & 0xE0) == 0xE0)
            xcr0 |= 0xE0;                                       /* opmask, ZMM_Hi256, Hi16_ZMM */
    }
    return xcr0;
}

static void cpu_setup(void)
{
    cpu_features();

    uint64_t cr0 = dj_read_cr0();
    cr0 &= ~(uint64_t)(DJ_CR0_EM | DJ_CR0_TS);
    cr0 |= DJ_CR0_MP | DJ_CR0_NE | DJ_CR0_WP;
    dj_write_cr0(cr0);

    uint64_t cr4 = dj_read_cr4() | DJ_CR4_PAE | DJ_CR4_PGE | DJ_CR4_OSFXSR | DJ_CR4_OSXMMEXCPT;
    if (dj_cpu.xsave)
        cr4 |= DJ_CR4_OSXSAVE;
    if (dj_cpu.smep)
        cr4 |= DJ_CR4_SMEP;
    if (dj_cpu.umip)
        cr4 |= DJ_CR4_UMIP;
    dj_write_cr4(cr4);
    dj_cpu.xcr0 = 0;
    dj_cpu.xsave_size = 512;
    if (dj_cpu.xsave) {
        dj_cpu.xcr0 = user_xcr0();
        dj_xsetbv(0, dj_cpu.xcr0);
        uint32_t r[4];
        dj_cpuid(0xD, 0, r);            /* EBX: the XSAVE area's size for the components XCR0 enables now */
        dj_cpu.xsave_size = r[1];
    }

    uint64_t efer = dj_rdmsr(DJ_MSR_EFER) | DJ_EFER_SCE;
    if (dj_cpu.nx)
        efer |= DJ_EFER_NXE;
    dj_wrmsr(DJ_MSR_EFER, efer);
    dj_fpu_reset();

    /* GDT: null, kernel code, kernel data, null (no 32-bit user code), user data, user code, TSS. */
    gdt[1] = 0x00AF9A000000FFFF;
    gdt[2] = 0x00CF92000000FFFF;
    gdt[3] = 0;
    gdt[4] = 0x00CFF2000000FFFF;
    gdt[5] = 0x00AFFA000000FFFF;
    uint64_t base = (uint64_t)&tss;
    uint64_t limit = sizeof tss - 1;
    gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | ((uint64_t)TSS_AVAILABLE << 40) |
             (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[7] = base >> 32;

    tss.rsp[0] = (uint64_t)dj_kernel_stack_top;     /* the first thread's; threads.c changes it at each switch */
    tss.ist[DJ_VM_IST_CRITICAL - 1] = (uint64_t)dj_critical_stack_top;
    tss.io_map_base = sizeof tss;                               /* no I/O bitmap: ring 3 has no port */

    for (unsigned v = 0; v < DJ_VM_IDT_ENTRIES; v++) {
        uint64_t entry = dj_trap_stubs[v];
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)entry,
            .selector = DJ_VM_KERNEL_CS,
            .ist = (v == 2 || v == 8 || v == 18) ? DJ_VM_IST_CRITICAL : 0,
            .type = (v == 3 || v == 4) ? GATE_INTERRUPT_USER : GATE_INTERRUPT_KERNEL,
            .offset_middle = (uint16_t)(entry >> 16),
            .offset_high = (uint32_t)(entry >> 32),
            .reserved = 0,
        };
    }
    struct table_register gdtr = { sizeof gdt - 1, (uint64_t)gdt };
    struct table_register idtr = { sizeof idt - 1, (uint64_t)idt };
    dj_load_descriptors(&gdtr, &idtr, DJ_VM_TSS_SELECTOR);

    dj_wrmsr(DJ_MSR_STAR, ((uint64_t)DJ_VM_USER_BASE_SELECTOR << 48) | ((uint64_t)DJ_VM_KERNEL_CS << 32));
    dj_wrmsr(DJ_MSR_LSTAR, (uint64_t)dj_syscall_entry);
    dj_wrmsr(DJ_MSR_CSTAR, (uint64_t)dj_syscall_entry_compat);
    dj_wrmsr(DJ_MSR_SFMASK, DJ_SFMASK_VALUE);
    dj_wrmsr(DJ_MSR_FS_BASE, 0);
    dj_wrmsr(DJ_MSR_GS_BASE, 0);
    dj_wrmsr(DJ_MSR_KERNEL_GS_BASE, 0);
}

void dj_vm_set_kernel_stack(uint64_t top)
{
    tss.rsp[0] = top;
}

/* ---- 4: the interrupt controller and the doorbell line ---- */

#define APIC_TPR                0x80
#define APIC_SVR                0xF0
#define APIC_SVR_ENABLE         0x100
#define APIC_LVT_TIMER          0x320
#define APIC_LVT_LINT0          0x350
#define APIC_LVT_LINT1          0x360
#define APIC_LVT_ERROR          0x370
#define APIC_LVT_MASKED         0x10000
#define APIC_DELIVERY_EXTINT    0x700
#define PIC_MASTER      0x20
#define PIC_SLAVE       0xA0
#define UART_DATA       0
#define UART_IER        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5

static void devices_setup(void)
{
    /* The local APIC in virtual-wire mode: enabled, LINT0 = ExtINT so the 8259's output reaches the CPU (whatever
       the firmware left there), everything else masked. The timer is threads.c's (dj_vm_timer_init); the keep needs
       no IPI or error interrupt.
       Spurious APIC interrupts arrive on a vector whose entry just returns. */
    volatile uint32_t *apic = (volatile uint32_t *)DJ_VM_LAPIC_VIRTUAL;
    apic[APIC_SVR / 4] = APIC_SVR_ENABLE | DJ_VM_SPURIOUS_VECTOR;
    apic[APIC_TPR / 4] = 0;
    apic[APIC_LVT_TIMER / 4] = APIC_LVT_MASKED;
    apic[APIC_LVT_LINT0 / 4] = APIC_DELIVERY_EXTINT;
    apic[APIC_LVT_LINT1 / 4] = APIC_LVT_MASKED;
    apic[APIC_LVT_ERROR / 4] = APIC_LVT_MASKED;

    /* 8259 pair: ICW1 (edge, cascade, ICW4), ICW2 (vector bases), ICW3 (slave on line 2), ICW4 (8086 mode);
       then every line masked but COM2's. */
    dj_outb(PIC_MASTER, 0x11);
    dj_outb(PIC_SLAVE, 0x11);
    dj_outb(PIC_MASTER + 1, DJ_VM_IRQ_BASE);
    dj_outb(PIC_SLAVE + 1, DJ_VM_IRQ_BASE + 8);
    dj_outb(PIC_MASTER + 1, 0x04);
    dj_outb(PIC_SLAVE + 1, 0x02);
    dj_outb(PIC_MASTER + 1, 0x01);
    dj_outb(PIC_SLAVE + 1, 0x01);
    dj_outb(PIC_MASTER + 1, (uint8_t)~(1u << DJ_VM_DOORBELL_IRQ));
    dj_outb(PIC_SLAVE + 1, 0xFF);

    /* COM1 and COM2: 8 bits, no parity, one stop bit, FIFOs on with a one-byte trigger. COM2 interrupts on
       received data; OUT2 gates a PC UART's interrupt line. */
    static const uint16_t ports[2] = { DJ_VM_CONSOLE_PORT, DJ_VM_DOORBELL_PORT };
    for (unsigned i = 0; i < 2; i++) {
        uint16_t p = ports[i];
        dj_outb(p + UART_IER, 0);
        dj_outb(p + UART_LCR, 0x80);
        dj_outb(p + UART_DATA, 1);
        dj_outb(p + UART_IER, 0);
        dj_outb(p + UART_LCR, 0x03);
        dj_outb(p + UART_FCR, 0x07);
        dj_outb(p + UART_MCR, 0x0B);
        for (unsigned k = 0; k < 64 && (dj_inb(p + UART_LSR) & 1); k++)
            (void)dj_inb(p + UART_DATA);
    }
    dj_outb(DJ_VM_DOORBELL_PORT + UART_IER, 0x01);
}

/* ---- 6, 7: the image ---- */

static struct dj_image image;   /* large (64 regions): static, not on the stack */

static void load_region(const uint8_t *blob, const struct dj_region *r)
{
    uint64_t end = r->address + r->size;
    if (dj_user_reserve(r->address, end, r->permissions) != 0)
        dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "no guest memory left for the page tables of the image");
    uint64_t data = r->address + r->data_offset;
    uint64_t data_end = data + r->data_size;
    for (uint64_t page = data & ~(PAGE - 1); page < data_end; page += PAGE) {
        uint64_t frame;
        if (dj_user_populate(page, r->permissions, &frame) != 0)
            dj_fatal(DJ_SHIM_EXIT_MAP_FAILED, "no guest memory left for the image's data");
        uint64_t from = page > data ? page : data;
        uint64_t to = page + PAGE < data_end ? page + PAGE : data_end;
        dj_vm_copy_user((uint8_t *)dj_phys_to_virt(frame) + (from - page), blob + r->blob_offset + (from - data), to - from);
    }
}

/* ---- dj_vm_main ---- */

void dj_vm_main(uint32_t start_info)
{
    read_memory_map(start_info);

    /* The block's size, from slot 0's header (the host's: checked here, and again by marshal.c), places the blob;
       the blob's size, from its header, bounds what the shim reads of it. */
    uint64_t kernel_end = (uint64_t)__kernel_end - DJ_VM_KERNEL_VIRTUAL_OFFSET;
    if (!in_ram(DJ_VM_KERNEL_ADDRESS, kernel_end) || !in_ram(DJ_VM_BLOCK_ADDRESS, DJ_VM_BLOCK_ADDRESS + DJ_VM_SLOT_SIZE))
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "guest RAM does not hold the shim and the shared block (too little memory)");
    uint32_t slot_size, slot_count;
    memcpy(&slot_size, boot_physical(DJ_VM_BLOCK_ADDRESS + DJ_BLOCK_SLOT_SIZE_OFFSET, 4), 4);
    memcpy(&slot_count, boot_physical(DJ_VM_BLOCK_ADDRESS + DJ_BLOCK_SLOT_COUNT_OFFSET, 4), 4);
    if (slot_size != DJ_VM_SLOT_SIZE || slot_count < 1 || slot_count > DJ_VM_MAX_SLOTS)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "shared block: the slot size is not the VM keep's, or the slot count is not 1 to 512");
    uint64_t block_size = (uint64_t)slot_size * slot_count;
    uint64_t blob_address = (DJ_VM_BLOCK_ADDRESS + block_size + DJ_VM_BLOB_ALIGNMENT - 1) & ~(uint64_t)(DJ_VM_BLOB_ALIGNMENT - 1);
    if (!in_ram(DJ_VM_BLOCK_ADDRESS, DJ_VM_BLOCK_ADDRESS + block_size) || !in_ram(blob_address, blob_address + DJ_IMAGE_HEADER_SIZE))
        dj_fatal(DJ_SHIM_EXIT_BAD_ARGUMENTS, "guest RAM does not hold the shared block and the blob (too little memory)");
    uint64_t blob_size;
    memcpy(&blob_size, boot_physical(blob_address + DJ_IMAGE_BLOB_SIZE_OFFSET, sizeof blob_size), sizeof blob_size);
    if (blob_size < DJ_IMAGE_HEADER_SIZE || blob_size > DJ_VM_MAX_MEMORY_SIZE ||
        !in_ram(blob_address, blob_address + blob_size))
        dj_fatal(DJ_SHIM_EXIT_BAD_IMAGE, "image blob: its size field is below 128 bytes or runs past guest RAM");
    uint64_t blob_end = (blob_address + blob_size + PAGE - 1) & ~(PAGE - 1);

    /* The page pool: RAM less the shim's image, the block and the blob (which joins it once loaded). */
    const struct dj_memory_range taken[3] = {
        { 0, (kernel_end + PAGE - 1) & ~(PAGE - 1) },
        { DJ_VM_BLOCK_ADDRESS, DJ_VM_BLOCK_ADDRESS + block_size },
        { blob_address, blob_end },
    };
    struct dj_memory_range pool[MAX_RAM_RANGES * 3];
    unsigned pool_count = 0;
    for (unsigned i = 0; i < ram_count; i++) {
        uint64_t start = ram[i].start;
        for (unsigned k = 0; k < 3 && start < ram[i].end; k++) {
            if (taken[k].end <= start)
                continue;
            uint64_t end = taken[k].start < ram[i].end ? taken[k].start : ram[i].end;
            if (end > start)
                pool[pool_count++] = (struct dj_memory_range){ start, end };
            start = taken[k].end > start ? taken[k].end : start;
        }
        if (start < ram[i].end)
            pool[pool_count++] = (struct dj_memory_range){ start, ram[i].end };
    }
    dj_pages_init(pool, pool_count);

    cpu_setup();
    dj_paging_init(ram[ram_count - 1].end);
    devices_setup();
    dj_vm_timer_init();

    const char *problem = dj_channel_open(dj_phys_to_virt(DJ_VM_BLOCK_ADDRESS), block_size);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, problem);
    dj_vm_threads_start();
    dj_signals_init();
    const uint8_t *blob = dj_phys_to_virt(blob_address);
    problem = dj_image_check(blob, blob_size, NULL, 0, &image);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_IMAGE, problem);
    problem = dj_table_load(blob + image.config_offset, image.config_size);
    if (problem)
        dj_fatal(DJ_SHIM_EXIT_BAD_IMAGE, problem);

    dj_memory_init(&image);
    for (uint32_t i = 0; i < image.region_count; i++)
        load_region(blob, &image.regions[i]);
    for (uint64_t page = blob_address; page < blob_end; page += PAGE)
        dj_page_free(page);

    struct text ready = { .length = 0 };
    text_add(&ready, "ready");
    console_line(&ready);
    dj_enter_workload(image.entry_point, image.stack_pointer);
}
