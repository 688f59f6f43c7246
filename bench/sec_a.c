// SPDX-License-Identifier: GPL-2.0
/*
 * A. One intercepted system call, round trip: the guest loops on raw
 * syscall(123) and checks that it returned 456; the interceptor sees the
 * call, checks its number, makes it return 456 and lets the guest go on.
 */
#include "bench.h"
#include <errno.h>
#include <linux/audit.h>
#include <linux/elf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <cpuid.h>
#include <ucontext.h>
#include <unistd.h>
#include <libvmexec.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH	59
#define PR_SYS_DISPATCH_OFF		0
#define PR_SYS_DISPATCH_ON		1
#endif
#define SUD_ALLOW	0
#define SUD_BLOCK	1
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH	2
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS	SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP	(1UL << 0)
#endif
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE	0x202
#endif

#define NR_TRAPPED	123
#define RET_TRAPPED	456

/* A stack address valid in the stubs too (they are forks of us); unused. */
static char guest_stack[4096] __attribute__((aligned(64)));
#define GUEST_SP	((__u64)(uintptr_t)(guest_stack + sizeof(guest_stack) - 64))

/* ---- vmexec RUN ---- */

enum { V_STUB = 0, V_XSTATE = 1, V_SELF = 2, V_CONTEXT = 4 };

struct vm_state {
	struct stub s;
	void *xs;
	int xsize;
	int ctx;			/* V_CONTEXT: a context of s.fd, its run area */
	struct vmexec_run *area;
};

static int vm_setup(const struct row *r, void **state)
{
	struct vm_state *v = calloc(1, sizeof(*v));
	int ret;

	*state = v;
	v->s.fd = -1;
	v->ctx = -1;
	if (r->param & V_SELF) {
		v->s.fd = vmexec_open();
		if (v->s.fd < 0)
			FAILF("vmexec_open: %s", strerror(-v->s.fd));
		ret = vmexec_bind_pid(v->s.fd, getpid());
		if (ret)
			FAILF("vmexec_bind_pid(self): %s", strerror(-ret));
	} else if (stub_start(&v->s)) {
		return -1;
	}
	if (r->param & V_XSTATE) {
		v->xsize = vmexec_xstate_size();
		if (v->xsize <= 0)
			FAILF("vmexec_xstate_size: %d", v->xsize);
		if (posix_memalign(&v->xs, 64, v->xsize))
			FAILF("posix_memalign");
	}
	if (r->param & V_CONTEXT) {
		if (context_open(v->s.fd, &v->ctx, &v->area))
			return -1;
	}
	return 0;
}

/* The same loop through a context: the run area is read and written in place. */
static int vm_context_run(const struct row *r, void *state, long n, double *ns)
{
	struct vm_state *v = state;
	struct vmexec_run *a = v->area;
	struct vmexec_stats st0;
	pid_t target;
	double t0;
	long i;
	int ret;

	if (stats_read(v->s.fd, &st0))
		return -1;
	/* The context (and its guest FPU state) carries over between the runs of the row. */
	vmexec_run_prep(a, (__u64)(uintptr_t)bench_remote_loop, GUEST_SP);
	a->regs.r12 = n;
	target = (r->param & V_SELF) ? 0 : v->s.pid;
	bench_sw_begin(target);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ret = vmexec_context_run(v->ctx);
		CHECK(ret == 0, "CONTEXT_RUN %ld: %s", i, strerror(-ret));
		CHECK(a->exit_reason == VMEXEC_EXIT_SYSCALL && a->exit.syscall.nr == NR_TRAPPED &&
		      a->regs.r12 == (__u64)(n - i),
		      "CONTEXT_RUN %ld: exit %u nr %llu r12 %llu", i, a->exit_reason,
		      (unsigned long long)a->exit.syscall.nr, (unsigned long long)a->regs.r12);
		vmexec_run_set_return(a, RET_TRAPPED);
	}
	ret = vmexec_context_run(v->ctx);
	*ns = now_ns() - t0;
	bench_sw_end(target);
	CHECK(ret == 0 && a->exit_reason == VMEXEC_EXIT_SYSCALL && a->exit.syscall.nr == 60 &&
	      a->exit.syscall.args[0] == 0, "last CONTEXT_RUN: ret %d exit %u nr %llu left %llu",
	      ret, a->exit_reason, (unsigned long long)a->exit.syscall.nr,
	      (unsigned long long)a->exit.syscall.args[0]);
	return stats_check(v->s.fd, &st0, (__u64)n + 1, 0);
}

static int vm_run(const struct row *r, void *state, long n, double *ns)
{
	struct vm_state *v = state;
	struct vmexec_stats st0;
	struct vmexec_run run;
	pid_t target;
	double t0;
	long i;
	int ret;

	if (stats_read(v->s.fd, &st0))
		return -1;
	vmexec_run_prep(&run, (__u64)(uintptr_t)bench_remote_loop, GUEST_SP);
	run.regs.r12 = n;
	if (v->xs) {
		memset(v->xs, 0, v->xsize);	/* the clean FPU state */
		run.xstate = (__u64)(uintptr_t)v->xs;
		run.xstate_size = v->xsize;
	}
	target = (r->param & V_SELF) ? 0 : v->s.pid;
	bench_sw_begin(target);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ret = vmexec_run(v->s.fd, &run);
		CHECK(ret == 0, "RUN %ld: %s", i, strerror(-ret));
		CHECK(run.exit_reason == VMEXEC_EXIT_SYSCALL && run.exit.syscall.nr == NR_TRAPPED &&
		      run.regs.r12 == (__u64)(n - i),
		      "RUN %ld: exit %u nr %llu r12 %llu", i, run.exit_reason,
		      (unsigned long long)run.exit.syscall.nr, (unsigned long long)run.regs.r12);
		vmexec_run_set_return(&run, RET_TRAPPED);
	}
	ret = vmexec_run(v->s.fd, &run);
	*ns = now_ns() - t0;
	bench_sw_end(target);
	CHECK(ret == 0 && run.exit_reason == VMEXEC_EXIT_SYSCALL && run.exit.syscall.nr == 60 &&
	      run.exit.syscall.args[0] == 0, "last RUN: ret %d exit %u nr %llu left %llu", ret,
	      run.exit_reason, (unsigned long long)run.exit.syscall.nr,
	      (unsigned long long)run.exit.syscall.args[0]);
	/* The module counted every round trip as a real exit (no pass-through). */
	return stats_check(v->s.fd, &st0, (__u64)n + 1, 0);
}

static void vm_teardown(const struct row *r, void *state)
{
	struct vm_state *v = state;

	(void)r;
	if (!v)
		return;
	if (v->area)
		munmap(v->area, VMEXEC_CONTEXT_SIZE);
	if (v->ctx >= 0)
		close(v->ctx);
	if (r->param & V_SELF) {
		if (v->s.fd >= 0)
			close(v->s.fd);
	} else {
		stub_stop(&v->s);
	}
	free(v->xs);
	free(v);
}

/* ---- PTRACE_SYSEMU ---- */

static pid_t traced_loop_child(long n)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(3);
		bench_stop_then_remote(n, getpid());
	}
	return pid;
}

static int sysemu_start(pid_t pid)
{
	int st;

	CHECK(pid > 0, "fork: %s", strerror(errno));
	CHECK(wait_stopped(pid, &st) == 0 && WSTOPSIG(st) == SIGSTOP,
	      "tracee did not stop (status %#x)", st);
	CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) == 0,
	      "PTRACE_SETOPTIONS: %s", strerror(errno));
	return 0;
}

/* The process_vm_exec patch's baseline: SYSEMU, wait, GETREGS, SETREGS. */
static int sysemu_regs_run(const struct row *r, void *state, long n, double *ns)
{
	struct user_regs_struct regs;
	pid_t pid = traced_loop_child(n);
	double t0;
	long i;
	int st;

	(void)r;
	(void)state;
	if (sysemu_start(pid))
		goto fail;
	bench_sw_begin(pid);
	t0 = now_ns();
	for (i = 0; i <= n; i++) {
		if (ptrace(PTRACE_SYSEMU, pid, 0, 0) || wait_stopped(pid, &st) ||
		    WSTOPSIG(st) != (SIGTRAP | 0x80) || ptrace(PTRACE_GETREGS, pid, 0, &regs)) {
			bench_fail("op %ld: SYSEMU stop failed (status %#x, %s)", i, st, strerror(errno));
			goto fail;
		}
		if (i == n)
			break;
		if (regs.orig_rax != NR_TRAPPED || regs.r12 != (unsigned long)(n - i)) {
			bench_fail("op %ld: orig_rax %llu r12 %llu", i, regs.orig_rax, regs.r12);
			goto fail;
		}
		regs.rax = RET_TRAPPED;
		if (ptrace(PTRACE_SETREGS, pid, 0, &regs)) {
			bench_fail("SETREGS: %s", strerror(errno));
			goto fail;
		}
	}
	*ns = now_ns() - t0;
	bench_sw_end(pid);
	if (regs.orig_rax != 60 || regs.rdi != 0) {
		bench_fail("last stop: orig_rax %llu left %llu", regs.orig_rax, regs.rdi);
		goto fail;
	}
	kill_wait(pid);
	return 0;
fail:
	if (pid > 0)
		kill_wait(pid);
	return -1;
}

/* gVisor's and UML's shape: SETREGSET x2, SYSEMU, wait, GETREGSET x2. */
static int sysemu_regset_run(const struct row *r, void *state, long n, double *ns)
{
	static char xbuf[16384] __attribute__((aligned(64)));
	struct user_regs_struct regs;
	struct iovec riov = { &regs, sizeof(regs) }, xiov = { xbuf, sizeof(xbuf) };
	pid_t pid = traced_loop_child(n);
	double t0;
	long i;
	int st;

	(void)r;
	(void)state;
	if (sysemu_start(pid))
		goto fail;
	/* The tracee's state at its stop; the loop then keeps it in sync. */
	if (ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &riov) ||
	    ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &xiov)) {
		bench_fail("GETREGSET: %s", strerror(errno));
		goto fail;
	}
	bench_sw_begin(pid);
	t0 = now_ns();
	for (i = 0; i <= n; i++) {
		if (ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &riov) ||
		    ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &xiov)) {
			bench_fail("op %ld: SETREGSET: %s", i, strerror(errno));
			goto fail;
		}
		if (ptrace(PTRACE_SYSEMU, pid, 0, 0) || wait_stopped(pid, &st) ||
		    WSTOPSIG(st) != (SIGTRAP | 0x80) ||
		    ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &riov) ||
		    ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &xiov)) {
			bench_fail("op %ld: SYSEMU stop failed (status %#x, %s)", i, st, strerror(errno));
			goto fail;
		}
		if (i == n)
			break;
		if (regs.orig_rax != NR_TRAPPED || regs.r12 != (unsigned long)(n - i)) {
			bench_fail("op %ld: orig_rax %llu r12 %llu", i, regs.orig_rax, regs.r12);
			goto fail;
		}
		regs.rax = RET_TRAPPED;
	}
	*ns = now_ns() - t0;
	bench_sw_end(pid);
	if (regs.orig_rax != 60 || regs.rdi != 0 || xiov.iov_len < 512) {
		bench_fail("last stop: orig_rax %llu left %llu xstate %zu bytes", regs.orig_rax,
			   regs.rdi, xiov.iov_len);
		goto fail;
	}
	kill_wait(pid);
	return 0;
fail:
	if (pid > 0)
		kill_wait(pid);
	return -1;
}

/* ---- in-process SIGSYS: Syscall User Dispatch and seccomp RET_TRAP ---- */

static volatile char sud_selector;
static volatile long sigsys_handled, sigsys_bad;

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	(void)sig;
	/* First, so that this handler's own rt_sigreturn is not dispatched. */
	sud_selector = SUD_ALLOW;
	if (si->si_syscall == NR_TRAPPED) {
		sigsys_handled++;
		uc->uc_mcontext.gregs[REG_RAX] = RET_TRAPPED;
	} else {
		sigsys_bad++;
		uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
	}
}

static int install_sigsys(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSYS, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
	return 0;
}

static int sud_setup(const struct row *r, void **state)
{
	(void)r;
	(void)state;
	if (install_sigsys())
		return -1;
	sud_selector = SUD_ALLOW;
	CHECK(prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &sud_selector) == 0,
	      "prctl(PR_SET_SYSCALL_USER_DISPATCH): %s", strerror(errno));
	prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
	return 0;
}

static int sud_run(const struct row *r, void *state, long n, double *ns)
{
	double t0;
	long left;

	(void)r;
	(void)state;
	sigsys_handled = sigsys_bad = 0;
	sud_selector = SUD_ALLOW;
	CHECK(prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &sud_selector) == 0,
	      "prctl(SUD on): %s", strerror(errno));
	bench_sw_begin(0);
	t0 = now_ns();
	left = bench_loop_sud(n, &sud_selector);
	*ns = now_ns() - t0;
	bench_sw_end(0);
	/* The handler left the selector at ALLOW: this prctl is not dispatched. */
	CHECK(prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) == 0,
	      "prctl(SUD off): %s", strerror(errno));
	CHECK(left == 0 && sigsys_handled == n && !sigsys_bad,
	      "left %ld handled %ld bad %ld of %ld", left, sigsys_handled, sigsys_bad, n);
	return 0;
}

static int seccomp_filter(unsigned int action, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_TRAPPED, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int trap_setup(const struct row *r, void **state)
{
	(void)r;
	(void)state;
	if (install_sigsys())
		return -1;
	CHECK(seccomp_filter(SECCOMP_RET_TRAP, 0) == 0, "seccomp: %s", strerror(errno));
	return 0;
}

static int trap_run(const struct row *r, void *state, long n, double *ns)
{
	double t0;
	long left;

	(void)r;
	(void)state;
	sigsys_handled = sigsys_bad = 0;
	bench_sw_begin(0);
	t0 = now_ns();
	left = bench_loop_local(n);
	*ns = now_ns() - t0;
	bench_sw_end(0);
	CHECK(left == 0 && sigsys_handled == n && !sigsys_bad,
	      "left %ld handled %ld bad %ld of %ld", left, sigsys_handled, sigsys_bad, n);
	return 0;
}

/* ---- seccomp user notification ---- */

struct notif_state {
	pid_t pid;
	int sock, listener;
};

static int send_fd(int sock, int fd)
{
	char c = 'f', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(cbuf, 0, sizeof(cbuf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The target: installs the filter, hands over the listener, loops on command. */
static void notif_target(int sock)
{
	long n, left;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = seccomp_filter(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	if (fd < 0 || send_fd(sock, fd))
		_exit(3);
	close(fd);
	while (read(sock, &n, sizeof(n)) == sizeof(n) && n > 0) {
		left = bench_loop_local(n);
		if (write(sock, &left, sizeof(left)) != sizeof(left))
			_exit(4);
	}
	_exit(0);
}

static int notif_setup(const struct row *r, void **state)
{
	struct notif_state *s = calloc(1, sizeof(*s));
	int sv[2];

	*state = s;
	s->listener = s->sock = -1;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
	s->pid = fork();
	CHECK(s->pid >= 0, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		close(sv[0]);
		notif_target(sv[1]);
	}
	close(sv[1]);
	s->sock = sv[0];
	s->listener = recv_fd(s->sock);
	CHECK(s->listener >= 0, "no listener fd from the target");
	if (r->param && ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			      SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)) {
		if (errno == EINVAL || errno == ENOTTY) {
			bench_fail("no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP in this kernel (6.6+)");
			return 1;
		}
		FAILF("SECCOMP_IOCTL_NOTIF_SET_FLAGS: %s", strerror(errno));
	}
	return 0;
}

static int notif_run(const struct row *r, void *state, long n, double *ns)
{
	struct notif_state *s = state;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	double t0;
	long i, left = -1;

	(void)r;
	bench_sw_begin(s->pid);
	t0 = now_ns();
	CHECK(write(s->sock, &n, sizeof(n)) == sizeof(n), "write: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		memset(&req, 0, sizeof(req));
		CHECK(ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0,
		      "op %ld: NOTIF_RECV: %s", i, strerror(errno));
		CHECK(req.data.nr == NR_TRAPPED && req.pid == (__u32)s->pid,
		      "op %ld: nr %d pid %u", i, req.data.nr, req.pid);
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.val = RET_TRAPPED;
		CHECK(ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0,
		      "op %ld: NOTIF_SEND: %s", i, strerror(errno));
	}
	CHECK(read(s->sock, &left, sizeof(left)) == sizeof(left), "read: %s", strerror(errno));
	*ns = now_ns() - t0;
	bench_sw_end(s->pid);
	CHECK(left == 0, "target saw %ld calls not returning %d", left, RET_TRAPPED);
	return 0;
}

static void notif_teardown(const struct row *r, void *state)
{
	struct notif_state *s = state;

	(void)r;
	if (!s)
		return;
	if (s->pid > 0)
		kill_wait(s->pid);
	if (s->sock >= 0)
		close(s->sock);
	if (s->listener >= 0)
		close(s->listener);
	free(s);
}

/* ---- the floor, and the cost of an ioctl into the module ---- */

static int getppid_run(const struct row *r, void *state, long n, double *ns)
{
	long ppid = getppid(), left;
	double t0;

	(void)r;
	(void)state;
	bench_sw_begin(0);
	t0 = now_ns();
	left = bench_getppid_loop(n, ppid);
	*ns = now_ns() - t0;
	bench_sw_end(0);
	CHECK(left == 0, "getppid() did not return %ld (%ld calls left)", ppid, left);
	return 0;
}

static int ioctl_setup(const struct row *r, void **state)
{
	int fd = vmexec_open();

	(void)r;
	CHECK(fd >= 0, "vmexec_open: %s", strerror(-fd));
	*state = (void *)(long)fd;
	return 0;
}

static int ioctl_run(const struct row *r, void *state, long n, double *ns)
{
	int fd = (int)(long)state;
	double t0;
	long i;

	(void)r;
	bench_sw_begin(0);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		CHECK(ioctl(fd, VMEXEC_IOC_API_VERSION, 0) == VMEXEC_API_VERSION,
		      "API_VERSION ioctl: %s", strerror(errno));
	*ns = now_ns() - t0;
	bench_sw_end(0);
	return 0;
}

static void ioctl_teardown(const struct row *r, void *state)
{
	(void)r;
	close((int)(long)state);
}

/*
 * ---- RUN ioctls the module refuses before entering the guest ----
 *
 * Decomposition of A1: the RUN path up to a chosen step, with the errno
 * checked every time. The struct is A1's, which the module accepts as it is
 * (setup runs it once on a file bound to ourselves); each variant spoils it
 * at one step:
 *   REJ_SIZE     size 8: EINVAL from vmexec_copy_args() after get_user() of
 *                the size, before anything else is copied;
 *   REJ_FLAGS    flags 1: EINVAL at the first check after the copy-in of the
 *                whole struct (copy_struct_from_user());
 *   REJ_UNBOUND  nothing spoilt, but the file is not bound: EINVAL from
 *                vmexec_get_bound_mm(), after the copy-in, every argument
 *                check, the caller checks and the held-signal lookup.
 */
enum { REJ_SIZE, REJ_FLAGS, REJ_UNBOUND };

struct rej_state {
	int fd;
	struct vmexec_run run;
};

static int rej_setup(const struct row *r, void **state)
{
	struct rej_state *s = calloc(1, sizeof(*s));
	struct vmexec_run probe;
	int self, ret;

	*state = s;
	CHECK(s, "calloc");
	s->fd = -1;
	vmexec_run_prep(&s->run, (__u64)(uintptr_t)bench_remote_loop, GUEST_SP);
	s->run.regs.r12 = 1;
	self = vmexec_open();
	CHECK(self >= 0, "vmexec_open: %s", strerror(-self));
	s->fd = self;
	ret = vmexec_bind_pid(self, getpid());
	CHECK(ret == 0, "vmexec_bind_pid(self): %s", strerror(-ret));
	/* The unspoilt struct runs the guest to its first syscall(123). */
	probe = s->run;
	ret = vmexec_run(self, &probe);
	CHECK(ret == 0 && probe.exit_reason == VMEXEC_EXIT_SYSCALL &&
	      probe.exit.syscall.nr == NR_TRAPPED && probe.regs.r12 == 1,
	      "probe RUN: ret %d exit %u nr %llu", ret, probe.exit_reason,
	      (unsigned long long)probe.exit.syscall.nr);
	switch (r->param) {
	case REJ_SIZE:
		s->run.size = 8;
		break;
	case REJ_FLAGS:
		s->run.flags = 1;
		break;
	case REJ_UNBOUND:
		close(self);
		s->fd = vmexec_open();
		CHECK(s->fd >= 0, "vmexec_open: %s", strerror(-s->fd));
		break;
	}
	return 0;
}

static int rej_run(const struct row *r, void *state, long n, double *ns)
{
	struct rej_state *s = state;
	struct vmexec_stats st0;
	double t0;
	long i;

	(void)r;
	if (stats_read(s->fd, &st0))
		return -1;
	bench_sw_begin(0);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		CHECK(ioctl(s->fd, VMEXEC_IOC_RUN, &s->run) == -1 && errno == EINVAL,
		      "RUN %ld: not refused with EINVAL (%s)", i, strerror(errno));
	*ns = now_ns() - t0;
	bench_sw_end(0);
	/* No guest ran. */
	return stats_check(s->fd, &st0, 0, 0);
}

static void rej_teardown(const struct row *r, void *state)
{
	struct rej_state *s = state;

	(void)r;
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/* ---- WRPKRU in user space: what one qemu TCG soft-TLB flush costs ---- */

static unsigned int rdpkru(void)
{
	unsigned int eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static void wrpkru(unsigned int v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static int pkru_setup(const struct row *r, void **state)
{
	unsigned int a, b, c, d;

	(void)r;
	(void)state;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(c & (1U << 4))) {
		bench_fail("no OSPKE: WRPKRU not usable");
		return 1;
	}
	return 0;
}

static int pkru_run(const struct row *r, void *state, long n, double *ns)
{
	unsigned int v = rdpkru();
	double t0;
	long i;

	(void)r;
	(void)state;
	bench_sw_begin(0);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		wrpkru(v);
	*ns = now_ns() - t0;
	bench_sw_end(0);
	CHECK(rdpkru() == v, "PKRU changed");
	return 0;
}

/* ---- XSAVE + XRSTOR in user space: what qemu's emulation of the pair costs ---- */

static char xsave_buf[16384] __attribute__((aligned(64)));

static int xsave_setup(const struct row *r, void **state)
{
	unsigned int a, b, c, d;

	(void)r;
	(void)state;
	if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c & (1U << 27)))
		FAILF("no OSXSAVE");
	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d) || b > sizeof(xsave_buf))
		FAILF("XSAVE area of %u bytes", b);
	return 0;
}

static int xsave_run(const struct row *r, void *state, long n, double *ns)
{
	unsigned int lo, hi;
	double t0;
	long i;

	(void)r;
	(void)state;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	bench_sw_begin(0);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		__asm__ volatile("xsave64 %0" : "+m"(xsave_buf) : "a"(lo), "d"(hi));
		__asm__ volatile("xrstor64 %0" : : "m"(xsave_buf), "a"(lo), "d"(hi));
	}
	*ns = now_ns() - t0;
	bench_sw_end(0);
	/* XSTATE_BV in the header: at least x87 and SSE were saved. */
	CHECK(((unsigned char)xsave_buf[512] & 3) != 0 || lo, "XSAVE header empty");
	return 0;
}

/*
 * ---- Optional (-s t): instructions per function of the A1 round trip ----
 *
 * The guest's function_graph tracer, one function at a time: set_ftrace_filter
 * and set_graph_function name only that function and max_graph_depth is 1,
 * so nothing it calls is hooked and its duration (trace clock "local",
 * sched_clock, which under ICOUNT=1 advances one ns per instruction) is its
 * whole subtree plus the tracer's own entry and exit. vmexec_current_guest()
 * (a handful of instructions, once per round trip) measures that overhead.
 * Printed to the console only; not in the CSV.
 */
#define TRACEFS		"/sys/kernel/tracing/"
#define TRACE_OPS	200

static int tracefs_write(const char *file, const char *val)
{
	char path[128];
	int fd, ret = 0;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	if (write(fd, val, len) != (ssize_t)len)
		ret = -1;
	if (close(fd))
		ret = -1;
	return ret;
}

/* A1's loop, n round trips, on a bound stub; 0 if every one was right. */
static int trace_a1_loop(struct stub *st, long n)
{
	struct vmexec_run run;
	long i;
	int ret;

	vmexec_run_prep(&run, (__u64)(uintptr_t)bench_remote_loop, GUEST_SP);
	run.regs.r12 = n;
	for (i = 0; i < n; i++) {
		ret = vmexec_run(st->fd, &run);
		if (ret || run.exit_reason != VMEXEC_EXIT_SYSCALL ||
		    run.exit.syscall.nr != NR_TRAPPED || run.regs.r12 != (__u64)(n - i))
			return -1;
		vmexec_run_set_return(&run, RET_TRAPPED);
	}
	ret = vmexec_run(st->fd, &run);
	return (ret || run.exit.syscall.nr != 60 || run.exit.syscall.args[0]) ? -1 : 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* Durations (ns) of "fn();" lines in the trace, at most max of them. */
static int trace_durations(const char *fn, long *d, int max)
{
	char line[512], want[80];
	FILE *f = fopen(TRACEFS "trace", "r");
	int n = 0;

	if (!f)
		return -1;
	/* "fn();", or "fn [module]();" for a module's function. */
	snprintf(want, sizeof(want), " %s", fn);
	while (fgets(line, sizeof(line), f) && n < max) {
		char *bar = strchr(line, '|'), *us, *p, *name;
		long whole, frac;

		if (line[0] == '#' || !bar || !(name = strstr(bar, want)))
			continue;
		name += strlen(want);
		if (strncmp(name, "();", 3) && strncmp(name, " [", 2))
			continue;
		us = strstr(line, " us ");
		if (!us || us > bar)
			continue;
		/* "  0)   1.234 us    |": back to the start of the number. */
		p = us;
		while (p > line && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9')))
			p--;
		if (sscanf(p, "%ld.%ld", &whole, &frac) != 2)
			continue;
		d[n++] = whole * 1000 + frac;
	}
	fclose(f);
	return n;
}

static void trace_one(struct stub *st, const char *fn, long *calib)
{
	static long d[8 * TRACE_OPS];
	int n;

	tracefs_write("current_tracer", "nop");
	tracefs_write("trace", "");
	if (tracefs_write("set_ftrace_filter", fn) || tracefs_write("set_graph_function", fn)) {
		printf("  trace %-34s not traceable here (inlined or not in this kernel)\n", fn);
		return;
	}
	if (tracefs_write("max_graph_depth", "1") || tracefs_write("trace_clock", "local") ||
	    tracefs_write("current_tracer", "function_graph") || tracefs_write("tracing_on", "1")) {
		printf("  trace %-34s cannot start function_graph: %s\n", fn, strerror(errno));
		return;
	}
	if (trace_a1_loop(st, TRACE_OPS)) {
		tracefs_write("tracing_on", "0");
		printf("  trace %-34s FAIL: the RUN loop went wrong\n", fn);
		return;
	}
	tracefs_write("tracing_on", "0");
	n = trace_durations(fn, d, sizeof(d) / sizeof(d[0]));
	tracefs_write("current_tracer", "nop");
	if (n <= 0) {
		printf("  trace %-34s no calls recorded\n", fn);
		return;
	}
	qsort(d, n, sizeof(d[0]), cmp_long);
	/* The first function traced is the calibration. */
	if (*calib < 0)
		*calib = d[n / 2];
	printf("  trace %-34s %5.2f calls/round trip, median %6ld min %6ld max %6ld ns/call, "
	       "median - calibration %6ld\n", fn, (double)n / (TRACE_OPS + 1), d[n / 2], d[0],
	       d[n - 1], d[n / 2] - *calib);
}

void section_a_trace(void)
{
	static const char *const fns[] = {
		"vmexec_current_guest",		/* calibration: a few instructions */
		"vmexec_ioctl",
		"vmexec_ioctl_run",
		"vmexec_copy_args",
		"vmexec_report_held_signal",
		"vmexec_get_bound_mm",
		"fpu_copy_uabi_to_guest_fpstate",
		"vmexec_enter_guest",
		"vmexec_audit_close_ioctl",
		"vmexec_mm_enter",
		"fpu_swap_kvm_fpstate",
		"vmexec_guest_syscall",
		"vmexec_guest_leave",
		"vmexec_mm_leave",
		"vmexec_hold_pending_signals",
		"vmexec_guest_report",
		"vmexec_guest_put",
		"_copy_from_user",
		"_copy_to_user",
		"fput",
	};
	struct stub st;
	unsigned int i;
	long calib = -1;

	printf("vmexec-bench: A1 per function (function_graph, max_graph_depth 1, %d round trips each)\n",
	       TRACE_OPS);
	if (access(TRACEFS "current_tracer", W_OK) &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		printf("  trace: no tracefs: %s\n", strerror(errno));
		return;
	}
	if (pin_to_cpu(0, 0) || stub_start(&st)) {
		printf("  trace: setup failed\n");
		return;
	}
	/* Warm: the guest pool, the page tables. */
	if (trace_a1_loop(&st, TRACE_OPS))
		printf("  trace: warm-up RUN loop failed\n");
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		trace_one(&st, fns[i], &calib);
	tracefs_write("set_ftrace_filter", "");
	tracefs_write("set_graph_function", "");
	tracefs_write("max_graph_depth", "0");
	stub_stop(&st);
}

static const struct row rows_a[] = {
	{ "A", "A1", "vmexec RUN (guest in a stopped stub's mm)", "A1", 10000, 1000, 0,
	  PIN_CPU0, vm_setup, vm_run, vm_teardown, "2 mm switches per round trip", V_STUB },
	{ "A", "A2", "vmexec RUN + xstate buffer (XSAVE image in and out)", "A1", 10000, 1000, 0,
	  PIN_CPU0, vm_setup, vm_run, vm_teardown, NULL, V_XSTATE },
	{ "A", "A3", "vmexec RUN bound to the caller itself (switch-free)", "A1", 10000, 1000, 0,
	  PIN_CPU0, vm_setup, vm_run, vm_teardown, "no mm switch: no CR3 load", V_SELF },
	{ "A", "A4", "PTRACE_SYSEMU + GETREGS/SETREGS (the patch's baseline)", "A1", 10000, 1000, 0,
	  PIN_CPU0, NULL, sysemu_regs_run, NULL, NULL, 0 },
	{ "A", "A5", "PTRACE_SYSEMU + GET/SETREGSET PRSTATUS+X86_XSTATE", "A1", 10000, 1000, 0,
	  PIN_CPU0, NULL, sysemu_regset_run, NULL, "gVisor ptrace / UML shape", 0 },
	{ "A", "A6", "Syscall User Dispatch, in-process SIGSYS handler", "A1", 10000, 1000, 0,
	  PIN_CPU0, sud_setup, sud_run, NULL, "no address-space crossing", 0 },
	{ "A", "A7", "seccomp RET_TRAP, in-process SIGSYS handler", "A1", 10000, 1000, 0,
	  PIN_CPU0, trap_setup, trap_run, NULL, "no address-space crossing", 0 },
	{ "A", "A8", "seccomp user notification (RECV/SEND)", "A1", 10000, 1000, 0,
	  PIN_CPU0, notif_setup, notif_run, notif_teardown, NULL, 0 },
	{ "A", "A9", "seccomp user notification + SYNC_WAKE_UP", "A1", 10000, 1000, 0,
	  PIN_CPU0, notif_setup, notif_run, notif_teardown, "6.6+", 1 },
	{ "A", "A10", "native getppid() (the floor)", "A1", 100000, 10000, 0,
	  PIN_CPU0, NULL, getppid_run, NULL, NULL, 0 },
	{ "A", "A11", "empty ioctl on /dev/vmexec (API_VERSION)", "A1", 100000, 10000, 0,
	  PIN_CPU0, ioctl_setup, ioctl_run, ioctl_teardown, "decomposition", 0 },
	{ "A", "A12", "WRPKRU in user space, unchanged value", "A1", 10000, 1000, 0,
	  PIN_CPU0, pkru_setup, pkru_run, NULL,
	  "decomposition: qemu TCG flushes its soft TLB on every WRPKRU", 0 },
	{ "A", "A13", "XSAVE + XRSTOR of all XCR0 features, in user space", "A1", 10000, 1000, 0,
	  PIN_CPU0, xsave_setup, xsave_run, NULL,
	  "decomposition: a RUN round trip swaps the FPU state twice", 0 },
	{ "A", "A14", "RUN refused at its size field (EINVAL before copy-in)", "A1", 100000, 10000,
	  0, PIN_CPU0, rej_setup, rej_run, rej_teardown, "decomposition: size 8", REJ_SIZE },
	{ "A", "A15", "RUN refused after copy-in, at its first check (EINVAL)", "A1", 100000,
	  10000, 0, PIN_CPU0, rej_setup, rej_run, rej_teardown, "decomposition: flags 1",
	  REJ_FLAGS },
	{ "A", "A16", "RUN refused after every check: file not bound (EINVAL)", "A1", 100000,
	  10000, 0, PIN_CPU0, rej_setup, rej_run, rej_teardown,
	  "decomposition: A1's valid struct, unbound file", REJ_UNBOUND },
	{ "A", "A17", "vmexec RUN bound to the caller itself + xstate buffer", "A1", 10000, 1000,
	  0, PIN_CPU0, vm_setup, vm_run, vm_teardown, "decomposition: A2 without mm switches",
	  V_SELF | V_XSTATE },
	{ "A", "A18", "vmexec CONTEXT_RUN (stub's mm, mapped run area)", "A1", 10000, 1000, 0,
	  PIN_CPU0, vm_setup, vm_context_run, vm_teardown,
	  "A1 without copies or FPU image load", V_STUB | V_CONTEXT },
	{ "A", "A19", "vmexec CONTEXT_RUN bound to the caller itself", "A1", 10000, 1000, 0,
	  PIN_CPU0, vm_setup, vm_context_run, vm_teardown, "A3 through a context",
	  V_SELF | V_CONTEXT },
};

void section_a(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_a) / sizeof(rows_a[0]); i++)
		bench_measure(&rows_a[i]);
	bench_derived("A", "A-cr3", "(A1 - A3) / 2: one mm switch incl. its CR3 load", "A1", "A3",
		      0.5, "under TCG each CR3 load flushes qemu's soft TLB");
	/* The A1 round trip in parts (bench/README.md, "Breakdown"). */
	bench_derived_sum("A", "A-ioctl", "A11 - A10: fd lookup and vfs ioctl dispatch",
			  "A11 - A10", "decomposition");
	bench_derived_sum("A", "A-size", "A14 - A11: RUN's case and get_user() of its size",
			  "A14 - A11", "decomposition");
	bench_derived_sum("A", "A-copyin", "A15 - A14: copy-in of struct vmexec_run",
			  "A15 - A14", "decomposition: copy_struct_from_user()");
	bench_derived_sum("A", "A-checks", "A16 - A15: argument and caller checks",
			  "A16 - A15", "decomposition: incl. the held-signal lookup");
	bench_derived_sum("A", "A-run", "A3 - A16 - A10: guest entry and exit, switch-free",
			  "A3 - A16 - A10",
			  "decomposition: hook, state swaps, FPU, exit copy-out (A10: the guest's "
			  "own syscall entry)");
	bench_derived_sum("A", "A-xstate", "A2 - A1: the xstate buffer, in and out", "A2 - A1",
			  "decomposition");
	bench_derived_sum("A", "A-xstate-self", "A17 - A3: the same without mm switches",
			  "A17 - A3", "decomposition");
	bench_derived_sum("A", "A-context", "A1 - A18: what a context saves per round trip",
			  "A1 - A18", "copy-in, copy-out and the clean FPU image load");
	bench_derived_sum("A", "A-context-self", "A3 - A19: the same without mm switches",
			  "A3 - A19", "decomposition");
}
