// SPDX-License-Identifier: GPL-2.0
/*
 * Guest contexts: VMEXEC_IOC_RUN without copies, as KVM's vCPU file and its
 * mapped kvm_run page.
 *
 * VMEXEC_IOC_CONTEXT on a bound file makes an anonymous file that owns one
 * struct vmexec_guest for its whole life, with its own guest fpstate, and a
 * reference on the vmexec file (binding, pass-through set, statistics and
 * held signals are the file's). Its one page, the run area, holds a struct
 * vmexec_run: mapped shared into the caller by mmap(), and used by the
 * kernel through its own mapping, so a run takes no copy_from_user() or
 * copy_to_user(). The caller may rewrite the page at any time: each input
 * field is read once into a kernel copy, and only the copy is checked and
 * used. The guest's FPU state stays in the fpstate between runs; GET_XSTATE
 * and SET_XSTATE read and write it on request.
 *
 * g->busy makes a context one thread's at a time: taken by CONTEXT_RUN and
 * the xstate calls, given back when the last reference of a run goes
 * (vmexec_guest_put(): after the exit, or after a pending rax fix-up).
 * While a run is in guest mode, g->file pins the context's file, which pins
 * the vmexec file and the module.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include "vmexec.h"

static bool vmexec_context_claim(struct vmexec_guest *g)
{
	return atomic_cmpxchg_acquire(&g->busy, 0, 1) == 0;
}

static void vmexec_context_release_claim(struct vmexec_guest *g)
{
	atomic_set_release(&g->busy, 0);
}

/* The input fields of the run area, each read once. */
static void vmexec_area_read(const struct vmexec_run *area, struct vmexec_run *run)
{
	const u64 *src = (const u64 *)&area->regs;
	u64 *dst = (u64 *)&run->regs;
	unsigned int i;

	BUILD_BUG_ON(sizeof(run->regs) % sizeof(u64));
	run->flags = READ_ONCE(area->flags);
	run->sigmask = READ_ONCE(area->sigmask);
	for (i = 0; i < sizeof(run->regs) / sizeof(u64); i++)
		dst[i] = READ_ONCE(src[i]);
	run->xstate = READ_ONCE(area->xstate);
	run->xstate_size = READ_ONCE(area->xstate_size);
}

/* At the exit: the registers, the reason and only the part of exit it fills. */
void vmexec_context_report(struct vmexec_guest *g)
{
	struct vmexec_run *area = g->area;

	memcpy(&area->regs, &g->regs, sizeof(area->regs));
	WRITE_ONCE(area->exit_reason, g->exit_reason);
	if (g->exit_reason == VMEXEC_EXIT_SYSCALL)
		memcpy(&area->exit.syscall, &g->exit.syscall, sizeof(g->exit.syscall));
	else
		memcpy(&area->exit.signal, &g->exit.signal, sizeof(g->exit.signal));
	vmexec_stat_exit(g->vf, g->exit_reason);
}

static long vmexec_context_run(struct vmexec_guest *g, struct file *file, unsigned long arg)
{
	struct vmexec_run run;
	struct mm_struct *mm;
	int err;

	if (arg)
		return -EINVAL;
	if (!vmexec_context_claim(g))
		return -EBUSY;
	vmexec_area_read(g->area, &run);
	err = vmexec_check_run(&run);
	/* The context's own xstate is the guest's: none is passed. */
	if (!err && (run.xstate || run.xstate_size))
		err = -EINVAL;
	if (!err)
		err = vmexec_check_caller();
	if (err)
		goto out;
	/* Signals held at an earlier exit come before the guest runs again. */
	if (vmexec_held_any(g->vf) &&
	    vmexec_report_held_signal_area(g->vf, run.sigmask, g->area))
		goto out;

	mm = vmexec_get_bound_mm(g->vf);
	if (IS_ERR(mm)) {
		err = PTR_ERR(mm);
		goto out;
	}
	/* From here the claim is the run's: vmexec_guest_put() gives it back. */
	refcount_set(&g->ref, 1);
	g->mm = mm;
	g->file = get_file(file);
	g->sigmask = run.sigmask;
	g->ax_fixup = false;
	return vmexec_enter_guest(g, &run);

out:
	vmexec_context_release_claim(g);
	return err;
}

static long vmexec_context_xstate(struct vmexec_guest *g, void __user *uarg, bool set)
{
	u64 xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	struct vmexec_xstate xs;
	void __user *ubuf;
	u32 pkru;
	int err;

	err = vmexec_copy_args(&xs, sizeof(xs), uarg);
	if (err)
		return err;
	if (xs.flags || xs.reserved || xs.len < g->xsize)
		return -EINVAL;
	ubuf = u64_to_user_ptr(xs.addr);
	if (!vmexec_context_claim(g))
		return -EBUSY;
	if (set) {
		/* As a RUN's xstate image: what it leaves out is in the init state. */
		pkru = VMEXEC_INIT_PKRU;
		if (copy_from_user(g->xbuf, ubuf, g->xsize))
			err = -EFAULT;
		else if (fpu_copy_uabi_to_guest_fpstate(&g->fpu, g->xbuf, xcr0, &pkru))
			err = -EINVAL;
		else
			g->pkru = pkru;
	} else {
		fpu_copy_guest_fpstate_to_uabi(&g->fpu, g->xbuf, g->xsize, xcr0, g->pkru);
		if (copy_to_user(ubuf, g->xbuf, g->xsize))
			err = -EFAULT;
	}
	vmexec_context_release_claim(g);
	return err;
}

static long vmexec_context_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmexec_guest *g = file->private_data;

	switch (VMEXEC_IOC_NOSIZE(cmd)) {
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_CONTEXT_RUN):
		return vmexec_context_run(g, file, arg);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_CONTEXT_GET_XSTATE):
		return vmexec_context_xstate(g, (void __user *)arg, false);
	case VMEXEC_IOC_NOSIZE(VMEXEC_IOC_CONTEXT_SET_XSTATE):
		return vmexec_context_xstate(g, (void __user *)arg, true);
	}
	return -ENOTTY;
}

/* The run area and nothing else: one page at offset 0, shared. */
static int vmexec_context_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vmexec_guest *g = file->private_data;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != VMEXEC_CONTEXT_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	vmexec_vm_flags_clear(vma, VM_MAYEXEC);
	vmexec_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_insert_page(vma, vma->vm_start, g->area_page);
}

static int vmexec_context_release(struct inode *inode, struct file *file)
{
	struct vmexec_guest *g = file->private_data;
	struct file *vfile = g->vfile;

	/* Mappings hold their own references on the page. */
	__free_page(g->area_page);
	vmexec_guest_free(g);
	fput(vfile);
	return 0;
}

static const struct file_operations vmexec_context_fops = {
	.owner		= THIS_MODULE,
	.release	= vmexec_context_release,
	.unlocked_ioctl	= vmexec_context_ioctl,
	.mmap		= vmexec_context_mmap,
	.llseek		= noop_llseek,
};

/* VMEXEC_IOC_CONTEXT: a new context of a bound file, as a descriptor. */
long vmexec_ioctl_context(struct vmexec_file *vf, struct file *file, unsigned long arg)
{
	struct vmexec_guest *g;
	struct mm_struct *mm;
	int fd;

	BUILD_BUG_ON(sizeof(struct vmexec_run) > VMEXEC_CONTEXT_SIZE ||
		     VMEXEC_CONTEXT_SIZE != PAGE_SIZE);
	if (arg)
		return -EINVAL;
	/* Not bound: EINVAL; the target gone: ESRCH, as for RUN. */
	mm = vmexec_get_bound_mm(vf);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	mmput(mm);

	g = vmexec_guest_alloc(vf);
	if (!g)
		return -ENOMEM;
	g->area_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!g->area_page) {
		vmexec_guest_free(g);
		return -ENOMEM;
	}
	g->area = page_address(g->area_page);
	g->area->size = sizeof(*g->area);
	/* A fresh guest fpstate is in the init state; PKRU too. */
	g->pkru = VMEXEC_INIT_PKRU;
	g->vfile = get_file(file);
	fd = anon_inode_getfd("[vmexec-context]", &vmexec_context_fops, g, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fput(g->vfile);
		__free_page(g->area_page);
		vmexec_guest_free(g);
	}
	return fd;
}
