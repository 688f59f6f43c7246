// SPDX-License-Identifier: GPL-2.0
/*
 * C. A remote system call pair (mmap + munmap of one page at a fixed
 * address) in a target that keeps running in user space on another CPU:
 * CRIU's case. vmexec does it with one VMEXEC_IOC_SYSCALLS batch; ptrace
 * has to stop the target and borrow one of its threads, and put back
 * everything it touched.
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE	0x202
#endif
#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK	0x420a
#define PTRACE_SETSIGMASK	0x420b
#endif

#define REMOTE_ADDR	0x7e3000000000UL
#define MAP_FLAGS	(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)

struct target {
	pid_t pid;
	volatile unsigned long *counter;	/* shared page: the target's progress */
	int fd;					/* vmexec, bound (C1) */
	unsigned long before;
};

static int target_setup(const struct row *r, void **state)
{
	struct target *t = calloc(1, sizeof(*t));
	int ret;

	*state = t;
	t->fd = -1;
	t->counter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(t->counter != MAP_FAILED, "mmap: %s", strerror(errno));
	t->pid = busy_child(t->counter, other_cpu());
	CHECK(t->pid > 0, "fork: %s", strerror(errno));
	while (*t->counter == 0)
		usleep(1000);
	if (r->param == 1) {
		t->fd = vmexec_open();
		CHECK(t->fd >= 0, "vmexec_open: %s", strerror(-t->fd));
		ret = vmexec_bind_pid(t->fd, t->pid);
		CHECK(ret == 0, "bind: %s", strerror(-ret));
	}
	return 0;
}

static int batch(int fd, long i);

/* Control: the same batch in a stopped stub (nothing runs on its mm). */
static int stub_setup(const struct row *r, void **state)
{
	struct stub *s = calloc(1, sizeof(*s));

	(void)r;
	*state = s;
	return stub_start(s);
}

static int stub_run(const struct row *r, void *state, long n, double *ns)
{
	struct stub *s = state;
	double t0;
	long i;

	(void)r;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (batch(s->fd, i))
			return -1;
	*ns = now_ns() - t0;
	return 0;
}

static void stub_teardown(const struct row *r, void *state)
{
	(void)r;
	if (state)
		stub_stop(state);
	free(state);
}

static void target_teardown(const struct row *r, void *state)
{
	struct target *t = state;

	(void)r;
	if (!t)
		return;
	if (t->pid > 0)
		kill_wait(t->pid);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

/* The target ran on while we worked on it. */
static int still_running(struct target *t, unsigned long before)
{
	unsigned long c = *t->counter;
	int i;

	for (i = 0; i < 1000 && c == before; i++) {
		usleep(1000);
		c = *t->counter;
	}
	CHECK(c != before, "the target stopped running");
	return 0;
}

static int batch(int fd, long i)
{
	struct vmexec_syscall sc[2];
	int ret;

	vmexec_prep_syscall(&sc[0], SYS_mmap, REMOTE_ADDR, PAGE, PROT_READ | PROT_WRITE,
			    MAP_FLAGS, -1, 0);
	vmexec_prep_syscall(&sc[1], SYS_munmap, REMOTE_ADDR, PAGE, 0, 0, 0, 0);
	ret = vmexec_syscalls(fd, sc, 2, VMEXEC_SYSCALLS_STOP_ON_ERROR);
	CHECK(ret == 2 && sc[0].ret == (long)REMOTE_ADDR && sc[1].ret == 0,
	      "op %ld: SYSCALLS %d: mmap %lld munmap %lld", i, ret, (long long)sc[0].ret,
	      (long long)sc[1].ret);
	return 0;
}

/* C1: one VMEXEC_IOC_SYSCALLS batch on a bound descriptor. */
static int vm_run(const struct row *r, void *state, long n, double *ns)
{
	struct target *t = state;
	unsigned long before = *t->counter;
	double t0;
	long i;

	(void)r;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (batch(t->fd, i))
			return -1;
	*ns = now_ns() - t0;
	return still_running(t, before);
}

/* C2: the same from nothing: open, pidfd_open, BIND, SYSCALLS, close. */
static int vm_cold_run(const struct row *r, void *state, long n, double *ns)
{
	struct target *t = state;
	unsigned long before = *t->counter;
	double t0;
	long i;
	int fd, ret;

	(void)r;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		fd = vmexec_open();
		CHECK(fd >= 0, "vmexec_open: %s", strerror(-fd));
		ret = vmexec_bind_pid(fd, t->pid);
		CHECK(ret == 0, "bind: %s", strerror(-ret));
		ret = batch(fd, i);
		close(fd);
		if (ret)
			return -1;
	}
	*ns = now_ns() - t0;
	return still_running(t, before);
}

/* First executable mapping of the target, from /proc/PID/maps (CRIU's way). */
static unsigned long exec_start(pid_t pid)
{
	char path[64], buf[4096];
	unsigned long start, end;
	char perms[8];
	ssize_t len;
	char *line;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = 0;
	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 && perms[2] == 'x')
			return start;
	return 0;
}

static char saved_x[16384] __attribute__((aligned(64)));

/* Run one syscall in the stopped tracee at ip (which holds syscall; int3). */
static int inject(pid_t pid, const struct user_regs_struct *base, unsigned long ip, long nr,
		  long a0, long a1, long a2, long a3, long a4, long a5, long *ret)
{
	struct user_regs_struct regs = *base;
	struct iovec iov = { &regs, sizeof(regs) };
	int st = 0;

	regs.rip = ip;
	regs.orig_rax = -1;
	regs.rax = nr;
	regs.rdi = a0;
	regs.rsi = a1;
	regs.rdx = a2;
	regs.r10 = a3;
	regs.r8 = a4;
	regs.r9 = a5;
	CHECK(ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov) == 0 &&
	      ptrace(PTRACE_CONT, pid, 0, 0) == 0, "SETREGSET/CONT: %s", strerror(errno));
	CHECK(wait_stopped(pid, &st) == 0 && WSTOPSIG(st) == SIGTRAP,
	      "no SIGTRAP after the injected syscall (status %#x)", st);
	CHECK(ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov) == 0, "GETREGSET: %s",
	      strerror(errno));
	CHECK(regs.rip == ip + 3, "stopped at %#llx, not after the gadget", regs.rip);
	*ret = regs.rax;
	return 0;
}

/*
 * C3: ptrace injection done the way CRIU's compel must do it: seize,
 * interrupt, save registers, FPU state and signal mask, find an executable
 * page and poke "syscall; int3" over its first bytes, block all signals,
 * run each syscall to the int3, then put the code, the registers, the FPU
 * state and the signal mask back and detach.
 */
static int ptrace_op(pid_t pid, long i)
{
	struct user_regs_struct regs;
	struct iovec riov = { &regs, sizeof(regs) }, xiov = { saved_x, sizeof(saved_x) };
	unsigned long ip, orig, gadget, sigmask, all = ~0UL;
	long ret;
	int st = 0;

	CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0) == 0, "op %ld: SEIZE: %s", i, strerror(errno));
	CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0, "INTERRUPT: %s", strerror(errno));
	CHECK(wait_stopped(pid, &st) == 0 && (st >> 16) == PTRACE_EVENT_STOP,
	      "op %ld: no interrupt stop (status %#x)", i, st);
	CHECK(ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &riov) == 0 &&
	      ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &xiov) == 0 &&
	      ptrace(PTRACE_GETSIGMASK, pid, sizeof(sigmask), &sigmask) == 0,
	      "saving state: %s", strerror(errno));
	ip = exec_start(pid);
	CHECK(ip, "no executable mapping in /proc/%d/maps", pid);
	errno = 0;
	orig = ptrace(PTRACE_PEEKDATA, pid, ip, 0);
	CHECK(errno == 0, "PEEKDATA: %s", strerror(errno));
	gadget = (orig & ~0xffffffUL) | 0xcc050fUL;	/* 0f 05: syscall, cc: int3 */
	CHECK(ptrace(PTRACE_POKEDATA, pid, ip, gadget) == 0 &&
	      ptrace(PTRACE_SETSIGMASK, pid, sizeof(all), &all) == 0,
	      "poke/SETSIGMASK: %s", strerror(errno));

	if (inject(pid, &regs, ip, SYS_mmap, REMOTE_ADDR, PAGE, PROT_READ | PROT_WRITE, MAP_FLAGS,
		   -1, 0, &ret))
		return -1;
	CHECK(ret == (long)REMOTE_ADDR, "op %ld: injected mmap returned %ld", i, ret);
	if (inject(pid, &regs, ip, SYS_munmap, REMOTE_ADDR, PAGE, 0, 0, 0, 0, &ret))
		return -1;
	CHECK(ret == 0, "op %ld: injected munmap returned %ld", i, ret);

	CHECK(ptrace(PTRACE_POKEDATA, pid, ip, orig) == 0 &&
	      ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &riov) == 0 &&
	      ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &xiov) == 0 &&
	      ptrace(PTRACE_SETSIGMASK, pid, sizeof(sigmask), &sigmask) == 0 &&
	      ptrace(PTRACE_DETACH, pid, 0, 0) == 0, "restore/detach: %s", strerror(errno));
	return 0;
}

static int ptrace_run(const struct row *r, void *state, long n, double *ns)
{
	struct target *t = state;
	unsigned long before = *t->counter;
	double t0;
	long i;

	(void)r;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (ptrace_op(t->pid, i))
			return -1;
	*ns = now_ns() - t0;
	return still_running(t, before);
}

static const struct row rows_c[] = {
	{ "C", "C1", "vmexec SYSCALLS: one batch [mmap, munmap], bound fd", "C1", 10000, 1000, 0,
	  PIN_CPU0, target_setup, vm_run, target_teardown,
	  "target runs on the other CPU", 1 },
	{ "C", "C2", "vmexec cold: open + pidfd_open + BIND + batch + close", "C1", 10000, 1000, 0,
	  PIN_CPU0, target_setup, vm_cold_run, target_teardown, NULL, 0 },
	{ "C", "C3", "ptrace injection, CRIU-style, seize to detach", "C1", 2000, 200, 0,
	  PIN_CPU0, target_setup, ptrace_run, target_teardown,
	  "SEIZE, INTERRUPT, save regs+xstate+sigmask, maps, PEEK/POKE, "
	  "2x(SETREGSET, CONT, wait, GETREGSET), restore all, DETACH", 0 },
	{ "C", "C4", "control: C1's batch in a stopped stub (no running target)", "C1", 10000,
	  1000, 0, PIN_CPU0, stub_setup, stub_run, stub_teardown, NULL, 0 },
};

void section_c(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_c) / sizeof(rows_c[0]); i++)
		bench_measure(&rows_c[i]);
}
