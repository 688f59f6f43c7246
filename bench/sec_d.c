// SPDX-License-Identifier: GPL-2.0
/*
 * D. Pre-dump 64 MiB of a running target into a file, as CRIU's pre-dump
 * does: stop the target (SIGSTOP, wait for the stop), capture its pages,
 * resume it (SIGCONT), then write what was captured to a file on tmpfs or
 * on ext4. Capture:
 *   - vmsplice: one VMEXEC_IOC_SYSCALLS batch maps a scratch page in the
 *     target, reads the iovecs into it, vmsplices the 64 MiB into 16 pipes
 *     of 4 MiB (no copy: the pipes hold the target's pages) and unmaps the
 *     page; after SIGCONT the pipes are splice()d to the file (CRIU's
 *     "splice" pre-dump mode, with the parasite's work done by vmexec);
 *   - process_vm_readv() into a 64 MiB buffer, then write();
 *   - pread() on /proc/PID/mem into the buffer, then write().
 * Each operation: the whole of it is timed (MB/s); the time from the stop
 * seen by waitpid() to the SIGCONT is the "blocked" figure (bench_aux_ns).
 * Untimed: creating the file before, and after: reading it back and
 * comparing it word by word with the target's pattern, unlinking it.
 * No fsync: CRIU does not sync its images per pre-dump either.
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>

#define SIZE		(64UL << 20)
/*
 * CRIU grows each page pipe to PIPE_MAX_SIZE (819 pages: 8 pages of
 * struct pipe_buffer), which F_SETPIPE_SZ rounds up to 1024 pages, and
 * opens another pipe when one is full: 16 pipes of 4 MiB hold 64 MiB.
 */
#define PIPE_SIZE	(4UL << 20)
#define NPIPES		(SIZE / PIPE_SIZE)
#define SCRATCH_ADDR	0x7e4000000000UL
#define PATTERN(i)	((unsigned long)(i) * 0x9e3779b97f4a7c15UL + 0x5a5a)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC		0x01021994
#endif
#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC	0xef53
#endif

/* Row parameter: the capture mechanism and the file system of the file. */
enum { M_VMSPLICE, M_PVR, M_MEM };
enum { DEST_TMPFS, DEST_EXT4 };
#define PARAM(m, dest)	((m) | (dest) << 4)
#define MECH(p)		((p) & 15)
#define DEST(p)		((p) >> 4)

struct dstate {
	pid_t pid;
	volatile unsigned long *counter;
	unsigned long *src;	/* the target's buffer (same address in the fork) */
	unsigned long *buf;	/* capture buffer (pvr, mem); read-back for the check */
	int vfd, memfd, ipipe[2], pipes[NPIPES][2];
	int out;		/* the dump file, created anew for each operation */
	char path[PATH_MAX];
	/* per run, for the summary line */
	long nvmsplice, npartial, nsplice, nwritten;
	double t_stop, t_blocked, t_write;
};

/* Pages written back so far (/proc/vmstat nr_written), -1 if unknown. */
static long vm_written(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "nr_written %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int d_setup(const struct row *r, void **state)
{
	const char *dir = DEST(r->param) == DEST_EXT4 ? bench_ext4_dir : "/tmp";
	long magic = DEST(r->param) == DEST_EXT4 ? EXT4_SUPER_MAGIC : TMPFS_MAGIC;
	struct sched_param sp = { 0 };
	struct dstate *d = calloc(1, sizeof(*d));
	struct statfs sf;
	unsigned long i;
	int k, ret;

	*state = d;
	CHECK(d, "calloc");
	d->vfd = d->memfd = d->out = -1;
	d->ipipe[0] = d->ipipe[1] = -1;
	for (k = 0; k < (int)NPIPES; k++)
		d->pipes[k][0] = d->pipes[k][1] = -1;
	if (!dir) {
		bench_fail("no ext4 directory (vmexec-bench -e DIR)");
		return 1;
	}
	CHECK(statfs(dir, &sf) == 0, "statfs %s: %s", dir, strerror(errno));
	CHECK(sf.f_type == magic, "%s is not on %s (f_type %#lx)", dir,
	      magic == TMPFS_MAGIC ? "tmpfs" : "ext4", (unsigned long)sf.f_type);
	snprintf(d->path, sizeof(d->path), "%s/vmexec-bench-predump.%d", dir, (int)getpid());

	d->counter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	d->src = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->buf = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(d->counter != MAP_FAILED && d->src != MAP_FAILED && d->buf != MAP_FAILED,
	      "mmap: %s", strerror(errno));
	for (i = 0; i < SIZE / 8; i++)
		d->src[i] = PATTERN(i);
	memset(d->buf, 0, SIZE);
	/*
	 * The target shares CPU 0 with the caller, as SCHED_IDLE: it runs
	 * whenever the caller waits, but takes no share of the caller's CPU
	 * while the file is written, and leaves the other vCPU idle. Under
	 * ICOUNT=1 with two vCPUs (6.12) the vCPUs take turns on one virtual
	 * clock, so a target running on CPU 1 would add its own instructions
	 * to the caller's time; with one vCPU (6.1) it would take half of it.
	 */
	d->pid = busy_child(d->counter, 0);
	CHECK(d->pid > 0, "fork: %s", strerror(errno));
	CHECK(sched_setscheduler(d->pid, SCHED_IDLE, &sp) == 0, "SCHED_IDLE: %s", strerror(errno));
	/* Our copy goes: only the target holds the pattern now. */
	munmap(d->src, SIZE);
	while (*d->counter == 0)
		usleep(1000);

	switch (MECH(r->param)) {
	case M_VMSPLICE:
		d->vfd = vmexec_open();
		CHECK(d->vfd >= 0, "vmexec_open: %s", strerror(-d->vfd));
		ret = vmexec_bind_pid(d->vfd, d->pid);
		CHECK(ret == 0, "bind: %s", strerror(-ret));
		CHECK(pipe(d->ipipe) == 0, "pipe: %s", strerror(errno));
		for (k = 0; k < (int)NPIPES; k++) {
			CHECK(pipe(d->pipes[k]) == 0, "pipe: %s", strerror(errno));
			/* Over pipe-max-size (1 MiB): needs CAP_SYS_RESOURCE, as CRIU has. */
			ret = fcntl(d->pipes[k][1], F_SETPIPE_SZ, (int)PIPE_SIZE);
			CHECK(ret == (int)PIPE_SIZE, "F_SETPIPE_SZ %lu: %d (%s)", PIPE_SIZE, ret,
			      ret < 0 ? strerror(errno) : "other size");
		}
		break;
	case M_MEM: {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", d->pid);
		d->memfd = open(path, O_RDONLY | O_CLOEXEC);
		CHECK(d->memfd >= 0, "open %s: %s", path, strerror(errno));
		break;
	}
	}
	return 0;
}

static void d_teardown(const struct row *r, void *state)
{
	struct dstate *d = state;
	int i, k;

	(void)r;
	if (!d)
		return;
	if (d->pid > 0)
		kill_wait(d->pid);
	if (d->out >= 0) {
		close(d->out);
		unlink(d->path);
	}
	if (d->vfd >= 0)
		close(d->vfd);
	if (d->memfd >= 0)
		close(d->memfd);
	for (i = 0; i < 2; i++) {
		if (d->ipipe[i] >= 0)
			close(d->ipipe[i]);
		for (k = 0; k < (int)NPIPES; k++)
			if (d->pipes[k][i] >= 0)
				close(d->pipes[k][i]);
	}
	free(d);
}

/*
 * One SYSCALLS batch: map the scratch page in the target, read the n
 * iovecs into it, vmsplice each into its pipe, unmap the page. got[j]
 * receives what vmsplice j took.
 */
static int splice_batch(struct dstate *d, const struct iovec *iov, const int *pipe_of, int n,
			long *got)
{
	struct vmexec_syscall sc[2 + NPIPES + 1];
	size_t len = n * sizeof(*iov);
	int j, ret;

	CHECK(write(d->ipipe[1], iov, len) == (ssize_t)len, "write(iovecs): %s", strerror(errno));
	vmexec_prep_syscall(&sc[0], SYS_mmap, SCRATCH_ADDR, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	vmexec_prep_syscall(&sc[1], SYS_read, d->ipipe[0], SCRATCH_ADDR, len, 0, 0, 0);
	for (j = 0; j < n; j++)
		vmexec_prep_syscall(&sc[2 + j], SYS_vmsplice, d->pipes[pipe_of[j]][1],
				    SCRATCH_ADDR + j * sizeof(*iov), 1, SPLICE_F_NONBLOCK, 0, 0);
	vmexec_prep_syscall(&sc[2 + n], SYS_munmap, SCRATCH_ADDR, PAGE, 0, 0, 0, 0);
	ret = vmexec_syscalls(d->vfd, sc, 3 + n, VMEXEC_SYSCALLS_STOP_ON_ERROR);
	CHECK(ret == 3 + n && sc[0].ret == (long)SCRATCH_ADDR && sc[1].ret == (long)len &&
	      sc[2 + n].ret == 0, "SYSCALLS: %d of %d; mmap %lld, read %lld, last %lld", ret, 3 + n,
	      (long long)sc[0].ret, (long long)sc[1].ret, (long long)sc[ret > 0 ? ret - 1 : 0].ret);
	for (j = 0; j < n; j++)
		got[j] = sc[2 + j].ret;
	d->nvmsplice += n;
	return 0;
}

/* The target is stopped: vmsplice all of its 64 MiB into the pipes. */
static int capture_vmsplice(struct dstate *d)
{
	struct iovec iov[NPIPES];
	int pipe_of[NPIPES], k, n, pass;
	unsigned long done[NPIPES];
	long got[NPIPES];

	for (k = 0; k < (int)NPIPES; k++) {
		iov[k].iov_base = (char *)d->src + k * PIPE_SIZE;
		iov[k].iov_len = PIPE_SIZE;
		pipe_of[k] = k;
		done[k] = 0;
	}
	n = NPIPES;
	/* vmsplice() may take less than asked: go on where it stopped. */
	for (pass = 0; n > 0; pass++) {
		int left = 0;

		CHECK(pass < 64, "vmsplice: no progress after %d batches", pass);
		if (splice_batch(d, iov, pipe_of, n, got))
			return -1;
		for (k = 0; k < n; k++) {
			int p = pipe_of[k];

			CHECK(got[k] > 0, "pipe %d: vmsplice: %s", p,
			      got[k] ? strerror((int)-got[k]) : "0 bytes");
			done[p] += got[k];
			CHECK(done[p] <= PIPE_SIZE, "pipe %d: vmsplice took %lu bytes", p, done[p]);
			if (done[p] < PIPE_SIZE) {
				d->npartial++;
				iov[left].iov_base = (char *)d->src + p * PIPE_SIZE + done[p];
				iov[left].iov_len = PIPE_SIZE - done[p];
				pipe_of[left++] = p;
			}
		}
		n = left;
	}
	return 0;
}

/* After SIGCONT: move the pipes' pages to the file, no copy through user space. */
static int write_splice(struct dstate *d)
{
	unsigned long left;
	ssize_t got;
	int k;

	for (k = 0; k < (int)NPIPES; k++) {
		for (left = PIPE_SIZE; left; left -= got) {
			got = splice(d->pipes[k][0], NULL, d->out, NULL, left, SPLICE_F_MOVE);
			CHECK(got > 0, "pipe %d: splice: %s", k, got ? strerror(errno) : "0 bytes");
			d->nsplice++;
		}
	}
	return 0;
}

static int capture_pvr(struct dstate *d)
{
	unsigned long done = 0;
	ssize_t got;

	while (done < SIZE) {
		struct iovec l = { (char *)d->buf + done, SIZE - done };
		struct iovec rv = { (char *)d->src + done, SIZE - done };

		got = process_vm_readv(d->pid, &l, 1, &rv, 1, 0);
		CHECK(got > 0, "process_vm_readv: %s", got ? strerror(errno) : "0 bytes");
		done += got;
	}
	return 0;
}

static int capture_mem(struct dstate *d)
{
	unsigned long done = 0;
	ssize_t got;

	while (done < SIZE) {
		got = pread(d->memfd, (char *)d->buf + done, SIZE - done,
			    (off_t)(uintptr_t)d->src + done);
		CHECK(got > 0, "/proc/PID/mem: %lu of %lu bytes: %s", done, SIZE,
		      got ? strerror(errno) : "EOF");
		done += got;
	}
	return 0;
}

static int write_buf(struct dstate *d)
{
	unsigned long done = 0;
	ssize_t got;

	while (done < SIZE) {
		got = write(d->out, (char *)d->buf + done, SIZE - done);
		CHECK(got > 0, "write: %lu of %lu bytes: %s", done, SIZE,
		      got ? strerror(errno) : "0 bytes");
		done += got;
	}
	return 0;
}

/* One pre-dump: stop, capture, resume, write. Returns ns blocked in *blocked. */
static int predump(const struct row *r, struct dstate *d, double *blocked)
{
	double t0, t1, t2;
	unsigned long c;
	int status, ret;
	pid_t got;

	t0 = now_ns();
	CHECK(kill(d->pid, SIGSTOP) == 0, "SIGSTOP: %s", strerror(errno));
	do
		got = waitpid(d->pid, &status, WUNTRACED);
	while (got < 0 && errno == EINTR);
	CHECK(got == d->pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP,
	      "waitpid: %d, status %#x", (int)got, status);
	t1 = now_ns();
	c = *d->counter;
	switch (MECH(r->param)) {
	case M_VMSPLICE:
		ret = capture_vmsplice(d);
		break;
	case M_PVR:
		ret = capture_pvr(d);
		break;
	default:
		ret = capture_mem(d);
		break;
	}
	if (ret)
		return -1;
	CHECK(*d->counter == c, "the target ran while stopped");
	CHECK(kill(d->pid, SIGCONT) == 0, "SIGCONT: %s", strerror(errno));
	t2 = now_ns();
	ret = MECH(r->param) == M_VMSPLICE ? write_splice(d) : write_buf(d);
	d->t_stop += t1 - t0;
	d->t_blocked += t2 - t1;
	d->t_write += now_ns() - t2;
	*blocked = t2 - t1;
	return ret;
}

/* Untimed: the file holds the pattern, the target runs again; clean up. */
static int verify(struct dstate *d, unsigned long before)
{
	unsigned long i, done = 0;
	struct stat st;
	ssize_t got;

	CHECK(fstat(d->out, &st) == 0 && st.st_size == (off_t)SIZE, "%s: size %lld, not %lu",
	      d->path, (long long)st.st_size, SIZE);
	memset(d->buf, 0, SIZE);
	while (done < SIZE) {
		got = pread(d->out, (char *)d->buf + done, SIZE - done, done);
		CHECK(got > 0, "reading %s back: %s", d->path, got ? strerror(errno) : "EOF");
		done += got;
	}
	for (i = 0; i < SIZE / 8; i++)
		CHECK(d->buf[i] == PATTERN(i), "%s: word %lu: %#lx, not %#lx", d->path, i,
		      d->buf[i], PATTERN(i));
	memset(d->buf, 0, SIZE);
	close(d->out);
	d->out = -1;
	CHECK(unlink(d->path) == 0, "unlink %s: %s", d->path, strerror(errno));
	for (i = 0; i < 1000 && *d->counter == before; i++)
		usleep(1000);
	CHECK(*d->counter != before, "the target did not run again after SIGCONT");
	return 0;
}

static int d_run(const struct row *r, void *state, long n, double *ns)
{
	struct dstate *d = state;
	double t0, blocked, total = 0;
	unsigned long before;
	long i, w0, w1;

	d->nvmsplice = d->npartial = d->nsplice = d->nwritten = 0;
	d->t_stop = d->t_blocked = d->t_write = 0;
	for (i = 0; i < n; i++) {
		/* A new file each time: no page cache or blocks of an earlier run. */
		d->out = open(d->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		CHECK(d->out >= 0, "create %s: %s", d->path, strerror(errno));
		before = *d->counter;
		w0 = vm_written();
		t0 = now_ns();
		if (predump(r, d, &blocked))
			return -1;
		total += now_ns() - t0;
		w1 = vm_written();
		bench_aux_ns += blocked;
		/* Writeback that ran during the operation (none expected: no fsync). */
		if (w0 >= 0 && w1 >= w0)
			d->nwritten += w1 - w0;
		if (verify(d, before))
			return -1;
	}
	*ns = total;
	printf("  %s: per 64 MiB: %.1f ms to stop, %.1f ms stopped, %.1f ms writing the file, "
	       "%ld pages written back meanwhile", r->id, d->t_stop / n / 1e6,
	       d->t_blocked / n / 1e6, d->t_write / n / 1e6, d->nwritten / n);
	if (MECH(r->param) == M_VMSPLICE)
		printf("; %ld vmsplice (%ld partial), %ld splice calls", d->nvmsplice / n,
		       d->npartial / n, d->nsplice / n);
	printf("\n");
	return 0;
}

#define ROW(id, label, base, param) \
	{ "D", id, label, base, 4, 1, SIZE, PIN_CPU0, d_setup, d_run, d_teardown, \
	  "op = 64 MiB: stop, capture, SIGCONT, write the file; 4 ops/run", param }
#define BLOCKED(id, base) \
	{ id, "blocked: target stopped (waitpid saw the stop -> SIGCONT)", base, \
	  "ns per 64 MiB the target was stopped, from the same runs" }

static const struct row rows_d[] = {
	ROW("D1", "vmexec SYSCALLS vmsplice -> 16 pipes, splice() -> tmpfs", "D1",
	    PARAM(M_VMSPLICE, DEST_TMPFS)),
	ROW("D2", "process_vm_readv() -> buffer, write() -> tmpfs", "D1",
	    PARAM(M_PVR, DEST_TMPFS)),
	ROW("D3", "pread(/proc/PID/mem) -> buffer, write() -> tmpfs", "D1",
	    PARAM(M_MEM, DEST_TMPFS)),
	ROW("D4", "vmexec SYSCALLS vmsplice -> 16 pipes, splice() -> ext4", "D4",
	    PARAM(M_VMSPLICE, DEST_EXT4)),
	ROW("D5", "process_vm_readv() -> buffer, write() -> ext4", "D4",
	    PARAM(M_PVR, DEST_EXT4)),
	ROW("D6", "pread(/proc/PID/mem) -> buffer, write() -> ext4", "D4",
	    PARAM(M_MEM, DEST_EXT4)),
};

static const struct aux_row blocked_d[] = {
	BLOCKED("D1-blocked", "D1-blocked"),
	BLOCKED("D2-blocked", "D1-blocked"),
	BLOCKED("D3-blocked", "D1-blocked"),
	BLOCKED("D4-blocked", "D4-blocked"),
	BLOCKED("D5-blocked", "D4-blocked"),
	BLOCKED("D6-blocked", "D4-blocked"),
};

void section_d(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(rows_d) / sizeof(rows_d[0]); i++)
		bench_measure_aux(&rows_d[i], &blocked_d[i]);
}
