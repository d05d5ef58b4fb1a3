/*
 * asm/common/trace.c -- run --strace for the calls a shim serves itself (docs/protocol.md §3, "TRACE").
 *
 * Entry points
 *   dj_trace_configure(flags)   from dj_table_load (marshal.c): the configuration page's keep flags, once, at start
 *   dj_trace_keep_call(number, result, args)   from each shim's local-dispatch hook (process: sigsys.S after the
 *                               dj_keep_table call; vm: syscall.S likewise), only when dj_trace_on is set
 *
 * Cost when tracing is off: the hooks test dj_trace_on (one predictable branch) and never call in here. When it is
 * on, each call the shim served itself (memory, futex, signals, arch_prctl, gettid, ...) is reported on the calling
 * thread's own slot as one TRACE item, after the call and before the workload runs again, so the host prints it in
 * order with that thread's proxied calls. The host answers it at once and writes nothing back: the shim reads no
 * field of the reply but the doorbell and the sequence number, which marshal.c's exchange checks as for any item.
 *
 * Trust: the flag is the host's word, measured with the image (a traced keep is a different keep); the item carries
 * only what the workload passed and what the shim returned, never workload memory.
 */
#include "shim.h"

uint8_t dj_trace_on;

void dj_trace_configure(uint32_t flags)
{
    dj_trace_on = (flags & DJ_CONFIG_FLAG_TRACE) != 0;
}

long dj_trace_keep_call(uint32_t number, long result, const uint64_t args[DJ_MAX_ARGUMENTS])
{
    if (dj_trace_on)
        dj_report_trace(number, dj_thread_self()->tid, args, result);
    return result;
}
