// SPDX-License-Identifier: GPL-2.0
/*
 * suite_bind: VMEXEC_IOC_BIND argument checking and target states.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Is fd bound? A no-op batch answers 1 if so, -EINVAL if not. */
static int probe_bound(int fd)
{
	struct vmexec_syscall sc;

	prep_nop(&sc);
	return vmexec_syscalls(fd, &sc, 1, 0);
}

/* A vmexec_bind at @at for our own process; the bytes after it are zero. */
static void put_bind(char *at, uint32_t size, int pidfd)
{
	struct vmexec_bind b;

	memset(&b, 0, sizeof(b));
	b.size = size;
	b.pidfd = pidfd;
	memcpy(at, &b, sizeof(b));
}

START_TEST(bind_self)
{
	int fd _cleanup_fd_ = xvmexec_open();

	assert_ret(probe_bound(fd), -EINVAL);
	assert_ret(vmexec_bind_pid(fd, getpid()), 0);
	assert_ret(probe_bound(fd), 1);
}
END_TEST

START_TEST(bind_target)
{
	struct target t _cleanup_target_ = { 0 };
	int fd _cleanup_fd_ = xvmexec_open();

	xtarget_start(&t);
	assert_ret(vmexec_bind_pid(fd, t.pid), 0);
	assert_ret(probe_bound(fd), 1);
	assert_ret(target_ping(&t), 0);
}
END_TEST

/*
 * copy_struct_from_user() semantics. at_end places the struct so that it
 * ends end_at bytes before a PROT_NONE page: what lies beyond is unreadable.
 */
static const struct size_case {
	const char *name;
	uint32_t size;
	int poke;		/* offset of a non-zero byte, or -1 */
	int at_end;
	int end_at;
	int want;
} bind_sizes[] = {
	{ "size 0", 0, -1, 0, 0, -EINVAL },
	{ "size 4", 4, -1, 0, 0, -EINVAL },
	{ "size 8", 8, -1, 0, 0, -EINVAL },
	{ "size 15", 15, -1, 0, 0, -EINVAL },
	{ "size 16", 16, -1, 0, 0, 0 },
	{ "size 17, zero tail", 17, -1, 0, 0, 0 },
	{ "size 24, zero tail", 24, -1, 0, 0, 0 },
	{ "size 24, byte 16 set", 24, 16, 0, 0, -E2BIG },
	{ "size 24, byte 23 set", 24, 23, 0, 0, -E2BIG },
	{ "size 4096, zero tail", 4096, -1, 0, 0, 0 },
	{ "size 4096, byte 4095 set", 4096, 4095, 0, 0, -E2BIG },
	{ "size 4097, zero tail", 4097, -1, 0, 0, -E2BIG },
	{ "size 8192, zero tail", 8192, -1, 0, 0, -E2BIG },
	{ "size 0xffffffff", UINT32_MAX, -1, 0, 0, -E2BIG },
	{ "size 16, struct runs into PROT_NONE", 16, -1, 1, 8, -EFAULT },
	{ "size 24, tail in PROT_NONE", 24, -1, 1, 16, -EFAULT },
};

START_TEST(bind_size)
{
	const struct size_case *c = &bind_sizes[_i];
	int fd _cleanup_fd_ = xvmexec_open();
	int pidfd _cleanup_fd_ = pidfd_open_pid(getpid());
	char *buf = guarded_alloc(2 * PAGE_SZ);
	char *at = c->at_end ? buf + 2 * PAGE_SZ - c->end_at : buf;
	struct vmexec_bind b;
	int ret;

	ck_assert_int_ge(pidfd, 0);
	memset(&b, 0, sizeof(b));
	b.size = c->size;
	b.pidfd = pidfd;
	memcpy(at, &b, c->at_end ? (size_t)c->end_at : sizeof(b));
	if (c->poke >= 0)
		at[c->poke] = 1;

	ret = raw_ioctl(fd, VMEXEC_IOC_BIND, at);
	ck_assert_msg(ret == c->want, "%s: got %d (%s), want %d (%s)",
		      c->name, ret, ret_name(ret), c->want, ret_name(c->want));
	/* Accepted means bound; refused means not. */
	assert_ret(probe_bound(fd), c->want == 0 ? 1 : -EINVAL);
}
END_TEST

/* The size bits of the ioctl number do not matter; the size field does. */
static const struct {
	unsigned int ioc_size;
	uint32_t size;
} bind_numbers[] = {
	{ 0, 16 }, { 4, 16 }, { 15, 16 }, { 24, 16 }, { 24, 24 },
	{ 64, 64 }, { 4096, 16 }, { _IOC_SIZEMASK, 16 },
};

START_TEST(bind_ioctl_number_size)
{
	unsigned long cmd = _IOC(_IOC_WRITE, VMEXEC_IOC_MAGIC, 0x01,
				 bind_numbers[_i].ioc_size);
	int fd _cleanup_fd_ = xvmexec_open();
	int pidfd _cleanup_fd_ = pidfd_open_pid(getpid());
	char *buf = guarded_alloc(PAGE_SZ);

	ck_assert_int_ge(pidfd, 0);
	put_bind(buf, bind_numbers[_i].size, pidfd);
	ck_assert_msg(raw_ioctl(fd, cmd, buf) == 0,
		      "size bits %u, struct size %u: refused",
		      bind_numbers[_i].ioc_size, bind_numbers[_i].size);
	assert_ret(probe_bound(fd), 1);
}
END_TEST

START_TEST(bind_bad_pointer)
{
	int fd _cleanup_fd_ = xvmexec_open();
	char *guard = (char *)guarded_alloc(PAGE_SZ) + PAGE_SZ;
	void *ptrs[] = {
		NULL,
		unmapped_ptr(),
		guard,				/* PROT_NONE */
		(void *)0xffff800000000000UL,	/* kernel half */
	};

	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, ptrs[_i]), -EFAULT);
	assert_ret(probe_bound(fd), -EINVAL);
}
END_TEST

static const struct {
	uint32_t flags;
	uint32_t reserved;
} bind_bad_fields[] = {
	{ 1, 0 }, { 2, 0 }, { 0x80000000, 0 }, { ~0U, 0 },
	{ 0, 1 }, { 0, 0x80000000 }, { 1, 1 },
};

START_TEST(bind_flags_reserved)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int pidfd _cleanup_fd_ = pidfd_open_pid(getpid());
	struct vmexec_bind b;

	ck_assert_int_ge(pidfd, 0);
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.flags = bind_bad_fields[_i].flags;
	b.pidfd = pidfd;
	b.reserved = bind_bad_fields[_i].reserved;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	assert_ret(probe_bound(fd), -EINVAL);
}
END_TEST

static const int bad_pidfds[] = { -1, 999, INT_MAX, INT_MIN };

START_TEST(bind_pidfd_not_open)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int pidfd = bad_pidfds[_i];

	if (pidfd >= 0)
		ck_assert_msg(fcntl(pidfd, F_GETFD) < 0 && errno == EBADF,
			      "fd %d is open", pidfd);
	assert_ret(vmexec_bind_pidfd(fd, pidfd), -EBADF);
	assert_ret(probe_bound(fd), -EINVAL);
}
END_TEST

enum { NP_PIPE, NP_DEVNULL, NP_MEMFD, NP_VMEXEC_ITSELF, NP_VMEXEC_OTHER, NP_NR };

static int open_not_pidfd(int kind, int self)
{
	int p[2];

	switch (kind) {
	case NP_PIPE:
		xpipe(p);
		return p[0];
	case NP_DEVNULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case NP_MEMFD:
		return memfd_create("vmexec-test", MFD_CLOEXEC);
	case NP_VMEXEC_ITSELF:
		return dup(self);
	default:
		return xvmexec_open();
	}
}

START_TEST(bind_not_a_pidfd)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int other _cleanup_fd_ = open_not_pidfd(_i, fd);

	ck_assert_int_ge(other, 0);
	assert_ret(vmexec_bind_pidfd(fd, _i == NP_VMEXEC_ITSELF ? fd : other),
		      -EINVAL);
	assert_ret(probe_bound(fd), -EINVAL);
}
END_TEST

/*
 * A child that waits for a byte on a pipe, then exits 0 (or is killed).
 * Returns its pid; *go is the pipe's write end.
 */
static pid_t waiting_child(int *go)
{
	pid_t parent = getpid();
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[1]);
		if (die_with_parent(parent) == 0)
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

/* _i: bit 0 = killed rather than exited, bit 1 = reaped rather than zombie */
START_TEST(bind_dead_target)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int go _cleanup_fd_ = -1;
	int pidfd _cleanup_fd_ = -1;
	int killed = _i & 1, reaped = _i & 2, status = 0;
	pid_t pid;

	pid = waiting_child(&go);
	pidfd = pidfd_open_pid(pid);
	ck_assert_int_ge(pidfd, 0);
	if (killed)
		kill(pid, SIGKILL);
	else
		xwrite(go, "x", 1);
	ck_assert_int_eq(wait_exited_nowait(pid, WAIT_MS), 0);
	if (reaped) {
		ck_assert_int_eq(reap_timeout(pid, &status, WAIT_MS), 0);
		pid = 0;
	}

	assert_ret(vmexec_bind_pidfd(fd, pidfd), -ESRCH);
	assert_ret(probe_bound(fd), -EINVAL);
	kill_reap(&pid);
}
END_TEST

START_TEST(bind_kernel_thread)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int pidfd _cleanup_fd_ = -1;
	pid_t kt = find_kthread();

	ck_assert_msg(kt > 0, "no kernel thread visible in /proc");
	pidfd = pidfd_open_pid(kt);
	ck_assert_msg(pidfd >= 0, "pidfd_open(%d): %s", kt, ret_name(pidfd));
	assert_ret(vmexec_bind_pidfd(fd, pidfd), -ESRCH);
	assert_ret(probe_bound(fd), -EINVAL);
}
END_TEST

/* Bound once, always to the first target: EBUSY for any second BIND. */
START_TEST(bind_busy)
{
	struct target t1 _cleanup_target_ = { 0 };
	struct target t2 _cleanup_target_ = { 0 };
	int fd _cleanup_fd_ = xvmexec_open();
	unsigned long addr = TEST_ADDR(1);
	long res = 0;

	xtarget_start(&t1);
	xtarget_start(&t2);
	assert_ret(vmexec_bind_pid(fd, t1.pid), 0);
	assert_ret(vmexec_bind_pid(fd, t1.pid), -EBUSY);
	assert_ret(vmexec_bind_pid(fd, t2.pid), -EBUSY);
	assert_ret(vmexec_bind_pid(fd, getpid()), -EBUSY);

	/* Still bound to t1. */
	assert_ret(target_mincore(&t1, addr, PAGE_SZ), -ENOMEM);
	assert_ret(vmexec_syscall(fd, &res, SYS_mmap, addr, PAGE_SZ,
				     PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_FIXED_NOREPLACE, -1, 0), 0);
	ck_assert_int_eq(res, addr);
	assert_ret(target_mincore(&t1, addr, PAGE_SZ), 0);
	assert_ret(target_mincore(&t2, addr, PAGE_SZ), -ENOMEM);
	assert_ret(mapped_here(addr), -ENOMEM);
}
END_TEST

/* A refused BIND leaves the file unbound and bindable. */
START_TEST(bind_failure_leaves_unbound)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int pidfd _cleanup_fd_ = pidfd_open_pid(getpid());
	struct vmexec_bind b;

	ck_assert_int_ge(pidfd, 0);
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.flags = 1;
	b.pidfd = pidfd;
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_BIND, &b), -EINVAL);
	assert_ret(probe_bound(fd), -EINVAL);
	assert_ret(vmexec_bind_pidfd(fd, -1), -EBADF);
	assert_ret(probe_bound(fd), -EINVAL);
	assert_ret(vmexec_bind_pidfd(fd, pidfd), 0);
	assert_ret(probe_bound(fd), 1);
}
END_TEST

/* Files are independent: two may bind the same target. */
START_TEST(bind_two_files)
{
	struct target t _cleanup_target_ = { 0 };
	int fd1 _cleanup_fd_ = xvmexec_open();
	int fd2 _cleanup_fd_ = xvmexec_open();
	int fd3 _cleanup_fd_ = xvmexec_open();
	unsigned long addr = TEST_ADDR(2);
	long res = 0;

	xtarget_start(&t);
	assert_ret(vmexec_bind_pid(fd1, t.pid), 0);
	assert_ret(probe_bound(fd3), -EINVAL);
	assert_ret(vmexec_bind_pid(fd2, t.pid), 0);

	assert_ret(vmexec_syscall(fd1, &res, SYS_mmap, addr, PAGE_SZ,
				     PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_FIXED_NOREPLACE, -1, 0), 0);
	ck_assert_int_eq(res, addr);
	assert_ret(target_mincore(&t, addr, PAGE_SZ), 0);
	assert_ret(vmexec_syscall(fd2, &res, SYS_munmap, addr, PAGE_SZ,
				     0, 0, 0, 0), 0);
	ck_assert_int_eq(res, 0);
	assert_ret(target_mincore(&t, addr, PAGE_SZ), -ENOMEM);
}
END_TEST

Suite *suite_bind(void)
{
	Suite *s = suite_create("bind");
	TCase *tc;

	tc = tcase_new("args");
	tcase_add_loop_test(tc, bind_size, 0, ARRAY_LEN(bind_sizes));
	tcase_add_loop_test(tc, bind_ioctl_number_size, 0,
			    ARRAY_LEN(bind_numbers));
	tcase_add_loop_test(tc, bind_bad_pointer, 0, 4);
	tcase_add_loop_test(tc, bind_flags_reserved, 0,
			    ARRAY_LEN(bind_bad_fields));
	tcase_add_loop_test(tc, bind_pidfd_not_open, 0, ARRAY_LEN(bad_pidfds));
	tcase_add_loop_test(tc, bind_not_a_pidfd, 0, NP_NR);
	tcase_add_test(tc, bind_failure_leaves_unbound);
	suite_add_tcase(s, tc);

	tc = tcase_new("targets");
	tcase_add_test(tc, bind_self);
	tcase_add_test(tc, bind_target);
	tcase_add_loop_test(tc, bind_dead_target, 0, 4);
	tcase_add_test(tc, bind_kernel_thread);
	tcase_add_test(tc, bind_busy);
	tcase_add_test(tc, bind_two_files);
	suite_add_tcase(s, tc);
	return s;
}
