// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_IOC_BIND: attach an open file to the address space of the process
 * behind a pidfd.
 *
 * Access is the ptrace attach check with the real credentials of the task
 * calling BIND, done by mm_access(), which holds the target's
 * exec_update_lock so that a concurrent setuid exec cannot slip between the
 * check and the mm it returns. The binding then keeps only an mm_count
 * reference: the target's memory is freed when the target is done with it,
 * and work in it first takes an mm_users reference with mmget_not_zero().
 *
 * mm_users alone does not say the target still lives: a thread of ours in
 * guest mode holds its own. So the binding also keeps the target's struct
 * pid (the thread group's, also when BIND got a thread's pidfd), and ends
 * for good once no thread of that process uses the mm (it exited, or
 * exec'd into another one).
 *
 * VMEXEC_BIND_NEW_MM binds a new, empty mm instead (mm_create.c): no
 * process, no pid, no access check (nothing in it belongs to anyone else).
 * The file keeps an mm_users reference on it, so it lives as long as the
 * file, and work in it never finds it gone.
 */
#include <linux/file.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/vmexec.h>
#include "vmexec.h"

static struct mm_struct *vmexec_pidfd_mm(int pidfd, struct pid **pidp)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct file *file;
	struct pid *pid;

	file = fget(pidfd);
	if (!file)
		return ERR_PTR(-EBADF);
	pid = vmexec_k_pidfd_pid(file);
	if (IS_ERR(pid)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	pid = get_pid(pid);
	fput(file);
	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task) {
		put_pid(pid);
		return ERR_PTR(-ESRCH);
	}

	/* NULL for kernel threads and tasks past exit_mm(). */
	mm = vmexec_k_mm_access(task, PTRACE_MODE_ATTACH_REALCREDS);
	put_pid(pid);
	if (IS_ERR_OR_NULL(mm)) {
		put_task_struct(task);
		return mm ? mm : ERR_PTR(-ESRCH);
	}
	/* A thread's pidfd binds its process: the thread may exit first. */
	*pidp = get_pid(task_tgid(task));
	put_task_struct(task);
	return mm;
}

long vmexec_ioctl_bind(struct vmexec_file *vf, void __user *uarg)
{
	struct vmexec_bind args;
	struct mm_struct *mm;
	struct pid *pid;
	bool created;
	int err;

	err = vmexec_copy_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if ((args.flags & ~VMEXEC_BIND_FLAGS) || args.reserved)
		return -EINVAL;
	created = args.flags & VMEXEC_BIND_NEW_MM;
	if (created && args.pidfd != -1)
		return -EINVAL;
	if (READ_ONCE(vf->mm))
		return -EBUSY;

	if (created) {
		mm = vmexec_mm_create();
		pid = NULL;
	} else {
		mm = vmexec_pidfd_mm(args.pidfd, &pid);
	}
	if (IS_ERR(mm))
		return PTR_ERR(mm);

	mmgrab(mm);
	/* A created mm is the file's: it keeps the mm_users reference. */
	if (!created)
		mmput(mm);
	spin_lock(&vf->bind_lock);
	if (vf->mm) {
		spin_unlock(&vf->bind_lock);
		if (created)
			mmput(mm);
		mmdrop(mm);
		put_pid(pid);
		return -EBUSY;
	}
	vf->pid = pid;
	/* Readers that see mm see pid. */
	smp_store_release(&vf->mm, mm);
	spin_unlock(&vf->bind_lock);
	return 0;
}

/* Whether a thread of the bound process still has mm as its own. */
static bool vmexec_target_uses(struct pid *pid, struct mm_struct *mm)
{
	struct task_struct *task, *t;
	bool ret = false;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	if (task) {
		for_each_thread(task, t) {
			if (READ_ONCE(t->mm) == mm) {
				ret = true;
				break;
			}
		}
	}
	rcu_read_unlock();
	return ret;
}

/* An mm_users reference on the bound mm, or an ERR_PTR. */
struct mm_struct *vmexec_get_bound_mm(struct vmexec_file *vf)
{
	/* Pairs with the smp_store_release() in vmexec_ioctl_bind(). */
	struct mm_struct *mm = smp_load_acquire(&vf->mm);

	if (!mm)
		return ERR_PTR(-EINVAL);
	if (!mmget_not_zero(mm))
		return ERR_PTR(-ESRCH);
	if (vf->pid && !vmexec_target_uses(vf->pid, mm)) {
		mmput(mm);
		return ERR_PTR(-ESRCH);
	}
	return mm;
}

void vmexec_unbind(struct vmexec_file *vf)
{
	/* The last reference to a created mm frees its pages now. */
	if (vf->mm && vmexec_mm_created(vf))
		mmput(vf->mm);
	if (vf->mm)
		mmdrop(vf->mm);
	put_pid(vf->pid);
	vf->mm = NULL;
	vf->pid = NULL;
}
