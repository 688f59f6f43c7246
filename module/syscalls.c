// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_IOC_SYSCALLS: run a batch of system calls inside the bound address
 * space, with everything else (credentials, file table, fs root, limits,
 * signal state) the caller's own. Pointer arguments therefore name the
 * target's memory and descriptor arguments the caller's files.
 *
 * Deny by default: only calls whose whole effect is on the address space, or
 * on moving data between the caller's files and that memory, may run. Any
 * call that would change the task itself (its identity, signals, children,
 * thread state) or hand out kernel objects by other means is refused.
 */
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmexec.h>
#include <asm/unistd.h>
#include "vmexec.h"

struct vmexec_allowed_call {
	const char *why;
	s8 fd_arg;		/* the argument naming a descriptor, or -1 */
	bool path;		/* resolves a path: the caller's file system view */
};

#define VMEXEC_ALLOW(name, fd, is_path, reason, unused) \
	[__NR_##name] = { .why = (reason), .fd_arg = (fd), .path = (is_path) },
#define NOFD			(-1)

/* x86-64 number -> why the call is safe to run for the caller (uapi list). */
static const struct vmexec_allowed_call vmexec_allowed[] = {
	VMEXEC_ALLOWED_CALLS(VMEXEC_ALLOW, 0)
};

bool vmexec_syscall_allowed(unsigned long nr)
{
	BUILD_BUG_ON(!VMEXEC_CALL_ALLOWED(__NR_read) || VMEXEC_CALL_ALLOWED(__NR_getpid));
	return nr < ARRAY_SIZE(vmexec_allowed) && vmexec_allowed[nr].why;
}

static bool vmexec_syscall_resolves_path(unsigned long nr)
{
	return vmexec_syscall_allowed(nr) && vmexec_allowed[nr].path;
}

static unsigned long vmexec_syscall_arg(const struct pt_regs *regs, int n)
{
	switch (n) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

/* Whether the call would act on a /dev/vmexec file (never allowed). */
static bool vmexec_targets_vmexec_file(const struct pt_regs *regs, unsigned long nr)
{
	int n = vmexec_allowed[nr].fd_arg;
	struct file *file;
	bool ours;

	if (n == NOFD || (nr == __NR_mmap && (regs->r10 & MAP_ANONYMOUS)))
		return false;
	file = fget((unsigned int)vmexec_syscall_arg(regs, n));
	if (!file)
		return false;
	ours = vmexec_is_vmexec_file(file);
	fput(file);
	return ours;
}

/*
 * Run allowed call @nr with its arguments in @regs, which are in the x86-64
 * syscall convention. The result may be a -ERESTART* code.
 */
long vmexec_syscall_regs(struct pt_regs *regs, unsigned long nr)
{
	if (!vmexec_syscall_allowed(nr))
		return -EPERM;
	if (vmexec_targets_vmexec_file(regs, nr))
		return -EBADF;
	/* Poisoning a page of a shared file's cache hits every user of it. */
	if (nr == __NR_madvise &&
	    (regs->dx == MADV_HWPOISON || regs->dx == MADV_SOFT_OFFLINE))
		return -EPERM;
	return vmexec_k_x64_sys_call(regs, nr);
}

/*
 * One SYSCALLS entry: the caller's seccomp filter first, then the call with
 * an audit record of its own. While audited, the record is written with the
 * caller's mm current (it names the caller's executable and command line),
 * so the bound mm is entered for the call only.
 */
static long vmexec_run_syscall(struct mm_struct *mm, struct vmexec_mm_save *save,
			       const struct vmexec_syscall *sc, bool audited)
{
	struct pt_regs regs = {};
	long ret;

	regs.orig_ax = sc->nr;
	regs.di = sc->args[0];
	regs.si = sc->args[1];
	regs.dx = sc->args[2];
	regs.r10 = sc->args[3];
	regs.r8 = sc->args[4];
	regs.r9 = sc->args[5];
	ret = vmexec_seccomp_check(sc->nr, &regs, instruction_pointer(current_pt_regs()));
	if (ret)
		return ret;
	if (audited) {
		vmexec_audit_call_entry(sc->nr, &regs);
		vmexec_mm_enter(mm, save);
	}
	ret = vmexec_syscall_regs(&regs, sc->nr);
	if (audited) {
		vmexec_mm_leave(save);
		vmexec_audit_call_exit(ret);
	}

	/* Restarting is for syscalls that return to user mode; these do not. */
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	}
	return ret;
}

/* Runs @count entries in @mm; returns how many were processed. */
static long vmexec_run_batch(struct mm_struct *mm, bool created,
			     struct vmexec_syscall *calls, u32 count, u32 flags)
{
	struct vmexec_mm_save save = { .created = created };
	bool audited = vmexec_audit_active();
	u32 i;

	/* Each entry gets its own record: the ioctl's is written now. */
	vmexec_audit_close_ioctl();
	if (!audited)
		vmexec_mm_enter(mm, &save);
	for (i = 0; i < count; i++) {
		if (fatal_signal_pending(current))
			break;
		calls[i].ret = vmexec_run_syscall(mm, &save, &calls[i], audited);
		if (calls[i].ret < 0 && (flags & VMEXEC_SYSCALLS_STOP_ON_ERROR)) {
			i++;
			break;
		}
		cond_resched();
	}
	if (!audited)
		vmexec_mm_leave(&save);

	if (fatal_signal_pending(current))
		return -EINTR;
	return i;
}

long vmexec_ioctl_syscalls(struct vmexec_file *vf, void __user *uarg)
{
	struct vmexec_syscall __user *ucalls;
	struct vmexec_syscalls args;
	struct vmexec_syscall *calls;
	struct mm_struct *mm;
	long done, i;
	int err;

	err = vmexec_copy_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if ((args.flags & ~VMEXEC_SYSCALLS_FLAGS) || args.reserved)
		return -EINVAL;
	/* Pairs with the smp_store_release() in vmexec_ioctl_bind(). */
	if (!smp_load_acquire(&vf->mm))
		return -EINVAL;
	if (args.count > VMEXEC_SYSCALLS_MAX)
		return -E2BIG;
	if (!args.count)
		return 0;

	ucalls = u64_to_user_ptr(args.calls);
	calls = kvmalloc_array(args.count, sizeof(*calls), GFP_KERNEL);
	if (!calls)
		return -ENOMEM;
	if (copy_from_user(calls, ucalls, args.count * sizeof(*calls))) {
		done = -EFAULT;
		goto out;
	}

	mm = vmexec_get_bound_mm(vf);
	if (IS_ERR(mm)) {
		done = PTR_ERR(mm);
		goto out;
	}
	done = vmexec_run_batch(mm, vmexec_mm_created(vf), calls, args.count, args.flags);
	mmput(mm);

	for (i = 0; i < done; i++) {
		if (put_user(calls[i].ret, &ucalls[i].ret)) {
			done = -EFAULT;
			break;
		}
	}
out:
	kvfree(calls);
	return done;
}

long vmexec_ioctl_set_passthrough(struct vmexec_file *vf, void __user *uarg)
{
	struct vmexec_passthrough args;
	unsigned int nr;
	int err;

	BUILD_BUG_ON(sizeof(args.bitmap) * BITS_PER_BYTE < ARRAY_SIZE(vmexec_allowed));
	err = vmexec_copy_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if (args.flags & ~VMEXEC_PASSTHROUGH_FLAGS)
		return -EINVAL;
	for (nr = 0; nr < VMEXEC_PASSTHROUGH_BITS; nr++) {
		if (!(args.bitmap[nr / 64] >> (nr % 64) & 1))
			continue;
		if (!vmexec_syscall_allowed(nr))
			return -EINVAL;
		/* The guest would see the file system as the caller does. */
		if (vmexec_syscall_resolves_path(nr) && !(args.flags & VMEXEC_PASSTHROUGH_PATHS))
			return -EPERM;
	}
	for (nr = 0; nr < VMEXEC_PASSTHROUGH_BITS; nr++)
		assign_bit(nr, vf->passthrough, args.bitmap[nr / 64] >> (nr % 64) & 1);
	return 0;
}
