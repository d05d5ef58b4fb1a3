/*
 * asm/process/hostile/hostile.c -- the hostile stand-in shim's driver (docs/writing-a-backend.md, "Protocol-violation
 * checks"). Built only into donjon-shim-hostile (asm/process/shim.targets, DonjonBuildHostileShim), never into the
 * shim Donjon runs: entry.S, compiled with -DDJ_HOSTILE, calls dj_hostile_run instead of entering the workload.
 *
 * Entry points
 *   dj_hostile_run()   from _start (entry.S, DJ_HOSTILE only), after the whole normal start-up; never returns
 *
 * Flow
 *   1. the scenario is the workload's argv[1], read from the initial stack the shim has just mapped
 *      (dj_workload_stack: argc, then argv[]); the program itself never runs
 *   2. the scenario writes one malformed request into slot 0, as a hostile keep would, and rings the doorbell
 *   3. it reports what the host answered in a well-formed write(1, ...) request: "<scenario>: <what>\n", so the
 *      answer comes out on Donjon's stdout through the host's own files set
 *   4. it ends the keep the normal way (an EXIT item of status 0, then exit_group(0)); `request-after-exit`
 *      instead asks again after its EXIT item, which the host must never answer
 *
 * Scenarios (each breaks one rule of docs/protocol.md §3; the conformance suite's ProtocolViolationSuite asserts
 * the host's reaction to each)
 *   buffer-outside-item     write(1, buf, 8) whose buffer {152, 4096} ends beyond its 160-byte item
 *   value-with-buffer       write() whose value argument 0 (the descriptor) carries a buffer
 *   length-mismatch         write(1, buf, 100) whose input buffer is 8 bytes
 *   request-over-capacity   a request size of 0xFFFFFFF0, beyond any slot's items capacity
 *   item-size-misaligned    one item of size 12
 *   unknown-kind            one item of kind 99 and nothing else
 *   unasked-trace           a TRACE item from a keep whose page has no TRACE flag
 *   trace-wrong-size        a TRACE item of 64 bytes, not 72
 *   log-level-above-4       a LOG item of level 5
 *   slot-out-of-range       SLOT_OPEN for slot 4096 (a block has at most 1024)
 *   bad-doorbell            the doorbell set to 7, neither idle, request nor reply
 *   request-after-exit      a well-formed write after the keep's EXIT item
 *   (anything else)         the line "unknown scenario" and status 2
 *
 * Untrusted inputs: the host's reply fields (result, doorbell, reply sequence), each read once and only printed.
 */
#include "shim.h"
#include "linux.h"
#include "process.h"

#define HOSTILE_BAD_DOORBELL 7
#define HOSTILE_TEXT_MAX 256

static void put32(volatile uint8_t *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static void put64(volatile uint8_t *p, uint64_t v) { *(volatile uint64_t *)p = v; }
static uint32_t get32(const volatile uint8_t *p) { return *(const volatile uint32_t *)p; }
static uint64_t get64(const volatile uint8_t *p) { return *(const volatile uint64_t *)p; }

static struct dj_slot *slot(void) { return &dj_thread_self()->slot; }
static volatile uint8_t *item(void) { return slot()->base + DJ_BLOCK_ITEMS_START; }

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Appends text and numbers to a line of at most HOSTILE_TEXT_MAX bytes. */
struct line {
    char text[HOSTILE_TEXT_MAX];
    uint32_t length;
};

static void add(struct line *l, const char *s)
{
    while (*s && l->length < HOSTILE_TEXT_MAX)
        l->text[l->length++] = *s++;
}

static void add_number(struct line *l, int64_t value)
{
    char digits[24];
    int count = 0;
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        add(l, "-");
    while (count > 0 && l->length < HOSTILE_TEXT_MAX)
        l->text[l->length++] = digits[--count];
}

/* Rings for the `size` bytes already at item() and waits for the doorbell to leave REQUEST; the doorbell it saw. */
static uint32_t send(uint32_t size)
{
    struct dj_slot *s = slot();
    s->sequence++;
    put32(s->base + DJ_BLOCK_REQUEST_SIZE_OFFSET, size);
    put32(s->base + DJ_BLOCK_REQUEST_SEQUENCE_OFFSET, s->sequence);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    dj_doorbell_ring_wait(s->base);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t doorbell = get32(s->base + DJ_BLOCK_DOORBELL_OFFSET);
    put32(s->base + DJ_BLOCK_DOORBELL_OFFSET, DJ_DOORBELL_IDLE);
    return doorbell;
}

/* A write(1, text, length) SYSCALL item at item(), well formed except where the caller changes it; its size. */
static uint32_t put_write(const char *text, uint32_t length)
{
    volatile uint8_t *i = item();
    uint32_t size = (DJ_SYSCALL_FIXED_SIZE + length + 7) & ~7u;
    for (uint32_t k = 0; k < DJ_SYSCALL_FIXED_SIZE; k += 8)
        put64(i + k, 0);
    put32(i + DJ_ITEM_SIZE_OFFSET, size);
    put32(i + DJ_ITEM_KIND_OFFSET, DJ_ITEM_KIND_SYSCALL);
    put32(i + DJ_SYSCALL_NUMBER_OFFSET, LX_NR_WRITE);
    put64(i + DJ_SYSCALL_ARGUMENTS_OFFSET + 0, 1);
    put64(i + DJ_SYSCALL_ARGUMENTS_OFFSET + 16, length);
    put32(i + DJ_SYSCALL_BUFFERS_OFFSET + DJ_SYSCALL_BUFFER_SIZE * 1, DJ_SYSCALL_FIXED_SIZE);
    put32(i + DJ_SYSCALL_BUFFERS_OFFSET + DJ_SYSCALL_BUFFER_SIZE * 1 + 4, length);
    for (uint32_t k = 0; k < length; k++)
        i[DJ_SYSCALL_FIXED_SIZE + k] = (uint8_t)text[k];
    return size;
}

static int64_t result_of_syscall(void) { return (int64_t)get64(item() + DJ_SYSCALL_RESULT_OFFSET); }

/* Prints a line on Donjon's stdout through a well-formed write. */
static void say(struct line *l)
{
    add(l, "\n");
    send(put_write(l->text, l->length));
}

/* The end of every scenario: an EXIT item of `status`, then exit_group. */
DJ_NORETURN static void finish(int status)
{
    dj_report_exit(status);
    dj_syscall1(LX_NR_EXIT_GROUP, status);
    __builtin_unreachable();
}

/* "<name>: result <r>" for a scenario answered with a SYSCALL result. */
static void say_result(const char *name, uint32_t doorbell)
{
    struct line l = { .length = 0 };
    add(&l, name);
    add(&l, ": doorbell ");
    add_number(&l, doorbell);
    add(&l, ", result ");
    add_number(&l, result_of_syscall());
    say(&l);
}

static void say_answered(const char *name, uint32_t doorbell)
{
    struct line l = { .length = 0 };
    add(&l, name);
    add(&l, ": doorbell ");
    add_number(&l, doorbell);
    say(&l);
}

static void put_header(uint32_t size, uint32_t kind)
{
    for (uint32_t k = 0; k < size && k < 128; k += 8)
        put64(item() + k, 0);
    put32(item() + DJ_ITEM_SIZE_OFFSET, size);
    put32(item() + DJ_ITEM_KIND_OFFSET, kind);
}

static const char scenario_text[8] = "hostile!";

DJ_NORETURN void dj_hostile_run(void)
{
    /* The initial stack the host built: argc, argv[0] (the program), argv[1] (the scenario), ... */
    const uint64_t *stack = (const uint64_t *)dj_workload_stack;
    const char *name = stack[0] >= 2 ? (const char *)stack[2] : "";
    uint32_t doorbell;

    if (same(name, "buffer-outside-item")) {
        uint32_t size = put_write(scenario_text, 8);
        put32(item() + DJ_SYSCALL_BUFFERS_OFFSET + DJ_SYSCALL_BUFFER_SIZE * 1 + 4, 4096);
        say_result(name, send(size));
    } else if (same(name, "value-with-buffer")) {
        uint32_t size = put_write(scenario_text, 8);
        put32(item() + DJ_SYSCALL_BUFFERS_OFFSET, DJ_SYSCALL_FIXED_SIZE);
        put32(item() + DJ_SYSCALL_BUFFERS_OFFSET + 4, 8);
        say_result(name, send(size));
    } else if (same(name, "length-mismatch")) {
        uint32_t size = put_write(scenario_text, 8);
        put64(item() + DJ_SYSCALL_ARGUMENTS_OFFSET + 16, 100);
        say_result(name, send(size));
    } else if (same(name, "request-over-capacity")) {
        put_write(scenario_text, 8);
        say_answered(name, send(0xFFFFFFF0u));
    } else if (same(name, "item-size-misaligned")) {
        put_header(16, DJ_ITEM_KIND_LOG);
        put32(item() + DJ_ITEM_SIZE_OFFSET, 12);
        say_answered(name, send(16));
    } else if (same(name, "unknown-kind")) {
        put_header(16, 99);
        say_answered(name, send(16));
    } else if (same(name, "unasked-trace")) {
        put_header(DJ_TRACE_ITEM_SIZE, DJ_ITEM_KIND_TRACE);
        put32(item() + DJ_TRACE_NUMBER_OFFSET, LX_NR_GETPID);
        put32(item() + DJ_TRACE_THREAD_ID_OFFSET, DJ_KEEP_THREAD_ID);
        say_answered(name, send(DJ_TRACE_ITEM_SIZE));
    } else if (same(name, "trace-wrong-size")) {
        put_header(64, DJ_ITEM_KIND_TRACE);
        say_answered(name, send(64));
    } else if (same(name, "log-level-above-4")) {
        put_header(DJ_LOG_FIXED_SIZE + 8, DJ_ITEM_KIND_LOG);
        put32(item() + DJ_LOG_LEVEL_OFFSET, DJ_LOG_LEVEL_ERROR + 1);
        put32(item() + DJ_LOG_LENGTH_OFFSET, 8);
        for (uint32_t k = 0; k < 8; k++)
            item()[DJ_LOG_TEXT_OFFSET + k] = (uint8_t)scenario_text[k];
        say_answered(name, send(DJ_LOG_FIXED_SIZE + 8));
    } else if (same(name, "slot-out-of-range")) {
        put_header(DJ_SLOT_OPEN_ITEM_SIZE, DJ_ITEM_KIND_SLOT_OPEN);
        put32(item() + DJ_SLOT_OPEN_SLOT_OFFSET, DJ_MAX_THREADS * 4);
        put32(item() + DJ_SLOT_OPEN_THREAD_ID_OFFSET, 2);
        doorbell = send(DJ_SLOT_OPEN_ITEM_SIZE);
        struct line l = { .length = 0 };
        add(&l, name);
        add(&l, ": doorbell ");
        add_number(&l, doorbell);
        add(&l, ", result ");
        add_number(&l, (int64_t)get64(item() + DJ_SLOT_OPEN_RESULT_OFFSET));
        say(&l);
    } else if (same(name, "bad-doorbell")) {
        /* Not through send(): the host must leave a doorbell of 7 alone, so this one would never come back. */
        volatile uint8_t *b = slot()->base;
        put_write(scenario_text, 8);
        put32(b + DJ_BLOCK_REQUEST_SIZE_OFFSET, DJ_SYSCALL_FIXED_SIZE + 8);
        __atomic_exchange_n((volatile uint32_t *)(b + DJ_BLOCK_DOORBELL_OFFSET), HOSTILE_BAD_DOORBELL, __ATOMIC_SEQ_CST);
        dj_syscall3(LX_NR_FUTEX, b + DJ_BLOCK_DOORBELL_OFFSET, LX_FUTEX_WAKE, 1);
        /* 300 ms in FUTEX_WAIT on the doorbell while it still reads 7 (the seccomp filter lets the shim make no
           nanosleep); a host that wrongly answered would change it and wake this wait early. */
        struct { int64_t seconds, nanoseconds; } wait = { 0, 300 * 1000 * 1000 };
        dj_syscall4(LX_NR_FUTEX, b + DJ_BLOCK_DOORBELL_OFFSET, LX_FUTEX_WAIT, HOSTILE_BAD_DOORBELL, &wait);
        doorbell = __atomic_exchange_n((volatile uint32_t *)(b + DJ_BLOCK_DOORBELL_OFFSET), DJ_DOORBELL_IDLE, __ATOMIC_SEQ_CST);
        struct line l = { .length = 0 };
        add(&l, name);
        add(&l, ": doorbell after 300 ms ");
        add_number(&l, doorbell);
        say(&l);
    } else if (same(name, "request-after-exit")) {
        dj_report_exit(3);
        struct line l = { .length = 0 };
        add(&l, name);
        add(&l, ": answered after exit\n");
        send(put_write(l.text, l.length));      /* never answered: the host kills the keep */
        dj_syscall1(LX_NR_EXIT_GROUP, 4);
        __builtin_unreachable();
    } else {
        struct line l = { .length = 0 };
        add(&l, "unknown scenario");
        say(&l);
        finish(2);
    }

    /* The keep still works: a well-formed request after the violation is served. */
    struct line after = { .length = 0 };
    add(&after, "served after it");
    say(&after);
    finish(0);
}
