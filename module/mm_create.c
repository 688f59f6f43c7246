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
 * exit_mmap() once mm_users is zero, after which nothing can charge the
 * mm: only then is the owner let go. The notifier is unregistered from a
 * work item afterwards, never from release itself: exit_mmap() ends with
 * synchronize_srcu(), which is expedited only while the notifiers' SRCU is
 * idle, and an SRCU callback queued from release (mmu_notifier_put()) made
 * every teardown wait a normal grace period, 16 ms. The notifier holds a
 * module reference until release; vmexec_exit() drains the work items. A
 * kernel without mmu notifiers gets EOPNOTSUPP (and the feature probe 0).
 */
#include <linux/err.h>
#include <linux/mmu_notifier.h>
#include <linux/personality.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "vmexec.h"

#if VMEXEC_NEW_MM
struct vmexec_mm_owner {
	struct mmu_notifier mn;
	struct task_struct *owner;
	struct mm_struct *mm;
	struct work_struct unregister;
};

/* Unregisters the notifiers whose release ran, after exit_mmap(). */
static struct workqueue_struct *vmexec_mm_wq;

static void vmexec_mm_owner_unregister(struct work_struct *work)
{
	struct vmexec_mm_owner *mo = container_of(work, struct vmexec_mm_owner, unregister);

	/* Waits for the release to return, then drops the notifier's mm_count. */
	mmu_notifier_unregister(&mo->mn, mo->mm);
	kfree(mo);
}

/* exit_mmap(): mm_users is zero, nothing can fault the mm in any more. */
static void vmexec_mm_owner_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct vmexec_mm_owner *mo = container_of(mn, struct vmexec_mm_owner, mn);

	/*
	 * Once only: the work item may run before exit_mmap() has taken the
	 * notifier off the mm, and mmu_notifier_unregister() then calls
	 * release again.
	 */
	if (!mo->owner)
		return;
	RCU_INIT_POINTER(mm->owner, NULL);
	put_task_struct(mo->owner);
	mo->owner = NULL;
	queue_work(vmexec_mm_wq, &mo->unregister);
	/* The work item runs module code: vmexec_exit() drains it first. */
	module_put(THIS_MODULE);
}

static const struct mmu_notifier_ops vmexec_mm_owner_ops = {
	.release	= vmexec_mm_owner_release,
};

/* A new, empty mm with an mm_users reference, or an ERR_PTR. */
struct mm_struct *vmexec_mm_create(void)
{
	unsigned int randomize = current->flags & PF_RANDOMIZE;
	struct vmexec_mm_owner *mo;
	struct rlimit rlim_stack;
	struct mm_struct *mm;
	int err;

	mo = kzalloc(sizeof(*mo), GFP_KERNEL_ACCOUNT);
	if (!mo)
		return ERR_PTR(-ENOMEM);
	mm = vmexec_k_mm_alloc();
	if (!mm) {
		kfree(mo);
		return ERR_PTR(-ENOMEM);
	}

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

	mo->mn.ops = &vmexec_mm_owner_ops;
	mo->mm = mm;
	INIT_WORK(&mo->unregister, vmexec_mm_owner_unregister);
	err = mmu_notifier_register(&mo->mn, mm);
	if (err) {
		mmput(mm);
		kfree(mo);
		return ERR_PTR(err);
	}
	/* mm_alloc() made current the owner. */
	mo->owner = get_task_struct(current);
	__module_get(THIS_MODULE);
	return mm;
}

int vmexec_mm_create_init(void)
{
	vmexec_mm_wq = alloc_workqueue("vmexec_mm", WQ_UNBOUND, 0);
	return vmexec_mm_wq ? 0 : -ENOMEM;
}

/* Module unload: every notifier whose release ran is unregistered and freed. */
void vmexec_mm_create_exit(void)
{
	destroy_workqueue(vmexec_mm_wq);
}
#else
struct mm_struct *vmexec_mm_create(void)
{
	return ERR_PTR(-EOPNOTSUPP);
}

int vmexec_mm_create_init(void)
{
	return 0;
}

void vmexec_mm_create_exit(void)
{
}
#endif
