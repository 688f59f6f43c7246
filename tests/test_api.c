// SPDX-License-Identifier: GPL-2.0
/*
 * suite_api: the device, the version query, unknown ioctls, module pinning,
 * and the library's own error convention.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

START_TEST(api_version)
{
	int fd _cleanup_fd_ = xvmexec_open();

	ck_assert_int_eq(VMEXEC_API_VERSION, 2);
	assert_ret(vmexec_api_version(fd), VMEXEC_API_VERSION);
	/* The argument is not used. */
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_API_VERSION, unmapped_ptr()), 2);
}
END_TEST

/* Every feature this header names is there; any other number is not. */
START_TEST(api_check_feature)
{
	int fd _cleanup_fd_ = xvmexec_open();
	unsigned int f;

	for (f = 0; f < VMEXEC_FEATURE_COUNT; f++)
		assert_ret(vmexec_check_feature(fd, f), 1);
	assert_ret(vmexec_check_feature(fd, VMEXEC_FEATURE_COUNT), 0);
	assert_ret(vmexec_check_feature(fd, 4096), 0);
	assert_ret(vmexec_check_feature(fd, ~0U), 0);
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_CHECK_FEATURE, (void *)~0UL), 0);
	assert_ret(raw_ioctl(fd, VMEXEC_IOC_CHECK_FEATURE, (void *)(1UL << 32)), 0);
	/* The size bits are part of this number: it takes no struct. */
	assert_ret(raw_ioctl(fd, _IOW(VMEXEC_IOC_MAGIC, 0x06, __u32), NULL), -ENOTTY);
}
END_TEST

START_TEST(api_open_flags)
{
	int fd _cleanup_fd_ = xvmexec_open();

	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
}
END_TEST

START_TEST(api_device_node)
{
	struct stat st;

	ck_assert_msg(stat(VMEXEC_DEVICE_PATH, &st) == 0, "stat %s: %s",
		      VMEXEC_DEVICE_PATH, strerror(errno));
	ck_assert_msg(S_ISCHR(st.st_mode), "not a character device");
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_uid, 0);
}
END_TEST

static const struct {
	const char *name;
	unsigned long cmd;
} unknown_ioctls[] = {
	{ "_IO(MAGIC, 0x7f)", _IO(VMEXEC_IOC_MAGIC, 0x7f) },
	{ "_IOR(MAGIC, 0x7f, __u32)", _IOR(VMEXEC_IOC_MAGIC, 0x7f, __u32) },
	{ "_IOWR(MAGIC, 0xff, bind)",
	  _IOWR(VMEXEC_IOC_MAGIC, 0xff, struct vmexec_bind) },
	{ "_IO(MAGIC + 1, 0x00)", _IO(VMEXEC_IOC_MAGIC + 1, 0x00) },
	{ "_IOW(MAGIC + 1, 0x01, bind)",
	  _IOW(VMEXEC_IOC_MAGIC + 1, 0x01, struct vmexec_bind) },
	{ "_IOW(MAGIC - 1, 0x02, syscalls)",
	  _IOW(VMEXEC_IOC_MAGIC - 1, 0x02, struct vmexec_syscalls) },
	{ "TCGETS", TCGETS },
};

START_TEST(api_unknown_ioctl)
{
	int fd _cleanup_fd_ = xvmexec_open();
	char *arg = guarded_alloc(PAGE_SZ);
	int ret;

	/* A plausible argument, so that only the number is wrong. */
	((struct vmexec_bind *)arg)->size = sizeof(struct vmexec_bind);
	ret = raw_ioctl(fd, unknown_ioctls[_i].cmd, arg);
	ck_assert_msg(ret == -ENOTTY, "%s: got %d (%s), want ENOTTY",
		      unknown_ioctls[_i].name, ret, ret_name(ret));
}
END_TEST

/*
 * An open file pins the module. Guarded: delete_module() is only tried if
 * the module's refcount shows the pin, so a module that forgot .owner fails
 * here without being unloaded from under the rest of the run.
 */
START_TEST(api_rmmod_refused_while_open)
{
	int fd _cleanup_fd_ = xvmexec_open();
	int refs = -1, ret, err;

	ret = read_int_file("/sys/module/vmexec/refcnt", &refs);
	ck_assert_msg(ret == 0, "/sys/module/vmexec/refcnt: %s", ret_name(ret));
	ck_assert_msg(refs >= 1,
		      "refcnt %d with /dev/vmexec open: not trying rmmod", refs);

	ret = syscall(SYS_delete_module, "vmexec", O_NONBLOCK);
	err = errno;
	ck_assert_int_eq(ret, -1);
	ck_assert_int_eq(err, EWOULDBLOCK);
	assert_ret(vmexec_api_version(fd), VMEXEC_API_VERSION);
}
END_TEST

/* Lowest free descriptor number: unchanged across a call = nothing leaked. */
static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(reap_timeout(pid, NULL, WAIT_MS), 0);
	return pid;
}

/* The library's convention, without the module: -errno, nothing else. */
START_TEST(api_lib_errors)
{
	struct vmexec_syscall sc;
	long result = 12345;
	int null_fd _cleanup_fd_ = open("/dev/null", O_RDWR | O_CLOEXEC);
	int free_fd;

	ck_assert_int_ge(null_fd, 0);
	assert_ret(vmexec_api_version(-1), -EBADF);
	assert_ret(vmexec_api_version(null_fd), -ENOTTY);
	assert_ret(vmexec_bind_pidfd(-1, -1), -EBADF);
	prep_nop(&sc);
	assert_ret(vmexec_syscalls(-1, &sc, 1, 0), -EBADF);
	assert_ret(vmexec_syscall(-1, &result, SYS_madvise, 0, 0, 0, 0, 0,
				     0), -EBADF);
	ck_assert_int_eq(result, 12345);

	/* vmexec_bind_pid() closes its pidfd on every path. */
	free_fd = lowest_free_fd();
	assert_ret(vmexec_bind_pid(-1, getpid()), -EBADF);
	ck_assert_int_eq(lowest_free_fd(), free_fd);
	assert_ret(vmexec_bind_pid(null_fd, getpid()), -ENOTTY);
	ck_assert_int_eq(lowest_free_fd(), free_fd);
	assert_ret(vmexec_bind_pid(null_fd, dead_pid()), -ESRCH);
	assert_ret(vmexec_bind_pid(null_fd, -1), -EINVAL);
}
END_TEST

START_TEST(api_prep_syscall)
{
	struct vmexec_syscall sc;
	int i;

	memset(&sc, 0xa5, sizeof(sc));
	vmexec_prep_syscall(&sc, 9, 1, 2, 3, 4, 5, -1);
	ck_assert_uint_eq(sc.nr, 9);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(sc.args[i], i + 1);
	ck_assert_uint_eq(sc.args[5], ~0ULL);
	ck_assert_int_eq(sc.ret, 0);
	ck_assert_uint_eq(sizeof(sc), 64);
	ck_assert_uint_eq(sizeof(struct vmexec_bind), 16);
	ck_assert_uint_eq(sizeof(struct vmexec_syscalls), 24);
}
END_TEST

Suite *suite_api(void)
{
	Suite *s = suite_create("api");
	TCase *tc;

	tc = tcase_new("library");
	tcase_add_test(tc, api_prep_syscall);
	tcase_add_test(tc, api_lib_errors);
	suite_add_tcase(s, tc);

	tc = tcase_new("device");
	tcase_add_test(tc, api_device_node);
	tcase_add_test(tc, api_open_flags);
	tcase_add_test(tc, api_version);
	tcase_add_test(tc, api_check_feature);
	tcase_add_loop_test(tc, api_unknown_ioctl, 0,
			    sizeof(unknown_ioctls) / sizeof(unknown_ioctls[0]));
	tcase_add_test(tc, api_rmmod_refused_while_open);
	suite_add_tcase(s, tc);
	return s;
}
