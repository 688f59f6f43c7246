// SPDX-License-Identifier: GPL-2.0
/*
 * The end of a run: the guest made a system call, or the thread has a
 * signal or other work pending on its way back to user mode.
 *
 * A thread in guest mode carries the Syscall-User-Dispatch work bit, with
 * its syscall_dispatch.selector set to a kernel address no prctl() can set
 * and .offset pointing at its struct vmexec_guest. Every system call entry
 * (syscall, int $0x80, sysenter, 32-bit syscall, vDSO sigreturn included)
 * then reaches syscall_user_dispatch(), and every signal or TIF_NOTIFY_SIGNAL
 * on any way back to user mode reaches arch_do_signal_or_restart(). ftrace
 * hooks (hooks.c) send those calls here for such threads only; the kernel's
 * own functions are never called for them.
 *
 * Both handlers put the caller back exactly as it entered the RUN ioctl, with
 * 0 as the ioctl's result, and write the exit into its struct vmexec_run.
 * Signals of the run's sigmask pending at either exit are taken off the
 * thread before it returns to the caller's code (held_signals.c).
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/prctl.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>
#include <linux/entry-common.h>
#include <asm/fpu/xcr.h>
#include <asm/syscall.h>
#include "vmexec.h"

/*
 * The selector byte. Only its address matters to the hooks; its value is
 * what syscall_user_dispatch() would read if a hook were ever skipped for a
 * thread in guest mode: BLOCK makes that guest syscall a SIGSYS, never a
 * system call run with the caller's credentials in the target's mm.
 */
const char vmexec_sud_tag = SYSCALL_DISPATCH_FILTER_BLOCK;

struct vmexec_guest *vmexec_current_guest(void)
{
	if (!vmexec_in_guest_mode())
		return NULL;
	return (struct vmexec_guest *)current->syscall_dispatch.offset;
}

void vmexec_guest_mark(struct vmexec_guest *g)
{
	struct syscall_user_dispatch *sd = &current->syscall_dispatch;

	sd->offset = (unsigned long)g;
	sd->len = 0;
	sd->selector = VMEXEC_SUD_SELECTOR;
	/* Skips the RUN ioctl's own syscall-exit work: no tracer sees the guest. */
	sd->on_dispatch = true;
	set_task_syscall_work(current, SYSCALL_USER_DISPATCH);
}

static void vmexec_guest_unmark(void)
{
	struct syscall_user_dispatch *sd = &current->syscall_dispatch;

	clear_task_syscall_work(current, SYSCALL_USER_DISPATCH);
	sd->selector = NULL;
	sd->offset = 0;
	sd->len = 0;
	sd->on_dispatch = false;
}

static void vmexec_regs_from_pt(struct vmexec_regs *r, const struct pt_regs *pt)
{
	r->r15 = pt->r15;
	r->r14 = pt->r14;
	r->r13 = pt->r13;
	r->r12 = pt->r12;
	r->rbp = pt->bp;
	r->rbx = pt->bx;
	r->r11 = pt->r11;
	r->r10 = pt->r10;
	r->r9 = pt->r9;
	r->r8 = pt->r8;
	r->rax = pt->ax;
	r->rcx = pt->cx;
	r->rdx = pt->dx;
	r->rsi = pt->si;
	r->rdi = pt->di;
	r->rip = pt->ip;
	r->rsp = pt->sp;
	r->rflags = pt->flags;
}

/*
 * A passed-through call interrupted by a signal is set up to run again when
 * the guest is resumed, as the kernel restarts a syscall when no handler of
 * the thread runs: rip back on the syscall instruction, rax its number. The
 * kind of restart is reported, for a supervisor that runs a guest handler.
 * (-ERESTART_RESTARTBLOCK state belongs to the caller's thread: -EINTR.)
 */
static u32 vmexec_guest_restart(struct vmexec_regs *r, const struct pt_regs *regs)
{
	u32 kind;

	if ((long)regs->orig_ax < 0)
		return VMEXEC_RESTART_NONE;
	switch (regs->ax) {
	case -ERESTARTSYS:
		kind = VMEXEC_RESTART_SYS;
		break;
	case -ERESTARTNOHAND:
		kind = VMEXEC_RESTART_NOHAND;
		break;
	case -ERESTARTNOINTR:
		kind = VMEXEC_RESTART_NOINTR;
		break;
	case -ERESTART_RESTARTBLOCK:
		r->rax = -EINTR;
		fallthrough;
	default:
		return VMEXEC_RESTART_NONE;
	}
	r->rax = regs->orig_ax;
	r->rip -= 2;
	return kind;
}

/* Back to the caller's state, as it entered the RUN ioctl. */
static void vmexec_guest_leave(struct vmexec_guest *g, struct pt_regs *regs)
{
	vmexec_regs_from_pt(&g->regs, regs);
	g->restart = vmexec_guest_restart(&g->regs, regs);
	if (g->ax_fixup) {
		/* The task_work will find the thread out of guest mode. */
		g->regs.rax = g->guest_ax;
		g->ax_fixup = false;
	}

	vmexec_guest_unmark();
	vmexec_mm_leave(&g->mm_save);
	fpu_swap_kvm_fpstate(&g->fpu, false);
	vmexec_cpu_leave(&g->cpu_save, &g->regs, &g->pkru);
	g->running = false;

	*regs = g->caller_regs;
	regs->ax = 0;
	mmput(g->mm);
	g->mm = NULL;
}

/* Copy the exit out to the caller; a failure becomes the ioctl's result. */
static void vmexec_guest_report(struct vmexec_guest *g, struct pt_regs *regs)
{
	struct vmexec_run __user *urun = g->urun;
	int err = 0;

	if (copy_to_user(&urun->regs, &g->regs, sizeof(g->regs)) ||
	    put_user(g->exit_reason, &urun->exit_reason) ||
	    copy_to_user(&urun->exit, &g->exit, sizeof(g->exit)))
		err = -EFAULT;

	if (!err && g->uxstate) {
		fpu_copy_guest_fpstate_to_uabi(&g->fpu, g->xbuf, g->xsize,
					       xgetbv(XCR_XFEATURE_ENABLED_MASK), g->pkru);
		if (copy_to_user(g->uxstate, g->xbuf, g->xsize))
			err = -EFAULT;
	}
	regs->ax = err;
	if (err && g->exit_reason == VMEXEC_EXIT_SIGNAL)
		vmexec_rehold_signal(g->vf, &g->exit);
	else
		atomic64_inc(&g->vf->stat_exits[g->exit_reason]);
	vmexec_guest_put(g);
}

static u32 vmexec_syscall_abi(const struct pt_regs *regs)
{
	u8 insn[2];

	if (!in_ia32_syscall())
		return VMEXEC_ABI_SYSCALL64;
	if (!copy_from_user(insn, (const void __user *)(regs->ip - 2), 2) &&
	    insn[0] == 0xcd && insn[1] == 0x80)
		return VMEXEC_ABI_INT80;
	return VMEXEC_ABI_SYSCALL32;
}

/*
 * The caller's credentials without effective capabilities, made once per
 * credentials of the caller: what passed-through calls run with.
 */
static const struct cred *vmexec_passthrough_cred(struct vmexec_guest *g)
{
	const struct cred *cur = current_cred();
	struct cred *new;

	if (g->pt_cred_of == cur)
		return g->pt_cred;
	new = prepare_creds();
	if (!new)
		return NULL;
	cap_clear(new->cap_effective);
	vmexec_guest_put_creds(g);
	g->pt_cred_of = get_cred(cur);
	g->pt_cred = new;
	return new;
}

/*
 * A guest syscall the supervisor asked to run in place, without an exit,
 * as the caller's own call would run: under its seccomp filter, with an
 * audit record of its own, but with no effective capabilities. A call the
 * filter refuses ends the run like any other.
 */
static bool vmexec_guest_passthrough(struct vmexec_guest *g, struct pt_regs *regs)
{
	unsigned long nr = regs->orig_ax;
	const struct cred *cred, *old;
	bool audited;

	if (nr >= VMEXEC_PASSTHROUGH_BITS || !test_bit(nr, g->vf->passthrough) ||
	    in_ia32_syscall())
		return false;
	if (vmexec_seccomp_check(nr, regs, regs->ip))
		return false;
	cred = vmexec_passthrough_cred(g);
	if (!cred)
		return false;
	audited = vmexec_audit_active();
	if (audited)
		vmexec_audit_call_entry(nr, regs);
	old = override_creds(cred);
	regs->ax = vmexec_syscall_regs(regs, nr);
	revert_creds(old);
	if (audited) {
		/* The record names the caller's executable: write it on its mm. */
		vmexec_mm_leave(&g->mm_save);
		vmexec_audit_call_exit(regs->ax);
		vmexec_mm_enter(g->mm, &g->mm_save);
	}
	atomic64_inc(&g->vf->stat_passthrough);
	/* No exit work (ptrace, audit, tracepoint) with the guest's registers. */
	current->syscall_dispatch.on_dispatch = true;
	return true;
}

/* Replaces syscall_user_dispatch() for a thread in guest mode. */
bool vmexec_guest_syscall(struct pt_regs *regs)
{
	struct vmexec_guest *g = vmexec_current_guest();
	u64 *args = g->exit.syscall.args;
	u32 abi;

	if (vmexec_guest_passthrough(g, regs))
		return true;

	abi = vmexec_syscall_abi(regs);
	memset(&g->exit, 0, sizeof(g->exit));
	g->exit_reason = VMEXEC_EXIT_SYSCALL;
	g->exit.syscall.abi = abi;
	if (abi == VMEXEC_ABI_SYSCALL64) {
		g->exit.syscall.nr = regs->orig_ax;
		args[0] = regs->di;
		args[1] = regs->si;
		args[2] = regs->dx;
		args[3] = regs->r10;
		args[4] = regs->r8;
		args[5] = regs->r9;
	} else {
		g->exit.syscall.nr = (u32)regs->orig_ax;
		args[0] = (u32)regs->bx;
		args[1] = (u32)regs->cx;
		args[2] = (u32)regs->dx;
		args[3] = (u32)regs->si;
		args[4] = (u32)regs->di;
		args[5] = (u32)regs->bp;
	}
	/* The guest sees its rax as it was at the syscall instruction. */
	regs->ax = regs->orig_ax;

	vmexec_guest_leave(g, regs);
	/* Signals of the sigmask that beat the syscall: the next RUN's. */
	vmexec_hold_pending_signals(g->vf, g->sigmask);
	vmexec_guest_report(g, regs);
	/* Skip the syscall; the exit work reports the RUN ioctl's return. */
	return true;
}

/* Replaces arch_do_signal_or_restart() for a thread in guest mode. */
void vmexec_guest_signal(struct pt_regs *regs)
{
	struct vmexec_guest *g = vmexec_current_guest();

	/*
	 * In the middle of a uprobe's out-of-line single-step, rip is in the
	 * XOL area: finish the step first, as get_signal() does. The signal
	 * stays queued and ends the run once the step is done.
	 */
	if (vmexec_uprobe_stepping()) {
		clear_notify_signal();
		if (task_work_pending(current))
			vmexec_k_task_work_run();
		vmexec_k_uprobe_deny_signal();
		return;
	}

	vmexec_guest_leave(g, regs);
	vmexec_hold_pending_signals(g->vf, g->sigmask);
	if (vmexec_take_held_signal(g->vf, g->sigmask, &g->exit)) {
		g->exit_reason = VMEXEC_EXIT_SIGNAL;
	} else {
		memset(&g->exit, 0, sizeof(g->exit));
		g->exit_reason = VMEXEC_EXIT_INTERRUPTED;
	}
	g->exit.signal.restart = g->restart;
	vmexec_guest_report(g, regs);
	/* No syscall exit work runs after this exit: the tracer's stop. */
	vmexec_trace_run_exit();
	/*
	 * Anything still pending is not in the sigmask: the next pass of the
	 * exit loop delivers it, by the kernel's own code, on the caller's state.
	 */
}

/*
 * Replaces emulate_vsyscall() for a thread in guest mode: the vsyscall page
 * (vsyscall=xonly or emulate) is never emulated for a guest, which would
 * run gettimeofday/time/getcpu without an exit and under the caller's
 * seccomp filter. The fetch faults instead: SIGSEGV at the vsyscall address.
 */
bool vmexec_guest_vsyscall(unsigned long error_code, struct pt_regs *regs,
			   unsigned long address)
{
	return false;
}
