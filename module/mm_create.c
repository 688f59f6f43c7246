// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_BIND_NEW_MM: an address space that no process has.
 *
 * mm_alloc() starts an mm as fork and exec do (page tables, the caller's
 * user namespace and inheritable mm flags, the concurrency-id allocator),
 * and arch_pick_mmap_layout() gives it the layout exec gives a new 64-bit
 * process of the caller. Nothing is mapped; MM_CONTEXT_HAS_VSYSCALL stays
 * clear, so not even the vsyscall page shows.
 *
 * The memory cgroup charges an mm's pages to the cgroup of mm->owner
 * (get_mem_cgroup_from_mm()), and mm_alloc() makes the creating thread the
 * owner. No task ever has this mm as its own (a thread in guest mode leaves
 * it before it can exit), so exit_mm() never passes ownership on and
 * mm_update_next_owner() never runs for it (mm_switch.c skips it when the
 * creator itself leaves a run): the owner stays the creator for the mm's
 * whole life. Its task_struct is pinned so the pointer never dangles; an
 * exited task keeps its css_set until it is freed, so the charge still goes
 * to the creator's cgroup after it exits, never to the root.
 *
 * The pin must outlast every user of the mm, and not only our file: a
 * thread in guest mode, /proc/TID/mem of one, or khugepaged may hold
 * mm_users and fault pages in. An mmu notifier's release runs in
 * exit_mmap() once mm_users is zero (after khugepaged_exit()), after which
 * nothing can charge the mm: only then is the owner let go.
 *
 * exit_mmap() ends that release with synchronize_srcu(), which is quick
 * (expedited) only while the notifiers' SRCU is idle on this CPU: no
 * callback queued, no grace period under way. Putting our notifier from
 * release itself queued such a callback and made every close wait a normal
 * grace period (16 ms; unregistering it from a work item, 8 ms). So the
 * notifiers whose release ran are put in batches, at most a second later,
 * by one delayed work item: closes in between stay quick. Until then each
 * holds its mm_struct (not its memory) and its owner's task_struct, which
 * is let go only after an RCU grace period: get_mem_cgroup_from_mm() reads
 * mm->owner under rcu_read_lock(), and khugepaged may still charge a folio
 * for the mm while exit_mmap() runs. The notifier holds a module
 * reference until release; vmexec_exit() runs the batch and waits for the
 * SRCU-deferred frees. A kernel without mmu notifiers gets EOPNOTSUPP (and
 * the feature probe 0).
 */
#include <linux/err.h>
#include <linux/mmu_notifier.h>
#include <linux/personality.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/llist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "vmexec.h"

#if VMEXEC_NEW_MM
struct vmexec_mm_owner {
	struct mmu_notifier mn;
	struct task_struct *owner;
	struct llist_node dead;
};

/* Notifiers whose release ran, put by vmexec_mm_reap. */
static LLIST_HEAD(vmexec_mm_dead);

static void vmexec_mm_reap_fn(struct work_struct *work)
{
	struct llist_node *dead = llist_del_all(&vmexec_mm_dead);
	struct vmexec_mm_owner *mo, *next;

	if (!dead)
		return;
	/*
	 * A charge that read mm->owner before release cleared it (khugepaged
	 * charges a collapse's folio with no lock held) did so under
	 * rcu_read_lock(): the task_struct outlives it.
	 */
	synchronize_rcu();
	llist_for_each_entry_safe(mo, next, dead, dead) {
		put_task_struct(mo->owner);
		mmu_notifier_put(&mo->mn);
	}
}

static DECLARE_DELAYED_WORK(vmexec_mm_reap, vmexec_mm_reap_fn);

static struct mmu_notifier *vmexec_mm_owner_alloc(struct mm_struct *mm)
{
	struct vmexec_mm_owner *mo = kzalloc(sizeof(*mo), GFP_KERNEL_ACCOUNT);

	return mo ? &mo->mn : ERR_PTR(-ENOMEM);
}

static void vmexec_mm_owner_free(struct mmu_notifier *mn)
{
	kfree(container_of(mn, struct vmexec_mm_owner, mn));
}

/* exit_mmap(): mm_users is zero, nothing can fault the mm in any more. */
static void vmexec_mm_owner_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct vmexec_mm_owner *mo = container_of(mn, struct vmexec_mm_owner, mn);

	RCU_INIT_POINTER(mm->owner, NULL);
	/* The owner is let go by vmexec_mm_reap, an RCU grace period later. */
	llist_add(&mo->dead, &vmexec_mm_dead);
	/* Already pending: this one goes with that batch. */
	queue_delayed_work(system_wq, &vmexec_mm_reap, HZ);
	/* vmexec_exit() runs the batch and waits for the frees first. */
	module_put(THIS_MODULE);
}

static const struct mmu_notifier_ops vmexec_mm_owner_ops = {
	.release	= vmexec_mm_owner_release,
	.alloc_notifier	= vmexec_mm_owner_alloc,
	.free_notifier	= vmexec_mm_owner_free,
};

/* A new, empty mm with an mm_users reference, or an ERR_PTR. */
struct mm_struct *vmexec_mm_create(void)
{
	unsigned int randomize = current->flags & PF_RANDOMIZE;
	struct vmexec_mm_owner *mo;
	struct mmu_notifier *mn;
	struct rlimit rlim_stack;
	struct mm_struct *mm;

	mm = vmexec_k_mm_alloc();
	if (!mm)
		return ERR_PTR(-ENOMEM);

	/* As exec takes it for setup_new_exec(). */
	task_lock(current->group_leader);
	rlim_stack = current->signal->rlim[RLIMIT_STACK];
	task_unlock(current->group_leader);
	/*
	 * arch_pick_mmap_layout() randomizes for a task with PF_RANDOMIZE,
	 * which exec sets unless the personality has ADDR_NO_RANDOMIZE: the
	 * caller's personality now decides, as it would for its next exec.
	 */
	if (current->personality & ADDR_NO_RANDOMIZE)
		current->flags &= ~PF_RANDOMIZE;
	vmexec_k_arch_pick_mmap_layout(mm, &rlim_stack);
	current->flags |= randomize;
	mm->task_size = TASK_SIZE_MAX;

	mn = mmu_notifier_get(&vmexec_mm_owner_ops, mm);
	if (IS_ERR(mn)) {
		mmput(mm);
		return ERR_CAST(mn);
	}
	mo = container_of(mn, struct vmexec_mm_owner, mn);
	/* mm_alloc() made current the owner. */
	mo->owner = get_task_struct(current);
	__module_get(THIS_MODULE);
	return mm;
}

/* Module unload: every notifier whose release ran is put and freed. */
void vmexec_mm_create_exit(void)
{
	flush_delayed_work(&vmexec_mm_reap);
	mmu_notifier_synchronize();
}
#else
struct mm_struct *vmexec_mm_create(void)
{
	return ERR_PTR(-EOPNOTSUPP);
}

void vmexec_mm_create_exit(void)
{
}
#endif
