// SPDX-License-Identifier: GPL-2.0
/*
 * F. Pass-through (VMEXEC_IOC_SET_PASSTHROUGH): a 1-byte read of /dev/zero
 * into guest memory, n times, run in place without an exit (F1), natively
 * (F2), and as a RUN exit answered with VMEXEC_IOC_SYSCALLS (F3).
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <libvmexec.h>

void bench_remote_read(void);
long bench_read_local(long n, long fd, void *buf);

/* Valid in the stubs too: they are forks of us. */
static char f_stack[4096] __attribute__((aligned(64)));
static char f_buf[64];
#define F_SP	((__u64)(uintptr_t)(f_stack + sizeof(f_stack) - 64))

enum { F_PASS = 0, F_NATIVE = 1, F_EXIT = 2 };

struct f_state {
	struct stub s;
	int zero;
};

static int f_setup(const struct row *r, void **state)
{
	struct f_state *f = calloc(1, sizeof(*f));
	struct vmexec_passthrough pt;
	int ret;

	*state = f;
	f->s.fd = -1;
	f->zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (f->zero < 0)
		FAILF("open /dev/zero: %s", strerror(errno));
	if (r->param == F_NATIVE)
		return 0;
	if (stub_start(&f->s))
		return -1;
	if (r->param == F_PASS) {
		vmexec_passthrough_init(&pt);
		ret = vmexec_passthrough_add(&pt, "read");
		if (!ret)
			ret = vmexec_set_passthrough(f->s.fd, &pt);
		if (ret)
			FAILF("SET_PASSTHROUGH: %s", strerror(-ret));
	}
	return 0;
}

static int f_run(const struct row *r, void *state, long n, double *ns)
{
	struct f_state *f = state;
	struct vmexec_stats st0;
	struct vmexec_run run;
	long i, res;
	double t0;
	int ret;

	if (r->param == F_NATIVE) {
		t0 = now_ns();
		res = bench_read_local(n, f->zero, f_buf);
		*ns = now_ns() - t0;
		CHECK(res == 0, "native read loop: %ld left", res);
		return 0;
	}

	if (stats_read(f->s.fd, &st0))
		return -1;
	vmexec_run_prep(&run, (__u64)(uintptr_t)bench_remote_read, F_SP);
	run.regs.r12 = n;
	run.regs.r13 = f->zero;
	run.regs.r14 = (__u64)(uintptr_t)f_buf;
	t0 = now_ns();
	for (i = 0; r->param == F_EXIT && i < n; i++) {
		ret = vmexec_run(f->s.fd, &run);
		CHECK(ret == 0 && run.exit_reason == VMEXEC_EXIT_SYSCALL &&
		      run.exit.syscall.nr == SYS_read, "RUN %ld: ret %d exit %u nr %llu", i, ret,
		      run.exit_reason, (unsigned long long)run.exit.syscall.nr);
		ret = vmexec_syscall(f->s.fd, &res, SYS_read, run.exit.syscall.args[0],
				     run.exit.syscall.args[1], run.exit.syscall.args[2], 0, 0, 0);
		CHECK(ret == 0 && res == 1, "SYSCALLS read: %d, %ld", ret, res);
		vmexec_run_set_return(&run, res);
	}
	ret = vmexec_run(f->s.fd, &run);
	*ns = now_ns() - t0;
	CHECK(ret == 0 && run.exit_reason == VMEXEC_EXIT_SYSCALL && run.exit.syscall.nr == 60 &&
	      run.exit.syscall.args[0] == 0, "last RUN: ret %d exit %u nr %llu left %llu", ret,
	      run.exit_reason, (unsigned long long)run.exit.syscall.nr,
	      (unsigned long long)run.exit.syscall.args[0]);
	/* Pass-through: one exit, the last; else every read is an exit. */
	if (r->param == F_PASS)
		return stats_check(f->s.fd, &st0, 1, n);
	return stats_check(f->s.fd, &st0, (__u64)n + 1, 0);
}

static void f_teardown(const struct row *r, void *state)
{
	struct f_state *f = state;

	(void)r;
	if (!f)
		return;
	if (f->s.fd >= 0)
		stub_stop(&f->s);
	if (f->zero >= 0)
		close(f->zero);
	free(f);
}

static const struct row rows_f[] = {
	{ "F", "F1", "1-byte read passed through in the guest (no exit)", "F1", 100000, 10000, 0,
	  PIN_CPU0, f_setup, f_run, f_teardown, "VMEXEC_IOC_SET_PASSTHROUGH", F_PASS },
	{ "F", "F2", "the same read, native", "F1", 100000, 10000, 0,
	  PIN_CPU0, f_setup, f_run, f_teardown, NULL, F_NATIVE },
	{ "F", "F3", "the same read as a RUN exit + SYSCALLS read", "F1", 10000, 1000, 0,
	  PIN_CPU0, f_setup, f_run, f_teardown, "2 mm switches + 2 for SYSCALLS", F_EXIT },
};

void section_f(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_f) / sizeof(rows_f[0]); i++)
		bench_measure(&rows_f[i]);
}
