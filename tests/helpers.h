/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common helpers of the vmexec Check suites.
 *
 * Everything that runs in a process the tests fork themselves (targets,
 * unprivileged binders) reports through pipes and never calls ck_assert:
 * only the Check test process itself asserts. Every wait is time-bound.
 */
#ifndef VMEXEC_TESTS_HELPERS_H
#define VMEXEC_TESTS_HELPERS_H

#include <stdint.h>
#include <sys/types.h>
#include <check.h>

#include "libvmexec.h"
#include "proc_state.h"

#define PAGE_SZ		4096UL

/*
 * Fixed addresses for mappings made in a target: 1 TiB below the lowest
 * possible mmap base (47-bit layout, 28 bits of mmap randomisation), far
 * above any heap. Tests still check they are free before using them.
 */
#define TEST_ADDR(n)	(0x7e0000000000UL + (unsigned long)(n) * 0x1000000UL)

/* Upper bound of any single wait, in milliseconds. */
#define WAIT_MS		10000

/* The suites (one file each). */
Suite *suite_api(void);
Suite *suite_bind(void);
Suite *suite_syscalls(void);
Suite *suite_target(void);
Suite *suite_run(void);
Suite *suite_perm(void);
Suite *suite_security(void);
Suite *suite_context(void);
Suite *suite_mem(void);
Suite *suite_new_mm(void);

/*
 * Skip the rest of the current test: prints "SKIP: name: why" and records
 * name, so that vmexec-tests counts skips apart from passes (Check counts a
 * test that returns as passed) and fails on one it does not expect.
 */
void test_skip(const char *name, const char *why);
/* The skips recorded so far: count, names into buf (one per line). */
int test_skips_read(char *buf, size_t len);
void test_skips_reset(void);

/* A test case with a time limit fit for qemu TCG unless CK_DEFAULT_TIMEOUT is set. */
TCase *tcase_new(const char *name);

/* Name of an errno value, for messages ("EINVAL"; "ok" for ret >= 0). */
const char *ret_name(long ret);

/* Assert a "value or -errno" result, with errno names in the message. */
#define assert_ret(got, want) do {					\
	long _got = (got), _want = (want);				\
	ck_assert_msg(_got == _want, "%s: got %ld (%s), want %ld (%s)",	\
		      #got, _got, ret_name(_got), _want, ret_name(_want)); \
} while (0)

/* ioctl(2) as "value or -errno", for the malformed-input tests. */
int raw_ioctl(int fd, unsigned long cmd, void *arg);

/* Cleanup helpers: close on scope exit (normal paths only). */
void close_fdp(int *fdp);
#define _cleanup_fd_	__attribute__((cleanup(close_fdp)))
void close_pipep(int (*p)[2]);
#define _cleanup_pipe_	__attribute__((cleanup(close_pipep)))

/* Open /dev/vmexec through the library; fails the test if that fails. */
int xvmexec_open(void);

/* pidfd_open(2) as "fd or -errno". */
int pidfd_open_pid(pid_t pid);

/* pipe2(O_CLOEXEC | O_NONBLOCK): vmexec never blocks the test on them. */
void xpipe(int p[2]);

/* Write all of buf; fails the test on a short write. */
void xwrite(int fd, const void *buf, size_t len);

/*
 * Read exactly len bytes, waiting at most ms in total. Returns len, fewer
 * bytes at end of file, -ETIMEDOUT, or -errno.
 */
ssize_t read_timeout(int fd, void *buf, size_t len, int ms);

/* waitpid() bounded by ms: 0 (status stored), -ETIMEDOUT or -errno. */
int reap_timeout(pid_t pid, int *status, int ms);

/* Wait (at most ms) until pid has exited, without reaping it. */
int wait_exited_nowait(pid_t pid, int ms);

/* SIGKILL and reap; *pid becomes 0. A no-op for *pid <= 0. */
void kill_reap(pid_t *pid);

/* Is addr mapped in this process? 0 if mapped, -ENOMEM if not. */
int mapped_here(unsigned long addr);

/* A pointer whose page is not mapped in this process. */
void *unmapped_ptr(void);

/*
 * len usable bytes (a multiple of PAGE_SZ), zeroed, followed by an
 * unmapped page: an argument placed at its end straddles into nothing.
 */
void *guarded_alloc(size_t len);

/* A no-op entry: madvise(NULL, 0, MADV_NORMAL), which returns 0. */
void prep_nop(struct vmexec_syscall *sc);

/* pid of a kernel thread (kthreadd where visible), or -ESRCH. */
pid_t find_kthread(void);

/* Read or write a small decimal integer file (sysctl, sysfs). */
int read_int_file(const char *path, int *val);
int write_int_file(const char *path, int val);

/* Written by every target after fork: the test's copy says "caller". */
#define MARKER_LEN	15
extern char helper_marker[MARKER_LEN + 1];
#define MARKER_CALLER	"marker: caller!"
#define MARKER_TARGET	"marker: target!"

/*
 * A busy target: a forked child that spins in a loop and is never stopped.
 * It serves requests written to its command pipe when it gets SIGUSR1 and
 * answers on its reply pipe, which is close-on-exec: end of file on it means
 * the target exec'd (or died).
 */
enum target_op {
	TARGET_HELLO = 1,	/* sent once, when the handler is in place */
	TARGET_PING,
	TARGET_READ,		/* copy len bytes at addr (after mincore) */
	TARGET_MINCORE,		/* mincore(addr, len): 0 or errno */
	TARGET_EXEC,		/* execl("/bin/busybox", "sleep", "100") */
};

struct target_cmd {
	uint32_t op;
	uint32_t len;
	uint64_t addr;
};

#define TARGET_DATA_MAX	256

struct target_reply {
	uint32_t op;
	int32_t err;		/* 0 or a positive errno, as the target saw it */
	uint32_t len;
	uint32_t pad;
	char data[TARGET_DATA_MAX];
};

struct target {
	pid_t pid;		/* 0 when not running; fds valid only if > 0 */
	int cmd_fd;		/* write end of the command pipe */
	int reply_fd;		/* read end of the reply pipe */
	int child_fds[2];	/* the target's own pipe ends: closed in the test */
};

#define TARGET_NO_UID	((uid_t)-1)

/*
 * Fork a target. With uid != TARGET_NO_UID it drops to uid/gid first (see
 * drop_privileges()). Returns 0 or -errno; never asserts.
 */
int target_start_as(struct target *t, uid_t uid);
int target_start(struct target *t);
/* target_start(), failing the test on error. */
void xtarget_start(struct target *t);
/* Kill and reap the target, close the pipes. Idempotent. */
void target_stop(struct target *t);
#define _cleanup_target_	__attribute__((cleanup(target_stop)))

/* Returns 0, or -errno of the target, or -ETIMEDOUT/-EPIPE/-EPROTO. */
int target_ping(struct target *t);
int target_read(struct target *t, unsigned long addr, void *buf, size_t len);
int target_mincore(struct target *t, unsigned long addr, size_t len);
/* Ask for the exec; returns 0 once the reply pipe hit end of file. */
int target_exec_sleep(struct target *t);
/*
 * Run fn(arg) in a forked child whose int result comes back through a pipe.
 * The child has SIGKILL as parent-death signal.
 */
struct child {
	pid_t pid;		/* 0 when not running */
	int res_fd;
};

int child_start(struct child *c, int (*fn)(void *arg), void *arg);
/* Wait (bounded) for the result, then reap. 0 or -errno. */
int child_result(struct child *c, int *res);
void child_stop(struct child *c);
#define _cleanup_child_	__attribute__((cleanup(child_stop)))

/* Results of a child whose setup failed: CHILD_SETUP_ERR + errno. */
#define CHILD_SETUP_ERR	100000

/*
 * In a child: drop every group, gid and uid to the given values, keeping no
 * capability, then make the process dumpable again and re-arm the
 * parent-death signal (a credential change clears both). 0 or -errno.
 */
int drop_privileges(uid_t uid, gid_t gid);

/* Make the calling process die with its parent (checks for a lost race). */
int die_with_parent(pid_t parent);

/* Reap every orphan the runner inherited as subreaper (bounded). */
int reap_orphans(int ms);

#endif /* VMEXEC_TESTS_HELPERS_H */
