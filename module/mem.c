// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_IOC_MEM: process_vm_readv() and process_vm_writev() on the bound
 * address space, done as mm/process_vm_access.c does them.
 *
 * The target's pages are pinned a few at a time under the mmap lock, with
 * FOLL_WRITE for a write and never FOLL_FORCE, so the target's protections
 * hold as for the native calls; the caller's side is an iov_iter over its
 * own memory. The copy goes in segment order and stops at the first fault
 * on either side; the result is the number of bytes copied, or EFAULT if
 * nothing was. Target pages the copy faults in are charged as the target's.
 *
 * The bound file is the access capability (as an open /proc/PID/mem is),
 * so there is no ptrace check here; the caller's seccomp filter and audit
 * see the equivalent process_vm_readv/writev call: the target's pid as the
 * caller's pid namespace sees it, the caller's two iovec pointers and
 * counts, flags 0.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vmexec.h>
#include <asm/unistd.h>
#include "vmexec.h"

/* Target pages pinned at a time (on the stack). */
#define VMEXEC_MEM_PAGES	16

/* Copy between @pages (from @offset, @len bytes) and @iter; -EFAULT if short. */
static int vmexec_mem_pages(struct page **pages, unsigned long offset, size_t len,
			    struct iov_iter *iter, bool write)
{
	while (len && iov_iter_count(iter)) {
		size_t copy = min_t(size_t, PAGE_SIZE - offset, len);
		size_t copied;

		if (write)
			copied = copy_page_from_iter(*pages, offset, copy, iter);
		else
			copied = copy_page_to_iter(*pages, offset, copy, iter);
		len -= copied;
		if (copied < copy && iov_iter_count(iter))
			return -EFAULT;
		offset = 0;
		pages++;
	}
	return 0;
}

/* One remote segment: 0, or -EFAULT at the first page that cannot be had. */
static int vmexec_mem_segment(struct mm_struct *mm, unsigned long addr, size_t len,
			      struct iov_iter *iter, bool write)
{
	struct page *pages[VMEXEC_MEM_PAGES];
	unsigned long pa = addr & PAGE_MASK;
	unsigned long offset = addr - pa;
	unsigned int gup_flags = write ? FOLL_WRITE : 0;
	unsigned long nr_pages;
	int err = 0;

	if (!len)
		return 0;
	nr_pages = (addr + len - 1) / PAGE_SIZE - addr / PAGE_SIZE + 1;
	while (!err && nr_pages && iov_iter_count(iter)) {
		long pinned = min_t(unsigned long, nr_pages, VMEXEC_MEM_PAGES);
		int locked = 1;
		size_t bytes;

		mmap_read_lock(mm);
		pinned = vmexec_pin_user_pages_remote(mm, pa, pinned, gup_flags, pages,
						      &locked);
		if (locked)
			mmap_read_unlock(mm);
		if (pinned <= 0)
			return -EFAULT;

		bytes = min_t(size_t, pinned * PAGE_SIZE - offset, len);
		err = vmexec_mem_pages(pages, offset, bytes, iter, write);
		len -= bytes;
		offset = 0;
		nr_pages -= pinned;
		pa += pinned * PAGE_SIZE;
		unpin_user_pages_dirty_lock(pages, pinned, write);
	}
	return err;
}

/* The remote vector, checked as process_vm_rw() checks it. */
static struct iovec *vmexec_mem_remote(u64 uptr, u32 count)
{
	struct iovec *rvec;
	u32 i;

	rvec = kvmalloc_array(count, sizeof(*rvec), GFP_KERNEL);
	if (!rvec)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(rvec, u64_to_user_ptr(uptr), count * sizeof(*rvec))) {
		kvfree(rvec);
		return ERR_PTR(-EFAULT);
	}
	for (i = 0; i < count; i++) {
		if ((ssize_t)rvec[i].iov_len < 0) {
			kvfree(rvec);
			return ERR_PTR(-EINVAL);
		}
	}
	return rvec;
}

/* The copy itself, once the caller's checks passed: bytes copied or -errno. */
static ssize_t vmexec_mem_copy(struct vmexec_file *vf, const struct vmexec_mem *args,
			       bool write)
{
	struct iovec iovstack[UIO_FASTIOV], *iov = iovstack;
	struct mm_struct *mm;
	struct iov_iter iter;
	struct iovec *rvec;
	ssize_t total, ret;
	u32 i;
	int err = 0;

	/* As process_vm_rw(): after the seccomp check, with the call's record. */
	if (args->count > VMEXEC_MEM_MAX)
		return -EINVAL;
	total = import_iovec(write ? ITER_SOURCE : ITER_DEST, u64_to_user_ptr(args->local),
			     args->count, ARRAY_SIZE(iovstack), &iov, &iter);
	if (total < 0)
		return total;
	if (!total) {
		ret = 0;
		goto out_iov;
	}
	rvec = vmexec_mem_remote(args->remote, args->count);
	if (IS_ERR(rvec)) {
		ret = PTR_ERR(rvec);
		goto out_iov;
	}
	mm = vmexec_get_bound_mm(vf);
	if (IS_ERR(mm)) {
		ret = PTR_ERR(mm);
		goto out_rvec;
	}
	for (i = 0; i < args->count && iov_iter_count(&iter) && !err; i++)
		err = vmexec_mem_segment(mm, (unsigned long)rvec[i].iov_base,
					 rvec[i].iov_len, &iter, write);
	mmput(mm);
	/* Copied: what the local vector had room for, less what is left. */
	ret = total - iov_iter_count(&iter);
	if (!ret)
		ret = err;
out_rvec:
	kvfree(rvec);
out_iov:
	kfree(iov);
	return ret;
}

long vmexec_ioctl_mem(struct vmexec_file *vf, void __user *uarg)
{
	struct vmexec_mem args;
	struct pt_regs regs = {};
	unsigned long nr;
	bool write;
	long ret;
	int err;

	BUILD_BUG_ON(VMEXEC_MEM_MAX != UIO_MAXIOV);
	err = vmexec_copy_args(&args, sizeof(args), uarg);
	if (err)
		return err;
	if ((args.flags & ~VMEXEC_MEM_FLAGS) || args.reserved)
		return -EINVAL;
	/* Pairs with the smp_store_release() in vmexec_ioctl_bind(). */
	if (!smp_load_acquire(&vf->mm))
		return -EINVAL;

	/* The caller's own process_vm_readv/writev(pid, local, n, remote, n, 0). */
	write = args.flags & VMEXEC_MEM_WRITE;
	nr = write ? __NR_process_vm_writev : __NR_process_vm_readv;
	regs.di = pid_vnr(vf->pid);
	regs.si = args.local;
	regs.dx = args.count;
	regs.r10 = args.remote;
	regs.r8 = args.count;
	regs.r9 = 0;
	ret = vmexec_seccomp_check(nr, &regs, instruction_pointer(current_pt_regs()));
	if (ret)
		return ret;

	/* The ioctl's record is written now; the copy gets the call's own. */
	vmexec_audit_close_ioctl();
	vmexec_audit_call_entry(nr, &regs);
	ret = vmexec_mem_copy(vf, &args, write);
	vmexec_audit_call_exit(ret);
	return ret;
}
