// SPDX-License-Identifier: GPL-2.0
/* The stub address space the RUN and security suites run guests in. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "helpers.h"
#include "stub.h"

int stub_use_context;
int stub_use_new_mm;

void stub_context_mode(void)
{
	stub_use_context = 1;
}

void stub_new_mm_mode(void)
{
	stub_use_new_mm = 1;
}

static void stub_exec_busybox(int sig)
{
	(void)sig;
	execl("/bin/busybox", "sleep", "100", (char *)NULL);
}

/* A child that stops itself for ever: an address space to run guests in. */
void stub_start(struct stub *s)
{
	int status;
	long ret;

	if (stub_use_new_mm) {
		s->pid = 0;
		s->fd = vmexec_open();
		ck_assert_int_ge(s->fd, 0);
		ck_assert_int_eq(vmexec_bind_new_mm(s->fd), 0);
		goto map;
	}
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		signal(SIGUSR2, stub_exec_busybox);
		for (;;)
			raise(SIGSTOP);
	}
	/*
	 * Stopped for good: it will not return to user mode again, so the
	 * kernel never updates its own copy of our rseq area from now on.
	 */
	ck_assert_int_eq(waitpid(s->pid, &status, WUNTRACED), s->pid);
	ck_assert(WIFSTOPPED(status));
	s->fd = vmexec_open();
	ck_assert_int_ge(s->fd, 0);
	ck_assert_int_eq(vmexec_bind_pid(s->fd, s->pid), 0);
map:
	ck_assert_int_eq(vmexec_syscall(s->fd, &ret, SYS_mmap, CODE_ADDR, PAGE,
					PROT_READ | PROT_EXEC,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					-1, 0), 0);
	ck_assert_int_eq(ret, (long)CODE_ADDR);
	ck_assert_int_eq(vmexec_syscall(s->fd, &ret, SYS_mmap, DATA_ADDR, 0x110000,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					-1, 0), 0);
	ck_assert_int_eq(ret, (long)DATA_ADDR);
	s->ctx = -1;
	s->area = NULL;
	if (stub_use_context) {
		s->ctx = vmexec_context(s->fd);
		ck_assert_int_ge(s->ctx, 0);
		ck_assert_int_eq(vmexec_context_map(s->ctx, &s->area), 0);
	}
}

void stub_stop(struct stub *s)
{
	if (s->area)
		munmap(s->area, VMEXEC_CONTEXT_SIZE);
	if (s->ctx >= 0)
		close(s->ctx);
	close(s->fd);
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
}

/* Write bytes into the stub's memory through a pipe and SYSCALLS read(). */
void stub_poke(struct stub *s, unsigned long addr, const void *buf, size_t len)
{
	struct vmexec_syscall sc[2];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], buf, len), (ssize_t)len);
	/* Text is read-only for the guest: open it up for the copy. */
	vmexec_prep_syscall(&sc[0], SYS_mprotect, addr & ~(PAGE - 1),
			    ((addr + len + PAGE - 1) & ~(PAGE - 1)) - (addr & ~(PAGE - 1)),
			    PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0);
	vmexec_prep_syscall(&sc[1], SYS_read, p[0], addr, len, 0, 0, 0);
	ck_assert_int_eq(vmexec_syscalls(s->fd, sc, 2, VMEXEC_SYSCALLS_STOP_ON_ERROR), 2);
	ck_assert_int_eq(sc[1].ret, (long)len);
	close(p[0]);
	close(p[1]);
}

void stub_peek(struct stub *s, unsigned long addr, void *buf, size_t len)
{
	long ret;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(vmexec_syscall(s->fd, &ret, SYS_write, p[1], addr, len, 0, 0, 0), 0);
	ck_assert_int_eq(ret, (long)len);
	ck_assert_int_eq(read(p[0], buf, len), (ssize_t)len);
	close(p[0]);
	close(p[1]);
}

void run_init(struct vmexec_run *run, unsigned long rip)
{
	vmexec_run_prep(run, rip, STACK_TOP - 64);
}

int run_guest(struct stub *s, struct vmexec_run *run)
{
	struct vmexec_run *a = s->area;
	int ret;

	if (!a)
		return vmexec_run(s->fd, run);
	a->flags = run->flags;
	a->sigmask = run->sigmask;
	a->regs = run->regs;
	a->xstate = run->xstate;
	a->xstate_size = run->xstate_size;
	ret = vmexec_context_run(s->ctx);
	if (ret)
		return ret;
	run->exit_reason = a->exit_reason;
	run->regs = a->regs;
	run->exit = a->exit;
	return 0;
}

/* movabs $DATA_ADDR,%rax; movl $1,(%rax); 1: jmp 1b */
const unsigned char code_mark_spin[18] = {
	0x48, 0xb8, 0x00, 0x00, 0x10, 0x00, 0x10, 0x7e, 0x00, 0x00,
	0xc7, 0x00, 0x01, 0x00, 0x00, 0x00, 0xeb, 0xfe,
};

int stub_wait_mark(const struct stub *s, int ms)
{
	struct timespec pause = { 0, 1000000 };
	int i, v;

	for (i = 0; i < ms; i++) {
		struct iovec l = { &v, sizeof(v) };
		struct iovec r = { (void *)DATA_ADDR, sizeof(v) };

		v = 0;
		/* A new mm has no process: MEM reads it. */
		if ((s->pid ? process_vm_readv(s->pid, &l, 1, &r, 1, 0) :
			      vmexec_mem_read(s->fd, &l, &r, 1)) == sizeof(v) && v == 1)
			return 0;
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

void stub_clear_mark(struct stub *s)
{
	static const int zero;

	stub_poke(s, DATA_ADDR, &zero, sizeof(zero));
}
