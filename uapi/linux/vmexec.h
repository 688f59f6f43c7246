/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmexec: run system calls, and code, inside another process's address space.
 *
 * Every argument struct starts with its own size and is extensible in the
 * manner of copy_struct_from_user(): a smaller struct than the kernel's first
 * version is rejected with EINVAL, a larger one is accepted only if the bytes
 * the kernel does not know are zero (else E2BIG). The size bits of the ioctl
 * number are not used; the size field is. No struct has implicit padding.
 */
#ifndef _UAPI_LINUX_VMEXEC_H
#define _UAPI_LINUX_VMEXEC_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VMEXEC_API_VERSION	1

/* Documentation/userspace-api/ioctl/ioctl-number.rst lists no user of 0xBA. */
#define VMEXEC_IOC_MAGIC	0xBA

/* VMEXEC_IOC_BIND: bind the file to the address space behind a pidfd. */
struct vmexec_bind {
	__u32 size;		/* sizeof(struct vmexec_bind) */
	__u32 flags;		/* none yet: must be 0 */
	__s32 pidfd;		/* pidfd_open(2) or clone(CLONE_PIDFD) */
	__u32 reserved;		/* must be 0 */
};

/* One system call run by VMEXEC_IOC_SYSCALLS. x86-64 numbers. */
struct vmexec_syscall {
	__u64 nr;
	__u64 args[6];
	__s64 ret;		/* out: result, or -errno */
};

#define VMEXEC_SYSCALLS_STOP_ON_ERROR	(1U << 0)
#define VMEXEC_SYSCALLS_FLAGS		VMEXEC_SYSCALLS_STOP_ON_ERROR

/* Most entries one VMEXEC_IOC_SYSCALLS call takes; more gives E2BIG. */
#define VMEXEC_SYSCALLS_MAX	1024

/* VMEXEC_IOC_SYSCALLS: run a batch of system calls in the bound address space. */
struct vmexec_syscalls {
	__u32 size;		/* sizeof(struct vmexec_syscalls) */
	__u32 flags;		/* VMEXEC_SYSCALLS_* */
	__u32 count;		/* entries at calls */
	__u32 reserved;		/* must be 0 */
	__u64 calls;		/* pointer to struct vmexec_syscall[count] */
};

#define VMEXEC_IOC_API_VERSION	_IO(VMEXEC_IOC_MAGIC, 0x00)
#define VMEXEC_IOC_BIND		_IOW(VMEXEC_IOC_MAGIC, 0x01, struct vmexec_bind)
#define VMEXEC_IOC_SYSCALLS	_IOW(VMEXEC_IOC_MAGIC, 0x02, struct vmexec_syscalls)

#endif /* _UAPI_LINUX_VMEXEC_H */
