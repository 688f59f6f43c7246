// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_IOC_RUN: guest code in a stub's address space, exits on syscalls
 * and signals, and the caller's state kept intact around every run.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libvmexec.h>
#include "helpers.h"
#include "stub.h"

/* mov $123,%eax; syscall; cmp $456,%rax; jne 1f; jmp 0b; 1: ud2 */
static const unsigned char code_loop123[] = {
	0xb8, 0x7b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x3d, 0xc8, 0x01, 0x00,
	0x00, 0x75, 0x02, 0xeb, 0xef, 0x0f, 0x0b,
};

START_TEST(test_run_selftest_loop)
{
	struct vmexec_run run;
	struct stub s;
	int i;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_loop123, sizeof(code_loop123));
	run_init(&run, CODE_ADDR);
	for (i = 0; i < 100000; i++) {
		ck_assert_int_eq(run_guest(&s, &run), 0);
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
		ck_assert_uint_eq(run.exit.syscall.nr, 123);
		ck_assert_uint_eq(run.exit.syscall.abi, VMEXEC_ABI_SYSCALL64);
		ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 7);
		ck_assert_uint_eq(run.regs.rax, 123);
		vmexec_run_set_return(&run, 456);
	}
	stub_stop(&s);
}
END_TEST

/* movabs $0xdead000,%rax; mov (%rax),%rax */
static const unsigned char code_fault[] = {
	0x48, 0xb8, 0x00, 0xd0, 0xea, 0x0d, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x8b, 0x00,
};

START_TEST(test_run_fault_reported)
{
	__u64 addr, error_code;
	struct vmexec_run run;
	struct stub s;
	__u32 trap_nr;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_fault, sizeof(code_fault));
	run_init(&run, CODE_ADDR);
	run.sigmask = 1ULL << (SIGSEGV - 1);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
	ck_assert_int_eq(run.exit.signal.code, SEGV_MAPERR);
	ck_assert_int_eq(vmexec_run_fault(&run, &addr, &error_code, &trap_nr), SIGSEGV);
	ck_assert_uint_eq(addr, 0xdead000);
	ck_assert_uint_eq(trap_nr, 14);
	ck_assert_uint_eq(error_code, 4);	/* user, read, not present */
	ck_assert_uint_eq(((siginfo_t *)run.exit.signal.siginfo)->si_signo, SIGSEGV);
	ck_assert_ptr_eq(((siginfo_t *)run.exit.signal.siginfo)->si_addr, (void *)0xdead000);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 10);
	stub_stop(&s);
}
END_TEST

/* wrfsbase %rax; wrgsbase %rbx; mov $1,%eax; syscall */
static const unsigned char code_bases[] = {
	0xf3, 0x48, 0x0f, 0xae, 0xd0, 0xf3, 0x48, 0x0f, 0xae, 0xdb,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

static __thread int tls_canary = 77;

START_TEST(test_run_fs_gs_base)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_bases, sizeof(code_bases));
	run_init(&run, CODE_ADDR);
	run.regs.fs_base = DATA_ADDR;
	run.regs.rax = DATA_ADDR + 0x100;
	run.regs.rbx = DATA_ADDR + 0x200;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.regs.fs_base, DATA_ADDR + 0x100);
	ck_assert_uint_eq(run.regs.gs_base, DATA_ADDR + 0x200);
	/* The caller's TLS (fs) still works. */
	ck_assert_int_eq(tls_canary, 77);
	errno = 0;
	ck_assert_int_eq(close(-1), -1);
	ck_assert_int_eq(errno, EBADF);
	stub_stop(&s);
}
END_TEST

/* pcmpeqd %xmm0,%xmm0; movq %xmm1,%rax; mov $2,%edi... just: syscall */
static const unsigned char code_fpu[] = {
	0x66, 0x48, 0x0f, 0x7e, 0xc8,	/* movq %xmm1,%rax */
	0x66, 0x0f, 0x76, 0xc0,		/* pcmpeqd %xmm0,%xmm0 */
	0x66, 0x0f, 0x76, 0xc9,		/* pcmpeqd %xmm1,%xmm1 */
	0x48, 0x89, 0xc7,		/* mov %rax,%rdi */
	0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov $1,%eax */
	0x0f, 0x05,			/* syscall */
};

/*
 * RUN through a raw syscall instruction with xmm0 and xmm8 loaded with
 * @pattern; returns what they hold after the ioctl returns (libc would be
 * free to clobber them around its own ioctl()).
 */
static long run_keep_xmm(int fd, struct vmexec_run *run, uint64_t pattern,
			 uint64_t *x0, uint64_t *x8)
{
	long ret;

	__asm__ volatile("movq %[p], %%xmm0\n\t"
			 "movq %[p], %%xmm8\n\t"
			 "syscall\n\t"
			 "movq %%xmm0, %[o0]\n\t"
			 "movq %%xmm8, %[o8]\n\t"
			 : "=a"(ret), [o0] "=r"(*x0), [o8] "=r"(*x8)
			 : "a"((long)SYS_ioctl), "D"((long)fd), "S"((long)VMEXEC_IOC_RUN),
			   "d"(run), [p] "r"(pattern)
			 : "rcx", "r11", "memory", "xmm0", "xmm8");
	return ret;
}

START_TEST(test_run_fpu)
{
	struct vmexec_run run;
	struct stub s;
	uint64_t pattern = 0x1122334455667788ULL, x0, x8;
	void *xs;
	int size;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_fpu, sizeof(code_fpu));
	size = vmexec_xstate_size();
	ck_assert_int_gt(size, 512);
	ck_assert_int_eq(posix_memalign(&xs, 64, size), 0);

	/* Without xstate: the guest starts clean each time. */
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_keep_xmm(s.fd, &run, pattern, &x0, &x8), 0);
	ck_assert_uint_eq(x0, pattern);
	ck_assert_uint_eq(x8, pattern);
	ck_assert_uint_eq(run.exit.syscall.args[0], 0);
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit.syscall.args[0], 0);

	/* With xstate: xmm1 set by the first run is seen by the second. */
	memset(xs, 0, size);
	run_init(&run, CODE_ADDR);
	run.xstate = (uintptr_t)xs;
	run.xstate_size = size;
	/* An all-zero image is valid XSAVE: every feature in its init state. */
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit.syscall.args[0], 0);
	run.regs.rip = CODE_ADDR;
	ck_assert_int_eq(run_keep_xmm(s.fd, &run, pattern, &x0, &x8), 0);
	ck_assert_uint_eq(run.exit.syscall.args[0], ~0ULL);
	ck_assert_uint_eq(x0, pattern);
	ck_assert_uint_eq(x8, pattern);

	run.xstate_size = size - 1;
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	free(xs);
	stub_stop(&s);
}
END_TEST

/* int $0x80 with eax=20 (getpid on i386), ebx=1..ebp=6 */
static const unsigned char code_int80[] = {
	0xb8, 0x14, 0x00, 0x00, 0x00, 0xcd, 0x80,
};

START_TEST(test_run_int80_trapped)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_int80, sizeof(code_int80));
	run_init(&run, CODE_ADDR);
	run.regs.rbx = 0x100000001ULL;
	run.regs.rcx = 2;
	run.regs.rdx = 3;
	run.regs.rsi = 4;
	run.regs.rdi = 5;
	run.regs.rbp = 6;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.abi, VMEXEC_ABI_INT80);
	ck_assert_uint_eq(run.exit.syscall.nr, 20);
	ck_assert_uint_eq(run.exit.syscall.args[0], 1);
	ck_assert_uint_eq(run.exit.syscall.args[5], 6);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 7);
	stub_stop(&s);
}
END_TEST

/* mov $231,%eax (exit_group); xor %edi,%edi; syscall */
static const unsigned char code_exit_group[] = {
	0xb8, 0xe7, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05,
};

START_TEST(test_run_syscall_not_executed)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_exit_group, sizeof(code_exit_group));
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 231);
	/* Neither we nor the stub exited. */
	ck_assert_int_eq(kill(s.pid, 0), 0);
	stub_stop(&s);
}
END_TEST

/* jmp . */
static const unsigned char code_spin[] = { 0xeb, 0xfe };

START_TEST(test_run_sigkill_caller)
{
	struct vmexec_run run;
	struct stub s;
	pid_t child;
	int status;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		run_init(&run, CODE_ADDR);
		run_guest(&s, &run);
		_exit(3);
	}
	assert_ret(stub_wait_mark(&s, WAIT_MS), 0);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	/* The stub runs on untouched: still bound and usable. */
	ck_assert_int_eq(kill(s.pid, 0), 0);
	stub_poke(&s, DATA_ADDR, "ok", 2);
	stub_stop(&s);
}
END_TEST

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_usr2 = 1;
}

START_TEST(test_run_signal_interrupts)
{
	struct vmexec_run run;
	struct stub s;
	pid_t child;
	int status;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/*
		 * A default-fatal signal kills the whole process when it is
		 * sent, before any thread sees it: a supervisor that wants a
		 * signal reported installs a handler for it.
		 */
		signal(SIGUSR1, on_usr);
		signal(SIGUSR2, on_usr);
		alarm(20);
		/* SIGUSR2 is reported, SIGUSR1 interrupts and reaches our handler. */
		run_init(&run, CODE_ADDR);
		run.sigmask = 1ULL << (SIGUSR2 - 1);
		if (run_guest(&s, &run) || run.exit_reason != VMEXEC_EXIT_SIGNAL ||
		    run.exit.signal.signo != SIGUSR2 ||
		    run.regs.rip != CODE_ADDR + MARK_SPIN_LOOP)
			_exit(10);
		/* From the start again: the parent waits for the mark. */
		run.regs.rip = CODE_ADDR;
		if (run_guest(&s, &run) || run.exit_reason != VMEXEC_EXIT_INTERRUPTED)
			_exit(11);
		if (!got_usr1 || got_usr2)
			_exit(12);
		_exit(0);
	}
	assert_ret(stub_wait_mark(&s, WAIT_MS), 0);
	stub_clear_mark(&s);
	kill(child, SIGUSR2);
	assert_ret(stub_wait_mark(&s, WAIT_MS), 0);
	kill(child, SIGUSR1);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_fault_not_in_mask_kills_caller)
{
	struct vmexec_run run;
	struct stub s;
	pid_t child;
	int status;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_fault, sizeof(code_fault));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		run_init(&run, CODE_ADDR);
		run_guest(&s, &run);
		_exit(3);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGSEGV);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_bad_input)
{
	struct vmexec_run run;
	struct stub s;
	int fd;

	fd = vmexec_open();
	ck_assert_int_ge(fd, 0);
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(ioctl(fd, VMEXEC_IOC_RUN, &run), -1);
	ck_assert_int_eq(errno, EINVAL);	/* not bound */
	close(fd);

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_spin, sizeof(code_spin));
	run_init(&run, 0xffffffff81000000UL);
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, 0x8000000000000000UL);
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.regs.rflags |= 0x20000;	/* VM */
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.regs.rflags |= 0x3000;	/* IOPL 3 */
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.regs.rflags |= 0x80000;	/* VIF */
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.regs.fs_base = 0x8000000000000000UL;	/* canonical in no paging mode */
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.sigmask = 1ULL << (SIGKILL - 1);
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.flags = 1;
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.size = sizeof(run) - 8;
	ck_assert_int_eq(run_guest(&s, &run), -EINVAL);
	run_init(&run, CODE_ADDR);
	run.xstate = 8;
	run.xstate_size = 1 << 16;
	ck_assert_int_eq(run_guest(&s, &run), -EFAULT);
	ck_assert_int_eq(ioctl(s.fd, VMEXEC_IOC_RUN, NULL), -1);
	ck_assert_int_eq(errno, EFAULT);
	stub_stop(&s);
}
END_TEST

/* hlt */
static const unsigned char code_hlt[] = { 0xf4 };

START_TEST(test_run_privileged_and_wild_jumps)
{
	struct vmexec_run run;
	struct stub s;
	static const unsigned long wild[] = { 0x1000, CODE_ADDR + 0x800000 };
	unsigned int i;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_hlt, sizeof(code_hlt));
	run_init(&run, CODE_ADDR);
	run.sigmask = 1ULL << (SIGSEGV - 1);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
	ck_assert_uint_eq(run.exit.signal.trap_nr, 13);	/* #GP */
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR);

	for (i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
		run_init(&run, wild[i]);
		run.sigmask = 1ULL << (SIGSEGV - 1);
		ck_assert_int_eq(run_guest(&s, &run), 0);
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
		ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
		ck_assert_uint_eq(run.exit.signal.addr, wild[i]);
		ck_assert_uint_eq(run.exit.signal.error_code, 0x14);	/* user, fetch */
	}
	stub_stop(&s);
}
END_TEST

struct thread_arg {
	struct stub *s;
	int failures, interrupted;
	char why[160];
};

/*
 * 2000 round trips. An INTERRUPTED exit (kernel work for the thread) is
 * legitimate: the guest is resumed as it was, without answering a syscall.
 */
static void *round_trips(void *p)
{
	struct thread_arg *a = p;
	struct vmexec_run run;
	int i, ret;

	run_init(&run, CODE_ADDR);
	for (i = 0; i < 2000; i++) {
		ret = run_guest(a->s, &run);
		if (!ret && run.exit_reason == VMEXEC_EXIT_INTERRUPTED) {
			a->interrupted++;
			continue;
		}
		if (ret || run.exit_reason != VMEXEC_EXIT_SYSCALL ||
		    run.exit.syscall.nr != 123) {
			if (!a->failures++)
				snprintf(a->why, sizeof(a->why),
					 "ret %d reason %u nr %llu rip %llx rax %llx",
					 ret, run.exit_reason,
					 (unsigned long long)run.exit.syscall.nr,
					 (unsigned long long)run.regs.rip,
					 (unsigned long long)run.regs.rax);
		}
		vmexec_run_set_return(&run, 456);
	}
	return NULL;
}

START_TEST(test_run_threads_share_binding)
{
	struct thread_arg args[4];
	pthread_t th[4];
	struct stub s;
	int i;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_loop123, sizeof(code_loop123));
	for (i = 0; i < 4; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = &s;
		ck_assert_int_eq(pthread_create(&th[i], NULL, round_trips, &args[i]), 0);
	}
	for (i = 0; i < 200; i++)
		stub_poke(&s, DATA_ADDR, "x", 1);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (args[i].interrupted)
			printf("thread %d: %d interrupted exits\n", i, args[i].interrupted);
		ck_assert_msg(args[i].failures == 0, "thread %d: %d failures, first: %s",
			      i, args[i].failures, args[i].why);
	}
	stub_stop(&s);
}
END_TEST

struct pinned_arg {
	struct stub *s;
	int cpu, failures, syscall_exits, other_exits;
};

/* 1000 syscall exits on one CPU; other exits are counted apart. */
static void *pinned_round_trips(void *p)
{
	struct pinned_arg *a = p;
	struct vmexec_run run;
	cpu_set_t set;
	int ret;

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		a->failures++;
	run_init(&run, CODE_ADDR);
	while (a->syscall_exits < 1000 && a->failures < 10) {
		ret = run_guest(a->s, &run);
		if (ret || run.exit_reason == VMEXEC_EXIT_SIGNAL) {
			a->failures++;
			continue;
		}
		if (run.exit_reason == VMEXEC_EXIT_INTERRUPTED) {
			a->other_exits++;
			continue;
		}
		a->syscall_exits++;
		vmexec_run_set_return(&run, 456);
	}
	return NULL;
}

/* GET_STATS counts the exits of threads on every CPU, each exactly once. */
START_TEST(test_stats_count_exits_on_every_cpu)
{
	struct pinned_arg args[2];
	struct vmexec_stats st;
	pthread_t th[2];
	struct stub s;
	int i, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_loop123, sizeof(code_loop123));
	for (i = 0; i < 2; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = &s;
		args[i].cpu = i % ncpu;
		ck_assert_int_eq(pthread_create(&th[i], NULL, pinned_round_trips, &args[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	ck_assert_int_eq(vmexec_get_stats(s.fd, &st), 0);
	ck_assert_uint_eq(st.exits_syscall, 2000);
	ck_assert_uint_eq(st.exits_interrupted, args[0].other_exits + args[1].other_exits);
	ck_assert_uint_eq(st.exits_signal, 0);
	ck_assert_uint_eq(st.passthrough, 0);
	stub_stop(&s);
}
END_TEST

/* A syscall exit writes exit.syscall and leaves the rest of the union alone. */
START_TEST(test_run_syscall_exit_writes_only_exit_syscall)
{
	struct vmexec_run run;
	struct stub s;
	size_t i, from = sizeof(run.exit.syscall);

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_loop123, sizeof(code_loop123));
	run_init(&run, CODE_ADDR);
	memset((char *)&run.exit + from, 0xa5, sizeof(run.exit) - from);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 123);
	ck_assert_uint_eq(run.exit.syscall.reserved, 0);
	for (i = from; i < sizeof(run.exit); i++)
		ck_assert_uint_eq(((unsigned char *)&run.exit)[i], 0xa5);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_target_exits)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_loop123, sizeof(code_loop123));
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	run.regs.rax = 456;
	ck_assert_int_eq(run_guest(&s, &run), -ESRCH);
	close(s.fd);
}
END_TEST

/* mov $N,%ecx; 1: dec %rcx; jnz 1b; mov $1,%eax; syscall */
static const unsigned char code_busy[] = {
	0xb9, 0x00, 0x2d, 0x31, 0x01,	/* 20,000,000 */
	0x48, 0xff, 0xc9, 0x75, 0xfb,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

struct rseq_abi {
	uint32_t cpu_id_start, cpu_id;
	uint64_t rseq_cs;
	uint32_t flags, node_id, mm_cid;
};

extern const ptrdiff_t __rseq_offset;
extern const unsigned int __rseq_size;

START_TEST(test_run_rseq_never_written_into_target)
{
	static const struct rseq_abi sentinel = {
		.cpu_id_start = 0xfffffff0, .cpu_id = 0xfffffff0,
		.node_id = 0xfffffff0, .mm_cid = 0xfffffff0,
	};
	struct rseq_abi *mine, theirs;
	struct vmexec_run run;
	cpu_set_t cpu0;
	struct stub s;
	pid_t hog;
	int i;

	if (!__rseq_size) {
		test_skip(__func__, "libc did not register rseq");
		return;
	}
	mine = (struct rseq_abi *)((char *)__builtin_thread_pointer() + __rseq_offset);
	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_busy, sizeof(code_busy));
	/* The stub is a fork of us: its copy of our rseq area is at the same address. */
	stub_poke(&s, (unsigned long)mine, &sentinel, sizeof(sentinel));

	/* Share one CPU with a busy process so the guest is preempted often. */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	hog = fork();
	ck_assert_int_ge(hog, 0);
	if (hog == 0) {
		alarm(60);
		for (;;)
			;
	}
	for (i = 0; i < 3; i++) {
		run_init(&run, CODE_ADDR);
		ck_assert_int_eq(run_guest(&s, &run), 0);
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
		/* Our own registration is live and up to date again. */
		ck_assert_int_eq((int)mine->cpu_id, sched_getcpu());
	}
	kill(hog, SIGKILL);
	waitpid(hog, NULL, 0);

	stub_peek(&s, (unsigned long)mine, &theirs, sizeof(theirs));
	ck_assert_uint_eq(theirs.cpu_id_start, sentinel.cpu_id_start);
	ck_assert_uint_eq(theirs.cpu_id, sentinel.cpu_id);
	ck_assert_uint_eq(theirs.node_id, sentinel.node_id);
	ck_assert_uint_eq(theirs.mm_cid, sentinel.mm_cid);
	stub_stop(&s);
}
END_TEST

/*
 * rbx: a flag shared with the caller. movl $1,(%rbx); 1: cmpl $2,(%rbx);
 * jne 1b; mov $1,%eax; syscall
 */
static const unsigned char code_flag_wait[] = {
	0xc7, 0x03, 0x01, 0x00, 0x00, 0x00,
	0x83, 0x3b, 0x02, 0x75, 0xfb,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

struct migrate_arg {
	volatile int *flag;
	pid_t tid;
	int err;
};

/* Once the guest says it runs, move its thread to CPU 1; then let it go on. */
static void *migrate_guest_thread(void *p)
{
	struct migrate_arg *a = p;
	cpu_set_t cpu1;

	while (__atomic_load_n(a->flag, __ATOMIC_ACQUIRE) != 1)
		;
	CPU_ZERO(&cpu1);
	CPU_SET(1, &cpu1);
	a->err = sched_setaffinity(a->tid, sizeof(cpu1), &cpu1) ? errno : 0;
	__atomic_store_n(a->flag, 2, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A thread moved to another CPU while in guest mode returns with its own
 * rseq area telling the CPU it is on now.
 */
START_TEST(test_run_rseq_cpu_id_current_after_migration_in_guest_mode)
{
	struct migrate_arg arg = { .tid = gettid() };
	struct rseq_abi *mine;
	unsigned int cpu;
	struct vmexec_run run;
	cpu_set_t cpu0, cpu1;
	pthread_t th;
	struct stub s;

	if (!__rseq_size) {
		test_skip(__func__, "libc did not register rseq");
		return;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test_skip(__func__, "one CPU");
		return;
	}
	mine = (struct rseq_abi *)((char *)__builtin_thread_pointer() + __rseq_offset);
	/* Shared with the stub, a fork of us, at the same address. */
	arg.flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne((void *)arg.flag, MAP_FAILED);
	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_flag_wait, sizeof(code_flag_wait));

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	ck_assert_int_eq(syscall(SYS_getcpu, &cpu, NULL, NULL), 0);
	ck_assert_uint_eq(cpu, 0);
	ck_assert_int_eq((int)mine->cpu_id, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, migrate_guest_thread, &arg), 0);
	CPU_ZERO(&cpu1);
	CPU_SET(1, &cpu1);
	ck_assert_int_eq(pthread_setaffinity_np(th, sizeof(cpu1), &cpu1), 0);

	run_init(&run, CODE_ADDR);
	run.regs.rbx = (unsigned long)arg.flag;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(arg.err, 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_int_eq(*arg.flag, 2);
	/* The kernel's answer, not libc's (which reads the rseq area). */
	ck_assert_int_eq(syscall(SYS_getcpu, &cpu, NULL, NULL), 0);
	ck_assert_uint_eq(cpu, 1);
	ck_assert_int_eq((int)mine->cpu_id, 1);
	ck_assert_int_eq((int)mine->cpu_id_start, 1);
	stub_stop(&s);
	munmap((void *)arg.flag, 4096);
}
END_TEST

#define GUEST_MAGIC	0x5a5a5a5a12345678ULL

/* A tracer of the caller only ever sees the caller's registers. */
START_TEST(test_run_traced_caller_sees_no_guest)
{
	struct user_regs_struct uregs;
	struct vmexec_run run;
	int status, stops = 0, leaks = 0;
	struct stub s;
	pid_t child;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_loop123, sizeof(code_loop123));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		int i;

		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		run_init(&run, CODE_ADDR);
		run.regs.r15 = GUEST_MAGIC;
		run.regs.rbx = GUEST_MAGIC;
		for (i = 0; i < 20; i++) {
			if (run_guest(&s, &run) || run.exit.syscall.nr != 123)
				_exit(10);
			run.regs.rax = 456;
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSTOPPED(status));
	ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
	for (;;) {
		ck_assert_int_eq(ptrace(PTRACE_SYSCALL, child, 0, 0), 0);
		ck_assert_int_eq(waitpid(child, &status, 0), child);
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		stops++;
		ck_assert_int_eq(ptrace(PTRACE_GETREGS, child, 0, &uregs), 0);
		if (uregs.r15 == GUEST_MAGIC || uregs.rbx == GUEST_MAGIC ||
		    (uregs.rip >= CODE_ADDR && uregs.rip < CODE_ADDR + PAGE))
			leaks++;
	}
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_gt(stops, 40);
	ck_assert_int_eq(leaks, 0);
	stub_stop(&s);
}
END_TEST

static struct stub *spin_stub;

static void *spin_guest(void *p)
{
	struct vmexec_run run;

	(void)p;
	run_init(&run, CODE_ADDR);
	run_guest(spin_stub, &run);
	return NULL;
}

/*
 * In a child of the test: a new thread runs code_mark_spin in the stub. 0
 * once it is in guest mode, or -1.
 */
static int spin_in_new_thread(struct stub *s)
{
	pthread_t th;

	spin_stub = s;
	if (pthread_create(&th, NULL, spin_guest, NULL))
		return -1;
	return stub_wait_mark(s, WAIT_MS) ? -1 : 0;
}

/* Another thread of the caller exits the process or execs while a guest runs. */
static void sibling_changes_process(int do_exec)
{
	struct stub s;
	pid_t child;
	int status;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (spin_in_new_thread(&s))
			_exit(20);
		if (do_exec)
			execl("/bin/busybox", "true", (char *)NULL);
		_exit(7);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), do_exec ? 0 : 7);
	ck_assert_int_eq(kill(s.pid, 0), 0);
	stub_poke(&s, DATA_ADDR, "ok", 2);
	stub_stop(&s);
}

START_TEST(test_run_sibling_exit_group)
{
	sibling_changes_process(0);
}
END_TEST

START_TEST(test_run_sibling_exec)
{
	sibling_changes_process(1);
}
END_TEST

START_TEST(test_run_target_exits_while_running)
{
	struct vmexec_run run;
	struct stub s;
	pid_t child;
	int status;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		signal(SIGUSR1, on_usr);
		alarm(20);
		run_init(&run, CODE_ADDR);
		if (run_guest(&s, &run) || run.exit_reason != VMEXEC_EXIT_INTERRUPTED)
			_exit(10);
		if (run_guest(&s, &run) != -ESRCH)
			_exit(11);
		_exit(0);
	}
	assert_ret(stub_wait_mark(&s, WAIT_MS), 0);
	/* The stub dies and is reaped while the guest runs on its memory. */
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	kill(child, SIGUSR1);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(s.fd);
}
END_TEST

/*
 * movabs $DATA_ADDR,%rbx; incq (%rbx); movabs $0xdead000,%rax; mov (%rax),%rax
 * Counts its runs in DATA_ADDR and faults once per count.
 */
static const unsigned char code_count_fault[] = {
	0x48, 0xbb, 0x00, 0x00, 0x10, 0x00, 0x10, 0x7e, 0x00, 0x00,
	0x48, 0xff, 0x03,
	0x48, 0xb8, 0x00, 0xd0, 0xea, 0x0d, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x8b, 0x00,
};

static volatile sig_atomic_t caller_segv;
static volatile int killer_stop;

static void on_count(int sig)
{
	if (sig == SIGSEGV)
		caller_segv++;
}

static void *signal_flood(void *p)
{
	pid_t tid = *(pid_t *)p;
	long n = 0;

	while (!killer_stop) {
		syscall(SYS_tgkill, getpid(), tid, n++ & 1 ? SIGTRAP : SIGUSR1);
		sched_yield();
	}
	return NULL;
}

/* One RUN; fills in the tallies, returns a reason for failure or NULL. */
static const char *run_count_one(struct stub *s, struct vmexec_run *run, int *signo,
				 long *faults)
{
	const siginfo_t *si = (const siginfo_t *)run->exit.signal.siginfo;

	if (run_guest(s, run))
		return "RUN failed";
	if (run->exit_reason == VMEXEC_EXIT_INTERRUPTED) {
		*signo = 0;
		return NULL;
	}
	if (run->exit_reason != VMEXEC_EXIT_SIGNAL)
		return "exit neither a signal nor interrupted";
	*signo = run->exit.signal.signo;
	switch (*signo) {
	case SIGSEGV:
		if (run->exit.signal.code != SEGV_MAPERR || run->exit.signal.addr != 0xdead000 ||
		    run->exit.signal.trap_nr != 14 || si->si_addr != (void *)0xdead000)
			return "fault reported with the wrong details";
		(*faults)++;
		run_init(run, CODE_ADDR);
		break;
	case SIGTRAP:
	case SIGUSR1:
		if (run->exit.signal.code != SI_TKILL || si->si_pid != getpid())
			return "tgkill signal reported with the wrong details";
		break;
	default:
		return "unexpected signal reported";
	}
	run->sigmask = (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGTRAP - 1)) |
		       (1ULL << (SIGUSR1 - 1));
	return NULL;
}

/*
 * A guest fault while other signals of the sigmask are pending: every one is
 * reported by a RUN (the fault first, as the kernel delivers it first), none
 * reaches the caller's handlers.
 */
START_TEST(test_run_fault_with_other_signals_pending)
{
	struct vmexec_run run;
	long faults = 0, runs = 0;
	const char *why = NULL;
	struct timespec t0, t;
	uint64_t count;
	pthread_t th;
	struct stub s;
	pid_t tid;
	int signo;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_count_fault, sizeof(code_count_fault));
	signal(SIGSEGV, on_count);
	signal(SIGTRAP, on_count);
	signal(SIGUSR1, on_count);
	tid = gettid();
	killer_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, signal_flood, &tid), 0);

	run_init(&run, CODE_ADDR);
	run.sigmask = (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGTRAP - 1)) |
		      (1ULL << (SIGUSR1 - 1));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		why = run_count_one(&s, &run, &signo, &faults);
		runs++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!why && t.tv_sec - t0.tv_sec < 2);
	killer_stop = 1;
	pthread_join(th, NULL);
	/* What is still pending or held back comes out before a fresh fault. */
	do {
		if (!why)
			why = run_count_one(&s, &run, &signo, &faults);
	} while (!why && signo != SIGSEGV && ++runs < 1000000);
	if (!why)
		why = run_count_one(&s, &run, &signo, &faults);
	ck_assert_msg(!why, "%s (after %ld runs): exit %u signal %d code %d", why, runs,
		      run.exit_reason, run.exit.signal.signo, run.exit.signal.code);
	ck_assert_int_eq(signo, SIGSEGV);
	ck_assert_msg(caller_segv == 0, "%d guest faults reached the caller's handler",
		      (int)caller_segv);
	stub_peek(&s, DATA_ADDR, &count, sizeof(count));
	ck_assert_msg(count == (uint64_t)faults, "guest ran %llu times, %ld faults reported",
		      (unsigned long long)count, faults);
	stub_stop(&s);
}
END_TEST

struct spinner {
	struct stub *s;
	pid_t tid;
	volatile int in_guest;
	int ret;
	struct vmexec_run run;
};

/* One round trip (so the thread is known to be in), then spin until SIGUSR1. */
static void *spin_until_usr1(void *p)
{
	struct spinner *sp = p;

	sp->tid = gettid();
	run_init(&sp->run, CODE_ADDR + 0x100);
	sp->ret = run_guest(sp->s, &sp->run);
	if (sp->ret || sp->run.exit_reason != VMEXEC_EXIT_SYSCALL)
		return NULL;
	sp->in_guest = 1;
	run_init(&sp->run, CODE_ADDR);
	sp->run.sigmask = 1ULL << (SIGUSR1 - 1);
	sp->ret = run_guest(sp->s, &sp->run);
	return NULL;
}


static int wait_exe(pid_t pid, const char *want)
{
	char path[64], exe[64];
	ssize_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	for (i = 0; i < WAIT_MS / 10; i++) {
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = 0;
			if (!strcmp(exe, want))
				return 0;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/*
 * The target gone (killed and reaped, or exec'd) while a sibling thread still
 * runs a guest in its old address space: later calls fail with ESRCH, the
 * running guest ends normally.
 */
START_TEST(test_run_target_gone_while_sibling_runs)
{
	static const unsigned char code_sys1[] = { 0xb8, 0x01, 0, 0, 0, 0x0f, 0x05 };
	struct vmexec_run run;
	struct spinner sp;
	int i, status;
	struct stub s;
	pthread_t th;
	long ret;

	signal(SIGUSR1, on_usr);
	for (i = 0; i < 2; i++) {
		stub_start(&s);
		stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
		stub_poke(&s, CODE_ADDR + 0x100, code_sys1, sizeof(code_sys1));
		memset(&sp, 0, sizeof(sp));
		sp.s = &s;
		ck_assert_int_eq(pthread_create(&th, NULL, spin_until_usr1, &sp), 0);
		assert_ret(stub_wait_mark(&s, WAIT_MS), 0);
		ck_assert_int_eq(sp.ret, 0);
		if (i == 0) {
			kill(s.pid, SIGKILL);
			ck_assert_int_eq(waitpid(s.pid, &status, 0), s.pid);
		} else {
			/* The stub's SIGUSR2 handler execs once it is continued. */
			kill(s.pid, SIGUSR2);
			kill(s.pid, SIGCONT);
			ck_assert_int_eq(wait_exe(s.pid, "/bin/busybox"), 0);
		}
		run_init(&run, CODE_ADDR + 0x100);
		assert_ret(run_guest(&s, &run), -ESRCH);
		assert_ret(vmexec_syscall(s.fd, &ret, SYS_mmap, 0, PAGE, PROT_READ,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ESRCH);

		syscall(SYS_tgkill, getpid(), sp.tid, SIGUSR1);
		pthread_join(th, NULL);
		assert_ret(sp.ret, 0);
		ck_assert_uint_eq(sp.run.exit_reason, VMEXEC_EXIT_SIGNAL);
		ck_assert_int_eq(sp.run.exit.signal.signo, SIGUSR1);
		ck_assert_uint_eq(sp.run.regs.rip, CODE_ADDR + MARK_SPIN_LOOP);
		assert_ret(run_guest(&s, &run), -ESRCH);
		stub_stop(&s);
	}
}
END_TEST

START_TEST(test_run_module_pinned_while_running)
{
	struct stub s;
	pid_t child;
	int status;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (spin_in_new_thread(&s))
			_exit(20);
		/* No descriptor left anywhere, but a thread is in guest mode. */
		close(s.fd);
		if (syscall(SYS_delete_module, "vmexec", O_NONBLOCK) != -1 ||
		    errno != EWOULDBLOCK)
			_exit(10);
		_exit(0);
	}
	/* Only the child's running guest may pin the module. */
	close(s.fd);
	s.fd = -1;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	stub_stop(&s);
}
END_TEST

/* sysenter */
static const unsigned char code_sysenter[] = { 0x0f, 0x34 };

START_TEST(test_run_sysenter_trapped)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_sysenter, sizeof(code_sysenter));
	run_init(&run, CODE_ADDR);
	run.sigmask = (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGILL - 1));
	ck_assert_int_eq(run_guest(&s, &run), 0);
	/* Intel enters the compat path, AMD raises #UD: either way, no escape. */
	if (run.exit_reason == VMEXEC_EXIT_SYSCALL)
		ck_assert_uint_eq(run.exit.syscall.abi, VMEXEC_ABI_SYSCALL32);
	else
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(kill(s.pid, 0), 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_refuses_caller_using_sud)
{
	struct vmexec_run run;
	char selector = 0;	/* SYSCALL_DISPATCH_FILTER_ALLOW */
	struct stub s;

	stub_start(&s);
	ck_assert_int_eq(prctl(59 /* PR_SET_SYSCALL_USER_DISPATCH */, 1, 0, 0, &selector), 0);
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), -EOPNOTSUPP);
	ck_assert_int_eq(prctl(59, 0, 0, 0, 0), 0);
	stub_stop(&s);
}
END_TEST

/* push %rax */
static const unsigned char code_push[] = { 0x50 };

START_TEST(test_run_bad_stack)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_push, sizeof(code_push));
	run_init(&run, CODE_ADDR);
	run.regs.rsp = 0x8;
	run.sigmask = 1ULL << (SIGSEGV - 1);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
	ck_assert_uint_eq(run.exit.signal.addr, 0);
	stub_stop(&s);
}
END_TEST

/* Two bindings in one process, used alternately. */
START_TEST(test_run_two_bindings)
{
	struct vmexec_run r1, r2;
	struct stub a, b;
	int i;

	stub_start(&a);
	stub_start(&b);
	stub_poke(&a, CODE_ADDR, code_loop123, sizeof(code_loop123));
	stub_poke(&b, CODE_ADDR, code_int80, sizeof(code_int80));
	run_init(&r1, CODE_ADDR);
	for (i = 0; i < 100; i++) {
		run_init(&r2, CODE_ADDR);
		ck_assert_int_eq(run_guest(&a, &r1), 0);
		ck_assert_uint_eq(r1.exit.syscall.nr, 123);
		r1.regs.rax = 456;
		ck_assert_int_eq(run_guest(&b, &r2), 0);
		ck_assert_uint_eq(r2.exit.syscall.abi, VMEXEC_ABI_INT80);
	}
	stub_stop(&a);
	stub_stop(&b);
}
END_TEST

/* Random vmexec_run contents: a clean errno or a clean exit, nothing else. */
START_TEST(test_run_fuzz_fields)
{
	const uint64_t faults = (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)) |
				(1ULL << (SIGILL - 1)) | (1ULL << (SIGFPE - 1)) |
				(1ULL << (SIGTRAP - 1));
	struct vmexec_run run;
	unsigned int seed = 12345, i, j, ok = 0, bad = 0;
	struct stub s;
	int ret;

	printf("run fuzz seed %u\n", seed);
	srand(seed);
	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_fault, sizeof(code_fault));
	for (i = 0; i < 3000; i++) {
		unsigned char *p = (unsigned char *)&run;

		for (j = 0; j < sizeof(run); j++)
			p[j] = rand();
		run.size = (i % 7) ? sizeof(run) : (unsigned int)rand() % 1024;
		if (i % 3) {
			run.flags = 0;
			run.xstate = 0;
			run.regs.rflags &= 0xcd5;
			run.regs.fs_base &= 0x7fffffffffffULL;
			run.regs.gs_base &= 0x7fffffffffffULL;
			run.regs.rip = (i % 2) ? CODE_ADDR : (run.regs.rip & 0x7fffffffffffULL);
			run.sigmask = faults;
		}
		ret = run_guest(&s, &run);
		if (ret == 0) {
			ok++;
			ck_assert(run.exit_reason == VMEXEC_EXIT_SIGNAL ||
				  run.exit_reason == VMEXEC_EXIT_SYSCALL);
		} else {
			bad++;
			ck_assert(ret == -EINVAL || ret == -EFAULT || ret == -E2BIG);
		}
	}
	ck_assert_int_gt(ok, 100);
	ck_assert_int_gt(bad, 100);
	stub_stop(&s);
}
END_TEST

/* The hooks are FTRACE_OPS_FL_PERMANENT: ftrace cannot be switched off under them. */
START_TEST(test_run_ftrace_cannot_be_disabled)
{
	int fd = open("/proc/sys/kernel/ftrace_enabled", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0\n", 2), -1);
	ck_assert_int_eq(errno, EBUSY);
	close(fd);
}
END_TEST

/* mov $0x2b,%eax; mov %eax,%ds; mov %eax,%es; mov $1,%eax; syscall */
static const unsigned char code_segments[] = {
	0xb8, 0x2b, 0x00, 0x00, 0x00, 0x8e, 0xd8, 0x8e, 0xc0,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

/* Data segment selectors the guest loads stay with the guest. */
START_TEST(test_run_segments_restored)
{
	unsigned short ds_before, es_before, ds_after, es_after;
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_segments, sizeof(code_segments));
	__asm__ volatile("mov %%ds, %0; mov %%es, %1" : "=r"(ds_before), "=r"(es_before));
	ck_assert_uint_ne(ds_before, 0x2b);
	run_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	__asm__ volatile("mov %%ds, %0; mov %%es, %1" : "=r"(ds_after), "=r"(es_after));
	ck_assert_uint_eq(ds_after, ds_before);
	ck_assert_uint_eq(es_after, es_before);
	stub_stop(&s);
}
END_TEST

/*
 * mov $0x2b,%eax; mov %eax,%fs; mov %eax,%gs; wrfsbase %rbx; wrgsbase %rbp;
 * mov $1,%eax; syscall
 */
static const unsigned char code_selectors_bases[] = {
	0xb8, 0x2b, 0x00, 0x00, 0x00, 0x8e, 0xe0, 0x8e, 0xe8,
	0xf3, 0x48, 0x0f, 0xae, 0xd3, 0xf3, 0x48, 0x0f, 0xae, 0xdd,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

/*
 * The caller gets its FS/GS bases back even when the guest's bases equal
 * them but its FS/GS selectors do not: putting the caller's selectors back
 * reloads the bases, so they are written after that, whatever they were.
 */
START_TEST(test_run_caller_bases_restored_after_guest_selector_loads)
{
	unsigned long fs_before, gs_before, fs_after, gs_after;
	unsigned short fs_sel, gs_sel, fs_sel_after, gs_sel_after;
	struct vmexec_run run;
	struct stub s;

	ck_assert_int_eq(syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs_before), 0);
	ck_assert_int_eq(syscall(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, &gs_before), 0);
	ck_assert_uint_ne(fs_before, 0);
	__asm__ volatile("mov %%fs, %0; mov %%gs, %1" : "=r"(fs_sel), "=r"(gs_sel));
	ck_assert_uint_ne(fs_sel, 0x2b);
	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_selectors_bases, sizeof(code_selectors_bases));
	run_init(&run, CODE_ADDR);
	run.regs.fs_base = DATA_ADDR;
	run.regs.gs_base = DATA_ADDR;
	run.regs.rbx = fs_before;
	run.regs.rbp = gs_before;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.regs.fs_base, fs_before);
	ck_assert_uint_eq(run.regs.gs_base, gs_before);
	__asm__ volatile("mov %%fs, %0; mov %%gs, %1" : "=r"(fs_sel_after), "=r"(gs_sel_after));
	ck_assert_uint_eq(fs_sel_after, fs_sel);
	ck_assert_uint_eq(gs_sel_after, gs_sel);
	ck_assert_int_eq(syscall(SYS_arch_prctl, 0x1003, &fs_after), 0);
	ck_assert_int_eq(syscall(SYS_arch_prctl, 0x1004, &gs_after), 0);
	ck_assert_uint_eq(fs_after, fs_before);
	ck_assert_uint_eq(gs_after, gs_before);
	ck_assert_int_eq(tls_canary, 77);
	stub_stop(&s);
}
END_TEST

/*
 * Pass-through (VMEXEC_IOC_SET_PASSTHROUGH). Guest code is assembled here
 * and copied into the stub; inputs arrive in callee-saved registers.
 */
extern const unsigned char pt_io_start[], pt_io_end[];
extern const unsigned char pt_block_start[], pt_block_syscall[], pt_block_end[];

__asm__(".pushsection .rodata\n"
	/* rbx: fd to read, r15: fd to write, rbp: buffer, r14: a vmexec fd */
	"pt_io_start:\n"
	"	xor %eax, %eax\n"		/* read(rbx, rbp, 5) */
	"	mov %ebx, %edi\n"
	"	mov %rbp, %rsi\n"
	"	mov $5, %edx\n"
	"	syscall\n"
	"	mov %rax, %r12\n"
	"	mov $1, %eax\n"			/* write(r15, rbp, 5) */
	"	mov %r15d, %edi\n"
	"	mov %rbp, %rsi\n"
	"	mov $5, %edx\n"
	"	syscall\n"
	"	mov %rax, %r13\n"
	"	mov $9, %eax\n"			/* mmap(0, 4096, RW, PRIVATE|ANON, -1, 0) */
	"	xor %edi, %edi\n"
	"	mov $4096, %esi\n"
	"	mov $3, %edx\n"
	"	mov $0x22, %r10d\n"
	"	mov $-1, %r8\n"
	"	xor %r9d, %r9d\n"
	"	syscall\n"
	"	mov %rax, %rbx\n"
	"	movl $42, (%rax)\n"
	"	mov $3, %eax\n"			/* close(r14) */
	"	mov %r14d, %edi\n"
	"	syscall\n"
	"	mov %rax, %r14\n"
	"	mov $123, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"pt_io_end:\n"
	/* rbx: fd to read, rbp: buffer */
	"pt_block_start:\n"
	"	xor %eax, %eax\n"
	"	mov %ebx, %edi\n"
	"	mov %rbp, %rsi\n"
	"	mov $5, %edx\n"
	"pt_block_syscall:\n"
	"	syscall\n"
	"	mov %rax, %r12\n"
	"	mov $123, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"pt_block_end:\n"
	".popsection\n");

static void set_passthrough(int fd, const char *const *calls)
{
	struct vmexec_passthrough pt;

	vmexec_passthrough_init(&pt);
	for (; *calls; calls++)
		ck_assert_int_eq(vmexec_passthrough_add(&pt, *calls), 0);
	ck_assert_int_eq(vmexec_set_passthrough(fd, &pt), 0);
}

START_TEST(test_passthrough_runs_in_place)
{
	static const char *const calls[] = { "read", "write", "mmap", "close", NULL };
	struct vmexec_stats st;
	struct vmexec_run run;
	int in[2], out[2], other;
	char buf[8] = "";
	struct stub s;
	int page;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, pt_io_start, pt_io_end - pt_io_start);
	set_passthrough(s.fd, calls);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(write(in[1], "hello", 5), 5);
	other = vmexec_open();
	ck_assert_int_ge(other, 0);

	run_init(&run, CODE_ADDR);
	run.regs.rbx = in[0];
	run.regs.r15 = out[1];
	run.regs.rbp = DATA_ADDR;
	run.regs.r14 = other;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	/* Four calls ran in place; the first exit is the syscall outside the set. */
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 123);
	ck_assert_uint_eq(run.regs.r12, 5);
	ck_assert_uint_eq(run.regs.r13, 5);
	ck_assert_uint_eq(run.regs.rbx & 0xfff, 0);
	ck_assert_uint_lt(run.regs.rbx, 0x800000000000ULL);
	/* The guest could not close our vmexec file. */
	ck_assert_int_eq((long)run.regs.r14, -EBADF);
	ck_assert_int_eq(vmexec_api_version(other), VMEXEC_API_VERSION);

	ck_assert_int_eq(read(out[0], buf, 5), 5);
	ck_assert_str_eq(buf, "hello");
	stub_peek(&s, run.regs.rbx, &page, sizeof(page));
	ck_assert_int_eq(page, 42);

	ck_assert_int_eq(vmexec_get_stats(s.fd, &st), 0);
	ck_assert_uint_eq(st.passthrough, 4);
	ck_assert_uint_eq(st.exits_syscall, 1);
	ck_assert_uint_eq(st.exits_signal, 0);
	ck_assert_uint_eq(st.exits_interrupted, 0);
	close(other);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
	stub_stop(&s);
}
END_TEST

START_TEST(test_passthrough_not_in_set_exits)
{
	struct vmexec_stats st;
	struct vmexec_run run;
	struct stub s;
	int p[2];

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, pt_block_start, pt_block_end - pt_block_start);
	ck_assert_int_eq(pipe(p), 0);
	run_init(&run, CODE_ADDR);
	run.regs.rbx = p[0];
	run.regs.rbp = DATA_ADDR;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 0);
	ck_assert_uint_eq(run.exit.syscall.args[0], (unsigned int)p[0]);
	ck_assert_int_eq(vmexec_get_stats(s.fd, &st), 0);
	ck_assert_uint_eq(st.passthrough, 0);
	ck_assert_uint_eq(st.exits_syscall, 1);
	close(p[0]);
	close(p[1]);
	stub_stop(&s);
}
END_TEST

START_TEST(test_passthrough_set_rejects)
{
	struct vmexec_passthrough pt;
	struct vmexec_syscall sc;
	struct stub s;
	int other;

	stub_start(&s);
	vmexec_passthrough_init(&pt);
	ck_assert_int_eq(vmexec_passthrough_add(&pt, "getpid"), -EINVAL);
	ck_assert_int_eq(vmexec_passthrough_add(&pt, "512"), -EINVAL);
	ck_assert_int_eq(vmexec_passthrough_add(&pt, ""), -EINVAL);
	/* Numbers off the SYSCALLS allow-list: getpid, execve, ioctl, 500, 511. */
	ck_assert_int_eq(vmexec_passthrough_add(&pt, "39"), 0);
	ck_assert_int_eq(vmexec_set_passthrough(s.fd, &pt), -EINVAL);
	vmexec_passthrough_init(&pt);
	pt.bitmap[59 / 64] |= 1ULL << (59 % 64);
	ck_assert_int_eq(vmexec_set_passthrough(s.fd, &pt), -EINVAL);
	vmexec_passthrough_init(&pt);
	pt.bitmap[16 / 64] |= 1ULL << 16;
	ck_assert_int_eq(vmexec_set_passthrough(s.fd, &pt), -EINVAL);
	vmexec_passthrough_init(&pt);
	pt.bitmap[7] |= 1ULL << 52;
	ck_assert_int_eq(vmexec_set_passthrough(s.fd, &pt), -EINVAL);
	vmexec_passthrough_init(&pt);
	pt.bitmap[7] |= 1ULL << 63;
	ck_assert_int_eq(vmexec_set_passthrough(s.fd, &pt), -EINVAL);
	vmexec_passthrough_init(&pt);
	pt.flags = 2;
	ck_assert_int_eq(ioctl(s.fd, VMEXEC_IOC_SET_PASSTHROUGH, &pt), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* Batched calls cannot act on a vmexec file either. */
	other = vmexec_open();
	ck_assert_int_ge(other, 0);
	vmexec_prep_syscall(&sc, SYS_close, other, 0, 0, 0, 0, 0);
	ck_assert_int_eq(vmexec_syscalls(s.fd, &sc, 1, 0), 1);
	ck_assert_int_eq(sc.ret, -EBADF);
	vmexec_prep_syscall(&sc, SYS_fstat, s.fd, DATA_ADDR, 0, 0, 0, 0);
	ck_assert_int_eq(vmexec_syscalls(s.fd, &sc, 1, 0), 1);
	ck_assert_int_eq(sc.ret, -EBADF);
	vmexec_prep_syscall(&sc, SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, other, 0);
	ck_assert_int_eq(vmexec_syscalls(s.fd, &sc, 1, 0), 1);
	ck_assert_int_eq(sc.ret, -EBADF);
	ck_assert_int_eq(vmexec_api_version(other), VMEXEC_API_VERSION);
	close(other);
	stub_stop(&s);
}
END_TEST

/*
 * A blocking passed-through read interrupted by a signal: the run ends
 * (INTERRUPTED, the signal goes to our handler) with the guest set up to
 * restart the call and the kind of restart reported, and resuming completes
 * it once data is there.
 */
START_TEST(test_passthrough_blocking_read_restarts)
{
	static const char *const calls[] = { "read", NULL };
	struct vmexec_stats st;
	struct vmexec_run run;
	sigset_t usr2, old;
	struct stub s;
	pid_t child;
	int status, p[2];

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, pt_block_start, pt_block_end - pt_block_start);
	set_passthrough(s.fd, calls);
	ck_assert_int_eq(pipe(p), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		const unsigned long sc_addr = CODE_ADDR + (pt_block_syscall - pt_block_start);

		signal(SIGUSR1, on_usr);
		alarm(30);
		run_init(&run, CODE_ADDR);
		run.regs.rbx = p[0];
		run.regs.rbp = DATA_ADDR;
		if (run_guest(&s, &run) || run.exit_reason != VMEXEC_EXIT_INTERRUPTED)
			_exit(10);
		if (!got_usr1 || run.regs.rip != sc_addr || run.regs.rax != 0)
			_exit(11);
		/* pipe_read() said -ERESTARTSYS. */
		if (run.exit.signal.restart != VMEXEC_RESTART_SYS)
			_exit(12);
		/* Tell the parent, which then fills the pipe. */
		kill(getppid(), SIGUSR2);
		if (run_guest(&s, &run) || run.exit_reason != VMEXEC_EXIT_SYSCALL ||
		    run.exit.syscall.nr != 123 || run.regs.r12 != 5)
			_exit(13);
		if (vmexec_get_stats(s.fd, &st) || st.passthrough != 2 ||
		    st.exits_interrupted != 1 || st.exits_syscall != 1)
			_exit(14);
		_exit(0);
	}
	/* The guest's passed-through read blocks on the empty pipe. */
	signal(SIGUSR2, on_usr);
	got_usr2 = 0;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &old);
	assert_ret(wait_sleeping_in_syscall(child, SYS_read, WAIT_MS), 0);
	kill(child, SIGUSR1);
	/* SIGUSR2 from the child, once it is back from that run. */
	while (!got_usr2)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	ck_assert_int_eq(write(p[1], "hello", 5), 5);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(p[0]);
	close(p[1]);
	stub_stop(&s);
}
END_TEST

/* ---- Single-stepping (VMEXEC_RUN_SINGLE_STEP) ---------------------------- */

#define SIGBIT_TRAP	(1ULL << (SIGTRAP - 1))

/*
 *  0: nop
 *  1: mov $5,%eax
 *  6: add %rax,%rbx
 *  9: jmp 0xd
 *  b: ud2
 *  d: syscall
 */
static const unsigned char code_step[] = {
	0x90, 0xb8, 0x05, 0x00, 0x00, 0x00, 0x48, 0x01, 0xc3, 0xeb, 0x02,
	0x0f, 0x0b, 0x0f, 0x05,
};

/* A run of one instruction from rip, with SIGTRAP (and faults) reported. */
static void step_init(struct vmexec_run *run, unsigned long rip)
{
	run_init(run, rip);
	run->flags = VMEXEC_RUN_SINGLE_STEP;
	run->sigmask = SIGBIT_TRAP | (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGILL - 1));
}

/* One SIGTRAP TRAP_TRACE exit after the instruction, at the next rip. */
static void assert_step_exit(const struct vmexec_run *run, unsigned long rip)
{
	const siginfo_t *si = (const siginfo_t *)run->exit.signal.siginfo;

	ck_assert_uint_eq(run->exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run->exit.signal.signo, SIGTRAP);
	ck_assert_int_eq(run->exit.signal.code, TRAP_TRACE);
	ck_assert_uint_eq(run->exit.signal.trap_nr, 1);
	ck_assert_uint_eq(run->exit.signal.error_code, 0);
	ck_assert_uint_eq(run->exit.signal.addr, rip);
	ck_assert_int_eq(si->si_signo, SIGTRAP);
	ck_assert_ptr_eq(si->si_addr, (void *)rip);
	ck_assert_uint_eq(run->regs.rip, rip);
	/* The step's TF is not the guest's: never reported. */
	ck_assert_uint_eq(run->regs.rflags & 0x100, 0);
}

START_TEST(test_run_step_feature_present)
{
	int fd _cleanup_fd_ = xvmexec_open();

	assert_ret(vmexec_check_feature(fd, VMEXEC_FEATURE_RUN_SINGLE_STEP), 1);
	ck_assert_uint_eq(VMEXEC_RUN_FLAGS, VMEXEC_RUN_SINGLE_STEP);
}
END_TEST

START_TEST(test_run_step_reports_each_rip_in_order)
{
	static const unsigned long next[] = { 0x1, 0x6, 0x9, 0xd };
	struct vmexec_stats st;
	struct vmexec_run run;
	struct stub s;
	unsigned int i;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_step, sizeof(code_step));
	step_init(&run, CODE_ADDR);
	run.regs.rbx = 1000;
	for (i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		ck_assert_int_eq(run_guest(&s, &run), 0);
		assert_step_exit(&run, CODE_ADDR + next[i]);
	}
	ck_assert_uint_eq(run.regs.rax, 5);
	ck_assert_uint_eq(run.regs.rbx, 1005);
	ck_assert_int_eq(vmexec_get_stats(s.fd, &st), 0);
	ck_assert_uint_eq(st.exits_signal, 4);
	ck_assert_uint_eq(st.exits_syscall, 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_step_needs_sigtrap_in_sigmask)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_step, sizeof(code_step));
	step_init(&run, CODE_ADDR);
	run.sigmask &= ~SIGBIT_TRAP;
	assert_ret(run_guest(&s, &run), -EINVAL);
	run.sigmask = 0;
	assert_ret(run_guest(&s, &run), -EINVAL);
	/* The same run with SIGTRAP reported steps. */
	run.sigmask = SIGBIT_TRAP;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	assert_step_exit(&run, CODE_ADDR + 1);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_step_unknown_flags_rejected)
{
	struct vmexec_run run;
	struct stub s;
	unsigned int bit;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_step, sizeof(code_step));
	for (bit = 1; bit < 32; bit++) {
		step_init(&run, CODE_ADDR);
		run.flags |= 1U << bit;
		assert_ret(run_guest(&s, &run), -EINVAL);
		run.flags = 1U << bit;
		assert_ret(run_guest(&s, &run), -EINVAL);
	}
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_step_onto_syscall_exits_syscall_first)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_step, sizeof(code_step));
	/* A nop after the syscall: the step after the exit lands past it. */
	stub_poke(&s, CODE_ADDR + sizeof(code_step), "\x90\x90", 2);
	step_init(&run, CODE_ADDR + 0xd);
	run.regs.rax = 123;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 123);
	ck_assert_uint_eq(run.exit.syscall.abi, VMEXEC_ABI_SYSCALL64);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 0xf);
	ck_assert_uint_eq(run.regs.rflags & 0x100, 0);
	vmexec_run_set_return(&run, 7);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	assert_step_exit(&run, CODE_ADDR + 0x10);
	ck_assert_uint_eq(run.regs.rax, 7);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_step_onto_int80_exits_syscall)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_int80, sizeof(code_int80));
	step_init(&run, CODE_ADDR + 5);
	run.regs.rax = 20;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 20);
	ck_assert_uint_eq(run.exit.syscall.abi, VMEXEC_ABI_INT80);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 7);
	stub_stop(&s);
}
END_TEST

/* SYSENTER keeps TF: the kernel steps its own entry and ignores it. */
START_TEST(test_run_step_onto_sysenter_exits_as_unstepped)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_sysenter, sizeof(code_sysenter));
	step_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	if (run.exit_reason == VMEXEC_EXIT_SYSCALL) {
		ck_assert_uint_eq(run.exit.syscall.abi, VMEXEC_ABI_SYSCALL32);
	} else {
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
		ck_assert_int_ne(run.exit.signal.signo, SIGTRAP);
	}
	ck_assert_int_eq(kill(s.pid, 0), 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_step_onto_passthrough_call_exits)
{
	static const char *const calls[] = { "close", NULL };
	struct vmexec_stats st;
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_step, sizeof(code_step));
	set_passthrough(s.fd, calls);
	step_init(&run, CODE_ADDR + 0xd);
	run.regs.rax = SYS_close;
	run.regs.rdi = -1;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, SYS_close);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 0xf);
	ck_assert_int_eq(vmexec_get_stats(s.fd, &st), 0);
	ck_assert_uint_eq(st.passthrough, 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_step_fault_reported_not_trap)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_fault, sizeof(code_fault));
	step_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	assert_step_exit(&run, CODE_ADDR + 10);
	ck_assert_uint_eq(run.regs.rax, 0xdead000);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
	ck_assert_uint_eq(run.exit.signal.trap_nr, 14);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 10);
	stub_stop(&s);
}
END_TEST

/* int3 enters the kernel through its gate, which clears TF: no step trap. */
START_TEST(test_run_step_onto_int3_reports_breakpoint)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, "\xcc\x90", 2);
	step_init(&run, CODE_ADDR);
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGTRAP);
	ck_assert_int_eq(run.exit.signal.code, SI_KERNEL);
	ck_assert_uint_eq(run.exit.signal.trap_nr, 3);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 1);
	ck_assert_uint_eq(run.regs.rflags & 0x100, 0);
	/* The next step runs the nop after it. */
	ck_assert_int_eq(run_guest(&s, &run), 0);
	assert_step_exit(&run, CODE_ADDR + 2);
	stub_stop(&s);
}
END_TEST

START_TEST(test_run_without_step_tf_never_traps)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_step, sizeof(code_step));
	run_init(&run, CODE_ADDR);
	run.sigmask = SIGBIT_TRAP;
	run.regs.rflags |= 0x100;
	ck_assert_int_eq(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 5);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 0xf);
	ck_assert_uint_eq(run.regs.rflags & 0x100, 0);
	stub_stop(&s);
}
END_TEST

/* A TCase of this suite: runs start processes and threads, 300 s each at most. */
static TCase *run_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 300);
	return tc;
}

/* One TCase per behaviour. */
/* The single-step rules, run directly and through a context. */
static void add_single_step_tests(TCase *tc)
{
	tcase_add_test(tc, test_run_step_reports_each_rip_in_order);
	tcase_add_test(tc, test_run_step_needs_sigtrap_in_sigmask);
	tcase_add_test(tc, test_run_step_unknown_flags_rejected);
	tcase_add_test(tc, test_run_step_onto_syscall_exits_syscall_first);
	tcase_add_test(tc, test_run_step_onto_int80_exits_syscall);
	tcase_add_test(tc, test_run_step_onto_sysenter_exits_as_unstepped);
	tcase_add_test(tc, test_run_step_onto_passthrough_call_exits);
	tcase_add_test(tc, test_run_step_fault_reported_not_trap);
	tcase_add_test(tc, test_run_step_onto_int3_reports_breakpoint);
	tcase_add_test(tc, test_run_without_step_tf_never_traps);
}

/*
 * The rules every way of running a guest must keep, whatever holds the
 * address space: run again through a context and in a new mm.
 */
static void add_guest_rules(TCase *tc)
{
	tcase_add_test(tc, test_run_selftest_loop);
	tcase_add_test(tc, test_run_fs_gs_base);
	tcase_add_test(tc, test_run_bad_stack);
	tcase_add_test(tc, test_run_fault_reported);
	tcase_add_test(tc, test_run_int80_trapped);
	tcase_add_test(tc, test_run_sysenter_trapped);
	tcase_add_test(tc, test_run_syscall_not_executed);
	tcase_add_test(tc, test_run_signal_interrupts);
	tcase_add_test(tc, test_run_fault_not_in_mask_kills_caller);
	tcase_add_test(tc, test_run_privileged_and_wild_jumps);
	tcase_add_test(tc, test_run_fault_with_other_signals_pending);
	tcase_add_test(tc, test_run_segments_restored);
	tcase_add_test(tc, test_run_caller_bases_restored_after_guest_selector_loads);
	tcase_add_test(tc, test_run_sigkill_caller);
	tcase_add_test(tc, test_passthrough_runs_in_place);
	tcase_add_test(tc, test_passthrough_not_in_set_exits);
	tcase_add_test(tc, test_passthrough_blocking_read_restarts);
	add_single_step_tests(tc);
}

Suite *suite_run(void)
{
	Suite *s = suite_create("run");
	TCase *tc;

	/* Entering the guest: the registers and state it starts with, bad input. */
	tc = run_tcase("entry");
	tcase_add_test(tc, test_run_selftest_loop);
	tcase_add_test(tc, test_run_fs_gs_base);
	tcase_add_test(tc, test_run_fpu);
	tcase_add_test(tc, test_run_bad_input);
	tcase_add_test(tc, test_run_bad_stack);
	tcase_add_test(tc, test_run_fuzz_fields);
	tcase_add_test(tc, test_run_refuses_caller_using_sud);
	suite_add_tcase(s, tc);

	/* Each kind of exit: syscalls by every entry, faults, signals. */
	tc = run_tcase("exits");
	tcase_add_test(tc, test_run_fault_reported);
	tcase_add_test(tc, test_run_int80_trapped);
	tcase_add_test(tc, test_run_sysenter_trapped);
	tcase_add_test(tc, test_run_syscall_not_executed);
	tcase_add_test(tc, test_run_signal_interrupts);
	tcase_add_test(tc, test_run_fault_not_in_mask_kills_caller);
	tcase_add_test(tc, test_run_privileged_and_wild_jumps);
	tcase_add_test(tc, test_run_fault_with_other_signals_pending);
	tcase_add_test(tc, test_run_syscall_exit_writes_only_exit_syscall);
	tcase_add_test(tc, test_stats_count_exits_on_every_cpu);
	suite_add_tcase(s, tc);

	/* The caller's own state, kept across runs. */
	tc = run_tcase("caller_state");
	tcase_add_test(tc, test_run_rseq_never_written_into_target);
	tcase_add_test(tc, test_run_rseq_cpu_id_current_after_migration_in_guest_mode);
	tcase_add_test(tc, test_run_traced_caller_sees_no_guest);
	tcase_add_test(tc, test_run_segments_restored);
	tcase_add_test(tc, test_run_caller_bases_restored_after_guest_selector_loads);
	tcase_add_test(tc, test_run_threads_share_binding);
	tcase_add_test(tc, test_run_two_bindings);
	suite_add_tcase(s, tc);

	/* Lifetimes: the caller, the target and siblings going away; unload. */
	tc = run_tcase("lifetime");
	tcase_add_test(tc, test_run_sigkill_caller);
	tcase_add_test(tc, test_run_target_exits);
	tcase_add_test(tc, test_run_sibling_exit_group);
	tcase_add_test(tc, test_run_sibling_exec);
	tcase_add_test(tc, test_run_target_exits_while_running);
	tcase_add_test(tc, test_run_target_gone_while_sibling_runs);
	tcase_add_test(tc, test_run_module_pinned_while_running);
	tcase_add_test(tc, test_run_ftrace_cannot_be_disabled);
	suite_add_tcase(s, tc);

	tc = run_tcase("passthrough");
	tcase_add_test(tc, test_passthrough_runs_in_place);
	tcase_add_test(tc, test_passthrough_not_in_set_exits);
	tcase_add_test(tc, test_passthrough_set_rejects);
	tcase_add_test(tc, test_passthrough_blocking_read_restarts);
	suite_add_tcase(s, tc);

	/* VMEXEC_RUN_SINGLE_STEP: one instruction per run. */
	tc = run_tcase("single_step");
	tcase_add_test(tc, test_run_step_feature_present);
	add_single_step_tests(tc);
	suite_add_tcase(s, tc);

	/*
	 * The same rules for VMEXEC_IOC_CONTEXT_RUN: every test here runs its
	 * guests through a context of the stub (one thread per context).
	 */
	tc = run_tcase("run_via_context");
	tcase_add_checked_fixture(tc, stub_context_mode, NULL);
	add_guest_rules(tc);
	tcase_add_test(tc, test_run_rseq_never_written_into_target);
	tcase_add_test(tc, test_run_rseq_cpu_id_current_after_migration_in_guest_mode);
	tcase_add_test(tc, test_run_traced_caller_sees_no_guest);
	tcase_add_test(tc, test_run_two_bindings);
	tcase_add_test(tc, test_run_target_exits);
	tcase_add_test(tc, test_run_sibling_exit_group);
	tcase_add_test(tc, test_run_sibling_exec);
	tcase_add_test(tc, test_run_target_exits_while_running);
	suite_add_tcase(s, tc);

	/*
	 * The same rules in an address space no process has
	 * (VMEXEC_BIND_NEW_MM): every rule that needs neither the stub's pid
	 * nor its copy of the caller's mappings.
	 */
	tc = run_tcase("run_via_new_mm");
	tcase_add_checked_fixture(tc, stub_new_mm_mode, NULL);
	add_guest_rules(tc);
	tcase_add_test(tc, test_run_fpu);
	tcase_add_test(tc, test_run_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
