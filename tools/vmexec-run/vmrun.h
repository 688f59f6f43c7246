/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmexec-run: a small application kernel on vmexec. Shared declarations.
 *
 * One guest per process: the supervisor state is the global `vr`.
 *   main.c      options, the run loop, exits and cleanup
 *   loader.c    the address space (new, or a stub's), the ELF, the stack
 *   mem.c       guest memory access (MEM) and SYSCALLS helpers
 *   errkeep.c   the tool's copy of stderr, out of the guest's reach
 *   fdspace.c   the guest's descriptor space (the tool's own fds hidden)
 *   pathview.c  --bind: the guest's view of the file system
 *   signals.c   guest signal state, frames, rt_sigreturn
 *   systab.c    the syscall table: name, argument decoders, handler
 *   sys_*.c     the handlers
 *   trace.c     --trace: the strace-style printer
 */
#ifndef VMRUN_H
#define VMRUN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <libvmexec.h>

typedef uint64_t u64;
typedef uint32_t u32;

#define PAGE_SIZE_G	4096UL
#define PAGE_DOWN(x)	((u64)(x) & ~(PAGE_SIZE_G - 1))
#define PAGE_UP(x)	(((u64)(x) + PAGE_SIZE_G - 1) & ~(PAGE_SIZE_G - 1))

/* The lowest 47-bit user address space, valid with 4- and 5-level paging. */
#define GUEST_TASK_END	0x7ffffffff000UL
#define GUEST_STACK_TOP	0x7ffffffde000UL
#define GUEST_PIE_BASE	0x555555554000UL

/* Exit statuses of the tool itself (as env(1), timeout(1)). */
#define EXIT_TOOL_ERROR	125
#define EXIT_CANNOT_RUN	126
#define EXIT_NOT_FOUND	127

#define NSIG_G		64
#define SIGBIT(s)	(1ULL << ((s) - 1))

/* The kernel's struct sigaction for rt_sigaction() on x86-64. */
struct guest_sigaction {
	u64 handler;
	u64 flags;
	u64 restorer;
	u64 mask;
};

#define G_SIG_DFL	0UL
#define G_SIG_IGN	1UL

struct bind_entry {
	char *guest;
	char *host;
	size_t glen, hlen;
};

struct vmrun {
	/* Hidden descriptors (fdspace.c): never reachable by the guest. */
	int vfd;		/* /dev/vmexec, bound to the guest's address space */
	int errfd;		/* the tool's stderr, for --trace and reports;
				 * -1 once a keeper thread holds it (errkeep.c) */
	int fd_limit;		/* guest descriptors are 0 .. fd_limit-1 */

	pid_t stub;		/* --stub: the process whose address space the
				 * guest uses; -1 with a new address space */
	pid_t pid;		/* the tool's pid: the guest's pid and tid */

	struct vmexec_run run;
	void *xstate;
	int xstate_size;
	u64 xcr0;

	/* The program. */
	char *prog;		/* as given, for messages */
	char *exe;		/* absolute host path: /proc/self/exe for the guest */
	char comm[16];
	u64 brk_start, brk_cur, brk_end;	/* brk_end: mapped, page aligned */

	/* Signals (signals.c). */
	struct guest_sigaction act[NSIG_G + 1];
	u64 blocked;
	u64 pending;
	siginfo_t pinfo[NSIG_G + 1];
	u64 ss_sp, ss_size;
	int ss_flags;
	bool suspend_restore;	/* rt_sigsuspend: frame gets the saved mask */
	u64 saved_blocked;

	/* Options. */
	bool trace;
	bool passthrough;
	bool use_stub;		/* --stub, or no VMEXEC_BIND_NEW_MM in the module */
	u32 restart;		/* exit.signal.restart of the last exit */
	u64 deny[8];		/* bit per syscall number 0..511 */
	struct bind_entry *binds;
	int nbinds;

	u64 clear_tid, robust_list;
	struct rlimit nofile_guest;
};

extern struct vmrun vr;

/* main.c */
void vr_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void vr_fatal(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void guest_exit(int status);
__attribute__((noreturn)) void guest_die(int sig, const char *why);
void cleanup_stub(void);

/* errkeep.c */
int errkeep_start(void);
void errkeep_write(const void *buf, size_t len);

/* loader.c */
int load_program(const char *path, char *const argv[], char *const envp[]);

/* mem.c */
long gsys(long nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);
int gsys_batch(struct vmexec_syscall *calls, unsigned int n);
int mem_read(u64 addr, void *buf, size_t len);
int mem_write(u64 addr, const void *buf, size_t len);
long mem_read_partial(u64 addr, void *buf, size_t len);
long mem_strz(u64 addr, char *buf, size_t size);

/* fdspace.c */
int fdspace_setup(void);
int fd_hide(int fd);
bool fd_guest(long fd);
bool dirfd_guest(long fd);
long fd_new(long fd);

/* pathview.c */
int bind_add(const char *spec);
bool pathview_active(void);
int path_map(const char *in, char *out, size_t size);
void path_unmap(char *path, size_t size);

/* signals.c */
void sig_setup(void);
void sig_apply_host(int sig);
void sig_collect(void);
void sig_raise(int sig, const siginfo_t *info);
bool sig_deliverable(void);
int sig_handler_deliverable(void);
void sig_deliver(void);
void sig_fault(const struct vmexec_run *run);
long sig_rt_sigreturn(void);
void sig_wait(u64 mask);
void sig_block_host(sigset_t *old);
void sig_unblock_host(const sigset_t *old);
const char *sig_name(int sig);

/* systab.c */
#define ARGS_MAX 6
enum argtype {
	A_NONE, A_INT, A_UINT, A_HEX, A_PTR, A_FD, A_DIRFD, A_PATH, A_STR,
	A_BUFIN, A_BUFOUT, A_OFLAGS, A_MODE, A_PROT, A_MFLAGS, A_SIG, A_SIGHOW,
	A_ATFLAGS, A_IOCTL, A_ARCHPRCTL, A_RLIMIT, A_CLOCK, A_WHENCE, A_FCNTL,
	A_PRCTL, A_ACCMODE, A_IOV, A_STATBUF, A_SIGSET, A_SIGACT, A_PIPEFDS,
	A_TIMESPEC, A_LONG, A_OCT, A_OMODE, A_RANDFLAGS,
};

#define F_RESTART	0x1	/* ERESTARTSYS: restarted after SA_RESTART handlers */
#define F_RET_HEX	0x2	/* the result is an address */
#define F_NORETURN	0x4	/* exit, exit_group: no result */
#define F_NOREG		0x8	/* sets the registers itself (rt_sigreturn) */
#define F_UNSUPP	0x10	/* not supported: ENOSYS with a message */
#define F_QUIET_NOSYS	0x20	/* ENOSYS, no message (rseq, ...) */

typedef long (*sys_handler)(long nr, const u64 *a);

struct sysent {
	const char *name;
	sys_handler fn;
	unsigned int flags;
	unsigned char arg[ARGS_MAX];
};

#define SYSTAB_SIZE 512
extern const struct sysent systab[SYSTAB_SIZE];
int sys_lookup(const char *name);
long sys_dispatch(void);

/* trace.c */
void trace_syscall(long nr, const struct sysent *e, const u64 *a, long ret,
		   const char *note);
void trace_signal(int sig, const siginfo_t *info);
void trace_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *errno_name(int err);

/* Handlers (sys_*.c), referenced by the table. */
#define H(name) long name(long nr, const u64 *a)
long pass(long nr, const u64 *a);	/* run the call as is in the guest's mm */
long host_ret(long r);			/* -1/errno -> -errno */
#define HOST(expr) host_ret((long)(expr))
long get_path(u64 addr, char *host, bool *mapped);

#endif /* VMRUN_H */
