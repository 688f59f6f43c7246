// SPDX-License-Identifier: GPL-2.0
/*
 * Signals of a run's sigmask that were pending together at an exit.
 *
 * An exit reports one signal, but a guest fault can find others of the
 * sigmask already pending (sent by tgkill, a timer, another fault's
 * neighbour). Left pending, the kernel would deliver them to the caller as
 * soon as the RUN ioctl returns, with the caller's handlers. So every exit
 * dequeues all of them: a signal exit reports the first, in the order the
 * kernel would deliver them (a fault of the guest's own first), and the
 * rest are held per thread on the file. The thread's next RUN reports the
 * next held signal without entering the guest (or, if that RUN's sigmask no
 * longer has it, sends it to the thread again). What a thread still holds
 * when it exits, or when the file is closed, is dropped with it.
 */
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vmexec.h"

/* Most signals one exit takes (31 standard ones plus queued real-time ones). */
#define VMEXEC_HELD_MAX		64

struct vmexec_held_sig {
	struct list_head node;
	struct pid *thread;
	kernel_siginfo_t info;
	u32 trap_nr;
	u64 error_code;
};

static bool vmexec_is_fault_signal(int signo)
{
	return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL ||
	       signo == SIGFPE || signo == SIGTRAP;
}

/* A fault the kernel raised for the thread itself, delivered first. */
static bool vmexec_held_is_sync(const struct vmexec_held_sig *h)
{
	return vmexec_is_fault_signal(h->info.si_signo) && h->info.si_code > SI_USER;
}

static void vmexec_held_free_one(struct vmexec_held_sig *h)
{
	put_pid(h->thread);
	kfree(h);
}

/* Dequeue one signal of the sigmask that the caller does not block. */
static int vmexec_dequeue_one(u64 sigmask, struct vmexec_held_sig *h)
{
	struct task_struct *tsk = current;
	/* Only exec changes a thread's sighand, and not while it is here. */
	struct sighand_struct *sighand = rcu_dereference_protected(tsk->sighand, true);
	enum pid_type type;
	sigset_t mask;
	int signo = 0;

	spin_lock_irq(&sighand->siglock);
	if (!fatal_signal_pending(tsk)) {
		mask.sig[0] = ~(sigmask & ~tsk->blocked.sig[0]);
		signo = vmexec_dequeue_signal(&mask, &h->info, &type);
	}
	spin_unlock_irq(&sighand->siglock);
	if (signo > 0 && vmexec_is_fault_signal(signo) && h->info.si_code > 0) {
		h->trap_nr = tsk->thread.trap_nr;
		h->error_code = tsk->thread.error_code;
	}
	return signo;
}

/* Entries of threads that are gone can never be reported: drop them. */
static void vmexec_held_prune(struct vmexec_file *vf, struct list_head *dead)
{
	struct vmexec_held_sig *h, *tmp;

	rcu_read_lock();
	list_for_each_entry_safe(h, tmp, &vf->held, node)
		if (!pid_task(h->thread, PIDTYPE_PID))
			list_move(&h->node, dead);
	rcu_read_unlock();
}

/*
 * At an exit of the current thread: take every pending, unblocked signal of
 * the sigmask and hold it for this thread. Nothing is held for it yet: a
 * RUN only enters the guest once the thread's held signals are reported.
 */
void vmexec_hold_pending_signals(struct vmexec_file *vf, u64 sigmask)
{
	struct vmexec_held_sig *h, *tmp;
	struct pid *thread = NULL;
	LIST_HEAD(taken);
	LIST_HEAD(dead);
	int n;

	if (!(sigmask & current->pending.signal.sig[0]) &&
	    !(sigmask & current->signal->shared_pending.signal.sig[0]))
		return;

	for (n = 0; n < VMEXEC_HELD_MAX; n++) {
		h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
		if (!h)
			break;
		if (vmexec_dequeue_one(sigmask, h) <= 0) {
			kfree(h);
			break;
		}
		if (!thread)
			thread = get_task_pid(current, PIDTYPE_PID);
		h->thread = get_pid(thread);
		list_add_tail(&h->node, &taken);
	}
	put_pid(thread);
	if (list_empty(&taken))
		return;

	spin_lock(&vf->held_lock);
	vmexec_held_prune(vf, &dead);
	list_splice_tail(&taken, &vf->held);
	spin_unlock(&vf->held_lock);
	list_for_each_entry_safe(h, tmp, &dead, node)
		vmexec_held_free_one(h);
}

/*
 * Unlink the current thread's next held signal of @sigmask, a fault of its
 * own first. Held signals a later RUN no longer asks for are sent to the
 * thread again, as if they came now: the kernel delivers them to the caller.
 */
static struct vmexec_held_sig *vmexec_held_pop(struct vmexec_file *vf, u64 sigmask)
{
	struct vmexec_held_sig *h, *tmp, *pick = NULL;
	struct pid *thread = task_pid(current);
	LIST_HEAD(resend);

	/* Only this thread adds its own entries: no stale "empty" for it. */
	if (list_empty(&vf->held))
		return NULL;
	spin_lock(&vf->held_lock);
	list_for_each_entry_safe(h, tmp, &vf->held, node) {
		if (h->thread != thread)
			continue;
		if (!(sigmask & BIT_ULL(h->info.si_signo - 1)))
			list_move_tail(&h->node, &resend);
		else if (!pick || (vmexec_held_is_sync(h) && !vmexec_held_is_sync(pick)))
			pick = h;
	}
	if (pick)
		list_del(&pick->node);
	spin_unlock(&vf->held_lock);

	list_for_each_entry_safe(h, tmp, &resend, node) {
		send_sig_info(h->info.si_signo, &h->info, current);
		vmexec_held_free_one(h);
	}
	return pick;
}

static void vmexec_held_fill(const struct vmexec_held_sig *h, union vmexec_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	exit->signal.signo = h->info.si_signo;
	exit->signal.code = h->info.si_code;
	BUILD_BUG_ON(sizeof(h->info) > sizeof(exit->signal.siginfo));
	memcpy(exit->signal.siginfo, &h->info, sizeof(h->info));
	if (vmexec_is_fault_signal(h->info.si_signo) && h->info.si_code > 0) {
		exit->signal.addr = (unsigned long)h->info.si_addr;
		exit->signal.trap_nr = h->trap_nr;
		exit->signal.error_code = h->error_code;
	}
}

/* At an exit: the next held signal of the current thread into @exit, if any. */
bool vmexec_take_held_signal(struct vmexec_file *vf, u64 sigmask, union vmexec_exit *exit)
{
	struct vmexec_held_sig *h = vmexec_held_pop(vf, sigmask);

	if (!h)
		return false;
	vmexec_held_fill(h, exit);
	vmexec_held_free_one(h);
	return true;
}

/*
 * At RUN: report the current thread's next held signal as a signal exit,
 * without entering the guest (regs and xstate stay as the caller gave
 * them). 1 if one was reported, 0 if none is held, -EFAULT if @urun could
 * not be written (the signal stays held).
 */
int vmexec_report_held_signal(struct vmexec_file *vf, u64 sigmask,
			      struct vmexec_run __user *urun)
{
	struct vmexec_held_sig *h = vmexec_held_pop(vf, sigmask);
	union vmexec_exit exit;

	if (!h)
		return 0;
	vmexec_held_fill(h, &exit);
	if (put_user(VMEXEC_EXIT_SIGNAL, &urun->exit_reason) ||
	    copy_to_user(&urun->exit, &exit, sizeof(exit))) {
		spin_lock(&vf->held_lock);
		list_add(&h->node, &vf->held);
		spin_unlock(&vf->held_lock);
		return -EFAULT;
	}
	vmexec_held_free_one(h);
	vmexec_stat_exit(vf, VMEXEC_EXIT_SIGNAL);
	return 1;
}

/* The same for a context's run area, which cannot fault: true if one was. */
bool vmexec_report_held_signal_area(struct vmexec_file *vf, u64 sigmask,
				    struct vmexec_run *area)
{
	struct vmexec_held_sig *h = vmexec_held_pop(vf, sigmask);

	if (!h)
		return false;
	vmexec_held_fill(h, &area->exit);
	WRITE_ONCE(area->exit_reason, VMEXEC_EXIT_SIGNAL);
	vmexec_held_free_one(h);
	vmexec_stat_exit(vf, VMEXEC_EXIT_SIGNAL);
	return true;
}

/*
 * A signal exit that could not be written to the caller: the signal it
 * reported is held again, first in line for the thread's next RUN. If even
 * that fails, the signal goes back to the thread, as if it came now.
 */
void vmexec_rehold_signal(struct vmexec_file *vf, const union vmexec_exit *exit)
{
	struct vmexec_held_sig *h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	kernel_siginfo_t info;

	memcpy(&info, exit->signal.siginfo, sizeof(info));
	if (!h) {
		send_sig_info(info.si_signo, &info, current);
		return;
	}
	h->info = info;
	h->trap_nr = exit->signal.trap_nr;
	h->error_code = exit->signal.error_code;
	h->thread = get_task_pid(current, PIDTYPE_PID);
	spin_lock(&vf->held_lock);
	list_add(&h->node, &vf->held);
	spin_unlock(&vf->held_lock);
}

void vmexec_held_free(struct vmexec_file *vf)
{
	struct vmexec_held_sig *h, *tmp;

	list_for_each_entry_safe(h, tmp, &vf->held, node)
		vmexec_held_free_one(h);
	INIT_LIST_HEAD(&vf->held);
}
