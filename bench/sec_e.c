// SPDX-License-Identifier: GPL-2.0
/*
 * E. Scale: 1, 2 and 4 threads of one process run guests at once, each its
 * own guest loop of A1's shape: on one binding (one stopped stub's address
 * space), or each on its own target, as a sandbox runs one guest thread per
 * vCPU; with RUN, or each through its own context (CONTEXT_RUN). Reported:
 * wall-clock ns per round trip over all threads, and total round trips per
 * second. The threads are not pinned.
 */
#include "bench.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <libvmexec.h>

/* param: the number of threads, and how they run. */
enum { E_THREADS = 7, E_CONTROL = 8, E_OWN = 16, E_CONTEXT = 32 };

struct worker {
	pthread_t th;
	int control;	/* getppid() loop instead of guests */
	pthread_barrier_t *go;
	int fd;		/* the binding this thread runs on */
	int ctx;	/* E_CONTEXT: its own context of fd, else -1 */
	struct vmexec_run *area;
	long n;
	char err[160];
};

static char stacks[4][256] __attribute__((aligned(64)));

/* One round trip: RUN with run, or CONTEXT_RUN with the context's area. */
static int worker_run(struct worker *w, struct vmexec_run *run)
{
	return w->area ? vmexec_context_run(w->ctx) : vmexec_run(w->fd, run);
}

static void *worker(void *p)
{
	struct worker *w = p;
	struct vmexec_run own, *run = w->area ? w->area : &own;
	long i;
	int ret;

	vmexec_run_prep(run, (__u64)(uintptr_t)bench_remote_loop,
			(__u64)(uintptr_t)(stacks[0] + sizeof(stacks[0])));
	run->regs.r12 = w->n;
	pthread_barrier_wait(w->go);
	if (w->control) {
		long ppid = getppid(), left = bench_getppid_loop(w->n, ppid);

		if (left)
			snprintf(w->err, sizeof(w->err), "getppid loop: %ld left", left);
		return NULL;
	}
	for (i = 0; i <= w->n; i++) {
		ret = worker_run(w, run);
		if (ret || run->exit_reason != VMEXEC_EXIT_SYSCALL) {
			snprintf(w->err, sizeof(w->err), "RUN %ld: %d exit %u", i, ret, run->exit_reason);
			return NULL;
		}
		if (i == w->n)
			break;
		if (run->exit.syscall.nr != 123 || run->regs.r12 != (__u64)(w->n - i)) {
			snprintf(w->err, sizeof(w->err), "RUN %ld: nr %llu r12 %llu", i,
				 (unsigned long long)run->exit.syscall.nr,
				 (unsigned long long)run->regs.r12);
			return NULL;
		}
		vmexec_run_set_return(run, 456);
	}
	if (run->exit.syscall.nr != 60 || run->exit.syscall.args[0] != 0)
		snprintf(w->err, sizeof(w->err), "last RUN: nr %llu left %llu",
			 (unsigned long long)run->exit.syscall.nr,
			 (unsigned long long)run->exit.syscall.args[0]);
	return NULL;
}

/* A row's targets (one, or one per thread) and its contexts, one per thread. */
struct e_state {
	struct stub s[4];
	int nstub;
	int ctx[4];
	struct vmexec_run *area[4];
};

static int e_setup(const struct row *r, void **state)
{
	struct e_state *e = calloc(1, sizeof(*e));
	int t, nt = (int)(r->param & E_THREADS);

	*state = e;
	if (!e)
		FAILF("calloc");
	for (t = 0; t < 4; t++)
		e->ctx[t] = -1;
	if (r->param & E_CONTROL)
		return 0;
	e->nstub = (r->param & E_OWN) ? nt : 1;
	for (t = 0; t < e->nstub; t++) {
		if (stub_start(&e->s[t])) {
			e->nstub = t;
			return -1;
		}
	}
	if (!(r->param & E_CONTEXT))
		return 0;
	for (t = 0; t < nt; t++) {
		if (context_open(e->s[t % e->nstub].fd, &e->ctx[t], &e->area[t]))
			return -1;
	}
	return 0;
}

static int e_run(const struct row *r, void *state, long n, double *ns)
{
	struct e_state *e = state;
	struct worker w[4];
	pthread_barrier_t go;
	int t, nt = (int)(r->param & E_THREADS);
	double t0;

	pthread_barrier_init(&go, NULL, nt + 1);
	for (t = 0; t < nt; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].go = &go;
		w[t].fd = e->nstub ? e->s[t % e->nstub].fd : -1;
		w[t].ctx = e->ctx[t];
		w[t].area = e->area[t];
		w[t].n = n / nt;
		w[t].control = !!(r->param & E_CONTROL);
		CHECK(pthread_create(&w[t].th, NULL, worker, &w[t]) == 0, "pthread_create");
	}
	pthread_barrier_wait(&go);
	t0 = now_ns();
	for (t = 0; t < nt; t++)
		pthread_join(w[t].th, NULL);
	*ns = now_ns() - t0;
	pthread_barrier_destroy(&go);
	for (t = 0; t < nt; t++)
		CHECK(!w[t].err[0], "thread %d: %s", t, w[t].err);
	return 0;
}

static void e_teardown(const struct row *r, void *state)
{
	struct e_state *e = state;
	int t;

	(void)r;
	if (!e)
		return;
	for (t = 0; t < 4; t++) {
		if (e->area[t])
			munmap(e->area[t], VMEXEC_CONTEXT_SIZE);
		if (e->ctx[t] >= 0)
			close(e->ctx[t]);
	}
	for (t = 0; t < e->nstub; t++)
		stub_stop(&e->s[t]);
	free(e);
}

static const struct row rows_e[] = {
	{ "E", "E1", "vmexec RUN, 1 thread on one binding", "E1", 10000, 1000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "ns = wall time / all round trips", 1 },
	{ "E", "E2", "vmexec RUN, 2 threads on one binding", "E1", 20000, 2000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "10,000 per thread", 2 },
	{ "E", "E4", "vmexec RUN, 4 threads on one binding", "E1", 40000, 4000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "10,000 per thread", 4 },
	{ "E", "E2-own", "vmexec RUN, 2 threads, each its own target", "E1", 20000, 2000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "a sandbox's vCPUs: one stub and binding per thread",
	  E_OWN | 2 },
	{ "E", "E1-ctx", "vmexec CONTEXT_RUN, 1 thread", "E1-ctx", 10000, 1000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "E1 through a context", E_CONTEXT | 1 },
	{ "E", "E2-ctx", "vmexec CONTEXT_RUN, 2 threads on one binding", "E1-ctx", 20000, 2000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "a context per thread", E_CONTEXT | 2 },
	{ "E", "E2-own-ctx", "vmexec CONTEXT_RUN, 2 threads, each its own target", "E1-ctx",
	  20000, 2000, 0, PIN_NONE, e_setup, e_run, e_teardown, "a context per thread",
	  E_OWN | E_CONTEXT | 2 },
	{ "E", "E1-ctl", "control: native getppid(), 1 thread", "E1-ctl", 100000, 10000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "do the vCPUs run in parallel?", E_CONTROL | 1 },
	{ "E", "E2-ctl", "control: native getppid(), 2 threads", "E1-ctl", 200000, 20000, 0,
	  PIN_NONE, e_setup, e_run, e_teardown, "100,000 per thread", E_CONTROL | 2 },
};

void section_e(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_e) / sizeof(rows_e[0]); i++)
		bench_measure(&rows_e[i]);
}
