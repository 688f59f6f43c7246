// SPDX-License-Identifier: GPL-2.0
/*
 * B. Fault round trip: the guest writes to n consecutive unmapped pages;
 * at each fault the supervisor maps the page (mmap MAP_FIXED_NOREPLACE in
 * the guest's address space) and lets the guest retry the write.
 */
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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

#define FAULT_BASE	0x7e2000000000UL	/* nothing of ours is mapped there */
#define MAP_FLAGS	(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)

/* Page i holds n - i after a complete run: check the first and the last. */
static int check_pages(pid_t pid, long n)
{
	unsigned long first = 0, last = 0;
	struct iovec l[2] = { { &first, 8 }, { &last, 8 } };
	struct iovec rv[2] = { { (void *)FAULT_BASE, 8 },
			       { (void *)(FAULT_BASE + (n - 1) * PAGE), 8 } };

	CHECK(process_vm_readv(pid, l, 2, rv, 2, 0) == 16, "process_vm_readv: %s",
	      strerror(errno));
	CHECK(first == (unsigned long)n && last == 1, "pages hold %lu and %lu, not %ld and 1",
	      first, last, n);
	return 0;
}

/* ---- vmexec: RUN exit on SIGSEGV, SYSCALLS mmap, RUN again ---- */

static int vm_setup(const struct row *r, void **state)
{
	struct stub *s = calloc(1, sizeof(*s));

	(void)r;
	*state = s;
	return stub_start(s);
}

static int vm_run(const struct row *r, void *state, long n, double *ns)
{
	struct stub *s = state;
	struct vmexec_run run;
	__u64 addr, err;
	long i, ret;
	double t0;
	int rc;

	(void)r;
	/* Untimed: the region is unmapped (a no-op on the first run). */
	rc = vmexec_syscall(s->fd, &ret, SYS_munmap, FAULT_BASE, n * PAGE, 0, 0, 0, 0);
	CHECK(rc == 0 && ret == 0, "munmap: %d %ld", rc, ret);
	vmexec_run_prep(&run, (__u64)(uintptr_t)bench_fault_loop, 0);
	run.regs.rbx = FAULT_BASE;
	run.regs.r12 = n;
	run.sigmask = 1ULL << (SIGSEGV - 1);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		rc = vmexec_run(s->fd, &run);
		CHECK(rc == 0, "RUN %ld: %s", i, strerror(-rc));
		CHECK(vmexec_run_fault(&run, &addr, &err, NULL) == SIGSEGV &&
		      addr == FAULT_BASE + i * PAGE && (err & 2),
		      "op %ld: exit %u signo %d addr %#llx err %#llx", i, run.exit_reason,
		      run.exit.signal.signo, (unsigned long long)run.exit.signal.addr,
		      (unsigned long long)run.exit.signal.error_code);
		rc = vmexec_syscall(s->fd, &ret, SYS_mmap, addr, PAGE, PROT_READ | PROT_WRITE,
				    MAP_FLAGS, -1, 0);
		CHECK(rc == 0 && ret == (long)addr, "op %ld: mmap: %d %ld", i, rc, ret);
	}
	rc = vmexec_run(s->fd, &run);
	*ns = now_ns() - t0;
	CHECK(rc == 0 && run.exit_reason == VMEXEC_EXIT_SYSCALL && run.exit.syscall.nr == 60 &&
	      run.exit.syscall.args[0] == 0, "last RUN: %d exit %u nr %llu", rc, run.exit_reason,
	      (unsigned long long)run.exit.syscall.nr);
	return check_pages(s->pid, n);
}

static void vm_teardown(const struct row *r, void *state)
{
	(void)r;
	if (state)
		stub_stop(state);
	free(state);
}

/* ---- ptrace: SIGSEGV stop, injected mmap (syscall; int3 gadget), resume ---- */

static int ptrace_run(const struct row *r, void *state, long n, double *ns)
{
	struct user_regs_struct saved, regs;
	siginfo_t si;
	double t0;
	pid_t pid;
	long i;
	int st;

	(void)r;
	(void)state;
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(3);
		/* Untimed: the region is unmapped. */
		munmap((void *)FAULT_BASE, n * PAGE);
		bench_stop_then_fault(n, getpid(), (void *)FAULT_BASE);
	}
	if (wait_stopped(pid, &st) || WSTOPSIG(st) != SIGSTOP) {
		bench_fail("tracee did not stop (status %#x)", st);
		goto fail;
	}
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL);

	t0 = now_ns();
	if (ptrace(PTRACE_CONT, pid, 0, 0))
		goto fail_errno;
	for (i = 0; i < n; i++) {
		unsigned long addr = FAULT_BASE + i * PAGE;

		if (wait_stopped(pid, &st) || WSTOPSIG(st) != SIGSEGV) {
			bench_fail("op %ld: no SIGSEGV stop (status %#x)", i, st);
			goto fail;
		}
		if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) || ptrace(PTRACE_GETREGS, pid, 0, &saved))
			goto fail_errno;
		if ((unsigned long)si.si_addr != addr) {
			bench_fail("op %ld: fault at %p, not %#lx", i, si.si_addr, addr);
			goto fail;
		}
		regs = saved;
		regs.rip = (unsigned long)bench_syscall_int3;
		regs.orig_rax = -1;
		regs.rax = SYS_mmap;
		regs.rdi = addr;
		regs.rsi = PAGE;
		regs.rdx = PROT_READ | PROT_WRITE;
		regs.r10 = MAP_FLAGS;
		regs.r8 = -1;
		regs.r9 = 0;
		if (ptrace(PTRACE_SETREGS, pid, 0, &regs) || ptrace(PTRACE_CONT, pid, 0, 0))
			goto fail_errno;
		if (wait_stopped(pid, &st) || WSTOPSIG(st) != SIGTRAP) {
			bench_fail("op %ld: no SIGTRAP after the injected mmap (status %#x)", i, st);
			goto fail;
		}
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs))
			goto fail_errno;
		if (regs.rax != addr) {
			bench_fail("op %ld: injected mmap returned %#llx", i, regs.rax);
			goto fail;
		}
		/* Back to the faulting write; the SIGSEGV is discarded. */
		if (ptrace(PTRACE_SETREGS, pid, 0, &saved) ||
		    ptrace(i == n - 1 ? PTRACE_SYSCALL : PTRACE_CONT, pid, 0, 0))
			goto fail_errno;
	}
	/* Stopped at the entry of the guest's final syscall 60. */
	if (wait_stopped(pid, &st) || WSTOPSIG(st) != SIGTRAP ||
	    ptrace(PTRACE_GETREGS, pid, 0, &regs))
		goto fail_errno;
	*ns = now_ns() - t0;
	if (regs.orig_rax != 60 || regs.rdi != 0) {
		bench_fail("last stop: orig_rax %llu left %llu", regs.orig_rax, regs.rdi);
		goto fail;
	}
	if (check_pages(pid, n))
		goto fail;
	kill_wait(pid);
	return 0;
fail_errno:
	bench_fail("ptrace/wait failed (status %#x): %s", st, strerror(errno));
fail:
	kill_wait(pid);
	return -1;
}

static const struct row rows_b[] = {
	{ "B", "B1", "vmexec: RUN exit (SIGSEGV) + SYSCALLS mmap + RUN", "B1", 10000, 1000, 0,
	  PIN_CPU0, vm_setup, vm_run, vm_teardown, NULL, 0 },
	{ "B", "B2", "ptrace: SIGSEGV stop + injected mmap + resume", "B1", 10000, 1000, 0,
	  PIN_CPU0, NULL, ptrace_run, NULL, "GETSIGINFO, GETREGS, SETREGS, CONT to syscall;int3, "
	  "wait, GETREGS, SETREGS, CONT", 0 },
};

void section_b(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_b) / sizeof(rows_b[0]); i++)
		bench_measure(&rows_b[i]);
}
