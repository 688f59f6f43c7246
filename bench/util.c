// SPDX-License-Identifier: GPL-2.0
/* vmexec-bench: helpers shared by the sections. */
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>

/* A child that stops itself for ever: an address space to run guests in. */
int stub_start(struct stub *s)
{
	int ret;

	s->fd = -1;
	s->pid = fork();
	if (s->pid < 0)
		FAILF("fork: %s", strerror(errno));
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			raise(SIGSTOP);
	}
	s->fd = vmexec_open();
	if (s->fd < 0)
		FAILF("vmexec_open: %s", strerror(-s->fd));
	ret = vmexec_bind_pid(s->fd, s->pid);
	if (ret)
		FAILF("vmexec_bind_pid(stub): %s", strerror(-ret));
	return 0;
}

void stub_stop(struct stub *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->pid > 0)
		kill_wait(s->pid);
	s->fd = -1;
	s->pid = 0;
}

/* A target that keeps running in user space, counting, on one CPU. */
pid_t busy_child(volatile unsigned long *counter, int cpu)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin_to_cpu(0, cpu);
		for (;;)
			(*counter)++;
	}
	return pid;
}

void kill_wait(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

int wait_stopped(pid_t pid, int *status)
{
	pid_t got;

	do
		got = waitpid(pid, status, __WALL);
	while (got < 0 && errno == EINTR);
	if (got != pid)
		return -1;
	return WIFSTOPPED(*status) ? 0 : -1;
}

int context_open(int fd, int *ctx, struct vmexec_run **area)
{
	int ret;

	*ctx = vmexec_context(fd);
	if (*ctx < 0)
		FAILF("vmexec_context: %s", strerror(-*ctx));
	ret = vmexec_context_map(*ctx, area);
	if (ret)
		FAILF("vmexec_context_map: %s", strerror(-ret));
	return 0;
}

int stats_read(int fd, struct vmexec_stats *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	ret = vmexec_get_stats(fd, st);
	CHECK(ret == 0, "GET_STATS: %s", strerror(-ret));
	return 0;
}

int stats_check(int fd, const struct vmexec_stats *st0, __u64 syscall_exits, __u64 passthrough)
{
	struct vmexec_stats st1;

	if (stats_read(fd, &st1))
		return -1;
	CHECK(st1.exits_syscall - st0->exits_syscall == syscall_exits &&
	      st1.passthrough - st0->passthrough == passthrough &&
	      st1.exits_signal == st0->exits_signal &&
	      st1.exits_interrupted == st0->exits_interrupted,
	      "GET_STATS: %llu syscall exits (want %llu), %llu passed through (want %llu), "
	      "%llu signal and %llu interrupted exits",
	      (unsigned long long)(st1.exits_syscall - st0->exits_syscall),
	      (unsigned long long)syscall_exits,
	      (unsigned long long)(st1.passthrough - st0->passthrough),
	      (unsigned long long)passthrough,
	      (unsigned long long)(st1.exits_signal - st0->exits_signal),
	      (unsigned long long)(st1.exits_interrupted - st0->exits_interrupted));
	return 0;
}
