// SPDX-License-Identifier: GPL-2.0
/*
 * What /proc says a task is doing, polled with a deadline instead of
 * sleeping and hoping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc_state.h"

ssize_t read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return n;
}

char target_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_proc(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	return p[2];
}

int wait_sleeping_in_syscall(pid_t tid, long nr, int ms)
{
	struct timespec pause = { 0, 1000000 };
	char path[64], buf[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	for (i = 0; i < ms; i++) {
		/* "running" when not in a system call. */
		if (read_proc(path, buf, sizeof(buf)) > 0 && buf[0] >= '0' && buf[0] <= '9' &&
		    strtol(buf, NULL, 10) == nr && target_state(tid) == 'S')
			return 0;
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}
