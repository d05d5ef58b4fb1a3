/*
 * asm/common/marshal.c -- the marshalling-table interpreter and item builder (docs/protocol.md §2, §3).
 *
 * Entry points
 *   dj_channel_open()     checks the shared block header once, at start
 *   dj_table_load()       checks the configuration page and copies its table into the shim
 *   dj_marshal_syscall()  one workload syscall through the block: build, ring, wait, copy back
 *   dj_channel_slot()     a thread's slot, checked, before its first exchange
 *   dj_report_exit/fault/log/slot_open/trace()  the other items
 *
 * Shared by every shim: no system call in here. Reaching the host is dj_doorbell_ring_wait(), touching
 * workload memory is dj_user_read/dj_user_write/dj_user_string, dying is dj_fatal(), all per shim.
 *
 * Trust
 *   - The configuration page is the host's: it is copied into `table` once and checked there.
 *   - The block is shared with the host, which may write it at any moment. The shim writes the request, and
 *     after the reply reads `doorbell`, `reply sequence`, `result` and each `output size` exactly once into
 *     locals. Where the outputs go and how large they may be come only from the shim's own record of the
 *     request (`struct buffer`), never from the block.
 *   - The workload's pointers are only ever dereferenced through dj_user_*.
 */
#include "shim.h"
#include "linux.h"

/* ---- State ---- */

/* The block as a whole; each thread's exchanges use its own slot (struct dj_thread.slot). */
static struct {
    volatile uint8_t *block;
    uint64_t mapped_size;
    uint32_t slot_size;
    uint32_t slot_count;
} channel;

static struct dj_config_entry table[DJ_CONFIG_MAX_ENTRIES];
static uint32_t table_count;
static uint32_t table_max_threads = 1;

/* 1.5: the choice table, the shapes of the selected arguments (kind 15). Copied and checked like the table. */
struct choice {
    uint32_t selector;        /* compared with the selector argument's low 32 bits */
    uint8_t kind;             /* 0-3 */
    uint8_t reserved;
    uint16_t fixed_size;      /* bytes; 0 for a value */
};
static struct choice choices[DJ_CONFIG_MAX_CHOICES];
static uint32_t choice_count;

#define iovec64 dj_iovec64

/* The iovec arrays of the call in progress are kept for the scatter after the reply, in the calling thread's own
   scratch (struct dj_thread.iovecs): one syscall at a time per thread, and a thread's handler is never re-entered. */

/* ---- Access to the shared block: volatile, so each access happens once and where it is written ---- */

static void put32(volatile uint8_t *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static void put64(volatile uint8_t *p, uint64_t v) { *(volatile uint64_t *)p = v; }
static uint32_t get32(const volatile uint8_t *p) { return *(const volatile uint32_t *)p; }
static uint64_t get64(const volatile uint8_t *p) { return *(const volatile uint64_t *)p; }
static uint16_t get16(const volatile uint8_t *p) { return *(const volatile uint16_t *)p; }

#define BARRIER() __asm__ __volatile__("" ::: "memory")

static uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof v); return v; }
static uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof v); return v; }

/* ---- Start-up checks ---- */

/* Checks one slot header: what the host wrote at creation (§3, "Slots"). */
static const char *check_slot(volatile uint8_t *b, uint32_t slot_size, uint32_t slot_count)
{
    if (get32(b + DJ_BLOCK_MAGIC_OFFSET) != DJ_BLOCK_MAGIC)
        return "shared block: a slot has a bad magic (expected \"DJNB\")";
    if (get16(b + DJ_BLOCK_VERSION_MAJOR_OFFSET) != DJ_BLOCK_VERSION_MAJOR)
        return "shared block: a slot's major version is not 2";
    if (get32(b + DJ_BLOCK_SLOT_SIZE_OFFSET) != slot_size || get32(b + DJ_BLOCK_SLOT_COUNT_OFFSET) != slot_count)
        return "shared block: a slot's size or count differs from slot 0's";
    if (get32(b + DJ_BLOCK_ITEMS_OFFSET_OFFSET) != DJ_BLOCK_ITEMS_START)
        return "shared block: a slot's items offset is not 64";
    if (get32(b + DJ_BLOCK_ITEMS_CAPACITY_OFFSET) != slot_size - DJ_BLOCK_ITEMS_START)
        return "shared block: a slot's items capacity is not the slot size - 64";
    return NULL;
}

const char *dj_channel_open(uint8_t *block, uint64_t mapped_size)
{
    if (mapped_size < DJ_BLOCK_MIN_SLOT_SIZE || mapped_size > UINT32_MAX)
        return "shared block: its size is not between one minimal slot and 4 GiB";
    volatile uint8_t *b = block;
    uint32_t slot_size = get32(b + DJ_BLOCK_SLOT_SIZE_OFFSET);
    uint32_t slot_count = get32(b + DJ_BLOCK_SLOT_COUNT_OFFSET);
    if (get32(b + DJ_BLOCK_MAGIC_OFFSET) != DJ_BLOCK_MAGIC)
        return "shared block: bad magic (expected \"DJNB\")";
    if (get16(b + DJ_BLOCK_VERSION_MAJOR_OFFSET) != DJ_BLOCK_VERSION_MAJOR)
        return "shared block: major version is not 2";
    if (slot_size < DJ_BLOCK_MIN_SLOT_SIZE || slot_size % DJ_PAGE_SIZE)
        return "shared block: the slot size is below 68 KiB or not a whole number of pages";
    if (slot_count < 1 || slot_count > DJ_MAX_THREADS)
        return "shared block: the slot count is not between 1 and 1024";
    if ((uint64_t)slot_size * slot_count != mapped_size)
        return "shared block: slot size x slot count differs from the descriptor's size";
    const char *problem = check_slot(b, slot_size, slot_count);
    if (problem)
        return problem;
    channel.block = b;
    channel.mapped_size = mapped_size;
    channel.slot_size = slot_size;
    channel.slot_count = slot_count;
    return NULL;
}

uint32_t dj_channel_slot_count(void) { return channel.block ? channel.slot_count : 1; }

uint32_t dj_keep_max_threads(void)
{
    uint32_t slots = dj_channel_slot_count();
    return table_max_threads < slots ? table_max_threads : slots;
}

const char *dj_channel_slot(uint32_t index, struct dj_slot *slot)
{
    if (!channel.block || index >= channel.slot_count)
        return "shared block: no such slot";
    volatile uint8_t *b = channel.block + (uint64_t)index * channel.slot_size;
    const char *problem = check_slot(b, channel.slot_size, channel.slot_count);
    if (problem)
        return problem;
    slot->base = b;
    slot->capacity = (channel.slot_size - DJ_BLOCK_ITEMS_START) & ~(uint32_t)(DJ_ITEM_ALIGNMENT - 1);
    slot->sequence = get32(b + DJ_BLOCK_REPLY_SEQUENCE_OFFSET);   /* a reused slot goes on from its last exchange */
    return NULL;
}

static int is_sized_buffer(uint8_t kind)
{
    return kind == DJ_ARGUMENT_KIND_INPUT || kind == DJ_ARGUMENT_KIND_OUTPUT || kind == DJ_ARGUMENT_KIND_IN_OUT;
}

static int is_iovec(uint8_t kind)
{
    return kind == DJ_ARGUMENT_KIND_INPUT_IOVEC || kind == DJ_ARGUMENT_KIND_OUTPUT_IOVEC;
}

/* The arrays of configuration page 1.1: count (another argument) x element size (the fixed size) bytes. */
static int is_array(uint8_t kind)
{
    return kind == DJ_ARGUMENT_KIND_INPUT_ARRAY || kind == DJ_ARGUMENT_KIND_OUTPUT_ARRAY ||
           kind == DJ_ARGUMENT_KIND_IN_OUT_ARRAY;
}

static int is_output(uint8_t kind)
{
    return kind == DJ_ARGUMENT_KIND_OUTPUT || kind == DJ_ARGUMENT_KIND_IN_OUT ||
           kind == DJ_ARGUMENT_KIND_OUTPUT_IOVEC || kind == DJ_ARGUMENT_KIND_OUTPUT_ARRAY ||
           kind == DJ_ARGUMENT_KIND_IN_OUT_ARRAY || kind == DJ_ARGUMENT_KIND_VALUE_RESULT;
}

static int is_copied_in(uint8_t kind)
{
    return kind == DJ_ARGUMENT_KIND_INPUT || kind == DJ_ARGUMENT_KIND_IN_OUT ||
           kind == DJ_ARGUMENT_KIND_INPUT_ARRAY || kind == DJ_ARGUMENT_KIND_IN_OUT_ARRAY;
}

/* Whether argument `i` of `e` is an output buffer sized by a value-result length (1.3): its length argument is a
   kind-10 argument and its fixed size is its maximum capacity. */
static int sized_by_value_result(const struct dj_config_entry *e, unsigned i)
{
    uint8_t l = e->args[i].length_argument;
    return e->args[i].kind == DJ_ARGUMENT_KIND_OUTPUT && l < DJ_MAX_ARGUMENTS && e->args[l].kind == DJ_ARGUMENT_KIND_VALUE_RESULT;
}

/* Whether argument `i` of `entry` is a valid length argument for argument `of`. */
static int valid_length_argument(const struct dj_config_entry *entry, unsigned of, unsigned i)
{
    return i < DJ_MAX_ARGUMENTS && i != of && entry->args[i].kind == DJ_ARGUMENT_KIND_VALUE;
}

const char *dj_table_load(const uint8_t *config, uint64_t config_size)
{
    if (config_size < DJ_CONFIG_HEADER_SIZE)
        return "configuration page: smaller than its 128-byte header";
    if (load_u32(config + DJ_CONFIG_MAGIC_OFFSET) != DJ_CONFIG_MAGIC)
        return "configuration page: bad magic (expected \"DJNC\")";
    if (load_u16(config + DJ_CONFIG_VERSION_MAJOR_OFFSET) != DJ_CONFIG_VERSION_MAJOR)
        return "configuration page: major version is not 1";
    if (load_u32(config + DJ_CONFIG_HEADER_SIZE_OFFSET) != DJ_CONFIG_HEADER_SIZE)
        return "configuration page: header size is not 128";
    if (load_u32(config + DJ_CONFIG_ENTRY_SIZE_OFFSET) != DJ_CONFIG_ENTRY_SIZE)
        return "configuration page: table entry size is not 32";
    uint32_t count = load_u32(config + DJ_CONFIG_ENTRY_COUNT_OFFSET);
    uint32_t offset = load_u32(config + DJ_CONFIG_TABLE_OFFSET_OFFSET);
    if (count > DJ_CONFIG_MAX_ENTRIES)
        return "configuration page: more than 1024 table entries";
    uint64_t bytes = (uint64_t)count * DJ_CONFIG_ENTRY_SIZE;
    if (offset < DJ_CONFIG_HEADER_SIZE || offset > config_size || bytes > config_size - offset)
        return "configuration page: the table overlaps the header or runs past the page";

    /* 1.5: the choice table, after the header and clear of the syscall table; before 1.5 these bytes were reserved. */
    uint32_t ccount = 0, coffset = 0;
    if (load_u16(config + DJ_CONFIG_VERSION_MINOR_OFFSET) >= 5) {
        ccount = load_u32(config + DJ_CONFIG_CHOICE_COUNT_OFFSET);
        coffset = load_u32(config + DJ_CONFIG_CHOICE_TABLE_OFFSET_OFFSET);
    }
    if (ccount > DJ_CONFIG_MAX_CHOICES)
        return "configuration page: more than 256 choices";
    uint64_t cbytes = (uint64_t)ccount * DJ_CONFIG_CHOICE_SIZE;
    if (ccount && (coffset < DJ_CONFIG_HEADER_SIZE || coffset > config_size || cbytes > config_size - coffset ||
                   ((uint64_t)coffset < (uint64_t)offset + bytes && (uint64_t)offset < (uint64_t)coffset + cbytes)))
        return "configuration page: the choice table overlaps the header or the syscall table, or runs past the page";

    memcpy(table, config + offset, bytes);
    table_count = count;
    memcpy(choices, config + coffset, cbytes);
    choice_count = ccount;
    /* 1.2: the most threads the workload may have; a page from before it (or a nonsense value) allows one. */
    uint32_t threads = load_u16(config + DJ_CONFIG_VERSION_MINOR_OFFSET) >= 2 ? load_u32(config + DJ_CONFIG_MAX_THREADS_OFFSET) : 1;
    table_max_threads = threads >= 1 && threads <= DJ_MAX_THREADS ? threads : 1;
    dj_trace_configure(load_u32(config + DJ_CONFIG_FLAGS_OFFSET));     /* run --strace (trace.c) */

    /* From here on only the copy is used. */
    for (uint32_t n = 0; n < count; n++) {
        const struct dj_config_entry *e = &table[n];
        if (!(e->flags & DJ_CONFIG_FLAG_DECLARED))
            continue;
        unsigned messages = 0, masks = 0, selected = 0;
        for (unsigned i = 0; i < DJ_MAX_ARGUMENTS; i++) {
            const struct dj_config_argument *a = &e->args[i];
            int has_length = a->length_argument != DJ_CONFIG_NO_LENGTH_ARGUMENT;
            switch (a->kind) {
            case DJ_ARGUMENT_KIND_VALUE:
            case DJ_ARGUMENT_KIND_CSTRING:
                break;
            case DJ_ARGUMENT_KIND_VALUE_RESULT:
                if (has_length || (a->fixed_size != 4 && a->fixed_size != 8))
                    return "configuration page: a value-result length needs a width of 4 or 8 and no length argument";
                break;
            case DJ_ARGUMENT_KIND_INPUT:
            case DJ_ARGUMENT_KIND_OUTPUT:
            case DJ_ARGUMENT_KIND_IN_OUT:
                if (has_length && a->length_argument != i && sized_by_value_result(e, i)) {
                    if (a->fixed_size == 0)
                        return "configuration page: a buffer sized by a value-result length needs a maximum size";
                    break;
                }
                if (has_length == (a->fixed_size != 0))
                    return "configuration page: a buffer argument needs exactly one of a length argument and a fixed size";
                if (has_length && !valid_length_argument(e, i, a->length_argument))
                    return "configuration page: a buffer's length argument is not another, value, argument";
                break;
            case DJ_ARGUMENT_KIND_INPUT_IOVEC:
            case DJ_ARGUMENT_KIND_OUTPUT_IOVEC:
                if (!has_length || a->fixed_size != 0 || !valid_length_argument(e, i, a->length_argument))
                    return "configuration page: an iovec array needs a count argument (another, value, argument) and no fixed size";
                break;
            case DJ_ARGUMENT_KIND_INPUT_ARRAY:
            case DJ_ARGUMENT_KIND_OUTPUT_ARRAY:
            case DJ_ARGUMENT_KIND_IN_OUT_ARRAY:
                if (!has_length || a->fixed_size == 0 || !valid_length_argument(e, i, a->length_argument))
                    return "configuration page: an array needs a count argument (another, value, argument) and an element size";
                break;
            case DJ_ARGUMENT_KIND_SEND_MESSAGE:
            case DJ_ARGUMENT_KIND_RECEIVE_MESSAGE:
                /* 1.4: one struct msghdr, or a struct mmsghdr array counted by a value argument; one per syscall. */
                if (a->fixed_size != 0 || (has_length && !valid_length_argument(e, i, a->length_argument)))
                    return "configuration page: a message argument takes no fixed size, and a count argument only if it is another, value, argument";
                if (++messages > 1)
                    return "configuration page: a syscall has more than one message argument";
                break;
            case DJ_ARGUMENT_KIND_OPAQUE:
                if (has_length || a->fixed_size != 0)
                    return "configuration page: an opaque pointer takes neither a length argument nor a fixed size";
                break;
            case DJ_ARGUMENT_KIND_SIGNAL_MASK:
                /* 1.4: sigset_t *, sized by a value argument (ppoll, epoll_pwait); or pselect6's 16-byte pair. */
                if (has_length ? (a->fixed_size != 0 || !valid_length_argument(e, i, a->length_argument))
                               : a->fixed_size != DJ_SIGSET_PAIR_SIZE)
                    return "configuration page: a signal mask needs a sigsetsize argument (another, value, argument), or the fixed size 16 of pselect6's pair";
                if (++masks > 1)
                    return "configuration page: a syscall has more than one signal mask";
                break;
            case DJ_ARGUMENT_KIND_SELECTED: {
                /* 1.5: the selector is another, value, argument that sizes nothing; the fixed size is the choice count;
                   the entry's first_choice says where they start; they are sorted by selector value, each once, and
                   each is a value or a fixed-size buffer (kinds 1-3). */
                if (!has_length || !valid_length_argument(e, i, a->length_argument))
                    return "configuration page: a selected argument's selector is not another, value, argument";
                for (unsigned j = 0; j < DJ_MAX_ARGUMENTS; j++)
                    if (j != i && e->args[j].kind != DJ_ARGUMENT_KIND_VALUE &&
                        e->args[j].length_argument == a->length_argument)
                        return "configuration page: a selected argument's selector is also another argument's length";
                if (a->fixed_size < 1 || a->fixed_size > DJ_CONFIG_MAX_CHOICES_PER_ARGUMENT ||
                    (uint32_t)e->first_choice + a->fixed_size > choice_count)
                    return "configuration page: a selected argument's choices are not 1-64 entries inside the choice table";
                for (unsigned c = e->first_choice; c < (unsigned)e->first_choice + a->fixed_size; c++) {
                    const struct choice *k = &choices[c];
                    if (c > e->first_choice && k->selector <= choices[c - 1].selector)
                        return "configuration page: a selected argument's choices are not sorted by selector value, or repeat one";
                    if (k->kind == DJ_ARGUMENT_KIND_VALUE ? k->fixed_size != 0
                                                          : !is_sized_buffer(k->kind) || k->fixed_size == 0)
                        return "configuration page: a choice is neither a value nor a fixed-size buffer";
                }
                if (++selected > 1)
                    return "configuration page: a syscall has more than one selected argument";
                break;
            }
            default:
                return "configuration page: a declared syscall has an unknown argument kind";
            }
        }
    }
    return NULL;
}

/* ---- The signal words of the header (1.1) ---- */

uint64_t dj_channel_take_signals(void)
{
    if (!channel.block)
        return 0;
    volatile uint64_t *word = (volatile uint64_t *)(channel.block + DJ_BLOCK_SIGNALS_OFFSET);   /* slot 0's */
    if (*word == 0)
        return 0;
    return __atomic_exchange_n(word, 0, __ATOMIC_SEQ_CST);
}

void dj_channel_publish_interrupting(struct dj_slot *slot, uint64_t signals)
{
    if (slot->base)
        put64(slot->base + DJ_BLOCK_INTERRUPTING_OFFSET, signals);
}

/* ---- One request/reply exchange ---- */

static struct dj_slot *my_slot(void) { return &dj_thread_self()->slot; }
static volatile uint8_t *item_start(void) { return my_slot()->base + DJ_BLOCK_ITEMS_START; }

/* Sends the request of `size` bytes already written at item_start(), waits, and checks the reply header. */
static void exchange(uint32_t size)
{
    struct dj_slot *slot = my_slot();
    volatile uint8_t *b = slot->base;
    slot->sequence++;
    put32(b + DJ_BLOCK_REQUEST_SIZE_OFFSET, size);
    put32(b + DJ_BLOCK_REQUEST_SEQUENCE_OFFSET, slot->sequence);
    BARRIER();
    dj_doorbell_ring_wait(b);
    BARRIER();
    if (get32(b + DJ_BLOCK_DOORBELL_OFFSET) != DJ_DOORBELL_REPLY)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "protocol violation: the host set the doorbell to neither request nor reply");
    if (get32(b + DJ_BLOCK_REPLY_SEQUENCE_OFFSET) != slot->sequence)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "protocol violation: the reply sequence number differs from the request's");
}

/* Ends the exchange: the block is the shim's again. */
static void release(void)
{
    BARRIER();
    put32(my_slot()->base + DJ_BLOCK_DOORBELL_OFFSET, DJ_DOORBELL_IDLE);
}

static void put_item_header(volatile uint8_t *item, uint32_t size, uint32_t kind)
{
    put32(item + DJ_ITEM_SIZE_OFFSET, size);
    put32(item + DJ_ITEM_KIND_OFFSET, kind);
}

/* ---- SYSCALL ---- */

struct buffer {
    uint64_t pointer;   /* the workload's pointer */
    uint64_t size;      /* bytes in (input), or capacity (output) */
    uint32_t offset;    /* from the item's start */
    uint32_t count;     /* iovec arrays and arrays: element count */
    int present;        /* a buffer argument whose pointer is not NULL: it takes a place in the data area */
    uint64_t value;     /* a value-result length (1.3): the value read once from the workload, sent from here */
};

/* The size a buffer takes in the data area, saturating far above any capacity. */
static uint64_t padded(uint64_t size)
{
    return size > UINT32_MAX ? (uint64_t)1 << 40 : (size + DJ_ITEM_ALIGNMENT - 1) & ~(uint64_t)(DJ_ITEM_ALIGNMENT - 1);
}

/* Whether argument i is a buffer or iovec array (not a C string) that takes a place in the data area. */
static int placed(const struct dj_config_entry *e, const struct buffer *buf, int i)
{
    uint8_t kind = e->args[i].kind;
    return buf[i].present && (is_sized_buffer(kind) || is_iovec(kind) || is_array(kind) || kind == DJ_ARGUMENT_KIND_VALUE_RESULT);
}

/* Bytes the placed buffers other than `skip` need in the data area. */
static uint64_t data_needed(const struct dj_config_entry *e, const struct buffer *buf, int skip)
{
    uint64_t need = 0;
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++)
        if (i != skip && placed(e, buf, i))
            need += padded(buf[i].size);
    return need;
}

static long undeclared(uint32_t number)
{
    volatile uint8_t *item = item_start();
    put_item_header(item, DJ_SYSCALL_FIXED_SIZE, DJ_ITEM_KIND_SYSCALL);
    put32(item + DJ_SYSCALL_NUMBER_OFFSET, number);
    put32(item + DJ_SYSCALL_FLAGS_OFFSET, DJ_SYSCALL_FLAG_UNDECLARED);
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        put64(item + DJ_SYSCALL_ARGUMENTS_OFFSET + 8 * i, 0);
        put64(item + DJ_SYSCALL_BUFFERS_OFFSET + DJ_SYSCALL_BUFFER_SIZE * i, 0);
        put32(item + DJ_SYSCALL_OUTPUT_SIZES_OFFSET + 4 * i, 0);
    }
    put64(item + DJ_SYSCALL_RESULT_OFFSET, 0);
    put64(item + DJ_SYSCALL_RESERVED_OFFSET, 0);
    exchange(DJ_SYSCALL_FIXED_SIZE);
    long result = (long)get64(item + DJ_SYSCALL_RESULT_OFFSET);
    release();
    return result;
}

/* ---- Messages (1.4): sendmsg/recvmsg's struct msghdr, sendmmsg/recvmmsg's struct mmsghdr array ----
   Each message crosses as one record (docs/protocol.md §3, "Message records"): a 32-byte header, then the name,
   the control data and the data joined from its iovecs, each padded to 8. The workload's msghdr and iovecs are read
   once, here; the reply is copied back from these copies and the shim's own sizes, never from what the host says
   about places. */

struct message {
    uint64_t header;            /* the workload's msghdr */
    uint64_t name;              /* its msg_name, msg_control: the workload's pointers */
    uint64_t control;
    uint64_t data_size;         /* bytes sent, or the capacity */
    uint32_t name_size;         /* bytes sent, or the capacity (msg_namelen, clamped to 128) */
    uint32_t control_size;
    uint32_t iov_first;         /* its iovecs in the argument's scratch row */
    uint32_t iov_count;
    uint32_t flags;
};

struct messages {
    int argument;               /* the message argument, or -1 */
    int receive;                /* kind 12 */
    int array;                  /* a struct mmsghdr array counted by an argument */
    uint32_t count;             /* the messages that cross: at most DJ_MAX_MESSAGES */
    struct message m[DJ_MAX_MESSAGES];
};

static uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof v); return v; }

static uint64_t record_size(const struct message *m)
{
    return DJ_MESSAGE_HEADER_SIZE + padded(m->name_size) + padded(m->control_size) + padded(m->data_size);
}

static uint64_t messages_size(const struct messages *ms)
{
    uint64_t total = 0;
    for (uint32_t k = 0; k < ms->count; k++)
        total += record_size(&ms->m[k]);
    return total;
}

/* Reads the workload's message headers and their iovecs, once. Linux's copy_msghdr_from_user: a NULL name has
   length 0, a negative one is EINVAL, one above sizeof(struct sockaddr_storage) is clamped; more than UIO_MAXIOV
   iovecs is EMSGSIZE; send control data above the limit is ENOBUFS. A struct mmsghdr array is cut (never failed)
   at the first message that cannot cross, as Linux's sendmmsg/recvmmsg return the messages done. */
static long read_messages(const struct dj_config_entry *e, int i, const uint64_t args[DJ_MAX_ARGUMENTS],
                          struct dj_iovec64 *iov, struct messages *ms)
{
    const struct dj_config_argument *a = &e->args[i];
    ms->argument = i;
    ms->receive = a->kind == DJ_ARGUMENT_KIND_RECEIVE_MESSAGE;
    ms->array = a->length_argument != DJ_CONFIG_NO_LENGTH_ARGUMENT;
    ms->count = 0;
    uint64_t wanted = ms->array ? args[a->length_argument] : 1;
    uint32_t n = wanted > DJ_MAX_MESSAGES ? DJ_MAX_MESSAGES : (uint32_t)wanted;
    uint64_t stride = ms->array ? DJ_MMSGHDR_SIZE : DJ_MSGHDR_SIZE;
    uint32_t iov_used = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint8_t h[DJ_MSGHDR_SIZE];
        uint64_t at = args[i] + (uint64_t)k * stride;
        long r = dj_user_read(h, at, sizeof h);
        if (r)
            return k ? 0 : r;
        uint64_t name = load64(h + LX_MSGHDR_NAME), iov_pointer = load64(h + LX_MSGHDR_IOV);
        uint64_t iov_count = load64(h + LX_MSGHDR_IOVLEN), control = load64(h + LX_MSGHDR_CONTROL);
        uint64_t control_length = load64(h + LX_MSGHDR_CONTROLLEN);
        int32_t name_length = (int32_t)load_u32(h + LX_MSGHDR_NAMELEN);
        if (!name)
            name_length = 0;
        if (name_length < 0)
            return k ? 0 : -LX_EINVAL;
        if (name_length > DJ_MAX_MESSAGE_NAME_SIZE)
            name_length = DJ_MAX_MESSAGE_NAME_SIZE;
        if (iov_count > DJ_MAX_IOVEC_COUNT)
            return k ? 0 : -LX_EMSGSIZE;
        if (iov_used + iov_count > DJ_MAX_IOVEC_COUNT)
            return 0;                   /* k > 0: this message goes in the next call */
        uint64_t control_size;
        if (ms->receive) {
            control_size = !control ? 0 : control_length < DJ_MAX_MESSAGE_CONTROL_SIZE ? control_length : DJ_MAX_MESSAGE_CONTROL_SIZE;
        } else {
            if (control_length > DJ_MAX_MESSAGE_CONTROL_SIZE)
                return k ? 0 : -LX_ENOBUFS;
            if (!control && control_length)
                return k ? 0 : -LX_EFAULT;
            control_size = control_length;
        }
        if (iov_count && !iov_pointer)
            return k ? 0 : -LX_EFAULT;
        r = dj_user_read(iov + iov_used, iov_pointer, iov_count * sizeof(struct iovec64));
        if (r)
            return k ? 0 : r;
        uint64_t total = 0;
        for (uint64_t j = 0; j < iov_count; j++) {
            uint64_t length = iov[iov_used + j].length;
            if (length > INT64_MAX || total > INT64_MAX - length)
                return k ? 0 : -LX_EINVAL;
            total += length;
        }
        ms->m[k] = (struct message){
            .header = at, .name = name, .control = control, .data_size = total,
            .name_size = (uint32_t)name_length, .control_size = (uint32_t)control_size,
            .iov_first = iov_used, .iov_count = (uint32_t)iov_count, .flags = load_u32(h + LX_MSGHDR_FLAGS),
        };
        iov_used += (uint32_t)iov_count;
        ms->count = k + 1;
    }
    return 0;
}

/* Fits the records into `room`: fewer messages of an array, then a shorter data part of the one left (a short
   stream send or receive; a datagram never reaches a slot's size). -ENOMEM when not even that fits. */
static long fit_messages(struct messages *ms, uint64_t room)
{
    while (ms->count > 1 && messages_size(ms) > room)
        ms->count--;
    if (ms->count == 0 || messages_size(ms) <= room)
        return 0;
    struct message *m = &ms->m[0];
    uint64_t fixed = DJ_MESSAGE_HEADER_SIZE + padded(m->name_size) + padded(m->control_size);
    if (fixed + DJ_ITEM_ALIGNMENT > room)
        return -LX_ENOMEM;
    m->data_size = (room - fixed) & ~(uint64_t)(DJ_ITEM_ALIGNMENT - 1);
    return 0;
}

/* Writes the records at `offset`: headers, and for a send the name, control and data copied from the workload. */
static long place_messages(volatile uint8_t *item, uint32_t offset, const struct messages *ms, const struct dj_iovec64 *iov)
{
    uint64_t at = offset;
    for (uint32_t k = 0; k < ms->count; k++) {
        const struct message *m = &ms->m[k];
        volatile uint8_t *record = item + at;
        put32(record + DJ_MESSAGE_NAME_SIZE_OFFSET, m->name_size);
        put32(record + DJ_MESSAGE_CONTROL_SIZE_OFFSET, m->control_size);
        put32(record + DJ_MESSAGE_DATA_SIZE_OFFSET, (uint32_t)m->data_size);
        put32(record + DJ_MESSAGE_FLAGS_OFFSET, m->flags);
        put32(record + DJ_MESSAGE_PRESENCE_OFFSET, (m->name ? DJ_MESSAGE_NAME_PRESENT : 0) | (m->control ? DJ_MESSAGE_CONTROL_PRESENT : 0));
        put32(record + DJ_MESSAGE_IOV_COUNT_OFFSET, m->iov_count);
        put32(record + DJ_MESSAGE_LENGTH_OFFSET, 0);
        put32(record + DJ_MESSAGE_RESERVED_OFFSET, 0);
        uint8_t *p = (uint8_t *)(record + DJ_MESSAGE_HEADER_SIZE);
        if (!ms->receive) {
            long r = dj_user_read(p, m->name, m->name_size);
            if (!r)
                r = dj_user_read(p + padded(m->name_size), m->control, m->control_size);
            uint8_t *data = p + padded(m->name_size) + padded(m->control_size);
            uint64_t done = 0;
            for (uint32_t j = 0; !r && j < m->iov_count && done < m->data_size; j++) {
                uint64_t length = iov[m->iov_first + j].length;
                if (length > m->data_size - done)
                    length = m->data_size - done;
                r = dj_user_read(data + done, iov[m->iov_first + j].base, length);
                done += length;
            }
            if (r)
                return r;
        }
        at += record_size(m);
    }
    return 0;
}

/* The reply: a receive's name, control, data and header fields, and an array's msg_len, for the messages the
   result says are done. The host writes all of the records or none of them; sizes above the shim's capacities, or
   more messages done than sent, are violations. */
static long reply_messages(volatile uint8_t *item, uint32_t offset, uint64_t size, uint64_t written,
                           const struct messages *ms, const struct dj_iovec64 *iov, long result)
{
    if (written == 0 || (!ms->receive && !ms->array))
        return 0;
    if (written != size)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "protocol violation: the host wrote part of a message record");
    if (ms->array && result > (long)ms->count)
        dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "protocol violation: the host did more messages than were sent");
    uint32_t done = ms->array ? (result > 0 ? (uint32_t)result : 0) : (result >= 0 ? 1 : 0);
    uint64_t at = offset;
    long r = 0;
    for (uint32_t k = 0; k < done && !r; k++) {
        const struct message *m = &ms->m[k];
        const volatile uint8_t *record = item + at;
        uint32_t name_length = get32(record + DJ_MESSAGE_NAME_SIZE_OFFSET);
        uint32_t control_length = get32(record + DJ_MESSAGE_CONTROL_SIZE_OFFSET);
        uint32_t data_length = get32(record + DJ_MESSAGE_DATA_SIZE_OFFSET);
        uint32_t flags = get32(record + DJ_MESSAGE_FLAGS_OFFSET);
        uint32_t length = get32(record + DJ_MESSAGE_LENGTH_OFFSET);
        if (ms->receive) {
            if (control_length > m->control_size || data_length > m->data_size)
                dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "protocol violation: the host wrote more of a message than its capacity");
            const uint8_t *p = (const uint8_t *)(record + DJ_MESSAGE_HEADER_SIZE);
            if (m->name) {
                /* As Linux's move_addr_to_user: at most the capacity copied, the full length reported. */
                r = dj_user_write(m->name, p, name_length < m->name_size ? name_length : m->name_size);
                if (!r)
                    r = dj_user_write(m->header + LX_MSGHDR_NAMELEN, &name_length, 4);
            }
            if (!r)
                r = dj_user_write(m->control, p + padded(m->name_size), control_length);
            uint64_t control_written = control_length;
            if (!r)
                r = dj_user_write(m->header + LX_MSGHDR_CONTROLLEN, &control_written, 8);
            if (!r)
                r = dj_user_write(m->header + LX_MSGHDR_FLAGS, &flags, 4);
            const uint8_t *data = p + padded(m->name_size) + padded(m->control_size);
            uint64_t copied = 0;
            for (uint32_t j = 0; !r && j < m->iov_count && copied < data_length; j++) {
                uint64_t part = iov[m->iov_first + j].length;
                if (part > data_length - copied)
                    part = data_length - copied;
                r = dj_user_write(iov[m->iov_first + j].base, data + copied, part);
                copied += part;
            }
        }
        if (!r && ms->array)
            r = dj_user_write(m->header + DJ_MSGHDR_SIZE, &length, 4);
        at += record_size(m);
    }
    return r;
}

long dj_marshal_signal_mask(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS], uint64_t *mask)
{
    if (number >= table_count || !(table[number].flags & DJ_CONFIG_FLAG_DECLARED))
        return 0;
    const struct dj_config_entry *e = &table[number];
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        const struct dj_config_argument *a = &e->args[i];
        if (a->kind != DJ_ARGUMENT_KIND_SIGNAL_MASK || !args[i])
            continue;
        uint64_t set = args[i], size;
        if (a->length_argument != DJ_CONFIG_NO_LENGTH_ARGUMENT) {
            size = args[a->length_argument];
        } else {
            uint64_t pair[2];           /* pselect6: { const sigset_t *ss, size_t ss_len } */
            long r = dj_user_read(pair, args[i], sizeof pair);
            if (r)
                return r;
            set = pair[0];
            size = pair[1];
            if (!set)
                return 0;
        }
        if (size != LX_SIGSET_SIZE)
            return -LX_EINVAL;
        long r = dj_user_read(mask, set, LX_SIGSET_SIZE);
        return r ? r : 1;
    }
    return 0;
}

/* 1.5: the entry as this call sees it: a selected argument takes the shape its selector's low 32 bits choose (a fixed-size
   buffer or a value); a value no choice names makes it a value. The table was checked at load, so the choices exist. */
static const struct dj_config_entry *resolve(const struct dj_config_entry *e, const uint64_t args[DJ_MAX_ARGUMENTS],
                                             struct dj_config_entry *resolved)
{
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        const struct dj_config_argument *a = &e->args[i];
        if (a->kind != DJ_ARGUMENT_KIND_SELECTED)
            continue;
        uint32_t selector = (uint32_t)args[a->length_argument];
        *resolved = *e;
        resolved->args[i] = (struct dj_config_argument){ DJ_ARGUMENT_KIND_VALUE, DJ_CONFIG_NO_LENGTH_ARGUMENT, 0 };
        for (unsigned c = e->first_choice; c < (unsigned)e->first_choice + a->fixed_size; c++) {
            if (choices[c].selector == selector) {
                resolved->args[i].kind = choices[c].kind;
                resolved->args[i].fixed_size = choices[c].fixed_size;
                break;
            }
        }
        return resolved;
    }
    return e;
}

long dj_marshal_syscall(uint32_t number, const uint64_t args[DJ_MAX_ARGUMENTS])
{
    if (number >= table_count || !(table[number].flags & DJ_CONFIG_FLAG_DECLARED))
        return undeclared(number);

    struct dj_config_entry resolved;
    const struct dj_config_entry *e = resolve(&table[number], args, &resolved);
    volatile uint8_t *item = item_start();
    uint64_t values[DJ_MAX_ARGUMENTS];
    struct buffer buf[DJ_MAX_ARGUMENTS];
    uint64_t capacity = my_slot()->capacity;
    struct dj_iovec64 (*iovecs)[DJ_MAX_IOVEC_COUNT] = dj_thread_self()->iovecs;
    uint64_t position = DJ_SYSCALL_FIXED_SIZE;
    struct messages ms;
    ms.argument = -1;

    /* Pass 1: what each argument needs. Pointers never cross; their value in the item is 0. A NULL pointer
       is sent as the buffer {0, 0} (§3, "NULL pointers"): nothing is copied, and the host's handler answers
       as Linux does. A NULL buffer that its length argument says is not empty is the shim's -EFAULT. */
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        const struct dj_config_argument *a = &e->args[i];
        values[i] = args[i];
        buf[i] = (struct buffer){ 0, 0, 0, 0, 0, 0 };
        if (a->kind == DJ_ARGUMENT_KIND_VALUE)
            continue;
        if (a->kind == DJ_ARGUMENT_KIND_OPAQUE || a->kind == DJ_ARGUMENT_KIND_SIGNAL_MASK) {
            /* 1.4: never sent; the host learns only whether it is NULL. A mask is the shim's (dj_host_syscall). */
            values[i] = args[i] != 0;
            continue;
        }
        values[i] = 0;
        if (a->kind == DJ_ARGUMENT_KIND_SEND_MESSAGE || a->kind == DJ_ARGUMENT_KIND_RECEIVE_MESSAGE) {
            if (args[i] == 0)
                return -LX_EFAULT;      /* Linux's copy_msghdr_from_user of NULL */
            long r = read_messages(e, i, args, iovecs[i], &ms);
            if (r)
                return r;
            buf[i].present = 1;
            buf[i].pointer = args[i];
            continue;
        }
        if (args[i] == 0) {
            /* A NULL buffer sized by a value-result length sends nothing, whatever the length says (Linux's accept
               with a NULL addr ignores addrlen). */
            if ((is_sized_buffer(a->kind) || is_iovec(a->kind) || is_array(a->kind)) && !sized_by_value_result(e, (unsigned)i) &&
                a->length_argument != DJ_CONFIG_NO_LENGTH_ARGUMENT && args[a->length_argument] != 0)
                return -LX_EFAULT;
            continue;
        }
        buf[i].present = 1;
        buf[i].pointer = args[i];
        if (a->kind == DJ_ARGUMENT_KIND_VALUE_RESULT) {
            /* Read once: the value sent and the capacity of the buffer it sizes both come from this copy, so another
               thread changing *len cannot make them disagree. */
            uint64_t v = 0;
            long r = dj_user_read(&v, args[i], a->fixed_size);
            if (r)
                return r;
            if (a->fixed_size == 4 ? (int32_t)(uint32_t)v < 0 : v > INT64_MAX)
                return -LX_EINVAL;
            buf[i].value = a->fixed_size == 4 ? (uint64_t)(uint32_t)v : v;
            buf[i].size = a->fixed_size;
        } else if (is_sized_buffer(a->kind) && sized_by_value_result(e, (unsigned)i)) {
            buf[i].size = 0;    /* sized below, once every value-result length is read */
        } else if (is_sized_buffer(a->kind)) {
            buf[i].size = a->fixed_size ? a->fixed_size : args[a->length_argument];
        } else if (is_array(a->kind)) {
            /* count x size in 64 bits: count <= 1024 and size <= 65535, so it cannot wrap. Linux refuses a poll
               nfds above RLIMIT_NOFILE with EINVAL; the shim's bound is DJ_MAX_ARRAY_COUNT. */
            uint64_t count = args[a->length_argument];
            if (count > DJ_MAX_ARRAY_COUNT)
                return -LX_EINVAL;
            buf[i].size = count * a->fixed_size;
            buf[i].count = (uint32_t)count;
        } else if (is_iovec(a->kind)) {
            uint64_t count = args[a->length_argument];
            if (count > DJ_MAX_IOVEC_COUNT)
                return -LX_EINVAL;
            long r = dj_user_read(iovecs[i], args[i], count * sizeof(struct iovec64));
            if (r)
                return r;
            /* Linux refuses a total that does not fit in ssize_t; so does the shim, before it sums. */
            uint64_t total = 0;
            for (uint64_t k = 0; k < count; k++) {
                uint64_t length = iovecs[i][k].length;
                if (length > INT64_MAX || total > INT64_MAX - length)
                    return -LX_EINVAL;
                total += length;
            }
            buf[i].size = total;
            buf[i].count = (uint32_t)count;
        }
    }

    /* 1.3: a buffer sized by a value-result length has capacity min(*len, its maximum); its length pointer must be
       there (Linux's getsockopt with a NULL optlen is EFAULT). */
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        if (!buf[i].present || !sized_by_value_result(e, (unsigned)i))
            continue;
        uint8_t l = e->args[i].length_argument;
        if (!buf[l].present)
            return -LX_EFAULT;
        buf[i].size = buf[l].value < e->args[i].fixed_size ? buf[l].value : e->args[i].fixed_size;
    }

    /* C strings first, straight into the data area: only the copy tells their size. */
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        if (e->args[i].kind != DJ_ARGUMENT_KIND_CSTRING || !buf[i].present)
            continue;
        uint64_t room = capacity - position;
        uint64_t max = room < DJ_MAX_CSTRING_SIZE ? room : DJ_MAX_CSTRING_SIZE;
        long n = dj_user_string((void *)(item + position), buf[i].pointer, max);
        if (n == -LX_ENAMETOOLONG && max < DJ_MAX_CSTRING_SIZE)
            return -LX_ENOMEM;
        if (n < 0)
            return n;
        buf[i].offset = (uint32_t)position;
        buf[i].size = (uint64_t)n;
        position += padded((uint64_t)n);
    }

    /* The shortening rule (§3): when the buffers do not fit, the first buffer with a length argument gives
       way. A plain buffer's length argument is rewritten to the new size (a short read or write); an iovec
       array keeps its count and carries fewer bytes (a short readv or writev). An array (kinds 7-9) is never
       shortened: it is whole or the call is -ENOMEM. */
    uint64_t room = capacity - position;
    if (ms.argument >= 0) {
        uint64_t others = data_needed(e, buf, -1);
        if (others >= room || fit_messages(&ms, room - others))
            return -LX_ENOMEM;
        room -= messages_size(&ms);
        if (ms.array)
            values[e->args[ms.argument].length_argument] = ms.count;
    }
    if (data_needed(e, buf, -1) > room) {
        int s = -1;
        for (int i = 0; i < DJ_MAX_ARGUMENTS && s < 0; i++)
            if (placed(e, buf, i) && e->args[i].length_argument != DJ_CONFIG_NO_LENGTH_ARGUMENT &&
                !is_array(e->args[i].kind) && !sized_by_value_result(e, (unsigned)i))
                s = i;
        if (s < 0)
            return -LX_ENOMEM;
        uint64_t others = data_needed(e, buf, s);
        if (others >= room)
            return -LX_ENOMEM;
        uint64_t size = (room - others) & ~(uint64_t)(DJ_ITEM_ALIGNMENT - 1);
        if (size == 0)
            return -LX_ENOMEM;
        buf[s].size = size;
        if (is_sized_buffer(e->args[s].kind)) {
            uint8_t length_argument = e->args[s].length_argument;
            /* An array counted by the same argument could not follow the new length: no shortening then. */
            for (int j = 0; j < DJ_MAX_ARGUMENTS; j++)
                if (is_array(e->args[j].kind) && e->args[j].length_argument == length_argument)
                    return -LX_ENOMEM;
            values[length_argument] = size;
            /* Another buffer measured by the same argument shrinks with it. */
            for (int j = 0; j < DJ_MAX_ARGUMENTS; j++)
                if (placed(e, buf, j) && is_sized_buffer(e->args[j].kind) &&
                    e->args[j].length_argument == length_argument)
                    buf[j].size = size;
            if (data_needed(e, buf, -1) > room)
                return -LX_ENOMEM;
        }
    }

    /* Pass 2: place the buffers and copy the inputs in. */
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        uint8_t kind = e->args[i].kind;
        if (!placed(e, buf, i))
            continue;
        buf[i].offset = (uint32_t)position;
        position += padded(buf[i].size);
        void *data = (void *)(item + buf[i].offset);
        if (kind == DJ_ARGUMENT_KIND_VALUE_RESULT) {
            memcpy(data, &buf[i].value, buf[i].size);   /* little-endian: the low 4 or 8 bytes */
        } else if (is_copied_in(kind)) {
            long r = dj_user_read(data, buf[i].pointer, buf[i].size);
            if (r)
                return r;
        } else if (kind == DJ_ARGUMENT_KIND_INPUT_IOVEC) {
            uint64_t done = 0;
            for (uint32_t k = 0; k < buf[i].count && done < buf[i].size; k++) {
                uint64_t length = iovecs[i][k].length;
                if (length > buf[i].size - done)
                    length = buf[i].size - done;
                long r = dj_user_read((uint8_t *)data + done, iovecs[i][k].base, length);
                if (r)
                    return r;
                done += length;
            }
        }
    }

    if (ms.argument >= 0) {
        int i = ms.argument;
        buf[i].offset = (uint32_t)position;
        buf[i].size = messages_size(&ms);
        position += buf[i].size;
        long r = place_messages(item, buf[i].offset, &ms, iovecs[i]);
        if (r)
            return r;
    }

    /* The fixed part. */
    put_item_header(item, (uint32_t)position, DJ_ITEM_KIND_SYSCALL);
    put32(item + DJ_SYSCALL_NUMBER_OFFSET, number);
    put32(item + DJ_SYSCALL_FLAGS_OFFSET, 0);
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        put64(item + DJ_SYSCALL_ARGUMENTS_OFFSET + 8 * i, values[i]);
        put32(item + DJ_SYSCALL_BUFFERS_OFFSET + DJ_SYSCALL_BUFFER_SIZE * i, buf[i].offset);
        put32(item + DJ_SYSCALL_BUFFERS_OFFSET + DJ_SYSCALL_BUFFER_SIZE * i + 4, (uint32_t)buf[i].size);
        put32(item + DJ_SYSCALL_OUTPUT_SIZES_OFFSET + 4 * i, 0);
    }
    put64(item + DJ_SYSCALL_RESULT_OFFSET, 0);
    put64(item + DJ_SYSCALL_RESERVED_OFFSET, 0);

    exchange((uint32_t)position);

    /* The reply: each host-written field read once; places and capacities from `buf` only. */
    long result = (long)get64(item + DJ_SYSCALL_RESULT_OFFSET);
    for (int i = 0; i < DJ_MAX_ARGUMENTS; i++) {
        uint8_t kind = e->args[i].kind;
        if (!is_output(kind))
            continue;
        /* A NULL output has capacity 0: any output for it is a violation too. */
        uint64_t written = get32(item + DJ_SYSCALL_OUTPUT_SIZES_OFFSET + 4 * i);
        if (written > buf[i].size)
            dj_fatal(DJ_SHIM_EXIT_BAD_BLOCK, "protocol violation: the host wrote more output than the buffer holds");
        const uint8_t *data = (const uint8_t *)(item + buf[i].offset);
        long r = 0;
        if (kind == DJ_ARGUMENT_KIND_OUTPUT_IOVEC) {
            uint64_t done = 0;
            for (uint32_t k = 0; k < buf[i].count && done < written && !r; k++) {
                uint64_t length = iovecs[i][k].length;
                if (length > written - done)
                    length = written - done;
                r = dj_user_write(iovecs[i][k].base, data + done, length);
                done += length;
            }
        } else {
            r = dj_user_write(buf[i].pointer, data, written);
        }
        if (r)
            result = r;
    }
    if (ms.argument >= 0) {
        int i = ms.argument;
        uint64_t written = get32(item + DJ_SYSCALL_OUTPUT_SIZES_OFFSET + 4 * i);
        long r = reply_messages(item, buf[i].offset, buf[i].size, written, &ms, iovecs[i], result);
        if (r)
            result = r;
    }
    release();
    return result;
}

/* ---- EXIT, FAULT, LOG ---- */

void dj_report_exit(int32_t status)
{
    volatile uint8_t *item = item_start();
    put_item_header(item, DJ_EXIT_ITEM_SIZE, DJ_ITEM_KIND_EXIT);
    put32(item + DJ_EXIT_STATUS_OFFSET, (uint32_t)status);
    put32(item + DJ_EXIT_STATUS_OFFSET + 4, 0);
    exchange(DJ_EXIT_ITEM_SIZE);
    release();
}

void dj_report_fault(uint32_t signal, int32_t vector, uint64_t address, uint64_t instruction_pointer,
                     uint64_t code)
{
    volatile uint8_t *item = item_start();
    put_item_header(item, DJ_FAULT_ITEM_SIZE, DJ_ITEM_KIND_FAULT);
    put32(item + DJ_FAULT_SIGNAL_OFFSET, signal);
    put32(item + DJ_FAULT_VECTOR_OFFSET, (uint32_t)vector);
    put64(item + DJ_FAULT_ADDRESS_OFFSET, address);
    put64(item + DJ_FAULT_INSTRUCTION_POINTER_OFFSET, instruction_pointer);
    put64(item + DJ_FAULT_ERROR_CODE_OFFSET, code);
    exchange(DJ_FAULT_ITEM_SIZE);
    release();
}

long dj_report_slot_open(uint32_t index, uint32_t tid)
{
    volatile uint8_t *item = item_start();
    put_item_header(item, DJ_SLOT_OPEN_ITEM_SIZE, DJ_ITEM_KIND_SLOT_OPEN);
    put32(item + DJ_SLOT_OPEN_SLOT_OFFSET, index);
    put32(item + DJ_SLOT_OPEN_THREAD_ID_OFFSET, tid);
    put64(item + DJ_SLOT_OPEN_RESULT_OFFSET, (uint64_t)-LX_EAGAIN);
    exchange(DJ_SLOT_OPEN_ITEM_SIZE);
    long result = (long)get64(item + DJ_SLOT_OPEN_RESULT_OFFSET);
    release();
    return result == 0 ? 0 : -LX_EAGAIN;    /* the host says only yes or no */
}

void dj_report_trace(uint32_t number, uint32_t tid, const uint64_t args[DJ_MAX_ARGUMENTS], long result)
{
    volatile uint8_t *item = item_start();
    put_item_header(item, DJ_TRACE_ITEM_SIZE, DJ_ITEM_KIND_TRACE);
    put32(item + DJ_TRACE_NUMBER_OFFSET, number);
    put32(item + DJ_TRACE_THREAD_ID_OFFSET, tid);
    for (unsigned i = 0; i < DJ_MAX_ARGUMENTS; i++)
        put64(item + DJ_TRACE_ARGUMENTS_OFFSET + 8 * i, args[i]);
    put64(item + DJ_TRACE_RESULT_OFFSET, (uint64_t)result);
    exchange(DJ_TRACE_ITEM_SIZE);           /* the host answers at once and writes nothing back */
    release();
}

void dj_report_log(uint32_t level, const char *text, uint32_t length)
{
    volatile uint8_t *item = item_start();
    uint32_t room = my_slot()->capacity - DJ_LOG_FIXED_SIZE;
    if (length > room)
        length = room;
    uint32_t size = (uint32_t)padded((uint64_t)DJ_LOG_FIXED_SIZE + length);
    put_item_header(item, size, DJ_ITEM_KIND_LOG);
    put32(item + DJ_LOG_LEVEL_OFFSET, level);
    put32(item + DJ_LOG_LENGTH_OFFSET, length);
    memcpy((void *)(item + DJ_LOG_TEXT_OFFSET), text, length);
    exchange(size);
    release();
}
