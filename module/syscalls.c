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
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmexec.h>
#include <asm/unistd.h>
#include "vmexec.h"

/* The allow-list: x86-64 number -> why the call is safe to run for the caller. */
static const char *const vmexec_allowed[] = {
	[__NR_mmap] = "maps memory in the target",
	[__NR_munmap] = "unmaps memory in the target",
	[__NR_mprotect] = "changes protections in the target",
	[__NR_madvise] = "advises on the target's memory",
	[__NR_mremap] = "moves mappings within the target",
	[__NR_msync] = "syncs the target's file mappings",
	[__NR_mincore] = "reports residency of the target's pages",
	[__NR_mlock] = "locks target pages (caller's RLIMIT_MEMLOCK)",
	[__NR_mlock2] = "locks target pages (caller's RLIMIT_MEMLOCK)",
	[__NR_munlock] = "unlocks target pages",
	[__NR_pkey_mprotect] = "changes protections in the target",
	[__NR_read] = "caller's file -> target memory",
	[__NR_write] = "target memory -> caller's file",
	[__NR_pread64] = "caller's file -> target memory",
	[__NR_pwrite64] = "target memory -> caller's file",
	[__NR_readv] = "caller's file -> target memory",
	[__NR_writev] = "target memory -> caller's file",
	[__NR_preadv] = "caller's file -> target memory",
	[__NR_pwritev] = "target memory -> caller's file",
	[__NR_preadv2] = "caller's file -> target memory",
	[__NR_pwritev2] = "target memory -> caller's file",
	[__NR_vmsplice] = "target memory <-> caller's pipe",
	[__NR_openat] = "path in target memory, new fd in caller's table",
	[__NR_close] = "closes a caller's descriptor",
	[__NR_lseek] = "moves a caller's file offset",
	[__NR_newfstatat] = "path and stat buffer in target memory",
	[__NR_fstat] = "stat buffer in target memory",
	[__NR_statx] = "path and statx buffer in target memory",
	[__NR_getdents64] = "caller's directory -> target memory",
	[__NR_readlinkat] = "path and buffer in target memory",
	[__NR_faccessat] = "path in target memory, caller's credentials",
};

static bool vmexec_syscall_allowed(u64 nr)
{
	return nr < ARRAY_SIZE(vmexec_allowed) && vmexec_allowed[nr];
}

static long vmexec_run_syscall(const struct vmexec_syscall *sc)
{
	struct pt_regs regs = {};
	long ret;

	if (!vmexec_syscall_allowed(sc->nr))
		return -EPERM;

	regs.orig_ax = sc->nr;
	regs.di = sc->args[0];
	regs.si = sc->args[1];
	regs.dx = sc->args[2];
	regs.r10 = sc->args[3];
	regs.r8 = sc->args[4];
	regs.r9 = sc->args[5];
	ret = vmexec_k_x64_sys_call(&regs, sc->nr);

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
static long vmexec_run_batch(struct mm_struct *mm, struct vmexec_syscall *calls,
			     u32 count, u32 flags)
{
	struct vmexec_mm_save save;
	u32 i;

	vmexec_mm_enter(mm, &save);
	for (i = 0; i < count; i++) {
		if (fatal_signal_pending(current))
			break;
		calls[i].ret = vmexec_run_syscall(&calls[i]);
		if (calls[i].ret < 0 && (flags & VMEXEC_SYSCALLS_STOP_ON_ERROR)) {
			i++;
			break;
		}
		cond_resched();
	}
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
	done = vmexec_run_batch(mm, calls, args.count, args.flags);
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
