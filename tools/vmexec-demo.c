// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-demo: give a running process a page it never mapped.
 *
 * A forked target prints "target: waiting" and polls, every 50 ms, whether
 * a page exists at DEMO_ADDR; when one does, it prints the string it finds
 * there and exits 0. The demo binds /dev/vmexec to the target and, in one
 * VMEXEC_IOC_SYSCALLS batch run in the target's address space:
 *   1. mmap()s a fresh page (MAP_FIXED_NOREPLACE) at a staging address,
 *   2. read()s the message into it from the demo's own pipe,
 *   3. mremap()s the page to DEMO_ADDR,
 * so that the page appears at DEMO_ADDR already filled: the target, which
 * keeps running all along, never sees it half-written. The demo exits 0
 * only if every step worked and the target exited 0. Everything is bounded
 * by alarm().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "libvmexec.h"

#define DEMO_PAGE	4096UL
#define DEMO_ADDR	0x7e0000000000UL
#define DEMO_STAGE	(DEMO_ADDR + 0x200000UL)
#define DEMO_MSG	"hello from vmexec"
#define DEMO_TIMEOUT	30	/* seconds, for the demo and for the target */
#define POLL_NS		50000000L

/* Both addresses must be user addresses even with 4-level page tables. */
_Static_assert(DEMO_STAGE + DEMO_PAGE <= 0x7ffffffff000UL,
	       "demo addresses above the 47-bit user address space");

static pid_t target_pid;

static void on_alarm(int sig)
{
	static const char msg[] = "demo: timed out\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	if (target_pid > 0) {
		kill(target_pid, SIGKILL);
		waitpid(target_pid, NULL, 0);
	}
	_exit(1);
}

/* 0 if a page is mapped at addr, else errno (ENOMEM: nothing there). */
static int page_state(unsigned long addr)
{
	unsigned char vec;

	if (mincore((void *)addr, DEMO_PAGE, &vec) == 0)
		return 0;
	return errno;
}

static int target_main(pid_t parent, int ready_fd)
{
	static const unsigned long addrs[] = { DEMO_ADDR, DEMO_STAGE };
	struct timespec tick = { 0, POLL_NS };
	const char *msg;
	int err, i;

	alarm(DEMO_TIMEOUT);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		return 1;
	printf("target: waiting\n");

	/* The addresses must be free: nothing may be there yet. */
	for (i = 0; i < 2; i++) {
		err = page_state(addrs[i]);
		if (err != ENOMEM) {
			printf("target: %#lx is not free: %s\n", addrs[i],
			       err ? strerror(err) : "mapped");
			return 2;
		}
	}
	if (write(ready_fd, "r", 1) != 1)
		return 3;
	close(ready_fd);

	while ((err = page_state(DEMO_ADDR)) == ENOMEM)
		nanosleep(&tick, NULL);
	if (err) {
		printf("target: mincore(%#lx): %s\n", (unsigned long)DEMO_ADDR,
		       strerror(err));
		return 4;
	}
	msg = (const char *)DEMO_ADDR;
	printf("target: found message: %.*s\n", (int)strnlen(msg, DEMO_PAGE),
	       msg);
	return 0;
}

static pid_t start_target(void)
{
	pid_t parent = getpid();
	int ready[2];
	pid_t pid;
	char c;

	if (pipe2(ready, O_CLOEXEC) < 0) {
		perror("demo: pipe2");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("demo: fork");
		return -1;
	}
	if (pid == 0) {
		close(ready[0]);
		exit(target_main(parent, ready[1]));
	}
	target_pid = pid;
	close(ready[1]);
	/* The target checked its addresses; end of file means it gave up. */
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	return pid;
}

static const char *const step_names[] = {
	"mmap(stage, 4096, RW, MAP_FIXED_NOREPLACE)",
	"read(demo pipe, stage)",
	"mremap(stage -> DEMO_ADDR)",
};

/* The one batch; 0 if every entry did what it should. */
static int inject(int fd, int msg_fd, size_t len)
{
	long want[3] = { (long)DEMO_STAGE, (long)len, (long)DEMO_ADDR };
	struct vmexec_syscall c[3];
	int i, n, bad = 0;

	vmexec_prep_syscall(&c[0], SYS_mmap, DEMO_STAGE, DEMO_PAGE,
			    PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			    -1, 0);
	vmexec_prep_syscall(&c[1], SYS_read, msg_fd, DEMO_STAGE, len, 0, 0, 0);
	vmexec_prep_syscall(&c[2], SYS_mremap, DEMO_STAGE, DEMO_PAGE, DEMO_PAGE,
			    MREMAP_MAYMOVE | MREMAP_FIXED, DEMO_ADDR, 0);

	n = vmexec_syscalls(fd, c, 3, VMEXEC_SYSCALLS_STOP_ON_ERROR);
	if (n < 0) {
		printf("demo: VMEXEC_IOC_SYSCALLS: %s\n", strerror(-n));
		return -1;
	}
	printf("demo: one VMEXEC_IOC_SYSCALLS batch ran %d of 3 calls in the target:\n",
	       n);
	for (i = 0; i < n; i++) {
		if (c[i].ret < 0)
			printf("demo:   %s = %s\n", step_names[i],
			       strerror((int)-c[i].ret));
		else
			printf("demo:   %s = %#llx\n", step_names[i],
			       (unsigned long long)c[i].ret);
		if (c[i].ret != want[i])
			bad = 1;
	}
	return n == 3 && !bad ? 0 : -1;
}

static int demo(pid_t pid)
{
	static const char msg[] = DEMO_MSG;
	int fd, ret, p[2];

	fd = vmexec_open();
	if (fd < 0) {
		printf("demo: open %s: %s\n", VMEXEC_DEVICE_PATH, strerror(-fd));
		return -1;
	}
	ret = vmexec_api_version(fd);
	printf("demo: opened %s, API version %d\n", VMEXEC_DEVICE_PATH, ret);
	ret = vmexec_bind_pid(fd, pid);
	if (ret < 0) {
		printf("demo: bind to target %d: %s\n", pid, strerror(-ret));
		goto out;
	}
	printf("demo: bound to target %d (it keeps running)\n", pid);

	ret = pipe2(p, O_CLOEXEC | O_NONBLOCK);
	if (ret < 0 || write(p[1], msg, sizeof(msg)) != sizeof(msg)) {
		perror("demo: pipe");
		ret = -1;
		goto out;
	}
	printf("demo: wrote \"%s\" into the demo's own pipe (fd %d)\n", msg, p[0]);
	ret = inject(fd, p[0], sizeof(msg));
	if (!ret)
		printf("demo: page with the message is at %#lx in the target\n",
		       (unsigned long)DEMO_ADDR);
	close(p[0]);
	close(p[1]);
out:
	close(fd);
	return ret;
}

int main(void)
{
	int status = 0, ret;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(DEMO_TIMEOUT);

	pid = start_target();
	if (pid < 0) {
		printf("demo: the target did not start\n");
		if (target_pid > 0)
			waitpid(target_pid, NULL, 0);
		return 1;
	}
	ret = demo(pid);
	if (ret)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid) {
		perror("demo: waitpid");
		return 1;
	}
	target_pid = 0;
	if (WIFEXITED(status))
		printf("demo: target exited %d\n", WEXITSTATUS(status));
	else
		printf("demo: target killed by signal %d\n", WTERMSIG(status));
	if (ret || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("demo: FAILED\n");
		return 1;
	}
	printf("demo: OK\n");
	return 0;
}
