// SPDX-License-Identifier: GPL-2.0
/*
 * The hooks, and what they decide for a thread in guest mode.
 *
 * Each hook is an ftrace callback on a kernel function that sends only
 * threads in guest mode (vmexec_in_guest_mode()) to a function here with
 * the same prototype. For every other thread the kernel function runs
 * untouched; the redirected threads never run it, so nothing here ever
 * calls back into it.
 *
 *  syscall_user_dispatch()	every system call entry of the guest
 *				(syscall, int $0x80, sysenter, 32-bit
 *				syscall, vDSO sigreturn): run it in place if
 *				passed through and allowed, else end the run
 *				with a syscall exit;
 *  arch_do_signal_or_restart()	a signal or TIF_NOTIFY_SIGNAL on the way
 *				back to user mode: end the run with a signal
 *				or interrupted exit, unless a uprobe's
 *				single-step must finish first;
 *  emulate_vsyscall()		a fault on the vsyscall page: never emulated
 *				for a guest.
 *
 * Ending a run puts the caller back exactly as it entered the RUN ioctl,
 * with 0 as the ioctl's result, and writes the exit into its struct
 * vmexec_run (guest_switch.c). Signals of the run's sigmask pending at
 * either exit are taken off the thread before it returns to the caller's
 * code (held_signals.c).
 */
#include <linux/cred.h>
#include <linux/ftrace.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>
#include <linux/entry-common.h>
#include <asm/syscall.h>
#include "vmexec.h"

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

	/* A stepping run ends at its one instruction, a system call included. */
	if (g->single_step || nr >= VMEXEC_PASSTHROUGH_BITS ||
	    !test_bit(nr, g->vf->passthrough) || in_ia32_syscall())
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
	vmexec_stat_passthrough(g->vf);
	/* No exit work (ptrace, audit, tracepoint) with the guest's registers. */
	current->syscall_dispatch.on_dispatch = true;
	return true;
}

/* Replaces syscall_user_dispatch() for a thread in guest mode. */
static bool vmexec_guest_syscall(struct pt_regs *regs)
{
	struct vmexec_guest *g = vmexec_current_guest();
	u64 *args = g->exit.syscall.args;
	u32 abi;

	if (vmexec_guest_passthrough(g, regs))
		return true;

	abi = vmexec_syscall_abi(regs);
	/* Only exit.syscall is reported: every field of it is set here. */
	g->exit_reason = VMEXEC_EXIT_SYSCALL;
	g->exit.syscall.abi = abi;
	g->exit.syscall.reserved = 0;
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
static void vmexec_guest_signal(struct pt_regs *regs)
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
static bool vmexec_guest_vsyscall(unsigned long error_code, struct pt_regs *regs,
				  unsigned long address)
{
	return false;
}

/* Arming: an IPMODIFY ftrace_ops per kernel function (ksyms.c). */
struct vmexec_hook {
	const char *symbol;
	void *handler;
	bool needed;
	struct ftrace_ops ops;
};

#define HOOK(sym, fn, need) { .symbol = #sym, .handler = (fn), .needed = (need) }

static struct vmexec_hook vmexec_hooks[] = {
	HOOK(syscall_user_dispatch, vmexec_guest_syscall, true),
	HOOK(arch_do_signal_or_restart, vmexec_guest_signal, true),
	HOOK(emulate_vsyscall, vmexec_guest_vsyscall, VMEXEC_VSYSCALL),
};

static void notrace vmexec_hook_redirect(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	if (vmexec_in_guest_mode())
		vmexec_ftrace_set_ip(fregs, (unsigned long)ops->private);
}

static int vmexec_hook_arm(struct vmexec_hook *hook)
{
	unsigned long addr = vmexec_k_kallsyms_lookup_name(hook->symbol);
	int err;

	if (!addr) {
		pr_err("symbol %s not found\n", hook->symbol);
		return -ENOENT;
	}
	err = vmexec_redirect_arm(&hook->ops, vmexec_hook_redirect, addr, hook->handler);
	if (err)
		pr_err("cannot hook %s: error %d\n", hook->symbol, err);
	return err;
}

int vmexec_hooks_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(vmexec_hooks); i++) {
		if (!vmexec_hooks[i].needed)
			continue;
		err = vmexec_hook_arm(&vmexec_hooks[i]);
		if (err) {
			vmexec_hooks_exit();
			return err;
		}
	}
	return 0;
}

void vmexec_hooks_exit(void)
{
	unsigned int i = ARRAY_SIZE(vmexec_hooks);

	while (i--)
		vmexec_redirect_disarm(&vmexec_hooks[i].ops);
}
