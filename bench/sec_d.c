// SPDX-License-Identifier: GPL-2.0
/*
 * D. Read 64 MiB of a running target's memory into a local buffer
 * (pre-dump): vmsplice through VMEXEC_IOC_SYSCALLS into a pipe, then
 * read() from the pipe; process_vm_readv(); pread() on /proc/PID/mem.
 * The destination is cleared before and checked word by word after every
 * read (both untimed).
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <libvmexec.h>

#define SIZE		(64UL << 20)
#define CHUNK		(1UL << 20)	/* pipe size: the default pipe-max-size */
#define NCHUNKS		(SIZE / CHUNK)
#define SCRATCH_ADDR	0x7e4000000000UL
#define PATTERN(i)	((unsigned long)(i) * 0x9e3779b97f4a7c15UL + 0x5a5a)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef SPLICE_F_NONBLOCK
#define SPLICE_F_NONBLOCK	0x02
#endif

/* vmsplice calls per 64 MiB read, and how many took less than asked. */
static long nsplice, npartial;
static double t_splice, t_read;	/* ns in SYSCALLS(vmsplice), in read() */

struct dstate {
	pid_t pid;
	volatile unsigned long *counter;
	unsigned long *src;	/* the target's buffer (same address in the fork) */
	unsigned long *dst;
	int fd, pipe[2], ipipe[2];
};

static int d_setup(const struct row *r, void **state)
{
	struct dstate *d = calloc(1, sizeof(*d));
	unsigned long i;
	int ret;

	*state = d;
	d->fd = d->pipe[0] = d->pipe[1] = d->ipipe[0] = d->ipipe[1] = -1;
	d->counter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	d->src = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->dst = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(d->counter != MAP_FAILED && d->src != MAP_FAILED && d->dst != MAP_FAILED,
	      "mmap: %s", strerror(errno));
	for (i = 0; i < SIZE / 8; i++)
		d->src[i] = PATTERN(i);
	memset(d->dst, 0, SIZE);
	d->pid = busy_child(d->counter, other_cpu());
	CHECK(d->pid > 0, "fork: %s", strerror(errno));
	/* Our copy goes: only the target holds the pattern now. */
	munmap(d->src, SIZE);
	while (*d->counter == 0)
		usleep(1000);
	if (r->param == 0) {
		d->fd = vmexec_open();
		CHECK(d->fd >= 0, "vmexec_open: %s", strerror(-d->fd));
		ret = vmexec_bind_pid(d->fd, d->pid);
		CHECK(ret == 0, "bind: %s", strerror(-ret));
		CHECK(pipe(d->pipe) == 0 && pipe(d->ipipe) == 0, "pipe: %s", strerror(errno));
		CHECK(fcntl(d->pipe[1], F_SETPIPE_SZ, (int)CHUNK) >= (int)CHUNK,
		      "F_SETPIPE_SZ: %s", strerror(errno));
	}
	return 0;
}

static void d_teardown(const struct row *r, void *state)
{
	struct dstate *d = state;
	int i;

	(void)r;
	if (!d)
		return;
	if (d->pid > 0)
		kill_wait(d->pid);
	if (d->fd >= 0)
		close(d->fd);
	for (i = 0; i < 2; i++) {
		if (d->pipe[i] >= 0)
			close(d->pipe[i]);
		if (d->ipipe[i] >= 0)
			close(d->ipipe[i]);
	}
	free(d);
}

static int verify(struct dstate *d, unsigned long before)
{
	unsigned long i;

	for (i = 0; i < SIZE / 8; i++)
		CHECK(d->dst[i] == PATTERN(i), "word %lu: %#lx, not %#lx", i, d->dst[i], PATTERN(i));
	memset(d->dst, 0, SIZE);
	for (i = 0; i < 1000 && *d->counter == before; i++)
		usleep(1000);
	CHECK(*d->counter != before, "the target stopped running");
	return 0;
}

static int read_full(int fd, char *buf, size_t len)
{
	ssize_t got;

	while (len) {
		got = read(fd, buf, len);
		CHECK(got > 0, "read(pipe): %s", got ? strerror(errno) : "EOF");
		buf += got;
		len -= got;
	}
	return 0;
}

/* One 64 MiB read through vmexec: iovecs into the target, then vmsplice. */
static int vm_read(struct dstate *d)
{
	struct iovec iov[NCHUNKS];
	struct vmexec_syscall sc[2];
	unsigned long k, done;
	int ret;

	/* A scratch page in the target holds the iovecs vmsplice reads. */
	for (k = 0; k < NCHUNKS; k++) {
		iov[k].iov_base = (char *)d->src + k * CHUNK;
		iov[k].iov_len = CHUNK;
	}
	CHECK(write(d->ipipe[1], iov, sizeof(iov)) == sizeof(iov), "write: %s", strerror(errno));
	vmexec_prep_syscall(&sc[0], SYS_mmap, SCRATCH_ADDR, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	vmexec_prep_syscall(&sc[1], SYS_read, d->ipipe[0], SCRATCH_ADDR, sizeof(iov), 0, 0, 0);
	ret = vmexec_syscalls(d->fd, sc, 2, VMEXEC_SYSCALLS_STOP_ON_ERROR);
	CHECK(ret == 2 && sc[0].ret == (long)SCRATCH_ADDR && sc[1].ret == sizeof(iov),
	      "scratch: %d %lld %lld", ret, (long long)sc[0].ret, (long long)sc[1].ret);

	for (k = 0; k < NCHUNKS; k++) {
		/* vmsplice() may take less than the chunk: go on from where it stopped. */
		for (done = 0; done < CHUNK;) {
			long got;

			if (done) {
				/* Rare: a partial vmsplice; point a fresh iovec at the rest. */
				struct iovec rest = { (char *)d->src + k * CHUNK + done, CHUNK - done };

				CHECK(write(d->ipipe[1], &rest, sizeof(rest)) == sizeof(rest), "write");
				vmexec_prep_syscall(&sc[0], SYS_read, d->ipipe[0], SCRATCH_ADDR,
						    sizeof(rest), 0, 0, 0);
				vmexec_prep_syscall(&sc[1], SYS_vmsplice, d->pipe[1], SCRATCH_ADDR, 1,
						    SPLICE_F_NONBLOCK, 0, 0);
				ret = vmexec_syscalls(d->fd, sc, 2, VMEXEC_SYSCALLS_STOP_ON_ERROR);
				CHECK(ret == 2, "partial vmsplice: %d", ret);
				got = sc[1].ret;
			} else {
				vmexec_prep_syscall(&sc[0], SYS_vmsplice, d->pipe[1],
						    SCRATCH_ADDR + k * sizeof(struct iovec), 1,
						    SPLICE_F_NONBLOCK, 0, 0);
				double t = now_ns();

				ret = vmexec_syscalls(d->fd, sc, 1, 0);
				t_splice += now_ns() - t;
				CHECK(ret == 1, "SYSCALLS: %d", ret);
				got = sc[0].ret;
			}
			CHECK(got > 0, "chunk %lu: vmsplice: %s", k, strerror((int)-got));
			nsplice++;
			if (got < (long)(CHUNK - done))
				npartial++;
			t_read -= now_ns();
			if (read_full(d->pipe[0], (char *)d->dst + k * CHUNK + done, got))
				return -1;
			t_read += now_ns();
			done += got;
		}
	}
	vmexec_prep_syscall(&sc[0], SYS_munmap, SCRATCH_ADDR, PAGE, 0, 0, 0, 0);
	ret = vmexec_syscalls(d->fd, sc, 1, 0);
	CHECK(ret == 1 && sc[0].ret == 0, "munmap scratch: %d %lld", ret, (long long)sc[0].ret);
	return 0;
}

static int pvr_read(struct dstate *d)
{
	unsigned long done = 0;
	ssize_t got;

	while (done < SIZE) {
		struct iovec l = { (char *)d->dst + done, SIZE - done };
		struct iovec rv = { (char *)d->src + done, SIZE - done };

		got = process_vm_readv(d->pid, &l, 1, &rv, 1, 0);
		CHECK(got > 0, "process_vm_readv: %s", strerror(errno));
		done += got;
	}
	return 0;
}

static int mem_read(struct dstate *d)
{
	unsigned long done = 0;
	char path[64];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", d->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	while (done < SIZE) {
		got = pread(fd, (char *)d->dst + done, SIZE - done, (off_t)(uintptr_t)d->src + done);
		if (got <= 0)
			break;
		done += got;
	}
	close(fd);
	CHECK(done == SIZE, "/proc/PID/mem: %lu of %lu bytes", done, SIZE);
	return 0;
}

static int d_run(const struct row *r, void *state, long n, double *ns)
{
	struct dstate *d = state;
	double t0, total = 0;
	unsigned long before;
	long i;
	int ret;

	nsplice = npartial = 0;
	t_splice = t_read = 0;
	for (i = 0; i < n; i++) {
		before = *d->counter;
		t0 = now_ns();
		ret = r->param == 0 ? vm_read(d) : r->param == 1 ? pvr_read(d) : mem_read(d);
		total += now_ns() - t0;
		if (ret || verify(d, before))
			return -1;
	}
	*ns = total;
	if (r->param == 0)
		printf("  %s: per 64 MiB: %ld vmsplice calls (%ld partial), %.0f ms in SYSCALLS "
		       "vmsplice, %.0f ms in read() from the pipe\n", r->id, nsplice / n,
		       npartial / n, t_splice / n / 1e6, t_read / n / 1e6);
	return 0;
}

static const struct row rows_d[] = {
	{ "D", "D1", "vmexec SYSCALLS vmsplice -> pipe (1 MiB) -> read()", "D1", 4, 1, SIZE,
	  PIN_CPU0, d_setup, d_run, d_teardown, "op = 64 MiB; 4 ops/run", 0 },
	{ "D", "D2", "process_vm_readv()", "D1", 4, 1, SIZE,
	  PIN_CPU0, d_setup, d_run, d_teardown, "op = 64 MiB; 4 ops/run", 1 },
	{ "D", "D3", "pread() on /proc/PID/mem", "D1", 4, 1, SIZE,
	  PIN_CPU0, d_setup, d_run, d_teardown, "op = 64 MiB; 4 ops/run", 2 },
};

void section_d(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_d) / sizeof(rows_d[0]); i++)
		bench_measure(&rows_d[i]);
}
