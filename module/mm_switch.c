// SPDX-License-Identifier: GPL-2.0
/*
 * Moving the current task onto another address space and back.
 *
 * This mirrors kthread_use_mm() and exec_mmap() for a user task: current->mm
 * and current->active_mm both point at the bound mm, the CPU's page tables
 * follow, and the per-mm bookkeeping the scheduler and the mm keep about the
 * tasks that run on them is moved along:
 *  - 6.1 caches RSS deltas in the task; they are flushed into the mm they
 *    were counted for before each switch (else "Bad rss-counter state");
 *  - 6.12 gives each running task a concurrency id owned by its mm; it is
 *    handed back to the old mm and a new one taken from the new mm, as exec
 *    does (else both mms' cid masks are corrupted);
 *  - the runqueue's membarrier state follows the mm.
 * The caller's mm_users reference stays parked in @save; the bound mm must be
 * held with mmget() by the caller of vmexec_mm_enter() until after
 * vmexec_mm_leave().
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <asm/mmu_context.h>
#include "vmexec.h"

static void vmexec_mm_switch(struct mm_struct *from, struct mm_struct *to)
{
	struct task_struct *tsk = current;

	if (VMEXEC_SPLIT_RSS)
		vmexec_k_sync_mm_rss(from);
	if (VMEXEC_MM_CID)
		vmexec_k_sched_mm_cid_before_execve(tsk);

	task_lock(tsk);
	/* Order our accesses to @from before it stops being current->mm. */
	smp_mb__after_spinlock();
	local_irq_disable();
	tsk->mm = to;
	tsk->active_mm = to;
	vmexec_k_membarrier_update_current_mm(to);
	vmexec_k_switch_mm_irqs_off(from, to, tsk);
	local_irq_enable();
	task_unlock(tsk);
	/* Membarrier needs a barrier between the store to ->mm and user accesses. */
	smp_mb();

	if (VMEXEC_MM_CID)
		vmexec_k_sched_mm_cid_after_execve(tsk);
}

/*
 * The owner (for the memory cgroup) of our own mm may have exited while we
 * were away: mm_update_next_owner() looks at one thread with an mm per
 * process, found us on the other mm and left the owner NULL, which charges
 * the whole process to the root cgroup for good. Take ownership back, as
 * __try_to_set_owner() would have given it to us.
 */
static void vmexec_mm_claim_owner(struct mm_struct *mm)
{
	struct task_struct *tsk = current;

	if (!VMEXEC_MM_OWNER || rcu_access_pointer(mm->owner))
		return;
	/*
	 * Several threads of ours may come back at once, each under its own
	 * task_lock: only the one whose cmpxchg sets the owner goes on, so
	 * that lru_gen_migrate_mm() finds the owner whose alloc_lock is held.
	 */
	task_lock(tsk);
	if (tsk->mm == mm &&
	    !cmpxchg((struct task_struct __force **)&mm->owner, NULL, tsk) &&
	    VMEXEC_LRU_GEN)
		vmexec_k_lru_gen_migrate_mm(mm);
	task_unlock(tsk);
}

void vmexec_mm_enter(struct mm_struct *mm, struct vmexec_mm_save *save)
{
	save->mm = current->mm;
	if (mm != save->mm)
		vmexec_mm_switch(save->mm, mm);
}

void vmexec_mm_leave(struct vmexec_mm_save *save)
{
	struct mm_struct *mm = current->mm;

	if (mm == save->mm)
		return;
	vmexec_mm_switch(mm, save->mm);

	/*
	 * A target thread that exited while we ran on its mm may have made
	 * us the mm's owner (mm_update_next_owner() picks any task whose ->mm
	 * is the mm). Hand ownership on now that we have left. A created mm's
	 * owner is its creator for good (mm_create.c), also when that is us.
	 */
	if (VMEXEC_MM_OWNER && !save->created && rcu_access_pointer(mm->owner) == current)
		vmexec_k_mm_update_next_owner(mm);
	vmexec_mm_claim_owner(save->mm);
}
