// SPDX-License-Identifier: GPL-2.0
/*
 * User state that belongs to the thread, not to the address space, and that
 * the guest may change or the kernel may act on while a guest runs:
 *  - FS and GS base (and selectors): guest code can write them with
 *    WRFSBASE/WRGSBASE or segment loads; the caller's TLS must come back.
 *    The live user values are in the CPU; thread.fsbase/gsbase are what a
 *    context switch restores when it cannot read them back (no FSGSBASE).
 *  - rseq: the kernel writes cpu_id/mm_cid to current->rseq on the way to
 *    user mode and may rewrite the IP from rseq_cs. That address is in the
 *    caller's mm, not the guest's, so the registration is parked meanwhile.
 *  - PKRU: per thread, live in the register, stashed in thread.pkru at
 *    context switch; outside the fpstate that run.c switches.
 * The rest of the FPU/SIMD state is switched with the guest's fpstate (run.c).
 */
#include <linux/preempt.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <asm/fsgsbase.h>
#include <asm/msr.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include "vmexec.h"

static void vmexec_bases_read(unsigned long *fsbase, unsigned long *gsbase)
{
	unsigned long flags;

	local_irq_save(flags);
	*fsbase = x86_fsbase_read_cpu();
	/* In the kernel, after SWAPGS, the user GS base is the inactive one. */
	rdmsrl(MSR_KERNEL_GS_BASE, *gsbase);
	local_irq_restore(flags);
}

static void vmexec_bases_write(unsigned long fsbase, unsigned long gsbase)
{
	unsigned long flags;

	local_irq_save(flags);
	x86_fsbase_write_cpu(fsbase);
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

void vmexec_cpu_enter(struct vmexec_cpu_save *save, const struct vmexec_regs *regs,
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
	vmexec_bases_write(regs->fs_base, regs->gs_base);
	preempt_enable();

	save->rseq = tsk->rseq;
	save->rseq_len = vmexec_rseq_len(tsk);
	save->rseq_sig = tsk->rseq_sig;
	tsk->rseq = NULL;
	vmexec_set_rseq_len(tsk, 0);
	tsk->rseq_sig = 0;
}

void vmexec_cpu_leave(struct vmexec_cpu_save *save, struct vmexec_regs *regs,
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
	}
	savesegment(gs, sel);
	if (sel != save->gsindex) {
		load_gs_index(save->gsindex);
		tsk->thread.gsindex = save->gsindex;
	}
	vmexec_bases_write(save->fsbase, save->gsbase);
	preempt_enable();

	tsk->rseq = save->rseq;
	vmexec_set_rseq_len(tsk, save->rseq_len);
	tsk->rseq_sig = save->rseq_sig;
	/* Refresh the caller's rseq area before it returns to user mode. */
	rseq_set_notify_resume(tsk);
}
