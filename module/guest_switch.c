// SPDX-License-Identifier: GPL-2.0
/*
 * Entering the guest and coming back: everything of the thread that is
 * handed over, both ways, around a run.
 *
 * vmexec_enter_guest() (from the RUN ioctl, run.c) saves the caller's user
 * registers and loads the guest's into the ioctl's pt_regs, swaps the
 * thread's own user state, the FPU/xstate (a KVM-style guest fpstate) and
 * the mm (mm_switch.c), and marks the thread for guest mode: the
 * Syscall-User-Dispatch work bit, with syscall_dispatch.selector set to
 * &vmexec_sud_tag, a kernel address no prctl() can set, and .offset to its
 * struct vmexec_guest. The ioctl then returns through the normal syscall
 * exit into the guest. vmexec_guest_leave() (from the hooks, hooks.c) undoes
 * all of it, and vmexec_guest_report() writes the exit to the caller.
 *
 * The thread's own user state, which belongs to it and not to the address
 * space, and which the guest may change or the kernel may act on:
 *  - FS and GS base (and selectors): guest code can write them with
 *    WRFSBASE/WRGSBASE or segment loads; the caller's TLS must come back.
 *    The live user values are in the CPU; thread.fsbase/gsbase are what a
 *    context switch restores when it cannot read them back (no FSGSBASE).
 *  - rseq: the kernel writes cpu_id/mm_cid to current->rseq on the way to
 *    user mode and may rewrite the IP from rseq_cs. That address is in the
 *    caller's mm, not the guest's, so the registration is parked meanwhile.
 *  - PKRU: per thread, live in the register, stashed in thread.pkru at
 *    context switch; outside the fpstate.
 *
 * sys_ioctl() keeps the return value in an int, and vfs turns -ENOIOCTLCMD
 * into -ENOTTY; a guest rax that does not survive that is put back by a
 * TWA_RESUME task_work, which runs before the thread reaches user mode.
 */
#include <linux/preempt.h>
#include <linux/prctl.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/entry-common.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fsgsbase.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
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

static void vmexec_guest_mark(struct vmexec_guest *g)
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

static void vmexec_bases_read(unsigned long *fsbase, unsigned long *gsbase)
{
	unsigned long flags;

	local_irq_save(flags);
	*fsbase = x86_fsbase_read_cpu();
	/* In the kernel, after SWAPGS, the user GS base is the inactive one. */
	rdmsrl(MSR_KERNEL_GS_BASE, *gsbase);
	local_irq_restore(flags);
}

/*
 * Load the user FS/GS bases, skipping the (serialising) writes of a base the
 * CPU already holds: @cur_fs and @cur_gs are what vmexec_bases_read() found,
 * with nothing that reloads a base (a segment load) since.
 */
static void vmexec_bases_write(unsigned long fsbase, unsigned long gsbase,
			       unsigned long cur_fs, unsigned long cur_gs)
{
	unsigned long flags;

	local_irq_save(flags);
	if (fsbase != cur_fs)
		x86_fsbase_write_cpu(fsbase);
	if (gsbase != cur_gs)
		wrmsrl(MSR_KERNEL_GS_BASE, gsbase);
	current->thread.fsbase = fsbase;
	current->thread.gsbase = gsbase;
	local_irq_restore(flags);
}

static u32 vmexec_pkru_swap(u32 pkru)
{
	u32 old;

	if (!cpu_feature_enabled(X86_FEATURE_OSPKE))
		return 0;
	old = rdpkru();
	/* WRPKRU is not free (qemu TCG even flushes its TLB): skip no-ops. */
	if (old != pkru)
		wrpkru(pkru);
	current->thread.pkru = pkru;
	return old;
}

static void vmexec_cpu_enter(struct vmexec_cpu_save *save, const struct vmexec_regs *regs,
			     u32 pkru)
{
	struct task_struct *tsk = current;

	preempt_disable();
	save->pkru = vmexec_pkru_swap(pkru);
	savesegment(ds, save->ds);
	savesegment(es, save->es);
	savesegment(fs, save->fsindex);
	savesegment(gs, save->gsindex);
	vmexec_bases_read(&save->fsbase, &save->gsbase);
	vmexec_bases_write(regs->fs_base, regs->gs_base, save->fsbase, save->gsbase);
	preempt_enable();

	save->rseq = tsk->rseq;
	save->rseq_len = vmexec_rseq_len(tsk);
	save->rseq_sig = tsk->rseq_sig;
	tsk->rseq = NULL;
	vmexec_set_rseq_len(tsk, 0);
	tsk->rseq_sig = 0;
}

static void vmexec_cpu_leave(struct vmexec_cpu_save *save, struct vmexec_regs *regs,
			     u32 *pkru)
{
	struct task_struct *tsk = current;
	unsigned long fsbase, gsbase;
	unsigned short sel;

	preempt_disable();
	*pkru = vmexec_pkru_swap(save->pkru);
	vmexec_bases_read(&fsbase, &gsbase);
	regs->fs_base = fsbase;
	regs->gs_base = gsbase;
	/* Segments the guest loaded: its LDT is not the caller's. */
	savesegment(ds, sel);
	if (sel != save->ds)
		loadsegment(ds, save->ds);
	savesegment(es, sel);
	if (sel != save->es)
		loadsegment(es, save->es);
	/* A selector the guest loaded would override the restored base. */
	savesegment(fs, sel);
	if (sel != save->fsindex) {
		loadsegment(fs, save->fsindex);
		tsk->thread.fsindex = save->fsindex;
		/* The load replaced the base: whatever it was, write ours. */
		fsbase = ~save->fsbase;
	}
	savesegment(gs, sel);
	if (sel != save->gsindex) {
		load_gs_index(save->gsindex);
		tsk->thread.gsindex = save->gsindex;
		gsbase = ~save->gsbase;
	}
	vmexec_bases_write(save->fsbase, save->gsbase, fsbase, gsbase);
	preempt_enable();

	tsk->rseq = save->rseq;
	vmexec_set_rseq_len(tsk, save->rseq_len);
	tsk->rseq_sig = save->rseq_sig;
	/* Refresh the caller's rseq area before it returns to user mode. */
	rseq_set_notify_resume(tsk);
}

static void vmexec_regs_to_pt(struct pt_regs *pt, const struct vmexec_regs *r)
{
	pt->r15 = r->r15;
	pt->r14 = r->r14;
	pt->r13 = r->r13;
	pt->r12 = r->r12;
	pt->bp = r->rbp;
	pt->bx = r->rbx;
	pt->r11 = r->r11;
	pt->r10 = r->r10;
	pt->r9 = r->r9;
	pt->r8 = r->r8;
	pt->ax = r->rax;
	pt->cx = r->rcx;
	pt->dx = r->rdx;
	pt->si = r->rsi;
	pt->di = r->rdi;
	pt->orig_ax = -1;
	pt->ip = r->rip;
	pt->sp = r->rsp;
	pt->flags = (r->rflags & ~VMEXEC_RFLAGS_CLEARED) | X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	pt->cs = __USER_CS;
	pt->ss = __USER_DS;
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

static void vmexec_fixup_ax(struct callback_head *cb)
{
	struct vmexec_guest *g = container_of(cb, struct vmexec_guest, fixup_work);

	if (g->ax_fixup && vmexec_current_guest() == g)
		current_pt_regs()->ax = g->guest_ax;
	g->ax_fixup = false;
	vmexec_guest_put(g);
}

/* Past this point nothing fails: the thread is in guest mode. */
long vmexec_enter_guest(struct vmexec_guest *g, const struct vmexec_run *run)
{
	struct pt_regs *regs = current_pt_regs();
	long ret = (long)run->regs.rax;

	g->caller_regs = *regs;
	g->running = true;
	g->single_step = run->flags & VMEXEC_RUN_SINGLE_STEP;
	vmexec_audit_close_ioctl();
	vmexec_cpu_enter(&g->cpu_save, &run->regs, g->pkru);
	fpu_swap_kvm_fpstate(&g->fpu, true);
	g->mm_save.created = vmexec_mm_created(g->vf);
	vmexec_mm_enter(g->mm, &g->mm_save);
	vmexec_guest_mark(g);
	vmexec_regs_to_pt(regs, &run->regs);
	/*
	 * A single step: the frame's TF makes the syscall exit return with
	 * IRET, and the CPU raises #DB after the guest's first instruction
	 * (exc_debug_user(): SIGTRAP, TRAP_TRACE), as after a popf that sets
	 * TF. Instructions that enter the kernel clear TF on the way in.
	 */
	if (g->single_step)
		regs->flags |= X86_EFLAGS_TF;

	/* What sys_ioctl() would not return intact is restored on the way out. */
	g->guest_ax = run->regs.rax;
	if ((long)(int)ret != ret || ret == -ENOIOCTLCMD) {
		refcount_inc(&g->ref);
		g->ax_fixup = true;
		init_task_work(&g->fixup_work, vmexec_fixup_ax);
		if (task_work_add(current, &g->fixup_work, TWA_RESUME)) {
			/* Exiting: the run ends before user mode anyway. */
			g->ax_fixup = false;
			refcount_dec(&g->ref);
		}
		ret = 0;
	}
	return ret;
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
void vmexec_guest_leave(struct vmexec_guest *g, struct pt_regs *regs)
{
	vmexec_regs_from_pt(&g->regs, regs);
	/* The step's TF is not the guest's: the caller never sees it. */
	if (g->single_step)
		g->regs.rflags &= ~X86_EFLAGS_TF;
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

/*
 * Only the member of the exit this exit filled. Each copy has a constant
 * size: a variable one would cost a hardened-usercopy object check per exit.
 */
static int vmexec_exit_to_user(union vmexec_exit __user *uexit, const struct vmexec_guest *g)
{
	if (g->exit_reason == VMEXEC_EXIT_SYSCALL)
		return copy_to_user(&uexit->syscall, &g->exit.syscall, sizeof(g->exit.syscall));
	return copy_to_user(&uexit->signal, &g->exit.signal, sizeof(g->exit.signal));
}

/* Copy the exit out to the caller; a failure becomes the ioctl's result. */
void vmexec_guest_report(struct vmexec_guest *g, struct pt_regs *regs)
{
	struct vmexec_run __user *urun = g->urun;
	int err = 0;

	if (g->area) {
		vmexec_context_report(g);
		regs->ax = 0;
		vmexec_guest_put(g);
		return;
	}
	if (copy_to_user(&urun->regs, &g->regs, sizeof(g->regs)) ||
	    put_user(g->exit_reason, &urun->exit_reason) ||
	    vmexec_exit_to_user(&urun->exit, g))
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
		vmexec_stat_exit(g->vf, g->exit_reason);
	vmexec_guest_put(g);
}
