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

/*
 * The ABI generation. It changes only when a call that worked before would
 * fail or mean something else; what is added (an ioctl, a flag, a field at
 * the end of a struct) gets a VMEXEC_FEATURE_* number instead, so probe
 * features with VMEXEC_IOC_CHECK_FEATURE, not versions. 2: pass-through of
 * path calls needs VMEXEC_PASSTHROUGH_PATHS, RUN accepts RF, TF and NT.
 */
#define VMEXEC_API_VERSION	2

/* Documentation/userspace-api/ioctl/ioctl-number.rst lists no user of 0xBA. */
#define VMEXEC_IOC_MAGIC	0xBA

/*
 * VMEXEC_IOC_BIND: bind the file to the address space behind a pidfd or,
 * with VMEXEC_BIND_NEW_MM, to a new, empty one that no process has.
 *
 * VMEXEC_BIND_NEW_MM: pidfd must be -1. The module creates the address
 * space as exec would for a new 64-bit process of the caller (its user
 * namespace, its mmap layout: top-down unless its personality or
 * RLIMIT_STACK asks for the legacy one, randomized unless its personality
 * has ADDR_NO_RANDOMIZE), with nothing mapped: no vDSO, vvar, vsyscall
 * page, stack or brk. It lives while the file, a context of it, or a RUN
 * in it refers to it; RUN, SYSCALLS and MEM never fail with ESRCH on it.
 * Its pages are charged to the memory cgroup of the thread that created it,
 * also after that thread exits; the caller's RLIMIT_AS and RLIMIT_MEMLOCK
 * apply to what SYSCALLS maps and locks in it. Its pages count in no task's
 * RSS except while a thread runs in it (vmexec(4), MEMORY ACCOUNTING).
 */
#define VMEXEC_BIND_NEW_MM	(1U << 0)
#define VMEXEC_BIND_FLAGS	VMEXEC_BIND_NEW_MM

struct vmexec_bind {
	__u32 size;		/* sizeof(struct vmexec_bind) */
	__u32 flags;		/* VMEXEC_BIND_* */
	__s32 pidfd;		/* pidfd_open(2) or clone(CLONE_PIDFD); -1 with NEW_MM */
	__u32 reserved;		/* must be 0 */
};

/* One system call run by VMEXEC_IOC_SYSCALLS. x86-64 numbers. */
struct vmexec_syscall {
	__u64 nr;
	__u64 args[6];
	__s64 ret;		/* out: result, or -errno */
};

/*
 * The calls VMEXEC_IOC_SYSCALLS runs and VMEXEC_IOC_SET_PASSTHROUGH may set;
 * anything else gets -EPERM. This list is the one the module, libvmexec and
 * the tools are built from. Expand it with a macro X(name, fd_arg, path, why,
 * arg): name is the x86-64 call (its number __NR_name, from <asm/unistd.h>),
 * fd_arg the argument that names a descriptor of the caller (-1: none), path
 * 1 if the call resolves a path (pass-through then needs
 * VMEXEC_PASSTHROUGH_PATHS), why the reason it is safe to run for the
 * caller, and arg whatever was passed as VMEXEC_ALLOWED_CALLS' second
 * argument.
 */
#define VMEXEC_ALLOWED_CALLS(X, arg) \
	X(mmap, 4, 0, "maps memory in the target", arg) \
	X(munmap, -1, 0, "unmaps memory in the target", arg) \
	X(mprotect, -1, 0, "changes protections in the target", arg) \
	X(madvise, -1, 0, "advises on the target's memory", arg) \
	X(mremap, -1, 0, "moves mappings within the target", arg) \
	X(msync, -1, 0, "syncs the target's file mappings", arg) \
	X(mincore, -1, 0, "reports residency of the target's pages", arg) \
	X(mlock, -1, 0, "locks target pages (caller's RLIMIT_MEMLOCK)", arg) \
	X(mlock2, -1, 0, "locks target pages (caller's RLIMIT_MEMLOCK)", arg) \
	X(munlock, -1, 0, "unlocks target pages", arg) \
	X(pkey_mprotect, -1, 0, "changes protections in the target", arg) \
	X(read, 0, 0, "caller's file -> target memory", arg) \
	X(write, 0, 0, "target memory -> caller's file", arg) \
	X(pread64, 0, 0, "caller's file -> target memory", arg) \
	X(pwrite64, 0, 0, "target memory -> caller's file", arg) \
	X(readv, 0, 0, "caller's file -> target memory", arg) \
	X(writev, 0, 0, "target memory -> caller's file", arg) \
	X(preadv, 0, 0, "caller's file -> target memory", arg) \
	X(pwritev, 0, 0, "target memory -> caller's file", arg) \
	X(preadv2, 0, 0, "caller's file -> target memory", arg) \
	X(pwritev2, 0, 0, "target memory -> caller's file", arg) \
	X(vmsplice, 0, 0, "target memory <-> caller's pipe", arg) \
	X(openat, 0, 1, "path in target memory, new fd in caller's table", arg) \
	X(close, 0, 0, "closes a caller's descriptor", arg) \
	X(lseek, 0, 0, "moves a caller's file offset", arg) \
	X(newfstatat, 0, 1, "path and stat buffer in target memory", arg) \
	X(fstat, 0, 0, "stat buffer in target memory", arg) \
	X(statx, 0, 1, "path and statx buffer in target memory", arg) \
	X(getdents64, 0, 0, "caller's directory -> target memory", arg) \
	X(readlinkat, 0, 1, "path and buffer in target memory", arg) \
	X(faccessat, 0, 1, "path in target memory, caller's credentials", arg)

/* Word w of the allow-list as a bitmap (nr: bit nr % 64 of word nr / 64). */
#define VMEXEC__ALLOWED_BIT(name, fd_arg, path, why, w) \
	| ((__NR_##name) / 64 == (w) ? 1ULL << ((__NR_##name) % 64) : 0ULL)
#define VMEXEC_ALLOWED_WORD(w)	(0ULL VMEXEC_ALLOWED_CALLS(VMEXEC__ALLOWED_BIT, w))
/* Whether number nr is on the list: an integer constant expression. */
#define VMEXEC_CALL_ALLOWED(nr)	((VMEXEC_ALLOWED_WORD((nr) / 64) >> ((nr) % 64)) & 1)

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

/*
 * RFLAGS of a guest. VMEXEC_RFLAGS_GUEST: the bits a guest runs with (CF,
 * PF, AF, ZF, SF, OF, DF, AC, ID, and IF and the fixed bit 1, which are
 * always set). VMEXEC_RFLAGS_CLEARED: the bits an exit may report that RUN
 * accepts but clears (RF, which the CPU sets in a fault's frame; TF and NT,
 * which a guest's popf can set). Any other bit in a RUN: EINVAL.
 */
#define VMEXEC_RFLAGS_GUEST	0x00240ed7ULL
#define VMEXEC_RFLAGS_CLEARED	0x00014100ULL

/* x86-64 user register state of a guest. */
struct vmexec_regs {
	__u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	__u64 rax, rcx, rdx, rsi, rdi;
	__u64 rip, rsp, rflags;
	__u64 fs_base, gs_base;
};

/* vmexec_run.exit_reason */
#define VMEXEC_EXIT_SYSCALL	1	/* the guest made a system call: exit.syscall */
#define VMEXEC_EXIT_SIGNAL	2	/* a signal in sigmask was dequeued: exit.signal */
#define VMEXEC_EXIT_INTERRUPTED	3	/* other work needs the thread (a signal to it) */

/* vmexec_run.exit.syscall.abi: how the guest entered the kernel */
#define VMEXEC_ABI_SYSCALL64	0	/* syscall in 64-bit mode */
#define VMEXEC_ABI_INT80	1	/* int $0x80 */
#define VMEXEC_ABI_SYSCALL32	2	/* sysenter, or syscall in 32-bit mode */

/*
 * vmexec_run.exit.signal.restart, for VMEXEC_EXIT_SIGNAL and
 * VMEXEC_EXIT_INTERRUPTED: the guest was in a passed-through system call
 * that the signal interrupted. regs are set to restart it (rip on the
 * syscall instruction, rax its number); a supervisor that runs a guest
 * handler for the signal turns that into -EINTR (rax = -EINTR, rip += 2)
 * where the kernel would:
 */
#define VMEXEC_RESTART_NONE	0	/* not in a passed-through call */
#define VMEXEC_RESTART_SYS	1	/* -EINTR if the handler lacks SA_RESTART */
#define VMEXEC_RESTART_NOHAND	2	/* -EINTR if any handler runs */
#define VMEXEC_RESTART_NOINTR	3	/* always restarted */

/*
 * vmexec_run.flags
 *
 * VMEXEC_RUN_SINGLE_STEP: the guest runs with the trap flag, as
 * PTRACE_SYSEMU_SINGLESTEP runs a tracee, and the run ends after at most one
 * guest instruction. sigmask must have SIGTRAP, or RUN fails with EINVAL
 * (the step's trap would otherwise reach the caller's own handlers).
 *  - An instruction that completes ends the run with VMEXEC_EXIT_SIGNAL:
 *    signo SIGTRAP, code TRAP_TRACE, trap_nr 1 (#DB), error_code 0, addr and
 *    regs.rip the next instruction.
 *  - A system call instruction (any entry) ends it with VMEXEC_EXIT_SYSCALL
 *    as without the flag, and nothing more: the next stepping RUN runs the
 *    instruction after it. Pass-through does not apply to a stepping run:
 *    every system call is an exit.
 *  - A faulting instruction ends it with its fault's signal exit, rip on it;
 *    int3 with its own SIGTRAP (trap_nr 3).
 *  - A signal or other kernel work pending before the instruction ends the
 *    run as without the flag, possibly before it ran (rip unchanged).
 * TF is never reported in the exit's rflags of a stepping run (the step's TF
 * is not the guest's), and TF passed in is cleared as without the flag.
 * This is nothing the guest could not do itself: any user process may set
 * TF with popf. Without the flag the guest always starts with TF clear.
 */
#define VMEXEC_RUN_SINGLE_STEP	(1U << 0)
#define VMEXEC_RUN_FLAGS	VMEXEC_RUN_SINGLE_STEP

/* VMEXEC_IOC_RUN: run guest code in the bound address space until an exit. */
struct vmexec_run {
	__u32 size;		/* sizeof(struct vmexec_run) */
	__u32 flags;		/* VMEXEC_RUN_* */
	__u64 sigmask;		/* bit n-1: signal n ends the run and is reported */
	struct vmexec_regs regs;	/* in: state to run; out: state at the exit */
	__u64 xstate;		/* optional XSAVE image of the guest, or 0 */
	__u32 xstate_size;	/* its size: at least vmexec_xstate_size() */
	__u32 exit_reason;	/* out: VMEXEC_EXIT_* */
	/*
	 * out: only the member the exit fills is written: syscall for
	 * VMEXEC_EXIT_SYSCALL, signal for the others (all zero but restart
	 * for VMEXEC_EXIT_INTERRUPTED).
	 */
	union vmexec_exit {
		struct {
			__u64 nr;
			__u64 args[6];
			__u32 abi;	/* VMEXEC_ABI_* */
			__u32 reserved;
		} syscall;
		struct {
			__s32 signo, code;
			__u32 trap_nr;
			__u32 restart;	/* VMEXEC_RESTART_* */
			__u64 addr, error_code;	/* faults: address, hardware error code */
			__u8 siginfo[128];	/* the siginfo_t as dequeued */
		} signal;
	} exit;
};

/*
 * VMEXEC_IOC_SET_PASSTHROUGH: guest system calls whose x86-64 number is set
 * here run in place, in the guest's address space with the caller's
 * credentials and files (as VMEXEC_IOC_SYSCALLS would run them), and the
 * guest continues without an exit. Only numbers VMEXEC_IOC_SYSCALLS allows
 * may be set. Applies to every RUN on the file. Calls that resolve a path
 * (openat, newfstatat, statx, readlinkat, faccessat) need
 * VMEXEC_PASSTHROUGH_PATHS: with it the guest sees the file system as the
 * caller does, /proc/self (the caller's memory) included.
 * A call the caller's seccomp filter does not allow is not run in place: it
 * ends the run as an exit. Passed-through calls run with no effective
 * capabilities.
 */
#define VMEXEC_PASSTHROUGH_WORDS	8	/* numbers 0 to 511 */

#define VMEXEC_PASSTHROUGH_PATHS	(1U << 0)	/* allow path calls */
#define VMEXEC_PASSTHROUGH_FLAGS	VMEXEC_PASSTHROUGH_PATHS

struct vmexec_passthrough {
	__u32 size;		/* sizeof(struct vmexec_passthrough) */
	__u32 flags;		/* VMEXEC_PASSTHROUGH_* */
	__u64 bitmap[VMEXEC_PASSTHROUGH_WORDS];	/* nr: bit nr % 64 of word nr / 64 */
};

/* VMEXEC_IOC_GET_STATS: what happened on this file since it was opened. */
struct vmexec_stats {
	__u32 size;		/* in: sizeof(struct vmexec_stats) */
	__u32 flags;		/* none yet: must be 0 */
	__u64 passthrough;	/* guest syscalls run in place */
	__u64 exits_syscall;	/* VMEXEC_EXIT_SYSCALL exits */
	__u64 exits_signal;	/* VMEXEC_EXIT_SIGNAL exits */
	__u64 exits_interrupted;	/* VMEXEC_EXIT_INTERRUPTED exits */
};

#define VMEXEC_IOC_API_VERSION	_IO(VMEXEC_IOC_MAGIC, 0x00)
#define VMEXEC_IOC_BIND		_IOW(VMEXEC_IOC_MAGIC, 0x01, struct vmexec_bind)
#define VMEXEC_IOC_SYSCALLS	_IOW(VMEXEC_IOC_MAGIC, 0x02, struct vmexec_syscalls)
#define VMEXEC_IOC_RUN		_IOWR(VMEXEC_IOC_MAGIC, 0x03, struct vmexec_run)
#define VMEXEC_IOC_SET_PASSTHROUGH _IOW(VMEXEC_IOC_MAGIC, 0x04, struct vmexec_passthrough)
#define VMEXEC_IOC_GET_STATS	_IOWR(VMEXEC_IOC_MAGIC, 0x05, struct vmexec_stats)
/*
 * ioctl(fd, VMEXEC_IOC_CONTEXT, 0) on a bound file: a new descriptor (close
 * on exec) for one guest context, as KVM_CREATE_VCPU gives a vCPU. The
 * context keeps the file's binding, pass-through set, statistics and held
 * signals (it holds a reference on the file), and has its own guest FPU and
 * xstate, in the clean state at creation and kept across runs. The argument
 * is reserved: must be 0.
 */
#define VMEXEC_IOC_CONTEXT	_IO(VMEXEC_IOC_MAGIC, 0x07)
/*
 * The run area of a context: mmap(NULL, VMEXEC_CONTEXT_SIZE, PROT_READ |
 * PROT_WRITE, MAP_SHARED, ctxfd, 0). A struct vmexec_run at offset 0, the
 * rest zero. VMEXEC_IOC_CONTEXT_RUN reads its flags, sigmask and regs once
 * (xstate and xstate_size must be 0: the context has its own) and writes
 * exit_reason, regs and the member of exit the exit fills, as RUN does.
 * size is not read.
 */
#define VMEXEC_CONTEXT_SIZE	4096
/*
 * ioctl(ctxfd, VMEXEC_IOC_CONTEXT_RUN, 0): VMEXEC_IOC_RUN from the run area,
 * with the context's xstate. One thread at a time runs a context: EBUSY
 * while another runs it or reads or writes its xstate.
 */
#define VMEXEC_IOC_CONTEXT_RUN	_IO(VMEXEC_IOC_MAGIC, 0x08)

/* VMEXEC_IOC_CONTEXT_GET_XSTATE, _SET_XSTATE: a context's FPU/xstate. */
struct vmexec_xstate {
	__u32 size;		/* sizeof(struct vmexec_xstate) */
	__u32 flags;		/* none yet: must be 0 */
	__u32 len;		/* bytes at addr: at least vmexec_xstate_size() */
	__u32 reserved;		/* must be 0 */
	__u64 addr;		/* an XSAVE image, as vmexec_run.xstate */
};

#define VMEXEC_IOC_CONTEXT_GET_XSTATE _IOW(VMEXEC_IOC_MAGIC, 0x09, struct vmexec_xstate)
#define VMEXEC_IOC_CONTEXT_SET_XSTATE _IOW(VMEXEC_IOC_MAGIC, 0x0a, struct vmexec_xstate)

/*
 * VMEXEC_IOC_MEM: copy between the caller's memory and the bound address
 * space, exactly as process_vm_readv(2) (or, with VMEXEC_MEM_WRITE,
 * process_vm_writev(2)) on the target would: count struct iovec at local
 * (the caller's buffers) and count at remote (ranges of the bound address
 * space), copied in order. Returns the number of bytes copied; the copy
 * stops at the first fault in either address space and the count is exact.
 * EFAULT if a fault stopped it before any byte was copied. The target's
 * protections hold (no forced access): writing into a read-only mapping
 * faults. The caller's seccomp filter is asked about the equivalent
 * process_vm_readv or process_vm_writev call.
 */
#define VMEXEC_MEM_WRITE	(1U << 0)	/* caller's memory -> bound address space */
#define VMEXEC_MEM_FLAGS	VMEXEC_MEM_WRITE

/* Most segments on each side (UIO_MAXIOV, as process_vm_readv); more: EINVAL. */
#define VMEXEC_MEM_MAX		1024

struct vmexec_mem {
	__u32 size;		/* sizeof(struct vmexec_mem) */
	__u32 flags;		/* VMEXEC_MEM_* */
	__u32 count;		/* segments at local and at remote */
	__u32 reserved;		/* must be 0 */
	__u64 local;		/* pointer to struct iovec[count]: the caller's memory */
	__u64 remote;		/* pointer to struct iovec[count]: the bound address space */
};

#define VMEXEC_IOC_MEM		_IOW(VMEXEC_IOC_MAGIC, 0x0b, struct vmexec_mem)
/*
 * ioctl(fd, VMEXEC_IOC_CHECK_FEATURE, VMEXEC_FEATURE_x): 1 if this module has
 * the feature, 0 if not, also for numbers it does not know. Numbers are
 * never reused; new ioctls, flags and behaviours only add numbers.
 */
#define VMEXEC_IOC_CHECK_FEATURE	_IO(VMEXEC_IOC_MAGIC, 0x06)

#define VMEXEC_FEATURE_API_VERSION	0	/* VMEXEC_IOC_API_VERSION */
#define VMEXEC_FEATURE_BIND		1	/* VMEXEC_IOC_BIND */
#define VMEXEC_FEATURE_SYSCALLS		2	/* VMEXEC_IOC_SYSCALLS */
#define VMEXEC_FEATURE_RUN		3	/* VMEXEC_IOC_RUN */
#define VMEXEC_FEATURE_SET_PASSTHROUGH	4	/* VMEXEC_IOC_SET_PASSTHROUGH */
#define VMEXEC_FEATURE_GET_STATS	5	/* VMEXEC_IOC_GET_STATS */
#define VMEXEC_FEATURE_CHECK_FEATURE	6	/* VMEXEC_IOC_CHECK_FEATURE */
#define VMEXEC_FEATURE_SYSCALLS_STOP_ON_ERROR 7	/* VMEXEC_SYSCALLS_STOP_ON_ERROR */
#define VMEXEC_FEATURE_PASSTHROUGH_PATHS 8	/* VMEXEC_PASSTHROUGH_PATHS */
#define VMEXEC_FEATURE_RFLAGS_CLEARED	9	/* RUN takes VMEXEC_RFLAGS_CLEARED */
/*
 * The caller's seccomp filter governs SYSCALLS entries and passed-through
 * calls, each gets its own audit record, and passed-through calls run
 * without effective capabilities (vmexec(4), SECURITY).
 */
#define VMEXEC_FEATURE_CALLER_CHECKS	10
#define VMEXEC_FEATURE_RUN_SINGLE_STEP	11	/* VMEXEC_RUN_SINGLE_STEP */
/* VMEXEC_IOC_CONTEXT, VMEXEC_IOC_CONTEXT_RUN and the run area's mmap */
#define VMEXEC_FEATURE_CONTEXT		12
/* VMEXEC_IOC_CONTEXT_GET_XSTATE and VMEXEC_IOC_CONTEXT_SET_XSTATE */
#define VMEXEC_FEATURE_CONTEXT_XSTATE	13
/* VMEXEC_IOC_MEM */
#define VMEXEC_FEATURE_MEM		14
/* VMEXEC_BIND_NEW_MM */
#define VMEXEC_FEATURE_BIND_NEW_MM	15
/* One past the highest number this header defines. */
#define VMEXEC_FEATURE_COUNT		16

#endif /* _UAPI_LINUX_VMEXEC_H */
