// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The guest's descriptor space.
 *
 * The guest's descriptors are the tool's own, number for number: a guest
 * read(3, ...) is the tool's fd 3, so pass-through calls (SYSCALLS, or
 * in-place pass-through) need no translation and the kernel allocates the
 * lowest free number exactly as it would for the program. The guest inherits
 * what the tool inherited (as across execve).
 *
 * The tool's own descriptors (the vmexec file and its copy
 * of stderr) are moved above fd_limit, which the guest sees as its
 * RLIMIT_NOFILE. Every descriptor argument is checked: a number at or above
 * fd_limit is EBADF for the guest, exactly as an unused one; a new
 * descriptor that would land there (only when all below are in use) is
 * closed again and the call fails with EMFILE. The ELF file is closed before
 * the program starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "vmrun.h"

#define HIDDEN_FDS	16
#define FD_LIMIT_MAX	65536

int fdspace_setup(void)
{
	struct rlimit rl;
	rlim_t lim;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	lim = rl.rlim_cur;
	if (lim > FD_LIMIT_MAX)
		lim = FD_LIMIT_MAX;
	if (lim < 64)
		return -EMFILE;
	vr.fd_limit = (int)lim - HIDDEN_FDS;
	vr.nofile_guest.rlim_cur = vr.fd_limit;
	vr.nofile_guest.rlim_max = vr.fd_limit;
	return 0;
}

/* Move one of the tool's descriptors out of the guest's range. */
int fd_hide(int fd)
{
	int nfd;

	if (fd < 0 || fd >= vr.fd_limit)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, vr.fd_limit);
	if (nfd < 0)
		return -errno;
	close(fd);
	return nfd;
}

bool fd_guest(long fd)
{
	return fd >= 0 && fd < vr.fd_limit;
}

bool dirfd_guest(long fd)
{
	return (int)fd == AT_FDCWD || fd_guest(fd);
}

/* A descriptor just created for the guest: within its space or EMFILE. */
long fd_new(long fd)
{
	if (fd < 0 || fd < vr.fd_limit)
		return fd;
	close((int)fd);
	return -EMFILE;
}
