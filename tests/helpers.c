// SPDX-License-Identifier: GPL-2.0
/*
 * Common helpers of the vmexec Check suites: busy targets, children that
 * report through pipes, bounded waits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

#ifndef SYS_close_range
#define SYS_close_range	436
#endif

#define PF_KTHREAD	0x00200000

char helper_marker[MARKER_LEN + 1] = MARKER_CALLER;

TCase *tcase_new(const char *name)
{
	TCase *tc = tcase_create(name);

	/* Check's own default is 4 s: too short for some tests under TCG. */
	if (!getenv("CK_DEFAULT_TIMEOUT"))
		tcase_set_timeout(tc, 60);
	return tc;
}

const char *ret_name(long ret)
{
	const char *name;

	if (ret >= 0)
		return "ok";
	if (ret < -4095)
		return "not an errno";
	name = strerrorname_np((int)-ret);
	return name ? name : "unknown errno";
}

int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	ret = ioctl(fd, cmd, arg);
	if (ret < 0)
		return -errno;
	return ret;
}

void close_fdp(int *fdp)
{
	if (*fdp >= 0)
		close(*fdp);
	*fdp = -1;
}

void close_pipep(int (*p)[2])
{
	close_fdp(&(*p)[0]);
	close_fdp(&(*p)[1]);
}

int xvmexec_open(void)
{
	int fd;

	fd = vmexec_open();
	ck_assert_msg(fd >= 0, "vmexec_open(): %s (is the module loaded?)",
		      ret_name(fd));
	return fd;
}

int pidfd_open_pid(pid_t pid)
{
	int fd;

	fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	return fd;
}

void xpipe(int p[2])
{
	ck_assert_msg(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2: %s",
		      strerror(errno));
}

void xwrite(int fd, const void *buf, size_t len)
{
	ssize_t n;

	n = write(fd, buf, len);
	ck_assert_msg(n == (ssize_t)len, "write(%d, %zu): %zd (%s)", fd, len,
		      n, n < 0 ? strerror(errno) : "short");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

ssize_t read_timeout(int fd, void *buf, size_t len, int ms)
{
	long long end = now_ms() + ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		long long left = end - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

int reap_timeout(pid_t pid, int *status, int ms)
{
	long long end = now_ms() + ms;
	pid_t r;
	int st;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (status)
				*status = st;
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
}

int wait_exited_nowait(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
		    errno != EINTR)
			return -errno;
		if (si.si_pid == pid)
			return 0;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
}

void kill_reap(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	reap_timeout(*pid, NULL, WAIT_MS);
	*pid = 0;
}

int mapped_here(unsigned long addr)
{
	unsigned char vec;

	if (mincore((void *)(addr & ~(PAGE_SZ - 1)), PAGE_SZ, &vec) < 0)
		return -errno;
	return 0;
}

void *unmapped_ptr(void)
{
	unsigned long addr = TEST_ADDR(255);

	/* Tests map fixed addresses only in targets, never here. */
	ck_assert_msg(mapped_here(addr) == -ENOMEM,
		      "%#lx is unexpectedly mapped in the test process", addr);
	return (void *)addr;
}

void *guarded_alloc(size_t len)
{
	char *p;

	p = mmap(NULL, len + PAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	/* PROT_NONE rather than a hole: nothing else can be mapped there. */
	ck_assert_msg(mprotect(p + len, PAGE_SZ, PROT_NONE) == 0,
		      "mprotect: %s", strerror(errno));
	return p;
}

void prep_nop(struct vmexec_syscall *sc)
{
	vmexec_prep_syscall(sc, SYS_madvise, 0, 0, MADV_NORMAL, 0, 0, 0);
}

static int kthread_flags(pid_t pid, unsigned int *flags)
{
	char path[64], buf[512], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_proc(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	/* comm may hold spaces and parentheses: skip to the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", flags) != 1)
		return -EIO;
	return 0;
}

pid_t find_kthread(void)
{
	unsigned int flags;
	struct dirent *de;
	pid_t pid = -ESRCH;
	DIR *dir;

	/* kthreadd is pid 2 wherever the pid namespace is the initial one. */
	if (kthread_flags(2, &flags) == 0 && (flags & PF_KTHREAD))
		return 2;
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		int n = atoi(de->d_name);

		if (n > 0 && kthread_flags(n, &flags) == 0 &&
		    (flags & PF_KTHREAD)) {
			pid = n;
			break;
		}
	}
	closedir(dir);
	return pid;
}

int read_int_file(const char *path, int *val)
{
	char buf[32];
	ssize_t n;

	n = read_proc(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	*val = atoi(buf);
	return 0;
}

int write_int_file(const char *path, int val)
{
	char buf[32];
	int fd, len, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", val);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

int die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return -errno;
	/* The parent may have died before the signal was armed. */
	if (getppid() != parent)
		return -ESRCH;
	return 0;
}

static int no_caps_left(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int i;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (i = 0; i < 2; i++) {
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return -EPERM;
	}
	return 0;
}

int drop_privileges(uid_t uid, gid_t gid)
{
	pid_t parent = getppid();
	int ret;

	if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	/* All uids non-zero: permitted, effective and ambient caps go. */
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	/* The uid change made us non-dumpable: ptrace checks would refuse. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	/* ...and cleared the parent-death signal. */
	ret = die_with_parent(parent);
	if (ret)
		return ret;
	return no_caps_left();
}

int reap_orphans(int ms)
{
	long long end = now_ms() + ms;
	pid_t r;

	for (;;) {
		r = waitpid(-1, NULL, WNOHANG);
		if (r > 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == ECHILD ? 0 : -errno;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
}

/* ---- the busy target ---------------------------------------------------- */

static volatile sig_atomic_t target_kicked;

static void target_on_usr1(int sig)
{
	(void)sig;
	target_kicked = 1;
}

static int close_range_sys(unsigned int first, unsigned int last)
{
	if (first > last)
		return 0;
	return syscall(SYS_close_range, first, last, 0);
}

static int fd_above_stdio(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

/* Keep only stdio and a, b: the target must not hold the test's files. */
static void close_fds_except(int a, int b)
{
	unsigned int lo = a < b ? a : b, hi = a < b ? b : a;

	close_range_sys(3, lo - 1);
	close_range_sys(lo + 1, hi - 1);
	close_range_sys(hi + 1, ~0U);
}

static void target_send(int rep_fd, uint32_t op, int err,
			const void *data, size_t len)
{
	struct target_reply r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.err = err;
	r.len = len;
	if (data)
		memcpy(r.data, data, len);
	/* Smaller than PIPE_BUF: one atomic write. */
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		_exit(5);
}

/* mincore() over [addr, addr + len) as 0 or a positive errno. */
static int target_mincore_err(uint64_t addr, uint32_t len)
{
	unsigned long start = addr & ~(PAGE_SZ - 1);
	unsigned long end = addr + (len ? len : 1);
	unsigned char vec[16];

	if (end < addr || (end - start + PAGE_SZ - 1) / PAGE_SZ > sizeof(vec))
		return EINVAL;
	if (mincore((void *)start, end - start, vec) < 0)
		return errno;
	return 0;
}

static void target_do(const struct target_cmd *c, int rep_fd)
{
	int err;

	switch (c->op) {
	case TARGET_PING:
		target_send(rep_fd, c->op, 0, NULL, 0);
		break;
	case TARGET_READ:
		err = c->len > TARGET_DATA_MAX ? EINVAL :
			target_mincore_err(c->addr, c->len);
		target_send(rep_fd, c->op, err,
			    err ? NULL : (const void *)(uintptr_t)c->addr,
			    err ? 0 : c->len);
		break;
	case TARGET_MINCORE:
		target_send(rep_fd, c->op, target_mincore_err(c->addr, c->len),
			    NULL, 0);
		break;
	case TARGET_EXEC:
		execl("/bin/busybox", "sleep", "100", (char *)NULL);
		target_send(rep_fd, c->op, errno, NULL, 0);
		break;
	default:
		target_send(rep_fd, c->op, EINVAL, NULL, 0);
		break;
	}
}

static void target_serve(int cmd_fd, int rep_fd)
{
	struct target_cmd c;

	/* Commands are 16 bytes, written atomically. */
	while (read(cmd_fd, &c, sizeof(c)) == sizeof(c))
		target_do(&c, rep_fd);
}

static void __attribute__((noreturn))
target_main(pid_t parent, uid_t uid, int cmd_fd, int rep_fd)
{
	volatile unsigned long spins = 0;
	struct sigaction sa;

	if (die_with_parent(parent))
		_exit(2);
	if (uid != TARGET_NO_UID && drop_privileges(uid, uid))
		_exit(3);
	cmd_fd = fd_above_stdio(cmd_fd);
	rep_fd = fd_above_stdio(rep_fd);
	if (cmd_fd < 0 || rep_fd < 0)
		_exit(4);
	close_fds_except(cmd_fd, rep_fd);
	if (fcntl(cmd_fd, F_SETFL, O_NONBLOCK) < 0)
		_exit(4);
	memcpy(helper_marker, MARKER_TARGET, sizeof(helper_marker));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = target_on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		_exit(4);
	target_send(rep_fd, TARGET_HELLO, 0, NULL, 0);

	/* Busy: never blocks, never stops. */
	for (;;) {
		if (!target_kicked) {
			spins++;
			continue;
		}
		target_kicked = 0;
		target_serve(cmd_fd, rep_fd);
	}
}

static int target_recv(struct target *t, uint32_t op, struct target_reply *r)
{
	ssize_t n;

	n = read_timeout(t->reply_fd, r, sizeof(*r), WAIT_MS);
	if (n < 0)
		return n;
	if (n == 0)
		return -EPIPE;
	if (n != sizeof(*r) || r->op != op)
		return -EPROTO;
	return 0;
}

int target_start_as(struct target *t, uid_t uid)
{
	struct target_reply r;
	int cmd[2], rep[2], ret;
	pid_t parent = getpid();
	pid_t pid;

	t->pid = 0;
	t->cmd_fd = -1;
	t->reply_fd = -1;
	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(rep, O_CLOEXEC) < 0) {
		ret = -errno;
		goto close_cmd;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto close_rep;
	}
	if (pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		target_main(parent, uid, cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	t->pid = pid;
	t->cmd_fd = cmd[1];
	t->reply_fd = rep[0];
	t->child_fds[0] = cmd[0];
	t->child_fds[1] = rep[1];

	ret = target_recv(t, TARGET_HELLO, &r);
	if (!ret)
		ret = -r.err;
	if (ret)
		target_stop(t);
	return ret;

close_rep:
	close(rep[0]);
	close(rep[1]);
close_cmd:
	close(cmd[0]);
	close(cmd[1]);
	return ret;
}

int target_start(struct target *t)
{
	return target_start_as(t, TARGET_NO_UID);
}

void xtarget_start(struct target *t)
{
	int ret;

	ret = target_start(t);
	ck_assert_msg(ret == 0, "target_start: %s", ret_name(ret));
}

void target_stop(struct target *t)
{
	if (t->pid <= 0)
		return;
	kill_reap(&t->pid);
	close_fdp(&t->cmd_fd);
	close_fdp(&t->reply_fd);
}

static int target_send_cmd(struct target *t, uint32_t op, uint64_t addr,
			   uint32_t len)
{
	struct target_cmd c = { .op = op, .len = len, .addr = addr };

	if (t->pid <= 0)
		return -ESRCH;
	/* SIGPIPE is ignored (main()): a dead target gives EPIPE here. */
	if (write(t->cmd_fd, &c, sizeof(c)) != sizeof(c))
		return -errno;
	if (kill(t->pid, SIGUSR1) < 0)
		return -errno;
	return 0;
}

static int target_request(struct target *t, uint32_t op, uint64_t addr,
			  uint32_t len, struct target_reply *r)
{
	int ret;

	ret = target_send_cmd(t, op, addr, len);
	if (ret)
		return ret;
	ret = target_recv(t, op, r);
	if (ret)
		return ret;
	return -r->err;
}

int target_ping(struct target *t)
{
	struct target_reply r;

	return target_request(t, TARGET_PING, 0, 0, &r);
}

int target_read(struct target *t, unsigned long addr, void *buf, size_t len)
{
	struct target_reply r;
	int ret;

	if (len > TARGET_DATA_MAX)
		return -EINVAL;
	ret = target_request(t, TARGET_READ, addr, len, &r);
	if (ret)
		return ret;
	if (r.len != len)
		return -EPROTO;
	memcpy(buf, r.data, len);
	return 0;
}

int target_mincore(struct target *t, unsigned long addr, size_t len)
{
	struct target_reply r;

	return target_request(t, TARGET_MINCORE, addr, len, &r);
}

int target_exec_sleep(struct target *t)
{
	struct target_reply r;
	ssize_t n;
	int ret;

	ret = target_send_cmd(t, TARGET_EXEC, 0, 0);
	if (ret)
		return ret;
	/* Success closes the (close-on-exec) reply pipe: end of file. */
	n = read_timeout(t->reply_fd, &r, sizeof(r), WAIT_MS);
	if (n == 0)
		return 0;
	if (n < 0)
		return n;
	if (n == sizeof(r) && r.op == TARGET_EXEC && r.err)
		return -r.err;
	return -EPROTO;
}

/* ---- children reporting one int ----------------------------------------- */

int child_start(struct child *c, int (*fn)(void *arg), void *arg)
{
	pid_t parent = getpid();
	int p[2], res, ret;
	pid_t pid;

	c->pid = 0;
	c->res_fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (pid == 0) {
		close(p[0]);
		res = die_with_parent(parent);
		if (res)
			res = CHILD_SETUP_ERR - res;
		else
			res = fn(arg);
		if (write(p[1], &res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	c->pid = pid;
	c->res_fd = p[0];
	return 0;
}

int child_result(struct child *c, int *res)
{
	ssize_t n;
	int ret;

	if (c->pid <= 0)
		return -ESRCH;
	/* The child may itself wait on its own children: allow for that. */
	n = read_timeout(c->res_fd, res, sizeof(*res), 3 * WAIT_MS);
	if (n == sizeof(*res)) {
		ret = reap_timeout(c->pid, NULL, WAIT_MS);
		if (!ret)
			c->pid = 0;
	} else {
		ret = n < 0 ? (int)n : -EPROTO;
	}
	child_stop(c);
	return ret;
}

void child_stop(struct child *c)
{
	if (c->pid > 0)
		kill_reap(&c->pid);
	c->pid = 0;
	close_fdp(&c->res_fd);
}

/* Where skips are recorded: tests run in forked processes (CK_FORK). */
#define SKIP_FILE	"/tmp/vmexec-tests.skips"

void test_skip(const char *name, const char *why)
{
	int fd;

	printf("SKIP: %s: %s\n", name, why);
	fflush(stdout);
	fd = open(SKIP_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, name, strlen(name)) < 0 || write(fd, "\n", 1) < 0)
			perror("vmexec-tests: " SKIP_FILE);
		close(fd);
	}
}

int test_skips_read(char *buf, size_t len)
{
	int fd = open(SKIP_FILE, O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t got;
	size_t i;

	buf[0] = '\0';
	if (fd < 0)
		return 0;
	got = read(fd, buf, len - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	for (i = 0; i < (size_t)got; i++)
		n += buf[i] == '\n';
	return n;
}

void test_skips_reset(void)
{
	unlink(SKIP_FILE);
}
