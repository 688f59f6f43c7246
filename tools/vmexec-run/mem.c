// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * Guest memory.
 *
 * The tool's own loads and stores (paths, stat buffers, signal frames, the
 * initial stack) use VMEXEC_IOC_MEM on the vmexec file, as process_vm_readv/
 * writev would on a process holding the address space: the same code for a
 * new address space (which has no process, so no pid to name) and a stub's.
 * No other descriptor is involved, so the guest's descriptor space holds
 * nothing of the tool's memory traffic that pass-through could reach (the
 * module refuses the vmexec file to the guest), and a copy costs no
 * address-space switch. The guest's protections hold: a write into its
 * read-only pages faults (EFAULT). Calls that move data
 * between the guest's descriptors and its memory go through
 * VMEXEC_IOC_SYSCALLS (gsys). The guest's address space holds nothing of
 * the tool's.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "vmrun.h"

/* One MEM copy at most: its byte count must fit the int the library returns. */
#define MEM_MAX_COPY	(1UL << 30)

/* One call in the guest's address space; the ioctl's own failure is fatal. */
long gsys(long nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	long result;
	int ret;

	ret = vmexec_syscall(vr.vfd, &result, nr, a0, a1, a2, a3, a4, a5);
	if (ret < 0) {
		if (ret == -EINTR)
			return -EINTR;
		vr_fatal(EXIT_TOOL_ERROR, "VMEXEC_IOC_SYSCALLS: %s", strerror(-ret));
	}
	return result;
}

int gsys_batch(struct vmexec_syscall *calls, unsigned int n)
{
	int ret = vmexec_syscalls(vr.vfd, calls, n, VMEXEC_SYSCALLS_STOP_ON_ERROR);

	if (ret < 0 && ret != -EINTR)
		vr_fatal(EXIT_TOOL_ERROR, "VMEXEC_IOC_SYSCALLS: %s", strerror(-ret));
	return ret;
}

/*
 * Up to len bytes from guest memory; returns how many were readable (the
 * copy stops at the first fault), or -errno.
 */
long mem_read_partial(u64 addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	int r;

	if (!len)
		return 0;
	if (len > MEM_MAX_COPY)
		len = MEM_MAX_COPY;
	r = vmexec_mem_read(vr.vfd, &local, &remote, 1);
	if (r < 0)
		return r;
	return r ? r : -EFAULT;
}

int mem_read(u64 addr, void *buf, size_t len)
{
	long r;

	if (!len)
		return 0;
	r = mem_read_partial(addr, buf, len);
	return r == (long)len ? 0 : -EFAULT;
}

int mem_write(u64 addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	if (!len)
		return 0;
	if (len > MEM_MAX_COPY)
		return -EFAULT;
	return vmexec_mem_write(vr.vfd, &local, &remote, 1) == (int)len ? 0 : -EFAULT;
}

/*
 * A NUL-terminated string from guest memory into buf (size bytes). Returns
 * its length, -EFAULT or -ENAMETOOLONG. Reads a page at a time so that a
 * string just below an unmapped page is still found.
 */
long mem_strz(u64 addr, char *buf, size_t size)
{
	size_t len = 0;

	if (!addr)
		return -EFAULT;
	while (len < size) {
		size_t n = PAGE_SIZE_G - ((addr + len) & (PAGE_SIZE_G - 1));
		long r;
		char *nul;

		if (n > size - len)
			n = size - len;
		r = mem_read_partial(addr + len, buf + len, n);
		if (r <= 0)
			return -EFAULT;
		nul = memchr(buf + len, 0, r);
		if (nul)
			return nul - buf;
		len += r;
		if ((size_t)r < n)
			return -EFAULT;
	}
	return -ENAMETOOLONG;
}
