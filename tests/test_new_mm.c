// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_BIND_NEW_MM: an address space no process has. It starts empty
 * with the layout a new 64-bit process of the caller gets, guests run in
 * it, it lives as long as the file, its pages are charged to the memory
 * cgroup of its creator (also after the creator exits) within memory.max,
 * and the caller's RLIMIT_AS and RLIMIT_MEMLOCK hold in it.
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
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libvmexec.h>
#include "helpers.h"
#include "stub.h"

#define SIGBIT(sig)	(1ULL << ((sig) - 1))
#define MIB		(1024UL * 1024)
#define CG_NEW_MM	"/sys/fs/cgroup/vmexec-test-new-mm"
/* Where a no-ASLR process's first mmap(NULL, 4096) lands: 128 MiB gap below 2^47. */
#define NORAND_FIRST_MMAP	0x7ffff7ffe000UL

/* A vmexec file bound to a new address space. */
static int new_mm(void)
{
	int fd = vmexec_open();

	ck_assert_int_ge(fd, 0);
	assert_ret(vmexec_bind_new_mm(fd), 0);
	return fd;
}

/* One SYSCALLS entry; returns its result. */
static long in_mm(int fd, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long ret;

	assert_ret(vmexec_syscall(fd, &ret, nr, a0, a1, a2, a3, a4, a5), 0);
	return ret;
}

static long map_anon(int fd, unsigned long addr, size_t len, int prot)
{
	return in_mm(fd, SYS_mmap, addr, len, prot,
		     MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED_NOREPLACE : 0), -1, 0);
}

/* The same, in a child process that must not fail the test itself. */
static long try_map_anon(int fd, unsigned long addr, size_t len)
{
	long ret;
	int err;

	err = vmexec_syscall(fd, &ret, SYS_mmap, addr, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return err ? err : ret;
}

START_TEST(test_new_mm_feature_probed)
{
	_cleanup_fd_ int fd = xvmexec_open();

	assert_ret(vmexec_check_feature(fd, VMEXEC_FEATURE_BIND_NEW_MM), 1);
}
END_TEST

/* Unknown flags, a pidfd with NEW_MM, reserved bits; a bound file stays bound. */
START_TEST(test_new_mm_bad_bind_args_rejected)
{
	struct vmexec_bind b = { .size = sizeof(b), .flags = VMEXEC_BIND_NEW_MM, .pidfd = -1 };
	_cleanup_fd_ int fd = xvmexec_open();
	_cleanup_fd_ int pidfd = pidfd_open_pid(getpid());
	_cleanup_fd_ int bound = -1;

	b.flags = VMEXEC_BIND_NEW_MM << 1;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	b.flags = VMEXEC_BIND_NEW_MM;
	b.pidfd = pidfd;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	b.pidfd = 0;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	b.pidfd = -1;
	b.reserved = 1;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	b.reserved = 0;
	b.size = sizeof(b) - 4;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	b.size = sizeof(b);
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), 0);
	/* Bound once: neither a second new mm nor a pidfd. */
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EBUSY);
	assert_ret(vmexec_bind_pidfd(fd, pidfd), -EBUSY);
	bound = xvmexec_open();
	assert_ret(vmexec_bind_pidfd(bound, pidfd), 0);
	assert_ret(vmexec_bind_new_mm(bound), -EBUSY);
}
END_TEST

/*
 * Top-down below 2^47, randomized, and for a caller whose personality has
 * ADDR_NO_RANDOMIZE the exact layout of a process started with it.
 */
static int norand_first_mmap(void *arg)
{
	long a, b;
	int fa, fb;

	(void)arg;
	if (personality(ADDR_NO_RANDOMIZE) < 0)
		return CHILD_SETUP_ERR + errno;
	fa = vmexec_open();
	fb = vmexec_open();
	if (fa < 0 || fb < 0 || vmexec_bind_new_mm(fa) || vmexec_bind_new_mm(fb))
		return CHILD_SETUP_ERR + 1;
	if (vmexec_syscall(fa, &a, SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    vmexec_syscall(fb, &b, SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
		return CHILD_SETUP_ERR + 2;
	/* 1: both at the unrandomized spot; 2: elsewhere or apart. */
	return a == (long)NORAND_FIRST_MMAP && b == a ? 1 : 2;
}

START_TEST(test_new_mm_layout_top_down_randomized_unless_personality)
{
	_cleanup_fd_ int fa = new_mm();
	_cleanup_fd_ int fb = new_mm();
	_cleanup_child_ struct child c = { 0 };
	long a, b, c1;
	int res;

	a = in_mm(fa, SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c1 = in_mm(fa, SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = in_mm(fb, SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Top-down: within the random range below the 128 MiB gap, the next one lower. */
	ck_assert_msg(a < (long)(NORAND_FIRST_MMAP + PAGE) && a > (long)(NORAND_FIRST_MMAP - (1UL << 42)),
		      "first mmap at %#lx", a);
	ck_assert_int_eq(c1, a - (long)PAGE);
	/* Randomized (28 bits): two address spaces differ. */
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(child_start(&c, norand_first_mmap, NULL), 0);
	ck_assert_int_eq(child_result(&c, &res), 0);
	ck_assert_int_eq(res, 1);
}
END_TEST

/* A thread of ours in guest mode: /proc/TID/maps then lists the guest's mm. */
struct maps_guest {
	int fd;
	pid_t tid;
	int err;
	struct vmexec_run run;
};

static void *maps_guest_thread(void *arg)
{
	struct maps_guest *g = arg;

	g->tid = (pid_t)syscall(SYS_gettid);
	g->err = vmexec_run(g->fd, &g->run);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A new mm with code_mark_spin, and a thread of ours spinning in it in
 * guest mode until SIGUSR1 (in its sigmask) ends the run.
 */
static void start_spinning_guest(struct stub *s, struct maps_guest *g, pthread_t *th)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	stub_use_new_mm = 1;
	stub_start(s);
	stub_use_new_mm = 0;
	stub_poke(s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	g->fd = s->fd;
	run_init(&g->run, CODE_ADDR);
	g->run.sigmask = SIGBIT(SIGUSR1);
	ck_assert_int_eq(pthread_create(th, NULL, maps_guest_thread, g), 0);
	assert_ret(stub_wait_mark(s, WAIT_MS), 0);
}

/*
 * Nothing but what was mapped: no [vdso], [vvar], [vsyscall], [stack] or
 * [heap], seen from /proc/TID/maps of a thread that runs a guest in it.
 */
START_TEST(test_new_mm_maps_only_what_was_mapped)
{
	struct maps_guest g = { 0 };
	char path[64], buf[4096], want[256];
	pthread_t th;
	struct stub s;
	ssize_t n;
	int mfd;

	start_spinning_guest(&s, &g, &th);

	snprintf(path, sizeof(path), "/proc/self/task/%d/maps", g.tid);
	mfd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(mfd, 0);
	n = read(mfd, buf, sizeof(buf) - 1);
	close(mfd);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	snprintf(want, sizeof(want),
		 "%lx-%lx rwxp 00000000 00:00 0 \n%lx-%lx rw-p 00000000 00:00 0 \n",
		 CODE_ADDR, CODE_ADDR + PAGE, DATA_ADDR, DATA_ADDR + 0x110000);
	ck_assert_str_eq(buf, want);

	ck_assert_int_eq(pthread_kill(th, SIGUSR1), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	assert_ret(g.err, 0);
	ck_assert_uint_eq(g.run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(g.run.exit.signal.signo, SIGUSR1);
	stub_stop(&s);
}
END_TEST

/*
 * Code in an anonymous mapping and in a mapping of the caller's memfd:
 * a syscall exit and a fault exit with exact addresses.
 */
START_TEST(test_new_mm_runs_code_from_anon_and_memfd)
{
	/* mov $39,%eax; syscall; movabs $0x12340008,%rax; mov (%rax),%eax */
	static const unsigned char code[] = {
		0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05,
		0x48, 0xb8, 0x08, 0x00, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00,
		0x8b, 0x00,
	};
	const unsigned long memfd_code = CODE_ADDR + 0x10000;
	_cleanup_fd_ int mfd = -1;
	struct vmexec_run run;
	unsigned int i;
	struct stub s;
	long ret;

	stub_use_new_mm = 1;
	stub_start(&s);
	stub_use_new_mm = 0;
	stub_poke(&s, CODE_ADDR, code, sizeof(code));
	mfd = memfd_create("vmexec-new-mm-code", MFD_CLOEXEC);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_eq(pwrite(mfd, code, sizeof(code), 0), (ssize_t)sizeof(code));
	ck_assert_int_eq(ftruncate(mfd, PAGE), 0);
	ret = in_mm(s.fd, SYS_mmap, memfd_code, PAGE, PROT_READ | PROT_EXEC,
		    MAP_SHARED | MAP_FIXED_NOREPLACE, mfd, 0);
	ck_assert_int_eq(ret, (long)memfd_code);

	for (i = 0; i < 2; i++) {
		unsigned long base = i ? memfd_code : CODE_ADDR;

		run_init(&run, base);
		run.sigmask = SIGBIT(SIGSEGV);
		assert_ret(run_guest(&s, &run), 0);
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
		ck_assert_uint_eq(run.exit.syscall.nr, 39);
		ck_assert_uint_eq(run.regs.rip, base + 7);
		assert_ret(run_guest(&s, &run), 0);
		ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
		ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
		ck_assert_int_eq(run.exit.signal.code, SEGV_MAPERR);
		ck_assert_uint_eq(run.exit.signal.addr, 0x12340008);
		ck_assert_uint_eq(run.regs.rip, base + 17);
	}
	stub_stop(&s);
}
END_TEST

/* MEM both ways; a read-only page ends a write at its first byte, exactly. */
START_TEST(test_new_mm_mem_copies_and_honours_protections)
{
	_cleanup_fd_ int fd = new_mm();
	const unsigned long at = TEST_ADDR(1);
	unsigned char src[3 * PAGE], dst[3 * PAGE];
	struct iovec l = { src, sizeof(src) }, r = { (void *)(at + PAGE), 2 * PAGE };
	unsigned int i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 13 + 5);
	ck_assert_int_eq(map_anon(fd, at, 3 * PAGE, PROT_READ | PROT_WRITE), (long)at);
	/* The last page read-only: a 2-page write from at + PAGE copies 1 page. */
	ck_assert_int_eq(in_mm(fd, SYS_mprotect, at + 2 * PAGE, PAGE, PROT_READ, 0, 0, 0), 0);
	assert_ret(vmexec_mem_write(fd, &l, &r, 1), (int)PAGE);
	memset(dst, 0xee, sizeof(dst));
	l.iov_base = dst;
	r.iov_base = (void *)at;
	r.iov_len = 3 * PAGE;
	assert_ret(vmexec_mem_read(fd, &l, &r, 1), (int)(3 * PAGE));
	for (i = 0; i < PAGE; i++) {
		ck_assert_uint_eq(dst[i], 0);
		ck_assert_uint_eq(dst[PAGE + i], src[i]);
		ck_assert_uint_eq(dst[2 * PAGE + i], 0);
	}
	/* Unmapped: EFAULT before any byte. */
	r.iov_base = (void *)(at + 3 * PAGE);
	r.iov_len = 1;
	assert_ret(vmexec_mem_read(fd, &l, &r, 1), -EFAULT);
}
END_TEST

/* memory.current of CG_NEW_MM in bytes (test fails on error). */
static long cg_current(void)
{
	char buf[32] = "";
	int fd = open(CG_NEW_MM "/memory.current", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	return atol(buf);
}

static int cg_write(const char *file, const char *val)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), CG_NEW_MM "/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

static void cg_setup(const char *max)
{
	ck_assert(mkdir(CG_NEW_MM, 0755) == 0 || errno == EEXIST);
	assert_ret(cg_write("memory.max", max), 0);
}

/* Into the test cgroup: a child process's first step. */
static int cg_enter(void)
{
	return cg_write("cgroup.procs", "0");
}

/* Touch every page of [at, at + len) with MEM writes of one page each. */
static long touch_pages(int fd, unsigned long at, size_t len)
{
	static unsigned char page[PAGE];
	size_t off;
	int ret;

	memset(page, 0x5a, sizeof(page));
	for (off = 0; off < len; off += PAGE) {
		struct iovec l = { page, PAGE }, r = { (void *)(at + off), PAGE };

		ret = vmexec_mem_write(fd, &l, &r, 1);
		if (ret != (int)PAGE)
			return ret < 0 ? ret : -EIO;
	}
	return 0;
}

/*
 * In a child: join the test cgroup, make a new mm with code (r-x) at
 * CODE_ADDR and len bytes of anonymous memory at data. The file, or
 * CHILD_SETUP_ERR + step.
 */
static int child_new_mm_with_code(const void *code, size_t size, unsigned long data, size_t len)
{
	struct iovec l = { (void *)code, size }, r = { (void *)CODE_ADDR, size };
	int fd;

	if (cg_enter())
		return -(CHILD_SETUP_ERR + 1);
	fd = vmexec_open();
	if (fd < 0 || vmexec_bind_new_mm(fd))
		return -(CHILD_SETUP_ERR + 2);
	if (try_map_anon(fd, CODE_ADDR, PAGE) != (long)CODE_ADDR ||
	    try_map_anon(fd, data, len) != (long)data ||
	    vmexec_mem_write(fd, &l, &r, 1) != (int)size)
		return -(CHILD_SETUP_ERR + 3);
	if (vmexec_syscall(fd, (long[]){ 0 }, SYS_mprotect, CODE_ADDR, PAGE,
			   PROT_READ | PROT_EXEC, 0, 0, 0))
		return -(CHILD_SETUP_ERR + 4);
	return fd;
}

/* Charges are taken in per-CPU batches of 64 pages: within that, exact. */
#define CHARGE_SLACK	(2 * 64 * PAGE + 512 * 1024)
#define TOUCH_LEN	(16 * MIB)

struct charge_result {
	long created, touched, closed;
	int err;
};

static int charge_child(void *arg)
{
	int *res_fd = arg;
	struct charge_result r = { 0 };
	int fd;

	if (cg_enter())
		return CHILD_SETUP_ERR + 1;
	fd = vmexec_open();
	if (fd < 0 || vmexec_bind_new_mm(fd))
		return CHILD_SETUP_ERR + 2;
	r.created = cg_current();
	if (try_map_anon(fd, TEST_ADDR(2), TOUCH_LEN) != (long)TEST_ADDR(2))
		return CHILD_SETUP_ERR + 3;
	r.err = (int)touch_pages(fd, TEST_ADDR(2), TOUCH_LEN);
	r.touched = cg_current();
	close(fd);
	r.closed = cg_current();
	return write(*res_fd, &r, sizeof(r)) == sizeof(r) ? 0 : CHILD_SETUP_ERR + 4;
}

/* memory.current rises with the mm's pages and falls when the file closes. */
START_TEST(test_new_mm_pages_charged_to_creator_cgroup)
{
	_cleanup_child_ struct child c = { 0 };
	_cleanup_pipe_ int p[2] = { -1, -1 };
	struct charge_result r;
	int res;

	cg_setup("max");
	xpipe(p);
	ck_assert_int_eq(child_start(&c, charge_child, &p[1]), 0);
	ck_assert_int_eq(child_result(&c, &res), 0);
	ck_assert_int_eq(res, 0);
	ck_assert_int_eq(read(p[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	assert_ret(r.err, 0);
	ck_assert_msg(r.touched - r.created >= (long)(TOUCH_LEN - CHARGE_SLACK) &&
		      r.touched - r.created <= (long)(TOUCH_LEN + CHARGE_SLACK),
		      "memory.current rose by %ld, want %lu +- %lu", r.touched - r.created,
		      TOUCH_LEN, CHARGE_SLACK);
	ck_assert_msg(r.touched - r.closed >= (long)(TOUCH_LEN - CHARGE_SLACK),
		      "memory.current fell by %ld at close, want >= %lu", r.touched - r.closed,
		      TOUCH_LEN - CHARGE_SLACK);
	rmdir(CG_NEW_MM);
}
END_TEST

/*
 * memory.max holds: a caller that fills 64 MiB of the mm in a 16 MiB
 * cgroup, by a guest touching it (the thread in guest mode has the mm, so
 * the OOM killer sees its pages) or by MEM writes (nobody's RSS: the
 * caller is the task the cgroup can kill), gets the memory cgroup's OOM
 * kill; memory.current never passed the limit, and the pages are gone
 * with the caller.
 */
#define OOM_MAX		(16 * MIB)
#define OOM_TOUCH	(64 * MIB)

static int oom_child(int by_mem)
{
	/* 1: mov %al,(%rbx); add $4096,%rbx; cmp %rcx,%rbx; jb 1b; mov $39,%eax; syscall */
	static const unsigned char touch[] = {
		0x88, 0x03, 0x48, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, 0x48, 0x39, 0xcb,
		0x72, 0xf2, 0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05,
	};
	int fd = child_new_mm_with_code(touch, sizeof(touch), TEST_ADDR(3), OOM_TOUCH);
	struct vmexec_run run;

	if (fd < 0)
		return -fd;
	if (by_mem)
		return touch_pages(fd, TEST_ADDR(3), OOM_TOUCH) ? 2 : 1;
	vmexec_run_prep(&run, CODE_ADDR, 0);
	run.regs.rax = 1;
	run.regs.rbx = TEST_ADDR(3);
	run.regs.rcx = TEST_ADDR(3) + OOM_TOUCH;
	if (vmexec_run(fd, &run))
		return CHILD_SETUP_ERR + 5;
	/* Came back: the whole range was touched within the limit. */
	return 1;
}

/* The number after key in file, or the file's first number for key "". */
static long cg_field(const char *file, const char *key)
{
	char buf[1024], *p;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	if (!*key)
		return atol(buf);
	p = strstr(buf, key);
	ck_assert_ptr_nonnull(p);
	return atol(p + strlen(key) + 1);
}

START_TEST(test_new_mm_memcg_oom_kills_filler_within_limit)
{
	const int by_mem = _i;
	char max[32];
	long kills;
	int status;
	pid_t pid;

	snprintf(max, sizeof(max), "%lu", OOM_MAX);
	cg_setup(max);
	kills = cg_field(CG_NEW_MM "/memory.events", "oom_kill");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(die_with_parent(getppid()) ? 2 : 100 + oom_child(by_mem));
	assert_ret(reap_timeout(pid, &status, 6 * WAIT_MS), 0);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "filling by %s: child ended with status %#x", by_mem ? "MEM" : "a guest",
		      status);
	ck_assert_int_eq(cg_field(CG_NEW_MM "/memory.events", "oom_kill"), kills + 1);
	ck_assert_int_le(cg_field(CG_NEW_MM "/memory.peak", ""), (long)OOM_MAX);
	ck_assert_int_le(cg_current(), (long)(OOM_MAX / 8));
	rmdir(CG_NEW_MM);
}
END_TEST


/* SCM_RIGHTS: fd over the unix socket sock. 0 or -errno. */
static int send_fd(int sock, int fd)
{
	char data = 'f', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &data, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char data, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &data, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * The creator: joins the cgroup, makes the mm with code in it, runs a guest
 * there once (leaving the mm it owns must not give the ownership away),
 * hands it over.
 */
static int creator_child(void *arg)
{
	/* mov $39,%eax; syscall */
	static const unsigned char code[] = { 0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	int fd = child_new_mm_with_code(code, sizeof(code), TEST_ADDR(4), TOUCH_LEN), *sock = arg;
	struct vmexec_run run;

	if (fd < 0)
		return -fd;
	vmexec_run_prep(&run, CODE_ADDR, 0);
	run.sigmask = SIGBIT(SIGSEGV);
	if (vmexec_run(fd, &run) || run.exit_reason != VMEXEC_EXIT_SYSCALL)
		return CHILD_SETUP_ERR + 5;
	return send_fd(*sock, fd) ? CHILD_SETUP_ERR + 6 : 0;
}

/*
 * The creator exits and another process keeps the file: the mm lives on,
 * guests run in it without ESRCH, and the pages it faults in from then on
 * are still charged to the creator's cgroup, not the root's and not the
 * holder's.
 */
START_TEST(test_new_mm_outlives_creator_still_charged_to_its_cgroup)
{
	_cleanup_child_ struct child c = { 0 };
	_cleanup_fd_ int fd = -1;
	struct vmexec_run run;
	long before, after;
	int sv[2], res;

	cg_setup("max");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(child_start(&c, creator_child, &sv[1]), 0);
	/* child_result() reaps it: the creator is gone before we go on. */
	ck_assert_int_eq(child_result(&c, &res), 0);
	ck_assert_int_eq(res, 0);
	fd = recv_fd(sv[0]);
	ck_assert_int_ge(fd, 0);
	close(sv[0]);
	close(sv[1]);

	before = cg_current();
	assert_ret(touch_pages(fd, TEST_ADDR(4), TOUCH_LEN), 0);
	after = cg_current();
	ck_assert_msg(after - before >= (long)(TOUCH_LEN - CHARGE_SLACK) &&
		      after - before <= (long)(TOUCH_LEN + CHARGE_SLACK),
		      "creator's cgroup grew by %ld, want %lu +- %lu", after - before,
		      TOUCH_LEN, CHARGE_SLACK);
	vmexec_run_prep(&run, CODE_ADDR, 0);
	run.sigmask = SIGBIT(SIGSEGV);
	assert_ret(vmexec_run(fd, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.regs.rip, CODE_ADDR + 7);
	close_fdp(&fd);
	ck_assert_msg(after - cg_current() >= (long)(TOUCH_LEN - CHARGE_SLACK),
		      "creator's cgroup fell by %ld at close", after - cg_current());
	rmdir(CG_NEW_MM);
}
END_TEST

/* Two threads, each in guest mode until it has seen the other there. */
struct pair_guest {
	int fd;
	unsigned long mine, other;
	int err;
	struct vmexec_run run;
};

static void *pair_thread(void *arg)
{
	struct pair_guest *g = arg;

	run_init(&g->run, CODE_ADDR);
	g->run.sigmask = SIGBIT(SIGUSR1);
	g->run.regs.rbx = g->mine;
	g->run.regs.rcx = g->other;
	g->err = vmexec_run(g->fd, &g->run);
	return NULL;
}

START_TEST(test_new_mm_two_threads_run_in_it_at_once)
{
	/* movl $1,(%rbx); 1: cmpl $0,(%rcx); je 1b; mov $39,%eax; syscall */
	static const unsigned char code[] = {
		0xc7, 0x03, 0x01, 0x00, 0x00, 0x00, 0x83, 0x39, 0x00, 0x74, 0xfb,
		0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05,
	};
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct pair_guest g[2];
	struct timespec ts;
	pthread_t th[2];
	struct stub s;
	int i, timed_out = 0;

	stub_use_new_mm = 1;
	stub_start(&s);
	stub_use_new_mm = 0;
	stub_poke(&s, CODE_ADDR, code, sizeof(code));
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	for (i = 0; i < 2; i++) {
		g[i].fd = s.fd;
		g[i].mine = DATA_ADDR + 64 * i;
		g[i].other = DATA_ADDR + 64 * (1 - i);
		ck_assert_int_eq(pthread_create(&th[i], NULL, pair_thread, &g[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 3 * WAIT_MS / 1000;
		if (pthread_timedjoin_np(th[i], NULL, &ts)) {
			/* Not both in guest mode at once: end the runs, then fail. */
			timed_out = 1;
			pthread_kill(th[0], SIGUSR1);
			pthread_kill(th[1], SIGUSR1);
			ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		}
	}
	ck_assert_int_eq(timed_out, 0);
	for (i = 0; i < 2; i++) {
		assert_ret(g[i].err, 0);
		ck_assert_uint_eq(g[i].run.exit_reason, VMEXEC_EXIT_SYSCALL);
		ck_assert_uint_eq(g[i].run.exit.syscall.nr, 39);
		ck_assert_uint_eq(g[i].run.regs.rip, CODE_ADDR + sizeof(code));
	}
	stub_stop(&s);
}
END_TEST

static int module_refcnt(void)
{
	int v = -1;

	assert_ret(read_int_file("/sys/module/vmexec/refcnt", &v), 0);
	return v;
}

/*
 * The mm holds a module reference of its own, dropped once the mm is torn
 * down (here: when the file closes); a pidfd binding holds none.
 */
START_TEST(test_new_mm_holds_module_until_torn_down)
{
	_cleanup_fd_ int pidfd = pidfd_open_pid(getpid());
	int base = module_refcnt(), fd;

	fd = xvmexec_open();
	ck_assert_int_eq(module_refcnt(), base + 1);
	assert_ret(vmexec_bind_new_mm(fd), 0);
	ck_assert_int_eq(module_refcnt(), base + 2);
	close(fd);
	ck_assert_int_eq(module_refcnt(), base);

	fd = xvmexec_open();
	assert_ret(vmexec_bind_pidfd(fd, pidfd), 0);
	ck_assert_int_eq(module_refcnt(), base + 1);
	close(fd);
	ck_assert_int_eq(module_refcnt(), base);
}
END_TEST

/*
 * Closing the last descriptor while a thread runs in the mm: the run goes
 * on and ends normally, and only then is the mm (and its module reference)
 * gone.
 */
START_TEST(test_new_mm_close_with_run_in_flight)
{
	struct maps_guest g = { 0 };
	pthread_t th;
	struct stub s;
	int base = module_refcnt();

	start_spinning_guest(&s, &g, &th);
	ck_assert_int_eq(module_refcnt(), base + 2);
	ck_assert_int_eq(close(s.fd), 0);
	s.fd = -1;
	/* The run holds the file, the file the mm. */
	ck_assert_int_eq(module_refcnt(), base + 2);
	ck_assert_int_eq(pthread_kill(th, SIGUSR1), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	assert_ret(g.err, 0);
	ck_assert_uint_eq(g.run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(g.run.exit.signal.signo, SIGUSR1);
	ck_assert_uint_eq(g.run.regs.rip, CODE_ADDR + MARK_SPIN_LOOP);
	ck_assert_int_eq(module_refcnt(), base);
}
END_TEST

/* RLIMIT_AS of the caller bounds the mm's total mappings. */
static int rlimit_as_child(void *arg)
{
	struct rlimit rl = { 32 * MIB, 32 * MIB };
	int fd = *(int *)arg, res = 0;

	if (setrlimit(RLIMIT_AS, &rl))
		return CHILD_SETUP_ERR + errno;
	res |= (try_map_anon(fd, TEST_ADDR(5), 16 * MIB) == (long)TEST_ADDR(5)) << 0;
	res |= (try_map_anon(fd, TEST_ADDR(6), 17 * MIB) == -ENOMEM) << 1;
	res |= (try_map_anon(fd, TEST_ADDR(6), 15 * MIB) == (long)TEST_ADDR(6)) << 2;
	res |= (try_map_anon(fd, TEST_ADDR(7), 2 * MIB) == -ENOMEM) << 3;
	return res;
}

/* fn(&fd) in a child, fd bound to a new mm: the child's result. */
static int new_mm_child(int (*fn)(void *arg))
{
	_cleanup_child_ struct child c = { 0 };
	_cleanup_fd_ int fd = new_mm();
	int res = -1;

	ck_assert_int_eq(child_start(&c, fn, &fd), 0);
	ck_assert_int_eq(child_result(&c, &res), 0);
	return res;
}

START_TEST(test_new_mm_caller_rlimit_as_applies)
{
	ck_assert_int_eq(new_mm_child(rlimit_as_child), 0xf);
}
END_TEST

/* RLIMIT_MEMLOCK of an unprivileged caller bounds what it locks in the mm. */
static int rlimit_memlock_child(void *arg)
{
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	int fd = *(int *)arg, res = 0;
	long ret;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_privileges(65534, 65534))
		return CHILD_SETUP_ERR + 1;
	if (try_map_anon(fd, TEST_ADDR(8), 256 * 1024) != (long)TEST_ADDR(8))
		return CHILD_SETUP_ERR + 2;
	if (!vmexec_syscall(fd, &ret, SYS_mlock, TEST_ADDR(8), 64 * 1024, 0, 0, 0, 0))
		res |= (ret == 0) << 0;
	if (!vmexec_syscall(fd, &ret, SYS_mlock, TEST_ADDR(8) + 64 * 1024, PAGE, 0, 0, 0, 0))
		res |= (ret == -ENOMEM) << 1;
	if (!vmexec_syscall(fd, &ret, SYS_munlock, TEST_ADDR(8), PAGE, 0, 0, 0, 0) && !ret &&
	    !vmexec_syscall(fd, &ret, SYS_mlock, TEST_ADDR(8) + 64 * 1024, PAGE, 0, 0, 0, 0))
		res |= (ret == 0) << 2;
	return res;
}

START_TEST(test_new_mm_caller_rlimit_memlock_applies)
{
	ck_assert_int_eq(new_mm_child(rlimit_memlock_child), 0x7);
}
END_TEST

Suite *suite_new_mm(void)
{
	Suite *s = suite_create("new_mm");
	TCase *tc = tcase_create("new_mm");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_new_mm_feature_probed);
	tcase_add_test(tc, test_new_mm_bad_bind_args_rejected);
	tcase_add_test(tc, test_new_mm_layout_top_down_randomized_unless_personality);
	tcase_add_test(tc, test_new_mm_maps_only_what_was_mapped);
	tcase_add_test(tc, test_new_mm_runs_code_from_anon_and_memfd);
	tcase_add_test(tc, test_new_mm_mem_copies_and_honours_protections);
	tcase_add_test(tc, test_new_mm_pages_charged_to_creator_cgroup);
	tcase_add_loop_test(tc, test_new_mm_memcg_oom_kills_filler_within_limit, 0, 2);
	tcase_add_test(tc, test_new_mm_outlives_creator_still_charged_to_its_cgroup);
	tcase_add_test(tc, test_new_mm_two_threads_run_in_it_at_once);
	tcase_add_test(tc, test_new_mm_holds_module_until_torn_down);
	tcase_add_test(tc, test_new_mm_close_with_run_in_flight);
	tcase_add_test(tc, test_new_mm_caller_rlimit_as_applies);
	tcase_add_test(tc, test_new_mm_caller_rlimit_memlock_applies);
	suite_add_tcase(s, tc);
	return s;
}
