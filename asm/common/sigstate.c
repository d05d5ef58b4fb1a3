/*
 * asm/common/sigstate.c -- the workload's view of its signal state: rt_sigaction, rt_sigprocmask and
 * sigaltstack, emulated with Linux's checks and error order.
 *
 * Why emulated: a shim owns the real signal state. In the process keep, a SIGSYS that arrives while SIGSYS is
 * blocked kills the process, and the workload's handlers must never run on the shim's signals, so the real
 * mask and the real actions are the shim's alone. The workload sees, and may change, only this copy. No
 * signal is ever delivered to a workload handler yet (the keep has no signal sources the workload controls),
 * so the copy is never "on" the alternate stack: SS_ONSTACK is never reported and EPERM never returned.
 *
 * Shared by every shim: workload memory is touched only through dj_user_read/dj_user_write.
 */
#include "shim.h"
#include "linux.h"

struct kernel_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

struct kernel_stack {
    uint64_t sp;
    int32_t flags;
    uint32_t pad;
    uint64_t size;
};

_Static_assert(sizeof(struct kernel_sigaction) == LX_SIGACTION_SIZE, "struct sigaction");
_Static_assert(sizeof(struct kernel_stack) == LX_STACK_SIZE, "stack_t");

/* SIGKILL and SIGSTOP can be neither blocked nor caught; Linux drops them from every mask it is given. */
#define UNBLOCKABLE ((1ull << (LX_SIGKILL - 1)) | (1ull << (LX_SIGSTOP - 1)))

static uint64_t blocked;
static struct kernel_sigaction actions[LX_NSIG];
static struct kernel_stack altstack;

long dj_sys_rt_sigaction(uint64_t signal, uint64_t act, uint64_t oldact, uint64_t sigsetsize)
{
    int sig = (int)signal;
    struct kernel_sigaction action;
    if (sigsetsize != LX_SIGSET_SIZE)
        return -LX_EINVAL;
    if (act && dj_user_read(&action, act, sizeof action))
        return -LX_EFAULT;
    if (sig < 1 || sig > LX_NSIG || (act && (sig == LX_SIGKILL || sig == LX_SIGSTOP)))
        return -LX_EINVAL;
    struct kernel_sigaction old = actions[sig - 1];
    if (act) {
        action.mask &= ~UNBLOCKABLE;
        actions[sig - 1] = action;
    }
    if (oldact && dj_user_write(oldact, &old, sizeof old))
        return -LX_EFAULT;
    return 0;
}

long dj_sys_rt_sigprocmask(uint64_t how, uint64_t set, uint64_t oldset, uint64_t sigsetsize)
{
    if (sigsetsize != LX_SIGSET_SIZE)
        return -LX_EINVAL;
    uint64_t old = blocked;
    if (set) {
        uint64_t mask;
        if (dj_user_read(&mask, set, sizeof mask))
            return -LX_EFAULT;
        mask &= ~UNBLOCKABLE;
        switch ((int)how) {
        case LX_SIG_BLOCK:
            blocked |= mask;
            break;
        case LX_SIG_UNBLOCK:
            blocked &= ~mask;
            break;
        case LX_SIG_SETMASK:
            blocked = mask;
            break;
        default:
            return -LX_EINVAL;
        }
    }
    if (oldset && dj_user_write(oldset, &old, sizeof old))
        return -LX_EFAULT;
    return 0;
}

long dj_sys_sigaltstack(uint64_t stack, uint64_t oldstack)
{
    struct kernel_stack requested;
    if (stack && dj_user_read(&requested, stack, sizeof requested))
        return -LX_EFAULT;

    struct kernel_stack old = altstack;
    old.flags = (altstack.size ? 0 : LX_SS_DISABLE) | (int32_t)((uint32_t)altstack.flags & LX_SS_AUTODISARM);
    old.pad = 0;

    if (stack) {
        uint32_t mode = (uint32_t)requested.flags & ~(uint32_t)LX_SS_AUTODISARM;
        if (mode != LX_SS_DISABLE && mode != LX_SS_ONSTACK && mode != 0)
            return -LX_EINVAL;
        if (mode == LX_SS_DISABLE) {
            requested.sp = 0;
            requested.size = 0;
        } else if (requested.size < LX_MINSIGSTKSZ) {
            return -LX_ENOMEM;
        }
        altstack = requested;
    }
    if (oldstack && dj_user_write(oldstack, &old, sizeof old))
        return -LX_EFAULT;
    return 0;
}
