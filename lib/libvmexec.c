// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * libvmexec: every function returns -errno on failure; nothing here prints
 * or leaves its result in errno.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libvmexec.h"

/* The build uses -fvisibility=hidden: only what is marked here is exported. */
#define VMEXEC_EXPORT	__attribute__((visibility("default")))

#ifndef __NR_pidfd_open
#define __NR_pidfd_open	434
#endif

/* The one way into the kernel: -1/errno becomes -errno. */
static int vmexec_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	ret = ioctl(fd, cmd, arg);
	if (ret < 0)
		return -errno;
	return ret;
}

static int do_syscalls(int fd, struct vmexec_syscall *calls,
		       unsigned int count, unsigned int flags)
{
	struct vmexec_syscalls args;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.flags = flags;
	args.count = count;
	args.calls = (__u64)(uintptr_t)calls;
	return vmexec_ioctl(fd, VMEXEC_IOC_SYSCALLS, &args);
}

static int do_bind(int fd, int pidfd, unsigned int flags)
{
	struct vmexec_bind args;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.flags = flags;
	args.pidfd = pidfd;
	return vmexec_ioctl(fd, VMEXEC_IOC_BIND, &args);
}

VMEXEC_EXPORT int vmexec_open(void)
{
	int fd;

	fd = open(VMEXEC_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

VMEXEC_EXPORT int vmexec_api_version(int fd)
{
	return vmexec_ioctl(fd, VMEXEC_IOC_API_VERSION, NULL);
}

VMEXEC_EXPORT int vmexec_check_feature(int fd, unsigned int feature)
{
	return vmexec_ioctl(fd, VMEXEC_IOC_CHECK_FEATURE, (void *)(uintptr_t)feature);
}

VMEXEC_EXPORT int vmexec_bind_pidfd(int fd, int pidfd)
{
	return do_bind(fd, pidfd, 0);
}

VMEXEC_EXPORT int vmexec_bind_new_mm(int fd)
{
	return do_bind(fd, -1, VMEXEC_BIND_NEW_MM);
}

VMEXEC_EXPORT int vmexec_bind_pid(int fd, pid_t pid)
{
	int pidfd, ret;

	pidfd = syscall(__NR_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	ret = do_bind(fd, pidfd, 0);
	close(pidfd);
	return ret;
}

VMEXEC_EXPORT int vmexec_syscalls(int fd, struct vmexec_syscall *calls,
				  unsigned int count, unsigned int flags)
{
	return do_syscalls(fd, calls, count, flags);
}

VMEXEC_EXPORT int vmexec_syscall(int fd, long *result, long nr,
				 long a0, long a1, long a2,
				 long a3, long a4, long a5)
{
	struct vmexec_syscall sc;
	int ret;

	vmexec_prep_syscall(&sc, nr, a0, a1, a2, a3, a4, a5);
	ret = do_syscalls(fd, &sc, 1, 0);
	if (ret < 0)
		return ret;
	if (ret != 1)
		return -EPROTO;
	if (result)
		*result = (long)sc.ret;
	return 0;
}

VMEXEC_EXPORT int vmexec_run(int fd, struct vmexec_run *run)
{
	return vmexec_ioctl(fd, VMEXEC_IOC_RUN, run);
}

static int do_mem(int fd, unsigned int flags, const struct iovec *local,
		  const struct iovec *remote, unsigned int count)
{
	struct vmexec_mem args;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.flags = flags;
	args.count = count;
	args.local = (__u64)(uintptr_t)local;
	args.remote = (__u64)(uintptr_t)remote;
	return vmexec_ioctl(fd, VMEXEC_IOC_MEM, &args);
}

VMEXEC_EXPORT int vmexec_mem_read(int fd, const struct iovec *local,
				  const struct iovec *remote, unsigned int count)
{
	return do_mem(fd, 0, local, remote, count);
}

VMEXEC_EXPORT int vmexec_mem_write(int fd, const struct iovec *local,
				   const struct iovec *remote, unsigned int count)
{
	return do_mem(fd, VMEXEC_MEM_WRITE, local, remote, count);
}

VMEXEC_EXPORT int vmexec_context(int fd)
{
	return vmexec_ioctl(fd, VMEXEC_IOC_CONTEXT, NULL);
}

VMEXEC_EXPORT int vmexec_context_map(int ctxfd, struct vmexec_run **area)
{
	void *p;

	p = mmap(NULL, VMEXEC_CONTEXT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ctxfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*area = p;
	return 0;
}

VMEXEC_EXPORT int vmexec_context_run(int ctxfd)
{
	return vmexec_ioctl(ctxfd, VMEXEC_IOC_CONTEXT_RUN, NULL);
}

static int do_context_xstate(int ctxfd, unsigned long cmd, const void *buf, unsigned int len)
{
	struct vmexec_xstate args;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.len = len;
	args.addr = (__u64)(uintptr_t)buf;
	return vmexec_ioctl(ctxfd, cmd, &args);
}

VMEXEC_EXPORT int vmexec_context_get_xstate(int ctxfd, void *buf, unsigned int len)
{
	return do_context_xstate(ctxfd, VMEXEC_IOC_CONTEXT_GET_XSTATE, buf, len);
}

VMEXEC_EXPORT int vmexec_context_set_xstate(int ctxfd, const void *buf, unsigned int len)
{
	return do_context_xstate(ctxfd, VMEXEC_IOC_CONTEXT_SET_XSTATE, buf, len);
}

VMEXEC_EXPORT int vmexec_xstate_size(void)
{
	unsigned int eax, ebx, ecx, edx;

	/* CPUID.(EAX=0DH,ECX=0):EBX: XSAVE area size for the features in XCR0. */
	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) || !ebx)
		return -EOPNOTSUPP;
	return (int)ebx;
}

VMEXEC_EXPORT int vmexec_set_passthrough(int fd, const struct vmexec_passthrough *pt)
{
	struct vmexec_passthrough args = *pt;

	args.size = sizeof(args);
	return vmexec_ioctl(fd, VMEXEC_IOC_SET_PASSTHROUGH, &args);
}

VMEXEC_EXPORT int vmexec_get_stats(int fd, struct vmexec_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return vmexec_ioctl(fd, VMEXEC_IOC_GET_STATS, st);
}

#define VMEXEC_NAME(name, fd_arg, path, why, unused) { #name, __NR_##name },

/* The calls the module lets run in place: its allow-list, from the uapi header. */
static const struct {
	const char *name;
	unsigned int nr;
} vmexec_passthrough_names[] = {
	VMEXEC_ALLOWED_CALLS(VMEXEC_NAME, 0)
};

VMEXEC_EXPORT int vmexec_passthrough_add(struct vmexec_passthrough *pt, const char *call)
{
	unsigned long nr;
	unsigned int i;
	char *end;

	if (!call || !*call)
		return -EINVAL;
	nr = strtoul(call, &end, 10);
	if (*end) {
		for (i = 0; i < sizeof(vmexec_passthrough_names) /
			       sizeof(vmexec_passthrough_names[0]); i++) {
			if (!strcmp(call, vmexec_passthrough_names[i].name))
				break;
		}
		if (i == sizeof(vmexec_passthrough_names) / sizeof(vmexec_passthrough_names[0]))
			return -EINVAL;
		nr = vmexec_passthrough_names[i].nr;
	}
	if (nr >= VMEXEC_PASSTHROUGH_WORDS * 64)
		return -EINVAL;
	pt->bitmap[nr / 64] |= 1ULL << (nr % 64);
	return 0;
}
