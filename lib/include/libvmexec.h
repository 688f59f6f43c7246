/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * libvmexec: a thin library over /dev/vmexec (uapi/linux/vmexec.h).
 *
 * Every function returns a negative errno value on failure and never prints.
 * errno is not part of the result: read the return value.
 */
#ifndef LIBVMEXEC_H
#define LIBVMEXEC_H

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
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

/*
 * Whether the module has feature VMEXEC_FEATURE_*: 1 or 0 (also for numbers
 * it does not know), or -errno (-ENOTTY: a module without feature probing).
 */
VMEXEC_MUST_CHECK int vmexec_check_feature(int fd, unsigned int feature);

/* Bind fd to the address space behind pidfd. Returns 0 or -errno. */
VMEXEC_MUST_CHECK int vmexec_bind_pidfd(int fd, int pidfd);

/* pidfd_open(pid), vmexec_bind_pidfd(), close the pidfd. 0 or -errno. */
VMEXEC_MUST_CHECK int vmexec_bind_pid(int fd, pid_t pid);

/*
 * Bind fd to a new, empty address space that no process has
 * (VMEXEC_BIND_NEW_MM); it lives as long as fd. Returns 0 or -errno.
 */
VMEXEC_MUST_CHECK int vmexec_bind_new_mm(int fd);

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

/*
 * VMEXEC_IOC_RUN: run the guest described by *run until its next system call
 * or signal. Returns 0 with the exit in run->exit_reason and run->exit and
 * the guest's registers in run->regs, or -errno.
 */
VMEXEC_MUST_CHECK int vmexec_run(int fd, struct vmexec_run *run);

/*
 * VMEXEC_IOC_CONTEXT: a new guest context of the bound fd, with its own
 * FPU/xstate (clean at first) and run area. Returns its descriptor (close on
 * exec) or -errno.
 */
VMEXEC_MUST_CHECK int vmexec_context(int fd);

/*
 * Map the context's run area (VMEXEC_CONTEXT_SIZE bytes, shared): a struct
 * vmexec_run that vmexec_context_run() reads and writes in place. Stores
 * the address in *area; returns 0 or -errno. Undo with munmap(*area,
 * VMEXEC_CONTEXT_SIZE).
 */
VMEXEC_MUST_CHECK int vmexec_context_map(int ctxfd, struct vmexec_run **area);

/*
 * VMEXEC_IOC_CONTEXT_RUN: run the guest described by the run area (its
 * flags, sigmask and regs; xstate and xstate_size must be 0) with the
 * context's FPU state, until its next system call or signal. Returns 0 with
 * the exit in the area, or -errno.
 */
VMEXEC_MUST_CHECK int vmexec_context_run(int ctxfd);

/*
 * Read or replace the context's FPU/xstate: an XSAVE image of len bytes (at
 * least vmexec_xstate_size()) at buf. 0 or -errno.
 */
VMEXEC_MUST_CHECK int vmexec_context_get_xstate(int ctxfd, void *buf, unsigned int len);
VMEXEC_MUST_CHECK int vmexec_context_set_xstate(int ctxfd, const void *buf,
						unsigned int len);

/*
 * VMEXEC_IOC_MEM: copy from the bound address space into the caller's
 * memory (read) or back (write), as process_vm_readv(2) and
 * process_vm_writev(2) on the target: count (at most VMEXEC_MEM_MAX)
 * segments at local (the caller's) and at remote (the target's), in order.
 * Returns the number of bytes copied (exact when a fault stopped the copy
 * part way), or -errno (-EFAULT: a fault before any byte was copied).
 */
VMEXEC_MUST_CHECK int vmexec_mem_read(int fd, const struct iovec *local,
				      const struct iovec *remote, unsigned int count);
VMEXEC_MUST_CHECK int vmexec_mem_write(int fd, const struct iovec *local,
				       const struct iovec *remote, unsigned int count);

/*
 * Bytes a vmexec_run.xstate buffer needs on this CPU (CPUID leaf 0xd), or
 * -EOPNOTSUPP. A zero-filled buffer holds the clean FPU state.
 */
VMEXEC_MUST_CHECK int vmexec_xstate_size(void);

/* An empty pass-through set: fill with vmexec_passthrough_add(). */
static inline void vmexec_passthrough_init(struct vmexec_passthrough *pt)
{
	memset(pt, 0, sizeof(*pt));
	pt->size = sizeof(*pt);
}

/*
 * Add a call to *pt, by x86-64 name ("read") or number ("0"). Returns 0, or
 * -EINVAL for a name that is not one the module lets run in place (its
 * VMEXEC_IOC_SYSCALLS allow-list) or a number out of range.
 */
VMEXEC_MUST_CHECK int vmexec_passthrough_add(struct vmexec_passthrough *pt,
					     const char *call);

/*
 * VMEXEC_IOC_SET_PASSTHROUGH: from now on the guest system calls in *pt run
 * in place on every RUN of fd, without an exit. 0 or -errno (-EINVAL: a
 * number the module does not allow).
 */
VMEXEC_MUST_CHECK int vmexec_set_passthrough(int fd, const struct vmexec_passthrough *pt);

/* VMEXEC_IOC_GET_STATS into *st. 0 or -errno. */
VMEXEC_MUST_CHECK int vmexec_get_stats(int fd, struct vmexec_stats *st);

/* Set up *run to start guest code at rip with stack rsp, all else clear. */
static inline void vmexec_run_prep(struct vmexec_run *run, __u64 rip, __u64 rsp)
{
	memset(run, 0, sizeof(*run));
	run->size = sizeof(*run);
	run->regs.rip = rip;
	run->regs.rsp = rsp;
	run->regs.rflags = 0x202;	/* IF and the always-one bit */
}

/*
 * After a VMEXEC_EXIT_SYSCALL: give the guest's system call its result. The
 * next vmexec_run() resumes the guest after the syscall instruction.
 */
static inline void vmexec_run_set_return(struct vmexec_run *run, __s64 value)
{
	run->regs.rax = (__u64)value;
}

/*
 * After a VMEXEC_EXIT_SIGNAL caused by a fault of the guest: the faulting
 * address, the hardware error code and the trap number (14 for a page fault).
 * Returns the signal number, or -EINVAL if the exit was no fault.
 */
static inline int vmexec_run_fault(const struct vmexec_run *run, __u64 *addr,
				   __u64 *error_code, __u32 *trap_nr)
{
	int signo = run->exit.signal.signo;

	if (run->exit_reason != VMEXEC_EXIT_SIGNAL || run->exit.signal.code <= 0 ||
	    (signo != SIGSEGV && signo != SIGBUS && signo != SIGILL &&
	     signo != SIGFPE && signo != SIGTRAP))
		return -EINVAL;
	if (addr)
		*addr = run->exit.signal.addr;
	if (error_code)
		*error_code = run->exit.signal.error_code;
	if (trap_nr)
		*trap_nr = run->exit.signal.trap_nr;
	return signo;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBVMEXEC_H */
