// SPDX-License-Identifier: GPL-2.0
/*
 * suite_target: working in a live, busy target the way a checkpoint/restore
 * tool would, and what happens when the target dies or execs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "helpers.h"

#define STOP		VMEXEC_SYSCALLS_STOP_ON_ERROR
#define MAP_NEW		(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)

/* Alive, not reaped, and not stopped or traced. */
static void assert_running(pid_t pid)
{
	char state = target_state(pid);

	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
	ck_assert_msg(state == 'R' || state == 'S',
		      "target %d in state '%c'", pid, state ? state : '?');
}

/*
 * The CRIU case: a target that runs all along. One batch maps a page at a
 * fixed address in it and fills the page from the caller's pipe; the target
 * then reports what it sees there. vmsplice() moves the page into another of
 * the caller's pipes (its iovec, a pointer argument, lives in the target
 * too); munmap() removes the page, and the target sees it gone.
 */
START_TEST(target_criu_inject_page)
{
	static const char msg[] = "vmexec: a page from the caller's own pipe";
	const size_t len = sizeof(msg);
	unsigned long page = TEST_ADDR(10), iov_at = page + 2048;
	struct target t _cleanup_target_ = { 0 };
	int fd _cleanup_fd_ = xvmexec_open();
	int in[2] _cleanup_pipe_ = { -1, -1 };
	int out[2] _cleanup_pipe_ = { -1, -1 };
	char seen[TARGET_DATA_MAX], got[sizeof(msg)];
	struct vmexec_syscall c[2];
	struct iovec iov;
	long res = 0;

	xtarget_start(&t);
	assert_running(t.pid);
	assert_ret(target_mincore(&t, page, PAGE_SZ), -ENOMEM);
	assert_ret(vmexec_bind_pid(fd, t.pid), 0);

	/* Created after the fork: these exist in the test process only. */
	xpipe(in);
	xpipe(out);
	xwrite(in[1], msg, len);

	vmexec_prep_syscall(&c[0], SYS_mmap, page, PAGE_SZ,
			    PROT_READ | PROT_WRITE, MAP_NEW, -1, 0);
	vmexec_prep_syscall(&c[1], SYS_read, in[0], page, len, 0, 0, 0);
	assert_ret(vmexec_syscalls(fd, c, 2, STOP), 2);
	assert_ret(c[0].ret, page);
	assert_ret(c[1].ret, len);
	assert_ret(mapped_here(page), -ENOMEM);

	memset(seen, 0, sizeof(seen));
	assert_ret(target_read(&t, page, seen, len), 0);
	ck_assert_mem_eq(seen, msg, len);
	assert_running(t.pid);

	/* The iovec goes into the page first, through the same pipe. */
	iov.iov_base = (void *)page;
	iov.iov_len = len;
	xwrite(in[1], &iov, sizeof(iov));
	vmexec_prep_syscall(&c[0], SYS_read, in[0], iov_at, sizeof(iov), 0, 0, 0);
	vmexec_prep_syscall(&c[1], SYS_vmsplice, out[1], iov_at, 1, 0, 0, 0);
	assert_ret(vmexec_syscalls(fd, c, 2, STOP), 2);
	assert_ret(c[0].ret, sizeof(iov));
	assert_ret(c[1].ret, len);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(read_timeout(out[0], got, len, WAIT_MS), len);
	ck_assert_mem_eq(got, msg, len);
	assert_ret(target_read(&t, iov_at, seen, sizeof(iov)), 0);
	ck_assert_mem_eq(seen, &iov, sizeof(iov));

	assert_ret(vmexec_syscall(fd, &res, SYS_munmap, page, PAGE_SZ,
				     0, 0, 0, 0), 0);
	assert_ret(res, 0);
	assert_ret(target_mincore(&t, page, PAGE_SZ), -ENOMEM);
	assert_ret(target_read(&t, page, seen, 1), -ENOMEM);
	assert_running(t.pid);
}
END_TEST

/* Does any descriptor of pid point at path? */
static int proc_has_file(pid_t pid, const char *path)
{
	char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
	struct dirent *de;
	int found = 0;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	ck_assert_msg(d, "opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path))
			found = 1;
	}
	closedir(d);
	return found;
}

/*
 * openat() with its path in the target's memory opens the file into the
 * caller's table: usable here, absent from the target.
 */
START_TEST(target_openat_into_caller)
{
	static const char content[] = "opened through vmexec\n";
	unsigned long page = TEST_ADDR(11);
	struct target t _cleanup_target_ = { 0 };
	int fd _cleanup_fd_ = xvmexec_open();
	int in[2] _cleanup_pipe_ = { -1, -1 };
	int nfd _cleanup_fd_ = -1;
	int wfd _cleanup_fd_ = -1;
	char path[64], seen[64], buf[sizeof(content)];
	struct vmexec_syscall c[3];
	struct stat st, nst;
	size_t plen;

	snprintf(path, sizeof(path), "/tmp/vmexec-test-openat.%d", getpid());
	plen = strlen(path) + 1;
	unlink(path);
	wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(wfd >= 0, "create %s: %s", path, strerror(errno));
	xwrite(wfd, content, sizeof(content) - 1);
	ck_assert_int_eq(stat(path, &st), 0);

	xtarget_start(&t);
	assert_ret(vmexec_bind_pid(fd, t.pid), 0);
	xpipe(in);
	xwrite(in[1], path, plen);

	vmexec_prep_syscall(&c[0], SYS_mmap, page, PAGE_SZ,
			    PROT_READ | PROT_WRITE, MAP_NEW, -1, 0);
	vmexec_prep_syscall(&c[1], SYS_read, in[0], page, plen, 0, 0, 0);
	vmexec_prep_syscall(&c[2], SYS_openat, AT_FDCWD, page,
			    O_RDONLY | O_CLOEXEC, 0, 0, 0);
	assert_ret(vmexec_syscalls(fd, c, 3, STOP), 3);
	assert_ret(c[0].ret, page);
	assert_ret(c[1].ret, plen);
	ck_assert_msg(c[2].ret >= 0, "openat: %lld (%s)", (long long)c[2].ret,
		      ret_name(c[2].ret));
	nfd = c[2].ret;
	/* The path was read from the target's page, which we do not have. */
	assert_ret(mapped_here(page), -ENOMEM);
	assert_ret(target_read(&t, page, seen, plen), 0);
	ck_assert_mem_eq(seen, path, plen);

	ck_assert_int_eq(fstat(nfd, &nst), 0);
	ck_assert_int_eq(nst.st_dev, st.st_dev);
	ck_assert_int_eq(nst.st_ino, st.st_ino);
	ck_assert_int_eq(pread(nfd, buf, sizeof(content) - 1, 0),
			 sizeof(content) - 1);
	ck_assert_mem_eq(buf, content, sizeof(content) - 1);
	ck_assert_msg(proc_has_file(getpid(), path), "not in our table");
	ck_assert_msg(!proc_has_file(t.pid, path), "the target has it open");
	unlink(path);
}
END_TEST

/* /proc/<pid>/cmdline, waiting for a fresh exec to publish it. */
static void read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n = 0;
	int fd, tries;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	for (tries = 0; tries < 1000 && n <= 0; tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
		n = read(fd, buf, size - 1);
		close(fd);
		if (n <= 0)
			usleep(10000);
	}
	ck_assert_msg(n > 0, "%s stayed empty", path);
	buf[n] = '\0';
}

/*
 * The target dies between two calls: the address space is gone, ESRCH.
 * _i == 0: killed and reaped; _i == 1: killed, still a zombie.
 */
START_TEST(target_killed_esrch)
{
	unsigned long page = TEST_ADDR(12);
	struct target t _cleanup_target_ = { 0 };
	int fd _cleanup_fd_ = xvmexec_open();
	struct vmexec_syscall c[2];
	pid_t pid;
	long res = 0;

	xtarget_start(&t);
	pid = t.pid;
	assert_ret(vmexec_bind_pid(fd, t.pid), 0);
	assert_ret(vmexec_syscall(fd, &res, SYS_mmap, page, PAGE_SZ,
				     PROT_READ, MAP_NEW, -1, 0), 0);
	assert_ret(res, page);

	if (_i == 0) {
		target_stop(&t);
	} else {
		ck_assert_int_eq(kill(t.pid, SIGKILL), 0);
		ck_assert_int_eq(wait_exited_nowait(t.pid, WAIT_MS), 0);
	}

	res = 12345;
	assert_ret(vmexec_syscall(fd, &res, SYS_munmap, page, PAGE_SZ,
				     0, 0, 0, 0), -ESRCH);
	ck_assert_int_eq(res, 12345);
	prep_nop(&c[0]);
	prep_nop(&c[1]);
	c[0].ret = c[1].ret = 7;
	assert_ret(vmexec_syscalls(fd, c, 2, 0), -ESRCH);
	assert_ret(vmexec_syscalls(fd, c, 2, STOP), -ESRCH);
	ck_assert_int_eq(c[0].ret, 7);
	ck_assert_int_eq(c[1].ret, 7);
	/* Still bound, to the dead address space. */
	assert_ret(vmexec_bind_pid(fd, getpid()), -EBUSY);

	target_stop(&t);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
}
END_TEST

/* After an exec the bound (old) address space is gone: ESRCH. */
START_TEST(target_exec_esrch)
{
	unsigned long page = TEST_ADDR(13);
	struct target t _cleanup_target_ = { 0 };
	int fd _cleanup_fd_ = xvmexec_open();
	int fd2 _cleanup_fd_ = xvmexec_open();
	char cmdline[256];
	long res = 0;
	int ret;

	xtarget_start(&t);
	assert_ret(vmexec_bind_pid(fd, t.pid), 0);
	assert_ret(vmexec_syscall(fd, &res, SYS_mmap, page, PAGE_SZ,
				     PROT_READ, MAP_NEW, -1, 0), 0);
	assert_ret(res, page);
	assert_ret(target_mincore(&t, page, PAGE_SZ), 0);

	ret = target_exec_sleep(&t);
	ck_assert_msg(ret == 0, "exec /bin/busybox sleep 100: %s", ret_name(ret));
	assert_running(t.pid);
	read_cmdline(t.pid, cmdline, sizeof(cmdline));
	ck_assert_str_eq(cmdline, "sleep");

	assert_ret(vmexec_syscall(fd, &res, SYS_munmap, page, PAGE_SZ,
				     0, 0, 0, 0), -ESRCH);
	assert_ret(vmexec_syscall(fd, &res, SYS_madvise, 0, 0, MADV_NORMAL,
				     0, 0, 0), -ESRCH);

	/* A new BIND reaches the new image, where the page never existed. */
	assert_ret(vmexec_bind_pid(fd2, t.pid), 0);
	assert_ret(vmexec_syscall(fd2, &res, SYS_mmap, page, PAGE_SZ,
				     PROT_READ, MAP_NEW, -1, 0), 0);
	assert_ret(res, page);
	assert_running(t.pid);
}
END_TEST

Suite *suite_target(void)
{
	Suite *s = suite_create("target");
	TCase *tc;

	tc = tcase_new("live");
	tcase_add_test(tc, target_criu_inject_page);
	tcase_add_test(tc, target_openat_into_caller);
	suite_add_tcase(s, tc);

	tc = tcase_new("gone");
	tcase_add_loop_test(tc, target_killed_esrch, 0, 2);
	tcase_add_test(tc, target_exec_esrch);
	suite_add_tcase(s, tc);
	return s;
}
