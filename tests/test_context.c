// SPDX-License-Identifier: GPL-2.0
/*
 * Guest contexts (VMEXEC_IOC_CONTEXT): the run area read and written in
 * place, the FPU state kept in the context, one runner at a time, and the
 * context file's own lifetime. What RUN guarantees is checked for
 * CONTEXT_RUN too by the RUN and security suites' "via_context" cases.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>
#include "helpers.h"
#include "stub.h"

#define SIGBIT(sig)	(1ULL << ((sig) - 1))

/* mov $123,%eax; syscall; cmp $456,%rax; jne 1f; jmp 0b; 1: ud2 */
static const unsigned char code_loop123[] = {
	0xb8, 0x7b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x3d, 0xc8, 0x01, 0x00,
	0x00, 0x75, 0x02, 0xeb, 0xef, 0x0f, 0x0b,
};

/* movabs $DATA_ADDR,%rax; movl $1,(%rax); mov $123,%eax; syscall */
static const unsigned char code_mark_syscall[] = {
	0x48, 0xb8, 0x00, 0x00, 0x10, 0x00, 0x10, 0x7e, 0x00, 0x00,
	0xc7, 0x00, 0x01, 0x00, 0x00, 0x00,
	0xb8, 0x7b, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

/* movabs $0xdead000,%rax; mov (%rax),%rax */
static const unsigned char code_fault[] = {
	0x48, 0xb8, 0x00, 0xd0, 0xea, 0x0d, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x8b, 0x00,
};

/* movq %xmm1,%rdi; pcmpeqd %xmm1,%xmm1; mov $1,%eax; syscall */
static const unsigned char code_xmm1[] = {
	0x66, 0x48, 0x0f, 0x7e, 0xcf,
	0x66, 0x0f, 0x76, 0xc9,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

/* fnstsw %ax; movzwl %ax,%edi; fld1; mov $1,%eax; syscall */
static const unsigned char code_x87_push[] = {
	0xdf, 0xe0, 0x0f, 0xb7, 0xf8, 0xd9, 0xe8,
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05,
};

/* Offset of xmm1 in the legacy area of an XSAVE image. */
#define XSAVE_XMM1	(160 + 16)
/* Offset of XSTATE_BV in the XSAVE header. */
#define XSAVE_XSTATE_BV	512

/* The context of a new stub, with its area mapped; the area set to run at rip. */
static void ctx_start(struct stub *s, const void *code, size_t len)
{
	int saved = stub_use_context;

	stub_use_context = 1;
	stub_start(s);
	stub_use_context = saved;
	stub_poke(s, CODE_ADDR, code, len);
	run_init(s->area, CODE_ADDR);
}

static void stats_read(int fd, struct vmexec_stats *st)
{
	ck_assert_int_eq(vmexec_get_stats(fd, st), 0);
}

START_TEST(test_context_syscall_exit_in_area)
{
	size_t i, from = sizeof(((struct vmexec_run *)NULL)->exit.syscall);
	struct vmexec_run *a;
	struct vmexec_stats st;
	struct stub s;

	ctx_start(&s, code_loop123, sizeof(code_loop123));
	a = s.area;
	ck_assert_uint_eq(a->size, sizeof(*a));
	/* Past exit.syscall, the union is left as it was. */
	memset((char *)&a->exit + from, 0xa5, sizeof(a->exit) - from);
	a->regs.rdi = 1;
	a->regs.rsi = 2;
	a->regs.rdx = 3;
	a->regs.r10 = 4;
	a->regs.r8 = 5;
	a->regs.r9 = 6;
	a->regs.rbx = 0x1111;
	a->regs.r15 = 0x2222;
	a->regs.rflags = 0x202 | 0x1;	/* CF */
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(a->exit.syscall.nr, 123);
	ck_assert_uint_eq(a->exit.syscall.args[0], 1);
	ck_assert_uint_eq(a->exit.syscall.args[1], 2);
	ck_assert_uint_eq(a->exit.syscall.args[2], 3);
	ck_assert_uint_eq(a->exit.syscall.args[3], 4);
	ck_assert_uint_eq(a->exit.syscall.args[4], 5);
	ck_assert_uint_eq(a->exit.syscall.args[5], 6);
	ck_assert_uint_eq(a->exit.syscall.abi, VMEXEC_ABI_SYSCALL64);
	ck_assert_uint_eq(a->exit.syscall.reserved, 0);
	for (i = from; i < sizeof(a->exit); i++)
		ck_assert_uint_eq(((unsigned char *)&a->exit)[i], 0xa5);
	ck_assert_uint_eq(a->regs.rip, CODE_ADDR + 7);
	ck_assert_uint_eq(a->regs.rax, 123);
	ck_assert_uint_eq(a->regs.rbx, 0x1111);
	ck_assert_uint_eq(a->regs.r15, 0x2222);
	ck_assert_uint_eq(a->regs.rsp, STACK_TOP - 64);
	/* syscall puts rip in rcx and rflags in r11. */
	ck_assert_uint_eq(a->regs.rcx, CODE_ADDR + 7);
	ck_assert_uint_eq(a->regs.r11, 0x203);
	/* The answer goes in the area's rax; the guest loops to the next call. */
	a->regs.rax = 456;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(a->exit.syscall.nr, 123);
	ck_assert_uint_eq(a->regs.rip, CODE_ADDR + 7);
	stats_read(s.fd, &st);
	ck_assert_uint_eq(st.exits_syscall, 2);
	ck_assert_uint_eq(st.exits_signal, 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_fault_exit_in_area)
{
	struct vmexec_run *a;
	struct stub s;

	ctx_start(&s, code_fault, sizeof(code_fault));
	a = s.area;
	a->sigmask = SIGBIT(SIGSEGV);
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(a->exit.signal.signo, SIGSEGV);
	ck_assert_int_eq(a->exit.signal.code, SEGV_MAPERR);
	ck_assert_uint_eq(a->exit.signal.addr, 0xdead000);
	ck_assert_uint_eq(a->exit.signal.trap_nr, 14);
	ck_assert_uint_eq(a->exit.signal.error_code, 4);	/* user, read, not present */
	ck_assert_uint_eq(a->exit.signal.restart, VMEXEC_RESTART_NONE);
	ck_assert_ptr_eq(((siginfo_t *)a->exit.signal.siginfo)->si_addr, (void *)0xdead000);
	ck_assert_uint_eq(a->regs.rip, CODE_ADDR + 10);
	ck_assert_uint_eq(a->regs.rax, 0xdead000);
	stub_stop(&s);
}
END_TEST

/* A context's SSE state stays in it from one run to the next. */
START_TEST(test_context_keeps_xmm_across_runs)
{
	struct vmexec_run *a;
	struct stub s;

	ctx_start(&s, code_xmm1, sizeof(code_xmm1));
	a = s.area;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.args[0], 0);	/* clean at creation */
	a->regs.rip = CODE_ADDR;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.args[0], ~0ULL);
	stub_stop(&s);
}
END_TEST

/* So does the x87 state: the stack top moved by the first run's fld1. */
START_TEST(test_context_keeps_x87_across_runs)
{
	struct vmexec_run *a;
	struct stub s;

	ctx_start(&s, code_x87_push, sizeof(code_x87_push));
	a = s.area;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.args[0], 0);
	a->regs.rip = CODE_ADDR;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.args[0], 7 << 11);	/* TOP = 7 */
	stub_stop(&s);
}
END_TEST

/* Contexts of one file have their own FPU state. */
START_TEST(test_context_fpu_state_is_per_context)
{
	struct vmexec_run *b;
	struct stub s;
	int ctx2;

	ctx_start(&s, code_xmm1, sizeof(code_xmm1));
	assert_ret(vmexec_context_run(s.ctx), 0);
	ctx2 = vmexec_context(s.fd);
	ck_assert_int_ge(ctx2, 0);
	ck_assert_int_eq(vmexec_context_map(ctx2, &b), 0);
	run_init(b, CODE_ADDR);
	assert_ret(vmexec_context_run(ctx2), 0);
	ck_assert_uint_eq(b->exit.syscall.args[0], 0);
	munmap(b, VMEXEC_CONTEXT_SIZE);
	close(ctx2);
	stub_stop(&s);
}
END_TEST

static void *xalloc_xstate(int *size)
{
	void *xs;

	*size = vmexec_xstate_size();
	ck_assert_int_gt(*size, 512);
	ck_assert_int_eq(posix_memalign(&xs, 64, *size + 64), 0);
	memset(xs, 0, *size + 64);
	return xs;
}

START_TEST(test_context_xstate_round_trip)
{
	uint64_t pattern = 0x1122334455667788ULL, got;
	unsigned char *xs;
	struct vmexec_run *a;
	struct stub s;
	int size;

	xs = xalloc_xstate(&size);
	ctx_start(&s, code_xmm1, sizeof(code_xmm1));
	a = s.area;
	/* Clean at creation: SSE not in use. */
	assert_ret(vmexec_context_get_xstate(s.ctx, xs, size), 0);
	memcpy(&got, xs + XSAVE_XMM1, sizeof(got));
	ck_assert_uint_eq(got, 0);
	/* Set xmm1 (SSE, bit 1 of XSTATE_BV): the guest reads it. */
	memcpy(xs + XSAVE_XMM1, &pattern, sizeof(pattern));
	xs[XSAVE_XSTATE_BV] |= 2;
	assert_ret(vmexec_context_set_xstate(s.ctx, xs, size), 0);
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.args[0], pattern);
	/* And what the guest left there comes back. */
	memset(xs, 0, size);
	assert_ret(vmexec_context_get_xstate(s.ctx, xs, size), 0);
	memcpy(&got, xs + XSAVE_XMM1, sizeof(got));
	ck_assert_uint_eq(got, ~0ULL);
	/* An all-zero image is the clean state. */
	memset(xs, 0, size);
	assert_ret(vmexec_context_set_xstate(s.ctx, xs, size), 0);
	a->regs.rip = CODE_ADDR;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.args[0], 0);
	free(xs);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_xstate_bad_args_einval)
{
	struct vmexec_xstate x;
	unsigned char *xs;
	struct stub s;
	int size;

	xs = xalloc_xstate(&size);
	ctx_start(&s, code_xmm1, sizeof(code_xmm1));
	assert_ret(vmexec_context_get_xstate(s.ctx, xs, size - 1), -EINVAL);
	assert_ret(vmexec_context_set_xstate(s.ctx, xs, size - 1), -EINVAL);
	assert_ret(vmexec_context_get_xstate(s.ctx, xs, 0), -EINVAL);
	memset(&x, 0, sizeof(x));
	x.size = sizeof(x);
	x.len = size;
	x.addr = (uintptr_t)xs;
	x.flags = 1;
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_CONTEXT_GET_XSTATE, &x), -EINVAL);
	x.flags = 0;
	x.reserved = 1;
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_CONTEXT_SET_XSTATE, &x), -EINVAL);
	x.reserved = 0;
	x.size = 8;
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_CONTEXT_GET_XSTATE, &x), -EINVAL);
	/* An image with a feature XCR0 does not have (bit 62) is refused. */
	memset(xs, 0, size);
	xs[XSAVE_XSTATE_BV + 7] = 0x40;
	assert_ret(vmexec_context_set_xstate(s.ctx, xs, size), -EINVAL);
	free(xs);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_xstate_bad_pointer_efault)
{
	struct stub s;
	int size = vmexec_xstate_size();

	ctx_start(&s, code_xmm1, sizeof(code_xmm1));
	assert_ret(vmexec_context_get_xstate(s.ctx, unmapped_ptr(), size), -EFAULT);
	assert_ret(vmexec_context_set_xstate(s.ctx, unmapped_ptr(), size), -EFAULT);
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_CONTEXT_GET_XSTATE, NULL), -EFAULT);
	stub_stop(&s);
}
END_TEST

struct ctx_runner {
	int ctx;
	struct vmexec_run *area;
	volatile int ret;
};

static void *ctx_run_thread(void *p)
{
	struct ctx_runner *r = p;

	r->ret = vmexec_context_run(r->ctx);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A thread runs code_mark_spin on the context; returns once it is in guest
 * mode. SIGUSR1 to it ends the run (INTERRUPTED).
 */
static void ctx_spin_start(struct stub *s, struct ctx_runner *r, pthread_t *th)
{
	signal(SIGUSR1, on_usr1);
	stub_clear_mark(s);
	r->ctx = s->ctx;
	r->area = s->area;
	r->ret = 1;
	run_init(s->area, CODE_ADDR);
	ck_assert_int_eq(pthread_create(th, NULL, ctx_run_thread, r), 0);
	assert_ret(stub_wait_mark(s, WAIT_MS), 0);
}

static void ctx_spin_stop(struct ctx_runner *r, pthread_t th)
{
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	assert_ret(r->ret, 0);
	ck_assert_uint_eq(r->area->exit_reason, VMEXEC_EXIT_INTERRUPTED);
	ck_assert_uint_eq(r->area->regs.rip, CODE_ADDR + MARK_SPIN_LOOP);
}

START_TEST(test_context_second_runner_ebusy)
{
	struct ctx_runner r;
	unsigned char *xs;
	struct stub s;
	pthread_t th;
	int size;

	xs = xalloc_xstate(&size);
	ctx_start(&s, code_mark_spin, sizeof(code_mark_spin));
	ctx_spin_start(&s, &r, &th);
	assert_ret(vmexec_context_run(s.ctx), -EBUSY);
	assert_ret(vmexec_context_get_xstate(s.ctx, xs, size), -EBUSY);
	assert_ret(vmexec_context_set_xstate(s.ctx, xs, size), -EBUSY);
	ctx_spin_stop(&r, th);
	/* Free again once the run is over. */
	assert_ret(vmexec_context_get_xstate(s.ctx, xs, size), 0);
	free(xs);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_two_contexts_run_at_once)
{
	struct vmexec_run *b;
	struct ctx_runner r;
	struct stub s;
	pthread_t th;
	int ctx2, i;

	ctx_start(&s, code_mark_spin, sizeof(code_mark_spin));
	stub_poke(&s, CODE_ADDR + 0x100, code_loop123, sizeof(code_loop123));
	ctx2 = vmexec_context(s.fd);
	ck_assert_int_ge(ctx2, 0);
	ck_assert_int_eq(vmexec_context_map(ctx2, &b), 0);
	ctx_spin_start(&s, &r, &th);
	/* While the first context's thread is in guest mode. */
	run_init(b, CODE_ADDR + 0x100);
	for (i = 0; i < 100; i++) {
		assert_ret(vmexec_context_run(ctx2), 0);
		ck_assert_uint_eq(b->exit_reason, VMEXEC_EXIT_SYSCALL);
		ck_assert_uint_eq(b->exit.syscall.nr, 123);
		b->regs.rax = 456;
	}
	ck_assert_int_eq(r.ret, 1);	/* still in guest mode */
	ctx_spin_stop(&r, th);
	munmap(b, VMEXEC_CONTEXT_SIZE);
	close(ctx2);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_outlives_vmexec_fd)
{
	struct vmexec_run *a;
	struct stub s;

	ctx_start(&s, code_loop123, sizeof(code_loop123));
	a = s.area;
	close(s.fd);
	s.fd = -1;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit_reason, VMEXEC_EXIT_SYSCALL);
	a->regs.rax = 456;
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit.syscall.nr, 123);
	ck_assert_uint_eq(a->regs.rip, CODE_ADDR + 7);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_mmap_only_the_area)
{
	struct vmexec_run *a;
	unsigned char *p;
	struct stub s;
	size_t i;

	ctx_start(&s, code_loop123, sizeof(code_loop123));
	p = mmap(NULL, 2 * VMEXEC_CONTEXT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s.ctx, 0);
	ck_assert_ptr_eq(p, MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	p = mmap(NULL, VMEXEC_CONTEXT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s.ctx,
		 VMEXEC_CONTEXT_SIZE);
	ck_assert_ptr_eq(p, MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	p = mmap(NULL, VMEXEC_CONTEXT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, s.ctx, 0);
	ck_assert_ptr_eq(p, MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	p = mmap(NULL, VMEXEC_CONTEXT_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, s.ctx, 0);
	ck_assert_ptr_eq(p, MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	/* Two mappings of the one area see the same bytes. */
	p = mmap(NULL, VMEXEC_CONTEXT_SIZE, PROT_READ, MAP_SHARED, s.ctx, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	a = s.area;
	a->regs.r12 = 0x1234;
	ck_assert_uint_eq(((struct vmexec_run *)p)->regs.r12, 0x1234);
	ck_assert_int_eq(mprotect(p, VMEXEC_CONTEXT_SIZE, PROT_READ | PROT_EXEC), -1);
	/* It cannot grow into anything else. */
	ck_assert_ptr_eq(mremap(p, VMEXEC_CONTEXT_SIZE, 2 * VMEXEC_CONTEXT_SIZE, MREMAP_MAYMOVE),
			 MAP_FAILED);
	for (i = sizeof(*a); i < VMEXEC_CONTEXT_SIZE; i++)
		ck_assert_uint_eq(p[i], 0);
	munmap(p, VMEXEC_CONTEXT_SIZE);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_needs_bound_file)
{
	_cleanup_fd_ int fd = xvmexec_open();
	struct stub s;

	assert_ret(vmexec_context(fd), -EINVAL);
	ctx_start(&s, code_loop123, sizeof(code_loop123));
	/* The argument is reserved. */
	assert_ret(raw_ioctl(s.fd, VMEXEC_IOC_CONTEXT, (void *)1), -EINVAL);
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_CONTEXT_RUN, (void *)1), -EINVAL);
	/* A context answers only its own calls. */
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_RUN, s.area), -ENOTTY);
	assert_ret(raw_ioctl(s.ctx, VMEXEC_IOC_CONTEXT, NULL), -ENOTTY);
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_CONTEXT_RUN, NULL), -ENOTTY);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_gone_target_esrch)
{
	struct stub s;
	int ctx2;

	ctx_start(&s, code_loop123, sizeof(code_loop123));
	assert_ret(vmexec_context_run(s.ctx), 0);
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	s.area->regs.rax = 456;
	assert_ret(vmexec_context_run(s.ctx), -ESRCH);
	ctx2 = vmexec_context(s.fd);
	assert_ret(ctx2, -ESRCH);
	stub_stop(&s);
}
END_TEST

/* Each bad field alone: EINVAL, and the guest (which marks DATA_ADDR) never runs. */
START_TEST(test_context_bad_area_fields_einval)
{
	struct vmexec_stats st;
	struct vmexec_run *a;
	struct stub s;
	unsigned int i;
	int mark;

	ctx_start(&s, code_mark_syscall, sizeof(code_mark_syscall));
	a = s.area;
	for (i = 0; i < 9; i++) {
		run_init(a, CODE_ADDR);
		a->exit_reason = 0xee;
		switch (i) {
		case 0: a->flags = 1; break;
		case 1: a->flags = 1U << 31; break;
		case 2: a->regs.rflags |= 0x3000; break;	/* IOPL 3 */
		case 3: a->regs.rflags |= 0x20000; break;	/* VM */
		case 4: a->regs.rip = 0xffffffff81000000UL; break;
		case 5: a->sigmask = SIGBIT(SIGKILL); break;
		case 6: a->sigmask = SIGBIT(SIGSTOP); break;
		case 7: a->xstate = (uintptr_t)&st; break;
		case 8: a->xstate_size = 4096; break;
		}
		ck_assert_msg(vmexec_context_run(s.ctx) == -EINVAL, "field %u accepted", i);
		ck_assert_uint_eq(a->exit_reason, 0xee);
	}
	stub_peek(&s, DATA_ADDR, &mark, sizeof(mark));
	ck_assert_int_eq(mark, 0);
	stats_read(s.fd, &st);
	ck_assert_uint_eq(st.exits_syscall, 0);
	/* The same area, made good, runs. */
	run_init(a, CODE_ADDR);
	assert_ret(vmexec_context_run(s.ctx), 0);
	ck_assert_uint_eq(a->exit_reason, VMEXEC_EXIT_SYSCALL);
	stub_peek(&s, DATA_ADDR, &mark, sizeof(mark));
	ck_assert_int_eq(mark, 1);
	stub_stop(&s);
}
END_TEST

struct flipper {
	volatile __u64 *rflags;
	volatile int stop;
};

/* Flip an area field between a good and a refused value without pause. */
static void *flip_rflags(void *p)
{
	struct flipper *f = p;

	while (!f->stop) {
		*f->rflags = 0x202;
		*f->rflags = 0x3202;	/* IOPL 3 */
	}
	return NULL;
}

/*
 * A field rewritten while CONTEXT_RUN reads it: every run either refuses
 * it or runs with the value it checked, never IOPL 3 (with IOPL 3, cli in
 * the guest would not fault).
 */
START_TEST(test_context_area_rewritten_concurrently)
{
	static const unsigned char code_cli[] = { 0xfa, 0xb8, 0x7b, 0, 0, 0, 0x0f, 0x05 };
	struct flipper f;
	struct vmexec_run *a;
	int i, refused = 0, ran = 0, ret;
	struct stub s;
	pthread_t th;

	ctx_start(&s, code_cli, sizeof(code_cli));
	a = s.area;
	a->sigmask = SIGBIT(SIGSEGV);
	f.rflags = &a->regs.rflags;
	f.stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, flip_rflags, &f), 0);
	for (i = 0; i < 2000; i++) {
		a->regs.rip = CODE_ADDR;
		ret = vmexec_context_run(s.ctx);
		if (ret == -EINVAL) {
			refused++;
			continue;
		}
		ck_assert_int_eq(ret, 0);
		ck_assert_uint_eq(a->exit_reason, VMEXEC_EXIT_SIGNAL);
		ck_assert_int_eq(a->exit.signal.signo, SIGSEGV);
		ck_assert_uint_eq(a->exit.signal.trap_nr, 13);
		ran++;
	}
	f.stop = 1;
	pthread_join(th, NULL);
	printf("context_area_rewritten_concurrently: %d refused, %d ran\n", refused, ran);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_pins_module)
{
	struct stub s;
	pid_t child;
	int status;

	ctx_start(&s, code_loop123, sizeof(code_loop123));
	munmap(s.area, VMEXEC_CONTEXT_SIZE);
	s.area = NULL;
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* Only the context's descriptor is left, in this process. */
		close(s.fd);
		if (syscall(SYS_delete_module, "vmexec", O_NONBLOCK) != -1 ||
		    errno != EWOULDBLOCK)
			_exit(10);
		_exit(0);
	}
	close(s.fd);
	s.fd = -1;
	close(s.ctx);
	s.ctx = -1;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	stub_stop(&s);
}
END_TEST

START_TEST(test_context_features_probed)
{
	_cleanup_fd_ int fd = xvmexec_open();

	assert_ret(vmexec_check_feature(fd, VMEXEC_FEATURE_CONTEXT), 1);
	assert_ret(vmexec_check_feature(fd, VMEXEC_FEATURE_CONTEXT_XSTATE), 1);
}
END_TEST

Suite *suite_context(void)
{
	Suite *s = suite_create("context");
	TCase *tc;

	tc = tcase_new("context");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_context_features_probed);
	tcase_add_test(tc, test_context_syscall_exit_in_area);
	tcase_add_test(tc, test_context_fault_exit_in_area);
	tcase_add_test(tc, test_context_keeps_xmm_across_runs);
	tcase_add_test(tc, test_context_keeps_x87_across_runs);
	tcase_add_test(tc, test_context_fpu_state_is_per_context);
	tcase_add_test(tc, test_context_xstate_round_trip);
	tcase_add_test(tc, test_context_xstate_bad_args_einval);
	tcase_add_test(tc, test_context_xstate_bad_pointer_efault);
	tcase_add_test(tc, test_context_second_runner_ebusy);
	tcase_add_test(tc, test_context_two_contexts_run_at_once);
	tcase_add_test(tc, test_context_outlives_vmexec_fd);
	tcase_add_test(tc, test_context_mmap_only_the_area);
	tcase_add_test(tc, test_context_needs_bound_file);
	tcase_add_test(tc, test_context_gone_target_esrch);
	tcase_add_test(tc, test_context_bad_area_fields_einval);
	tcase_add_test(tc, test_context_area_rewritten_concurrently);
	tcase_add_test(tc, test_context_pins_module);
	suite_add_tcase(s, tc);
	return s;
}
