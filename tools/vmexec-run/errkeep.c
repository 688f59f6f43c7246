// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The tool's copy of stderr, kept out of the guest's reach.
 *
 * Calls the module runs in place (pass-through) skip the descriptor check
 * of fdspace.c: every descriptor in the tool's table but the vmexec file is
 * within the guest's reach, the tool's copy of stderr included. So with
 * pass-through that copy lives only in the descriptor table of a keeper
 * thread of the tool: it unshares its table (unshare(CLONE_FILES)), closes
 * all but the copy there, and the main thread closes the copy in its own
 * table, the one the guest's calls run against (and the one /proc/self/fd
 * shows, the thread group leader's). A report is handed to the keeper
 * through memory (two semaphores, no descriptor) and written by it.
 *
 * The keeper is a thread, not a process: it blocks every signal, needs no
 * cleanup and ends with the tool's exit_group(). It works the same whether
 * the guest's address space is a new one or a stub's.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vmrun.h"

static struct {
	sem_t req, done;
	const void *buf;
	size_t len;
	int fd;			/* the copy, in the keeper's table only */
	int ret;		/* the keeper's setup: 0 or -errno */
	bool up;
} keep = { .fd = -1 };

static void sem_wait_all(sem_t *s)
{
	while (sem_wait(s) < 0 && errno == EINTR)
		;
}

/* Own descriptor table with nothing but the copy of stderr in it. */
static int keeper_table(int fd)
{
	if (unshare(CLONE_FILES) < 0)
		return -errno;
	if (fd > 0 && syscall(SYS_close_range, 0, fd - 1, 0) < 0)
		return -errno;
	if (syscall(SYS_close_range, fd + 1, ~0U, 0) < 0)
		return -errno;
	return 0;
}

static void *keeper_main(void *arg)
{
	ssize_t r;

	(void)arg;
	keep.ret = keeper_table(keep.fd);
	sem_post(&keep.done);
	if (keep.ret)
		return NULL;
	for (;;) {
		sem_wait_all(&keep.req);
		r = write(keep.fd, keep.buf, keep.len);
		(void)r;	/* stderr gone: nowhere to say so */
		sem_post(&keep.done);
	}
	return NULL;
}

static int keeper_start(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (sem_init(&keep.req, 0, 0) || sem_init(&keep.done, 0, 0))
		return -errno;
	/* Every signal stays with the main thread: the keeper blocks them all. */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&t, &attr, keeper_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	sem_wait_all(&keep.done);
	return keep.ret;
}

/*
 * Move the tool's copy of stderr (vr.errfd) into the keeper's table. From
 * then on vr.errfd is -1 and errkeep_write() reaches the copy. 0 or -errno
 * (the copy then stays where it was).
 */
int errkeep_start(void)
{
	int ret;

	if (vr.errfd < 0)
		return 0;
	keep.fd = vr.errfd;
	ret = keeper_start();
	if (ret < 0)
		return ret;
	keep.up = true;
	close(vr.errfd);
	vr.errfd = -1;
	return 0;
}

/* Write buf to the tool's stderr, wherever its copy lives. */
void errkeep_write(const void *buf, size_t len)
{
	if (vr.errfd >= 0) {
		ssize_t r = write(vr.errfd, buf, len);

		(void)r;	/* stderr gone: nowhere to say so */
		return;
	}
	if (!keep.up)
		return;
	keep.buf = buf;
	keep.len = len;
	sem_post(&keep.req);
	sem_wait_all(&keep.done);
}
