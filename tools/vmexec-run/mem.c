// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * Guest memory, reached only through VMEXEC_IOC_SYSCALLS.
 *
 * A memfd is mapped in the tool (vr.scratch) and stays a hidden descriptor.
 * Reading guest memory is one SYSCALLS pwrite64(memfd, guest_addr, n, 0)
 * followed by a plain load from the tool's mapping; writing it is a store
 * into the mapping and one SYSCALLS pread64(memfd, guest_addr, n, 0). The
 * guest's address space holds nothing of the tool's.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vmrun.h"

#define SCRATCH_SIZE	(1UL << 20)

int mem_setup(void)
{
	int fd;

	fd = memfd_create("vmexec-run-scratch", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, SCRATCH_SIZE) < 0)
		return -errno;
	vr.scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (vr.scratch == MAP_FAILED)
		return -errno;
	vr.scratch_size = SCRATCH_SIZE;
	vr.memfd = fd_hide(fd);
	return vr.memfd < 0 ? vr.memfd : 0;
}

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

/* Up to len bytes from guest memory; returns how many were readable. */
long mem_read_partial(u64 addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		long r;

		if (n > vr.scratch_size)
			n = vr.scratch_size;
		r = gsys(SYS_pwrite64, vr.memfd, addr + done, n, 0, 0, 0);
		if (r <= 0)
			return done ? (long)done : (r ? r : -EFAULT);
		memcpy((char *)buf + done, vr.scratch, r);
		done += r;
		if ((size_t)r < n)
			break;
	}
	return done;
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
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		long r;

		if (n > vr.scratch_size)
			n = vr.scratch_size;
		memcpy(vr.scratch, (const char *)buf + done, n);
		r = gsys(SYS_pread64, vr.memfd, addr + done, n, 0, 0, 0);
		if (r != (long)n)
			return -EFAULT;
		done += n;
	}
	return 0;
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
