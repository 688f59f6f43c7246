// SPDX-License-Identifier: GPL-2.0
/*
 * H. A new, empty address space (VMEXEC_BIND_NEW_MM) against the stub way
 * (a forked child that stops itself, bound by pidfd, emptied with munmap as
 * a sandbox must empty it): creating and tearing one down, the kernel memory
 * each holds, a RUN and a CONTEXT_RUN round trip in each, and VMEXEC_IOC_MEM
 * copies in each against process_vm_readv()/process_vm_writev() on the stub.
 * Ratios are against the stub way. bench/README.md, "H.", has the details.
 */
#include "bench.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>

/* Everything below the 47-bit user limit: what munmap empties a stub of. */
#define H_USER_TOP	0x7ffffffff000UL
/* The MEM rows' buffer in the target (64 KiB), far from anything. */
#define H_BUF		0x100000000000UL
#define H_BUFLEN	(64 * 1024UL)
#define H_MAX		256	/* address spaces held at once (the ops of a run) */

enum { H_STUB = 0, H_NEW = 1 };
/* H1b: each address space torn down before the next is created. */
#define H_ONE_AT_A_TIME	0x100

/* One ready address space: a bound file and, the stub way, its process. */
struct has {
	pid_t pid;
	int fd;
};

/* A stack for the guest loop (it never touches it): mapped at this address in the target. */
static char h_stack[PAGE] __attribute__((aligned(PAGE)));
#define H_SP	((__u64)(uintptr_t)(h_stack + sizeof(h_stack) - 64))

static const char *const h_kind[2] = { "stub", "new mm" };

/* ---- creating and tearing down ---- */

/*
 * The stub way: fork, the child stops itself, wait for the stop, open,
 * BIND to its pidfd, unmap everything it has below the user limit (one
 * VMEXEC_IOC_SYSCALLS munmap).
 */
static int h_create_stub(struct has *a)
{
	int status, ret;
	long res;

	a->fd = -1;
	a->pid = fork();
	if (a->pid < 0)
		FAILF("fork: %s", strerror(errno));
	if (a->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			raise(SIGSTOP);
	}
	while ((ret = waitpid(a->pid, &status, WUNTRACED)) < 0 && errno == EINTR)
		;
	CHECK(ret == a->pid && WIFSTOPPED(status), "waitpid(stub): %d, status %#x", ret, status);
	a->fd = vmexec_open();
	CHECK(a->fd >= 0, "vmexec_open: %s", strerror(-a->fd));
	ret = vmexec_bind_pid(a->fd, a->pid);
	CHECK(ret == 0, "vmexec_bind_pid(stub): %s", strerror(-ret));
	ret = vmexec_syscall(a->fd, &res, SYS_munmap, 0, H_USER_TOP, 0, 0, 0, 0);
	CHECK(ret == 0 && res == 0, "SYSCALLS munmap(0, %#lx): %d, %ld", H_USER_TOP, ret, res);
	return 0;
}

static int h_create_new(struct has *a)
{
	int ret;

	a->pid = 0;
	a->fd = vmexec_open();
	CHECK(a->fd >= 0, "vmexec_open: %s", strerror(-a->fd));
	ret = vmexec_bind_new_mm(a->fd);
	CHECK(ret == 0, "vmexec_bind_new_mm: %s", strerror(-ret));
	return 0;
}

static int h_create(int kind, struct has *a)
{
	return kind == H_NEW ? h_create_new(a) : h_create_stub(a);
}

/* close, and the stub way kill + reap. */
static int h_destroy(struct has *a)
{
	int status, ret;

	if (a->fd >= 0 && close(a->fd))
		FAILF("close: %s", strerror(errno));
	a->fd = -1;
	if (a->pid <= 0)
		return 0;
	CHECK(kill(a->pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	while ((ret = waitpid(a->pid, &status, 0)) < 0 && errno == EINTR)
		;
	CHECK(ret == a->pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "waitpid(stub): %d, status %#x", ret, status);
	a->pid = 0;
	return 0;
}

/*
 * What is left in an emptied stub: /proc/PID/maps may list nothing but the
 * [vsyscall] gate page (not a mapping: munmap cannot remove it). The
 * first check of a row prints the lines to the console.
 */
static int h_check_empty(const struct has *a, int print)
{
	char path[64], line[512], left[256] = "";
	FILE *f;
	int bad = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)a->pid);
	f = fopen(path, "r");
	CHECK(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *name = strrchr(line, ' ');

		line[strcspn(line, "\n")] = 0;
		name = name ? name + 1 : line;
		if (strcmp(name, "[vsyscall]"))
			bad = 1;
		if (strlen(left) + strlen(line) + 3 < sizeof(left))
			snprintf(left + strlen(left), sizeof(left) - strlen(left), "%s%s",
				 left[0] ? "; " : "", line);
	}
	fclose(f);
	if (print)
		printf("  %-2s %-10s the stub's /proc/PID/maps after munmap(0, %#lx): %s\n", "", "",
		       H_USER_TOP, left[0] ? left : "(empty)");
	CHECK(!bad, "emptied stub still maps: %s", left);
	return 0;
}

struct h_cstate {
	struct has a[H_MAX];
	int n;
	int printed;
};

static int h_c_setup(const struct row *r, void **state)
{
	struct h_cstate *c = calloc(1, sizeof(*c));

	(void)r;
	*state = c;
	if (!c)
		FAILF("calloc");
	return 0;
}

static int h_destroy_all(struct h_cstate *c)
{
	int ret = 0;

	while (c->n > 0)
		if (h_destroy(&c->a[--c->n]))
			ret = -1;
	return ret;
}

/*
 * n address spaces created one after the other (timed: bench_aux_ns), held,
 * then torn down one after the other (timed); *ns = both.
 */
static int h_c_run(const struct row *r, void *state, long n, double *ns)
{
	struct h_cstate *c = state;
	int kind = (int)(r->param & ~H_ONE_AT_A_TIME);
	double t0, t1, t2;
	long i;

	CHECK(n <= H_MAX, "%ld address spaces: at most %d", n, H_MAX);
	if (r->param & H_ONE_AT_A_TIME) {
		/* Each torn down before the next is made: closes never back to back. */
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if (h_create(kind, &c->a[0]))
				return -1;
			if (h_destroy(&c->a[0]))
				return -1;
		}
		*ns = now_ns() - t0;
		return 0;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (h_create(kind, &c->a[i]))
			return -1;
		c->n++;
	}
	t1 = now_ns();
	if (kind == H_STUB && h_check_empty(&c->a[0], !c->printed++))
		return -1;
	t2 = now_ns();
	for (i = n; i > 0; i--) {
		c->n--;
		if (h_destroy(&c->a[i - 1]))
			return -1;
	}
	*ns = (t1 - t0) + (now_ns() - t2);
	bench_aux_ns += t1 - t0;
	return 0;
}

static void h_c_teardown(const struct row *r, void *state)
{
	(void)r;
	if (state)
		h_destroy_all(state);
	free(state);
}

/* ---- memory held ---- */

/*
 * The fields: param = kind | field << 4. The last is not in /proc/meminfo:
 * free pages counting those parked on the per-CPU lists (/proc/zoneinfo).
 */
static const char *const h_field[] = { "Slab", "SUnreclaim", "PageTables", "KernelStack",
				       "MemAvailable", "free+pcp" };
enum { F_AVAIL = 4, F_FREE_PCP = 5 };

/* Fold the per-CPU vmstat counters into the global ones: 0, or -1. */
static int stat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, "1", 1) != 1)
		ret = -1;
	close(fd);
	return ret;
}

/*
 * Free every empty slab of every cache (/sys/kernel/slab/NAME/shrink), so
 * that the baseline holds no slab page that freed objects of an earlier
 * run left behind (new objects would fill those first, and Slab would not
 * grow). Best effort.
 */
static void slab_shrink_all(void)
{
	char path[320];
	struct dirent *e;
	DIR *d = opendir("/sys/kernel/slab");

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.' || e->d_name[0] == ':')
			continue;	/* ":..." are aliases of merged caches */
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) < 0) {
			/* nothing to do: best effort */
		}
		close(fd);
	}
	closedir(d);
}

/* Free pages, buddy and per-CPU lists, of every zone, in kB. */
static long long zone_free_kb(void)
{
	char line[256];
	long long pages = 0, v;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " pages free %lld", &v) == 1 || sscanf(line, " count: %lld", &v) == 1)
			pages += v;
	}
	fclose(f);
	return pages * (long long)(PAGE / 1024);
}

/* The field, after folding the per-CPU counters, in kB. */
static long long meminfo_kb(const char *field)
{
	char line[256];
	size_t l = strlen(field);
	long long v = -1;
	FILE *f;

	if (stat_refresh())
		return -1;
	if (!strcmp(field, h_field[F_FREE_PCP]))
		return zone_free_kb();
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, l) && line[l] == ':') {
			v = strtoll(line + l + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * n address spaces created and held; *ns = the growth of the field in
 * bytes over all of them (for MemAvailable: its decrease), so the row's
 * figure is bytes per address space. Nothing is timed.
 */
static int h_m_run(const struct row *r, void *state, long n, double *ns)
{
	struct h_cstate *c = state;
	int kind = (int)(r->param & 15), field = (int)(r->param >> 4);
	const char *name = h_field[field];
	long long before, after;
	long i;

	CHECK(n <= H_MAX, "%ld address spaces: at most %d", n, H_MAX);
	/* What the last run freed (RCU) settles first; empty slabs go. */
	usleep(200000);
	slab_shrink_all();
	before = meminfo_kb(name);
	CHECK(before >= 0, "/proc/meminfo %s (or vm.stat_refresh) unreadable", name);
	for (i = 0; i < n; i++) {
		if (h_create(kind, &c->a[i]))
			return -1;
		c->n++;
	}
	after = meminfo_kb(name);
	CHECK(after >= 0, "/proc/meminfo %s unreadable", name);
	*ns = (field >= F_AVAIL ? before - after : after - before) * 1024.0;
	printf("  %-2s %-10s %s: %s %lld kB before, %lld kB with %ld held\n", "", "",
	       h_kind[kind], name, before, after, n);
	return h_destroy_all(c);
}

/* ---- RUN and CONTEXT_RUN round trips ---- */

/*
 * The guest's code and stack in a ready (empty) address space, at the
 * addresses they have here, so that both kinds run the same loop at the
 * same addresses: the page (or two) of bench_remote_loop, mapped
 * read-write, written with MEM, then made read-execute; one stack page.
 */
static int h_map_guest(int fd)
{
	unsigned long loop = (unsigned long)(uintptr_t)bench_remote_loop;
	unsigned long code = loop & ~(PAGE - 1);
	/* The loop is 31 bytes: a second page only if it crosses into one. */
	size_t len = (loop - code) + 64 <= PAGE ? PAGE : 2 * PAGE;
	struct iovec l = { (void *)code, len }, rm = { (void *)code, len };
	long res;
	int ret;

	ret = vmexec_syscall(fd, &res, SYS_mmap, code, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(ret == 0 && res == (long)code, "SYSCALLS mmap(code %#lx): %d, %ld", code, ret, res);
	ret = vmexec_mem_write(fd, &l, &rm, 1);
	CHECK(ret == (int)len, "MEM write of the code: %d", ret);
	ret = vmexec_syscall(fd, &res, SYS_mprotect, code, len, PROT_READ | PROT_EXEC,
			     0, 0, 0);
	CHECK(ret == 0 && res == 0, "SYSCALLS mprotect(code): %d, %ld", ret, res);
	ret = vmexec_syscall(fd, &res, SYS_mmap, (unsigned long)(uintptr_t)h_stack, PAGE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(ret == 0 && res == (long)(uintptr_t)h_stack, "SYSCALLS mmap(stack): %d, %ld",
	      ret, res);
	return 0;
}

enum { R_CONTEXT = 16 };	/* param = kind | R_CONTEXT */

struct h_rstate {
	struct has a;
	int ctx;
	struct vmexec_run *area;
};

static int h_r_setup(const struct row *r, void **state)
{
	struct h_rstate *v = calloc(1, sizeof(*v));

	*state = v;
	if (!v)
		FAILF("calloc");
	v->a.fd = -1;
	v->ctx = -1;
	if (h_create((int)(r->param & 15), &v->a) || h_map_guest(v->a.fd))
		return -1;
	if (r->param & R_CONTEXT) {
		if (context_open(v->a.fd, &v->ctx, &v->area))
			return -1;
	}
	return 0;
}

/* A1's loop (sec_a.c vm_run, vm_context_run) on the row's address space. */
static int h_r_run(const struct row *r, void *state, long n, double *ns)
{
	struct h_rstate *v = state;
	struct vmexec_stats st0;
	struct vmexec_run own, *run = v->area ? v->area : &own;
	double t0;
	long i;
	int ret;

	(void)r;
	if (stats_read(v->a.fd, &st0))
		return -1;
	vmexec_run_prep(run, (__u64)(uintptr_t)bench_remote_loop, H_SP);
	run->regs.r12 = n;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ret = v->area ? vmexec_context_run(v->ctx) : vmexec_run(v->a.fd, run);
		CHECK(ret == 0, "RUN %ld: %s", i, strerror(-ret));
		CHECK(run->exit_reason == VMEXEC_EXIT_SYSCALL && run->exit.syscall.nr == 123 &&
		      run->regs.r12 == (__u64)(n - i),
		      "RUN %ld: exit %u nr %llu r12 %llu", i, run->exit_reason,
		      (unsigned long long)run->exit.syscall.nr, (unsigned long long)run->regs.r12);
		vmexec_run_set_return(run, 456);
	}
	ret = v->area ? vmexec_context_run(v->ctx) : vmexec_run(v->a.fd, run);
	*ns = now_ns() - t0;
	CHECK(ret == 0 && run->exit_reason == VMEXEC_EXIT_SYSCALL && run->exit.syscall.nr == 60 &&
	      run->exit.syscall.args[0] == 0, "last RUN: ret %d exit %u nr %llu left %llu", ret,
	      run->exit_reason, (unsigned long long)run->exit.syscall.nr,
	      (unsigned long long)run->exit.syscall.args[0]);
	return stats_check(v->a.fd, &st0, (__u64)n + 1, 0);
}

static void h_r_teardown(const struct row *r, void *state)
{
	struct h_rstate *v = state;

	(void)r;
	if (!v)
		return;
	if (v->area)
		munmap(v->area, VMEXEC_CONTEXT_SIZE);
	if (v->ctx >= 0)
		close(v->ctx);
	h_destroy(&v->a);
	free(v);
}

/* ---- MEM against process_vm_readv/writev ---- */

/* param = kind | M_* | M_WRITE; the copy size is the row's bytes_per_op. */
enum { M_PVM = 2, M_SEGS = 32, M_WRITE = 64 };

static unsigned char h_local[H_BUFLEN] __attribute__((aligned(PAGE)));
static unsigned char h_check[H_BUFLEN] __attribute__((aligned(PAGE)));

struct h_mstate {
	struct has a;
	unsigned int seed;
};

static void h_pattern(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 12));
}

/* The whole 64 KiB buffer of the target, read or written with MEM. */
static int h_mem_all(int fd, unsigned char *buf, int write)
{
	struct iovec l = { buf, H_BUFLEN }, rm = { (void *)H_BUF, H_BUFLEN };
	int ret = write ? vmexec_mem_write(fd, &l, &rm, 1) : vmexec_mem_read(fd, &l, &rm, 1);

	CHECK(ret == (int)H_BUFLEN, "MEM %s of the buffer: %d", write ? "write" : "read", ret);
	return 0;
}

static int h_m2_setup(const struct row *r, void **state)
{
	struct h_mstate *m = calloc(1, sizeof(*m));
	long res;
	int ret;

	*state = m;
	if (!m)
		FAILF("calloc");
	m->a.fd = -1;
	/* process_vm_* rows: on a stub (created the same way, also through vmexec). */
	if (h_create((int)(r->param & 1), &m->a))
		return -1;
	ret = vmexec_syscall(m->a.fd, &res, SYS_mmap, H_BUF, H_BUFLEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(ret == 0 && res == (long)H_BUF, "SYSCALLS mmap(buffer): %d, %ld", ret, res);
	/* Every page present before any run. */
	h_pattern(h_check, H_BUFLEN, 1);
	return h_mem_all(m->a.fd, h_check, 1);
}

static int h_m2_run(const struct row *r, void *state, long n, double *ns)
{
	struct h_mstate *m = state;
	int write = !!(r->param & M_WRITE), pvm = !!(r->param & M_PVM);
	size_t len = r->bytes_per_op;
	unsigned int segs = (r->param & M_SEGS) ? 16 : 1, k;
	struct iovec l[16], rm[16];
	double t0;
	long i;
	ssize_t got;

	for (k = 0; k < segs; k++) {
		l[k].iov_base = h_local + k * (len / segs);
		rm[k].iov_base = (void *)(H_BUF + k * (len / segs));
		l[k].iov_len = rm[k].iov_len = len / segs;
	}
	/* The data every copy of this run must move. */
	m->seed++;
	if (write) {
		h_pattern(h_local, len, m->seed);
	} else {
		h_pattern(h_check, H_BUFLEN, m->seed);
		if (h_mem_all(m->a.fd, h_check, 1))
			return -1;
		memset(h_local, 0, len);
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (pvm)
			got = write ? process_vm_writev(m->a.pid, l, segs, rm, segs, 0) :
				      process_vm_readv(m->a.pid, l, segs, rm, segs, 0);
		else
			got = write ? vmexec_mem_write(m->a.fd, l, rm, segs) :
				      vmexec_mem_read(m->a.fd, l, rm, segs);
		if (got != (ssize_t)len)
			FAILF("%s %ld: %zd of %zu bytes (%s)", pvm ? "process_vm_*" : "MEM", i,
			      got, len, got < 0 ? strerror(pvm ? errno : (int)-got) : "short");
	}
	*ns = now_ns() - t0;
	if (write) {
		if (h_mem_all(m->a.fd, h_check, 0))
			return -1;
		CHECK(!memcmp(h_check, h_local, len), "the target does not hold what was written");
	} else {
		CHECK(!memcmp(h_local, h_check, len), "what was read is not the target's data");
	}
	return 0;
}

static void h_m2_teardown(const struct row *r, void *state)
{
	struct h_mstate *m = state;

	(void)r;
	if (!m)
		return;
	h_destroy(&m->a);
	free(m);
}

#define KIB	1024L
#define C_ROWS(id, what, base, ops, len, p)						\
	{ "H", id "-pvm", what ": process_vm_" #p "v on a stub", base "-pvm", ops, ops / 10,	\
	  len, PIN_CPU0, h_m2_setup, h_m2_run, h_m2_teardown, NULL, H_STUB | M_PVM | P },	\
	{ "H", id "-stub", what ": VMEXEC_IOC_MEM on a stub's mm", base "-pvm", ops, ops / 10, \
	  len, PIN_CPU0, h_m2_setup, h_m2_run, h_m2_teardown, NULL, H_STUB | P },	\
	{ "H", id "-new", what ": VMEXEC_IOC_MEM on a new mm", base "-pvm", ops, ops / 10,	\
	  len, PIN_CPU0, h_m2_setup, h_m2_run, h_m2_teardown, NULL, H_NEW | P }

#define MEMROW(kind, f, idp, base, label)						\
	{ "H", idp, label, base, 200, 20, 0, PIN_CPU0, h_c_setup, h_m_run, h_c_teardown,	\
	  "figure: bytes per address space (not ns), 200 held", (kind) | ((f) << 4) }

static const struct row rows_h_mem[] = {
	MEMROW(H_STUB, 0, "H2-slab", "H2-slab", "Slab held by an emptied stub (bytes)"),
	MEMROW(H_NEW, 0, "H3-slab", "H2-slab", "Slab held by a new mm (bytes)"),
	MEMROW(H_STUB, 1, "H2-sunr", "H2-sunr", "SUnreclaim held by an emptied stub (bytes)"),
	MEMROW(H_NEW, 1, "H3-sunr", "H2-sunr", "SUnreclaim held by a new mm (bytes)"),
	MEMROW(H_STUB, 2, "H2-pt", "H2-pt", "PageTables held by an emptied stub (bytes)"),
	MEMROW(H_NEW, 2, "H3-pt", "H2-pt", "PageTables held by a new mm (bytes)"),
	MEMROW(H_STUB, 3, "H2-kstack", "H2-kstack", "KernelStack held by an emptied stub (bytes)"),
	MEMROW(H_NEW, 3, "H3-kstack", "H2-kstack", "KernelStack held by a new mm (bytes)"),
	MEMROW(H_STUB, 4, "H2-avail", "H2-avail", "MemAvailable taken by an emptied stub (bytes)"),
	MEMROW(H_NEW, 4, "H3-avail", "H2-avail", "MemAvailable taken by a new mm (bytes)"),
	MEMROW(H_STUB, 5, "H2-free", "H2-free",
	       "free pages incl. per-CPU lists taken by an emptied stub (bytes)"),
	MEMROW(H_NEW, 5, "H3-free", "H2-free",
	       "free pages incl. per-CPU lists taken by a new mm (bytes)"),
};

static const struct row rows_h_run[] = {
	{ "H", "H4", "vmexec RUN round trip, emptied stub's mm", "H4", 10000, 1000, 0,
	  PIN_CPU0, h_r_setup, h_r_run, h_r_teardown, "code and stack mapped by SYSCALLS + MEM",
	  H_STUB },
	{ "H", "H5", "vmexec RUN round trip, new mm", "H4", 10000, 1000, 0,
	  PIN_CPU0, h_r_setup, h_r_run, h_r_teardown, "the same pages at the same addresses",
	  H_NEW },
	{ "H", "H6", "vmexec CONTEXT_RUN round trip, emptied stub's mm", "H6", 10000, 1000, 0,
	  PIN_CPU0, h_r_setup, h_r_run, h_r_teardown, NULL, H_STUB | R_CONTEXT },
	{ "H", "H7", "vmexec CONTEXT_RUN round trip, new mm", "H6", 10000, 1000, 0,
	  PIN_CPU0, h_r_setup, h_r_run, h_r_teardown, NULL, H_NEW | R_CONTEXT },
};

#define P 0
static const struct row rows_h_read[] = {
	C_ROWS("H8", "read 8 B", "H8", 10000, 8, read),
	C_ROWS("H9", "read 4 KiB", "H9", 10000, 4 * KIB, read),
	C_ROWS("H10", "read 64 KiB", "H10", 2000, 64 * KIB, read),
	C_ROWS("H11", "read 16 x 4 KiB", "H11", 2000, 64 * KIB, read),
};
#undef P
#define P M_WRITE
static const struct row rows_h_write[] = {
	C_ROWS("H12", "write 8 B", "H12", 10000, 8, write),
	C_ROWS("H13", "write 4 KiB", "H13", 10000, 4 * KIB, write),
	C_ROWS("H14", "write 64 KiB", "H14", 2000, 64 * KIB, write),
	C_ROWS("H15", "write 16 x 4 KiB", "H15", 2000, 64 * KIB, write),
};
#undef P

void section_h(void)
{
	static const struct row one[2] = {
		{ "H", "H1b-stub", "create + tear down, one at a time (stub way)", "H1b-stub", 200, 20,
		  0, PIN_CPU0, h_c_setup, h_c_run, h_c_teardown,
		  "each torn down before the next is created", H_STUB | H_ONE_AT_A_TIME },
		{ "H", "H1b-new", "create + tear down, one at a time (new mm)", "H1b-stub", 200, 20, 0,
		  PIN_CPU0, h_c_setup, h_c_run, h_c_teardown,
		  "closes never back to back: exit_mmap's synchronize_srcu() can be expedited",
		  H_NEW | H_ONE_AT_A_TIME },
	};
	static const struct row create[2] = {
		{ "H", "H1-stub", "create + tear down: fork, stop, BIND pidfd, munmap all; close, kill, reap",
		  "H1-stub", 200, 20, 0, PIN_CPU0, h_c_setup, h_c_run, h_c_teardown,
		  "200 created, then held, then torn down", H_STUB },
		{ "H", "H1-new", "create + tear down: open, BIND_NEW_MM; close", "H1-stub", 200, 20, 0,
		  PIN_CPU0, h_c_setup, h_c_run, h_c_teardown,
		  "close runs exit_mmap (mmu notifier release: synchronize_srcu)", H_NEW },
	};
	static const struct aux_row create_aux[2] = {
		{ "H1-stub-c", "create only: fork, stop, BIND pidfd, munmap all", "H1-stub-c",
		  "from H1-stub's runs" },
		{ "H1-new-c", "create only: open, BIND_NEW_MM", "H1-stub-c", "from H1-new's runs" },
	};
	unsigned int i;

	for (i = 0; i < 2; i++)
		bench_measure_aux(&create[i], &create_aux[i]);
	bench_derived_sum("H", "H1-stub-t", "tear down only: close, kill, reap",
			  "H1-stub - H1-stub-c", "H1-stub - H1-stub-c");
	bench_derived_sum("H", "H1-new-t", "tear down only: close (exit_mmap in it)",
			  "H1-new - H1-new-c", "H1-new - H1-new-c");
	for (i = 0; i < 2; i++)
		bench_measure(&one[i]);
	for (i = 0; i < sizeof(rows_h_mem) / sizeof(rows_h_mem[0]); i++)
		bench_measure(&rows_h_mem[i]);
	for (i = 0; i < sizeof(rows_h_run) / sizeof(rows_h_run[0]); i++)
		bench_measure(&rows_h_run[i]);
	for (i = 0; i < sizeof(rows_h_read) / sizeof(rows_h_read[0]); i++)
		bench_measure(&rows_h_read[i]);
	for (i = 0; i < sizeof(rows_h_write) / sizeof(rows_h_write[0]); i++)
		bench_measure(&rows_h_write[i]);
}
