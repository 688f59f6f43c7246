// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * File system and descriptor calls.
 *
 * Calls that move data between a descriptor and guest memory, or take a
 * path and a result buffer in guest memory, run as they are inside the
 * guest's address space with VMEXEC_IOC_SYSCALLS (pass-through): no copy.
 * When --bind rewrites a path, or a call is not on the module's allow-list,
 * the tool copies the arguments in, runs the call itself (same descriptor
 * table, cwd and credentials) and copies the results out. Every descriptor
 * argument is checked against the guest's descriptor space first.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include "vmrun.h"

#define CHECK_FD(x)	do { if (!fd_guest((long)(x))) return -EBADF; } while (0)
#define CHECK_DIRFD(x)	do { if (!dirfd_guest((long)(x))) return -EBADF; } while (0)

long host_ret(long r)
{
	return r < 0 ? -errno : r;
}

long pass(long nr, const u64 *a)
{
	return gsys(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* A path argument, through the path view. *mapped: a bind applied. */
long get_path(u64 addr, char *host, bool *mapped)
{
	char raw[PATH_MAX];
	long n = mem_strz(addr, raw, sizeof(raw));
	int m;

	if (n < 0)
		return n;
	m = path_map(raw, host, PATH_MAX);
	if (m < 0)
		return m;
	if (mapped)
		*mapped = m;
	return 0;
}

H(h_pass)
{
	return pass(nr, a);
}

H(h_pass_fd0)
{
	CHECK_FD(a[0]);
	return pass(nr, a);
}

H(h_native)
{
	return HOST(syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

H(h_native_fd0)
{
	CHECK_FD(a[0]);
	return HOST(syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

H(h_native_fd01)
{
	CHECK_FD(a[0]);
	CHECK_FD(a[1]);
	return HOST(syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

H(h_close)
{
	(void)nr;
	CHECK_FD(a[0]);
	return HOST(close((int)a[0]));
}

H(h_close_range)
{
	unsigned int first = a[0], last = a[1];

	(void)nr;
	if (first > last)
		return -EINVAL;
	if (first >= (unsigned int)vr.fd_limit)
		return 0;
	if (last >= (unsigned int)vr.fd_limit)
		last = vr.fd_limit - 1;
	return HOST(syscall(SYS_close_range, first, last, a[2]));
}

H(h_dup)
{
	(void)nr;
	CHECK_FD(a[0]);
	return fd_new(HOST(dup((int)a[0])));
}

H(h_dup2)
{
	(void)nr;
	CHECK_FD(a[0]);
	if (!fd_guest(a[1]))
		return -EBADF;
	return HOST(dup2((int)a[0], (int)a[1]));
}

H(h_dup3)
{
	(void)nr;
	CHECK_FD(a[0]);
	if (!fd_guest(a[1]))
		return -EBADF;
	return HOST(dup3((int)a[0], (int)a[1], (int)a[2]));
}

H(h_fcntl)
{
	int fd = (int)a[0], cmd = (int)a[1];
	struct flock fl;
	long r;

	(void)nr;
	CHECK_FD(fd);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((long)a[2] < 0 || (long)a[2] >= vr.fd_limit)
			return -EINVAL;
		return fd_new(HOST(fcntl(fd, cmd, (int)a[2])));
	case F_GETFD: case F_SETFD: case F_GETFL: case F_SETFL:
	case F_SETOWN: case F_GETOWN: case F_SETSIG: case F_GETSIG:
	case F_SETLEASE: case F_GETLEASE: case F_NOTIFY:
	case F_SETPIPE_SZ: case F_GETPIPE_SZ: case F_ADD_SEALS: case F_GET_SEALS:
		return HOST(syscall(SYS_fcntl, fd, cmd, a[2]));
	case F_GETLK: case F_SETLK: case F_SETLKW:
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
		if (mem_read(a[2], &fl, sizeof(fl)))
			return -EFAULT;
		r = HOST(syscall(SYS_fcntl, fd, cmd, &fl));
		if (r >= 0 && (cmd == F_GETLK || cmd == F_OFD_GETLK) &&
		    mem_write(a[2], &fl, sizeof(fl)))
			return -EFAULT;
		return r;
	default:
		return -EINVAL;
	}
}

static long pipe_common(u64 addr, int flags)
{
	int fds[2];

	if (pipe2(fds, flags) < 0)
		return -errno;
	if (fds[0] >= vr.fd_limit || fds[1] >= vr.fd_limit) {
		close(fds[0]);
		close(fds[1]);
		return -EMFILE;
	}
	if (mem_write(addr, fds, sizeof(fds))) {
		close(fds[0]);
		close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

H(h_pipe)
{
	(void)nr;
	return pipe_common(a[0], 0);
}

H(h_pipe2)
{
	(void)nr;
	return pipe_common(a[0], (int)a[1]);
}

H(h_eventfd2)
{
	return fd_new(HOST(syscall(nr, a[0], a[1])));
}

H(h_memfd_create)
{
	char name[256];

	(void)nr;
	if (mem_strz(a[0], name, sizeof(name)) < 0)
		return -EFAULT;
	return fd_new(HOST(memfd_create(name, (unsigned int)a[1])));
}

/* The guest's terminal ioctls; anything else is ENOTTY. */
H(h_ioctl)
{
	int fd = (int)a[0];
	unsigned long req = a[1];
	unsigned char buf[64];
	size_t in = 0, out = 0;
	long r;

	(void)nr;
	CHECK_FD(fd);
	switch (req) {
	case TCGETS: out = 36; break;			/* struct termios (kernel's) */
	case TCSETS: case TCSETSW: case TCSETSF: in = 36; break;
	case TIOCGWINSZ: out = 8; break;
	case TIOCSWINSZ: in = 8; break;
	case TIOCGPGRP: case FIONREAD: case TIOCOUTQ: out = 4; break;
	case TIOCSPGRP: case FIONBIO: case FIOASYNC: in = 4; break;
	case TIOCGSID: out = 4; break;
	case FIOCLEX: case FIONCLEX: case TCSBRK: case TCXONC: case TCFLSH:
	case TIOCSCTTY: case TIOCNOTTY:
		return HOST(syscall(SYS_ioctl, fd, req, a[2]));
	default:
		return -ENOTTY;
	}
	if (in && mem_read(a[2], buf, in))
		return -EFAULT;
	r = HOST(syscall(SYS_ioctl, fd, req, buf));
	if (r >= 0 && out && mem_write(a[2], buf, out))
		return -EFAULT;
	return r;
}

/*
 * A path argument relative to dirfd: -EBADF for a descriptor the guest does
 * not have; when a bind rewrites the path, the host path in host and *mapped
 * set (get_path()).
 */
static long view_path(long dirfd, u64 path, char *host, bool *mapped)
{
	CHECK_DIRFD(dirfd);
	return pathview_active() ? get_path(path, host, mapped) : 0;
}

/* open family: pass-through unless a bind rewrites the path. */
static long do_openat(long dirfd, u64 path, u64 flags, u64 mode)
{
	char host[PATH_MAX];
	bool mapped = false;
	long r;

	r = view_path(dirfd, path, host, &mapped);
	if (r < 0)
		return r;
	if (mapped)
		r = HOST(openat((int)dirfd, host, (int)flags, (mode_t)mode));
	else
		r = gsys(SYS_openat, dirfd, path, flags, mode, 0, 0);
	return fd_new(r);
}

H(h_open)
{
	(void)nr;
	return do_openat(AT_FDCWD, a[0], a[1], a[2]);
}

H(h_creat)
{
	(void)nr;
	return do_openat(AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
}

H(h_openat)
{
	(void)nr;
	return do_openat(a[0], a[1], a[2], a[3]);
}

static long do_fstatat(long dirfd, u64 path, u64 buf, u64 flags)
{
	char host[PATH_MAX];
	bool mapped = false;
	struct stat st;
	long r;

	r = view_path(dirfd, path, host, &mapped);
	if (r < 0)
		return r;
	if (!mapped)
		return gsys(SYS_newfstatat, dirfd, path, buf, flags, 0, 0);
	r = HOST(fstatat((int)dirfd, host, &st, (int)flags));
	if (r >= 0 && mem_write(buf, &st, sizeof(st)))
		return -EFAULT;
	return r;
}

H(h_stat)
{
	(void)nr;
	return do_fstatat(AT_FDCWD, a[0], a[1], 0);
}

H(h_lstat)
{
	(void)nr;
	return do_fstatat(AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

H(h_newfstatat)
{
	(void)nr;
	return do_fstatat(a[0], a[1], a[2], a[3]);
}

H(h_statx)
{
	char host[PATH_MAX];
	unsigned char buf[256];
	bool mapped = false;
	long r;

	r = view_path(a[0], a[1], host, &mapped);
	if (r < 0)
		return r;
	if (!mapped)
		return pass(nr, a);
	r = HOST(syscall(SYS_statx, a[0], host, a[2], a[3], buf));
	if (r >= 0 && mem_write(a[4], buf, sizeof(buf)))
		return -EFAULT;
	return r;
}

static long do_faccessat(long dirfd, u64 path, u64 mode, u64 flags)
{
	char host[PATH_MAX];
	bool mapped = false;
	long r;

	CHECK_DIRFD(dirfd);
	if (pathview_active() || flags) {
		r = get_path(path, host, &mapped);
		if (r < 0)
			return r;
		if (mapped || flags)
			return HOST(syscall(SYS_faccessat2, dirfd, host, mode, flags));
	}
	return gsys(SYS_faccessat, dirfd, path, mode, 0, 0, 0);
}

H(h_access)
{
	(void)nr;
	return do_faccessat(AT_FDCWD, a[0], a[1], 0);
}

H(h_faccessat)
{
	(void)nr;
	return do_faccessat(a[0], a[1], a[2], 0);
}

H(h_faccessat2)
{
	(void)nr;
	return do_faccessat(a[0], a[1], a[2], a[3]);
}

/* /proc/self/exe of the guest is its program, not vmexec-run. */
static bool is_self_exe(const char *p)
{
	char buf[64];

	if (!strcmp(p, "/proc/self/exe") || !strcmp(p, "/proc/thread-self/exe"))
		return true;
	snprintf(buf, sizeof(buf), "/proc/%d/exe", vr.pid);
	return !strcmp(p, buf);
}

static long do_readlinkat(long dirfd, u64 path, u64 buf, u64 size)
{
	char raw[PATH_MAX], host[PATH_MAX], out[PATH_MAX];
	long r;
	int m;

	CHECK_DIRFD(dirfd);
	if ((long)size <= 0)
		return -EINVAL;
	r = mem_strz(path, raw, sizeof(raw));
	if (r < 0)
		return r;
	if (is_self_exe(raw)) {
		r = strlen(vr.exe);
		if ((u64)r > size)
			r = size;
		return mem_write(buf, vr.exe, r) ? -EFAULT : r;
	}
	m = path_map(raw, host, sizeof(host));
	if (m < 0)
		return m;
	if (!m)
		return gsys(SYS_readlinkat, dirfd, path, buf, size, 0, 0);
	r = HOST(readlinkat((int)dirfd, host, out, size < sizeof(out) ? size : sizeof(out)));
	if (r > 0 && mem_write(buf, out, r))
		return -EFAULT;
	return r;
}

H(h_readlink)
{
	(void)nr;
	return do_readlinkat(AT_FDCWD, a[0], a[1], a[2]);
}

H(h_readlinkat)
{
	(void)nr;
	return do_readlinkat(a[0], a[1], a[2], a[3]);
}

/* One path at a[0], the rest by value: chdir, mkdir, unlink, chmod, ... */
H(h_path0)
{
	char p[PATH_MAX];
	long r = get_path(a[0], p, NULL);

	if (r < 0)
		return r;
	return HOST(syscall(nr, p, a[1], a[2], a[3], a[4], a[5]));
}

/* dirfd at a[0], path at a[1], the rest by value: mkdirat, unlinkat, ... */
H(h_path1_at)
{
	char p[PATH_MAX];
	long r;

	CHECK_DIRFD(a[0]);
	r = get_path(a[1], p, NULL);
	if (r < 0)
		return r;
	return HOST(syscall(nr, a[0], p, a[2], a[3], a[4], a[5]));
}

/* rename(old, new), link(old, new). */
H(h_path01)
{
	char p0[PATH_MAX], p1[PATH_MAX];
	long r = get_path(a[0], p0, NULL);

	if (r < 0 || (r = get_path(a[1], p1, NULL)) < 0)
		return r;
	return HOST(syscall(nr, p0, p1, a[2]));
}

/* renameat(2)(d0, old, d1, new, flags), linkat(d0, old, d1, new, flags). */
H(h_path_at2)
{
	char p0[PATH_MAX], p1[PATH_MAX];
	long r;

	CHECK_DIRFD(a[0]);
	CHECK_DIRFD(a[2]);
	r = get_path(a[1], p0, NULL);
	if (r < 0 || (r = get_path(a[3], p1, NULL)) < 0)
		return r;
	return HOST(syscall(nr, a[0], p0, a[2], p1, a[4]));
}

/* symlink(target, linkpath): the target is stored as it is. */
H(h_symlink)
{
	char target[PATH_MAX], p[PATH_MAX];
	long r = mem_strz(a[0], target, sizeof(target));

	(void)nr;
	if (r < 0 || (r = get_path(a[1], p, NULL)) < 0)
		return r;
	return HOST(symlink(target, p));
}

H(h_symlinkat)
{
	char target[PATH_MAX], p[PATH_MAX];
	long r;

	(void)nr;
	CHECK_DIRFD(a[1]);
	r = mem_strz(a[0], target, sizeof(target));
	if (r < 0 || (r = get_path(a[2], p, NULL)) < 0)
		return r;
	return HOST(symlinkat(target, (int)a[1], p));
}

H(h_utimensat)
{
	struct timespec ts[2];
	char p[PATH_MAX];
	long r;

	(void)nr;
	CHECK_DIRFD(a[0]);
	if (a[2] && mem_read(a[2], ts, sizeof(ts)))
		return -EFAULT;
	if (a[1]) {
		r = get_path(a[1], p, NULL);
		if (r < 0)
			return r;
	}
	return HOST(syscall(SYS_utimensat, a[0], a[1] ? p : NULL, a[2] ? ts : NULL, a[3]));
}

H(h_utimes)
{
	struct timeval tv[2];
	char p[PATH_MAX];
	long r = get_path(a[0], p, NULL);

	if (r < 0)
		return r;
	if (a[1] && mem_read(a[1], tv, sizeof(tv)))
		return -EFAULT;
	return HOST(syscall(nr, p, a[1] ? tv : NULL));
}

H(h_utime)
{
	u64 tb[2];
	char p[PATH_MAX];
	long r = get_path(a[0], p, NULL);

	if (r < 0)
		return r;
	if (a[1] && mem_read(a[1], tb, sizeof(tb)))
		return -EFAULT;
	return HOST(syscall(nr, p, a[1] ? tb : NULL));
}

H(h_statfs)
{
	struct statfs sf;
	char p[PATH_MAX];
	long r = get_path(a[0], p, NULL);

	(void)nr;
	if (r < 0)
		return r;
	r = HOST(statfs(p, &sf));
	if (r >= 0 && mem_write(a[1], &sf, sizeof(sf)))
		return -EFAULT;
	return r;
}

H(h_fstatfs)
{
	struct statfs sf;
	long r;

	(void)nr;
	CHECK_FD(a[0]);
	r = HOST(fstatfs((int)a[0], &sf));
	if (r >= 0 && mem_write(a[1], &sf, sizeof(sf)))
		return -EFAULT;
	return r;
}

H(h_getcwd)
{
	char buf[PATH_MAX];
	size_t len;

	(void)nr;
	if (!getcwd(buf, sizeof(buf)))
		return -errno;
	path_unmap(buf, sizeof(buf));
	len = strlen(buf) + 1;
	if (len > a[1])
		return -ERANGE;
	return mem_write(a[0], buf, len) ? -EFAULT : (long)len;
}

/* sendfile, copy_file_range, splice: offsets copied in and out. */
H(h_sendfile)
{
	off_t off;
	long r;

	(void)nr;
	CHECK_FD(a[0]);
	CHECK_FD(a[1]);
	if (!a[2])
		return HOST(sendfile((int)a[0], (int)a[1], NULL, a[3]));
	if (mem_read(a[2], &off, sizeof(off)))
		return -EFAULT;
	r = HOST(sendfile((int)a[0], (int)a[1], &off, a[3]));
	if (mem_write(a[2], &off, sizeof(off)))
		return -EFAULT;
	return r;
}

/* (fd_in, off_in*, fd_out, off_out*, len, flags) */
H(h_copy_splice)
{
	loff_t o_in, o_out;
	long r;

	CHECK_FD(a[0]);
	CHECK_FD(a[2]);
	if ((a[1] && mem_read(a[1], &o_in, 8)) || (a[3] && mem_read(a[3], &o_out, 8)))
		return -EFAULT;
	r = HOST(syscall(nr, a[0], a[1] ? &o_in : NULL, a[2], a[3] ? &o_out : NULL,
			 a[4], a[5]));
	if (r >= 0 && ((a[1] && mem_write(a[1], &o_in, 8)) ||
		       (a[3] && mem_write(a[3], &o_out, 8))))
		return -EFAULT;
	return r;
}

/* Descriptors at or above fd_limit poll as closed ones do (POLLNVAL). */
static long do_poll(u64 ufds, u64 nfds, int timeout, const struct timespec *ts, bool ppoll_)
{
	struct pollfd *fds;
	int *orig;
	long r;
	u64 i;

	if (nfds > (u64)vr.fd_limit + 64)
		return -EINVAL;
	fds = calloc(nfds + 1, sizeof(*fds));
	orig = calloc(nfds + 1, sizeof(*orig));
	if (!fds || !orig) {
		free(fds);
		free(orig);
		return -ENOMEM;
	}
	r = mem_read(ufds, fds, nfds * sizeof(*fds));
	if (r)
		goto out;
	for (i = 0; i < nfds; i++) {
		orig[i] = fds[i].fd;
		if (fds[i].fd >= vr.fd_limit)
			fds[i].fd = -1;
	}
	if (ppoll_)
		r = HOST(ppoll(fds, nfds, ts, NULL));
	else
		r = HOST(poll(fds, nfds, timeout));
	if (r < 0)
		goto out;
	for (i = 0; i < nfds; i++) {
		if (orig[i] >= vr.fd_limit) {
			fds[i].revents = POLLNVAL;
			r++;
		}
		fds[i].fd = orig[i];
	}
	if (mem_write(ufds, fds, nfds * sizeof(*fds)))
		r = -EFAULT;
out:
	free(fds);
	free(orig);
	return r;
}

H(h_poll)
{
	(void)nr;
	return do_poll(a[0], a[1], (int)a[2], NULL, false);
}

/* The signal mask argument of ppoll and pselect6 is not applied. */
H(h_ppoll)
{
	struct timespec ts;

	(void)nr;
	if (a[2] && mem_read(a[2], &ts, sizeof(ts)))
		return -EFAULT;
	return do_poll(a[0], a[1], 0, a[2] ? &ts : NULL, true);
}

static long do_select(u64 n, u64 r_, u64 w_, u64 e_, u64 tmo, bool pselect_)
{
	fd_set sets[3];
	u64 addr[3] = { r_, w_, e_ };
	size_t bytes;
	struct timeval tv;
	struct timespec ts;
	long r;
	int i;

	if ((long)n < 0)
		return -EINVAL;
	if (n > FD_SETSIZE)
		n = FD_SETSIZE;
	bytes = ((n + 63) / 64) * 8;
	for (i = 0; i < 3; i++) {
		FD_ZERO(&sets[i]);
		if (addr[i] && mem_read(addr[i], &sets[i], bytes))
			return -EFAULT;
		for (long fd = vr.fd_limit; fd < (long)n; fd++)
			if (FD_ISSET(fd, &sets[i]))
				return -EBADF;
	}
	if (tmo && mem_read(tmo, pselect_ ? (void *)&ts : (void *)&tv, 16))
		return -EFAULT;
	if (pselect_)
		r = HOST(pselect(n, r_ ? &sets[0] : NULL, w_ ? &sets[1] : NULL,
				 e_ ? &sets[2] : NULL, tmo ? &ts : NULL, NULL));
	else
		r = HOST(select(n, r_ ? &sets[0] : NULL, w_ ? &sets[1] : NULL,
				e_ ? &sets[2] : NULL, tmo ? &tv : NULL));
	if (r < 0)
		return r;
	for (i = 0; i < 3; i++)
		if (addr[i] && mem_write(addr[i], &sets[i], bytes))
			return -EFAULT;
	if (tmo && !pselect_ && mem_write(tmo, &tv, 16))
		return -EFAULT;
	return r;
}

H(h_select)
{
	(void)nr;
	return do_select(a[0], a[1], a[2], a[3], a[4], false);
}

H(h_pselect6)
{
	(void)nr;
	return do_select(a[0], a[1], a[2], a[3], a[4], true);
}

H(h_mmap)
{
	if (!(a[3] & MAP_ANONYMOUS))
		CHECK_FD(a[4]);
	return pass(nr, a);
}
