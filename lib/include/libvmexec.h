/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * libvmexec: a thin library over /dev/vmexec (uapi/linux/vmexec.h).
 *
 * Every function returns a negative errno value on failure and never prints.
 * errno is not part of the result: read the return value.
 */
#ifndef LIBVMEXEC_H
#define LIBVMEXEC_H

#include <sys/types.h>
#include <linux/vmexec.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMEXEC_DEVICE_PATH	"/dev/vmexec"

#ifdef __GNUC__
#define VMEXEC_MUST_CHECK	__attribute__((warn_unused_result))
#else
#define VMEXEC_MUST_CHECK
#endif

/* Open /dev/vmexec (O_RDWR | O_CLOEXEC). Returns the fd or -errno. */
VMEXEC_MUST_CHECK int vmexec_open(void);

/* Returns the module's API version (VMEXEC_API_VERSION) or -errno. */
VMEXEC_MUST_CHECK int vmexec_api_version(int fd);

/* Bind fd to the address space behind pidfd. Returns 0 or -errno. */
VMEXEC_MUST_CHECK int vmexec_bind_pidfd(int fd, int pidfd);

/* pidfd_open(pid), vmexec_bind_pidfd(), close the pidfd. 0 or -errno. */
VMEXEC_MUST_CHECK int vmexec_bind_pid(int fd, pid_t pid);

/*
 * Run count entries (VMEXEC_IOC_SYSCALLS) in the bound address space.
 * Returns the number of entries processed (each has its ret set), or -errno
 * if the ioctl itself failed.
 */
VMEXEC_MUST_CHECK int vmexec_syscalls(int fd, struct vmexec_syscall *calls,
				      unsigned int count, unsigned int flags);

/*
 * Run one system call. Returns 0 when it ran, with its own result (a value
 * or -errno) in *result; returns -errno when the ioctl failed (*result is
 * then untouched).
 */
VMEXEC_MUST_CHECK int vmexec_syscall(int fd, long *result, long nr,
				     long a0, long a1, long a2,
				     long a3, long a4, long a5);

/* Fill one entry for vmexec_syscalls(). */
static inline void vmexec_prep_syscall(struct vmexec_syscall *sc, long nr,
				       long a0, long a1, long a2,
				       long a3, long a4, long a5)
{
	sc->nr = (__u64)nr;
	sc->args[0] = (__u64)a0;
	sc->args[1] = (__u64)a1;
	sc->args[2] = (__u64)a2;
	sc->args[3] = (__u64)a3;
	sc->args[4] = (__u64)a4;
	sc->args[5] = (__u64)a5;
	sc->ret = 0;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBVMEXEC_H */
