// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * --trace: one strace-style line per guest system call on the tool's
 * stderr (a hidden descriptor, so the guest closing or redirecting its fd 2
 * does not move the trace), written once the call has completed:
 *
 *   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
 *
 * The argument decoders are named by the syscall table (systab.c); buffers
 * and strings are read from guest memory, output arguments after the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include "vmrun.h"

#define LINE_MAX_T	4096
#define STR_SHOWN	32
#define PATH_SHOWN	256

struct tb {
	char buf[LINE_MAX_T];
	size_t len;
};

static void tb_put(struct tb *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_put(struct tb *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < sizeof(t->buf) - t->len ? (size_t)n : sizeof(t->buf) - t->len - 1;
}

static void tb_flush(struct tb *t)
{
	size_t off = 0;

	if (vr.errfd < 0)
		return;
	if (t->len < sizeof(t->buf))
		t->buf[t->len++] = '\n';
	while (off < t->len) {
		ssize_t n = write(vr.errfd, t->buf + off, t->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	t->len = 0;
}

void trace_line(const char *fmt, ...)
{
	struct tb t = { .len = 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t.buf, sizeof(t.buf) - 1, fmt, ap);
	va_end(ap);
	t.len = n < 0 ? 0 : (size_t)n < sizeof(t.buf) - 1 ? (size_t)n : sizeof(t.buf) - 2;
	tb_flush(&t);
}

static const char *const errnames[] = {
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR",
	[EIO] = "EIO", [ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC",
	[EBADF] = "EBADF", [ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
	[EACCES] = "EACCES", [EFAULT] = "EFAULT", [ENOTBLK] = "ENOTBLK", [EBUSY] = "EBUSY",
	[EEXIST] = "EEXIST", [EXDEV] = "EXDEV", [ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR",
	[EISDIR] = "EISDIR", [EINVAL] = "EINVAL", [ENFILE] = "ENFILE", [EMFILE] = "EMFILE",
	[ENOTTY] = "ENOTTY", [ETXTBSY] = "ETXTBSY", [EFBIG] = "EFBIG", [ENOSPC] = "ENOSPC",
	[ESPIPE] = "ESPIPE", [EROFS] = "EROFS", [EMLINK] = "EMLINK", [EPIPE] = "EPIPE",
	[EDOM] = "EDOM", [ERANGE] = "ERANGE", [EDEADLK] = "EDEADLK",
	[ENAMETOOLONG] = "ENAMETOOLONG", [ENOLCK] = "ENOLCK", [ENOSYS] = "ENOSYS",
	[ENOTEMPTY] = "ENOTEMPTY", [ELOOP] = "ELOOP", [ENOMSG] = "ENOMSG",
	[ENODATA] = "ENODATA", [ETIME] = "ETIME", [EOVERFLOW] = "EOVERFLOW",
	[EILSEQ] = "EILSEQ", [ENOTSOCK] = "ENOTSOCK", [EOPNOTSUPP] = "EOPNOTSUPP",
	[EAFNOSUPPORT] = "EAFNOSUPPORT", [EADDRINUSE] = "EADDRINUSE",
	[ECONNREFUSED] = "ECONNREFUSED", [ETIMEDOUT] = "ETIMEDOUT",
	[EALREADY] = "EALREADY", [EINPROGRESS] = "EINPROGRESS", [ESTALE] = "ESTALE",
	[EDQUOT] = "EDQUOT", [ECANCELED] = "ECANCELED",
};

const char *errno_name(int err)
{
	static char buf[16];

	if (err == 512)
		return "ERESTARTSYS";
	if (err > 0 && err < (int)(sizeof(errnames) / sizeof(errnames[0])) && errnames[err])
		return errnames[err];
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static void put_escaped(struct tb *t, const unsigned char *s, size_t n, bool more)
{
	size_t i;

	tb_put(t, "\"");
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '\n': tb_put(t, "\\n"); break;
		case '\t': tb_put(t, "\\t"); break;
		case '\r': tb_put(t, "\\r"); break;
		case '"': tb_put(t, "\\\""); break;
		case '\\': tb_put(t, "\\\\"); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				tb_put(t, "%c", c);
			else
				tb_put(t, "\\x%02x", c);
		}
	}
	tb_put(t, "\"%s", more ? "..." : "");
}

static void put_ptr(struct tb *t, u64 v)
{
	if (!v)
		tb_put(t, "NULL");
	else
		tb_put(t, "%#llx", (unsigned long long)v);
}

static void put_str(struct tb *t, u64 addr, size_t max)
{
	char s[PATH_SHOWN + 1];
	long n;

	if (!addr) {
		tb_put(t, "NULL");
		return;
	}
	n = mem_read_partial(addr, s, max + 1 > sizeof(s) ? sizeof(s) : max + 1);
	if (n <= 0) {
		put_ptr(t, addr);
		return;
	}
	{
		char *nul = memchr(s, 0, n);
		size_t len = nul ? (size_t)(nul - s) : (size_t)n;

		put_escaped(t, (unsigned char *)s, len > max ? max : len, !nul || len > max);
	}
}

static void put_buf(struct tb *t, u64 addr, long len)
{
	unsigned char b[STR_SHOWN];
	size_t n = len > STR_SHOWN ? STR_SHOWN : (size_t)(len < 0 ? 0 : len);

	if (!addr || mem_read(addr, b, n)) {
		put_ptr(t, addr);
		return;
	}
	put_escaped(t, b, n, (size_t)len > n);
}

struct flagname {
	u64 v;
	const char *n;
};

static void put_flags(struct tb *t, u64 v, const struct flagname *f, const char *zero)
{
	bool any = false;

	for (; f->n; f++) {
		if (f->v && (v & f->v) == f->v) {
			tb_put(t, "%s%s", any ? "|" : "", f->n);
			v &= ~f->v;
			any = true;
		}
	}
	if (v || !any) {
		if (any)
			tb_put(t, "|%#llx", (unsigned long long)v);
		else if (zero && !v)
			tb_put(t, "%s", zero);
		else
			tb_put(t, "%#llx", (unsigned long long)v);
	}
}

static const struct flagname oflags[] = {
	{ O_WRONLY, "O_WRONLY" }, { O_RDWR, "O_RDWR" }, { O_CREAT, "O_CREAT" },
	{ O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" }, { O_DSYNC, "O_DSYNC" },
	{ O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
	{ O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
	{ 0, NULL },
};

static const struct flagname prot[] = {
	{ PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" }, { PROT_EXEC, "PROT_EXEC" },
	{ 0, NULL },
};

static const struct flagname mflags[] = {
	{ MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" },
	{ MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" }, { MAP_FIXED, "MAP_FIXED" },
	{ MAP_ANONYMOUS, "MAP_ANONYMOUS" }, { MAP_NORESERVE, "MAP_NORESERVE" },
	{ MAP_GROWSDOWN, "MAP_GROWSDOWN" }, { MAP_POPULATE, "MAP_POPULATE" },
	{ MAP_STACK, "MAP_STACK" }, { 0, NULL },
};

static const struct flagname atflags[] = {
	{ AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW" }, { AT_REMOVEDIR, "AT_REMOVEDIR" },
	{ AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW" }, { AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT" },
	{ AT_EMPTY_PATH, "AT_EMPTY_PATH" }, { AT_EACCESS, "AT_EACCESS" }, { 0, NULL },
};

static const struct flagname saflags[] = {
	{ SA_NOCLDSTOP, "SA_NOCLDSTOP" }, { SA_NOCLDWAIT, "SA_NOCLDWAIT" },
	{ SA_SIGINFO, "SA_SIGINFO" }, { 0x04000000, "SA_RESTORER" },
	{ SA_ONSTACK, "SA_ONSTACK" }, { SA_RESTART, "SA_RESTART" },
	{ SA_NODEFER, "SA_NODEFER" }, { SA_RESETHAND, "SA_RESETHAND" }, { 0, NULL },
};

static const struct flagname randflags[] = {
	{ 1, "GRND_NONBLOCK" }, { 2, "GRND_RANDOM" }, { 4, "GRND_INSECURE" }, { 0, NULL },
};

static const struct flagname accmode[] = {
	{ R_OK, "R_OK" }, { W_OK, "W_OK" }, { X_OK, "X_OK" }, { 0, NULL },
};

struct valname {
	long v;
	const char *n;
};

static void put_val(struct tb *t, long v, const struct valname *names)
{
	for (; names->n; names++) {
		if (names->v == v) {
			tb_put(t, "%s", names->n);
			return;
		}
	}
	tb_put(t, "%#lx", v);
}

static const struct valname ioctls[] = {
	{ TCGETS, "TCGETS" }, { TCSETS, "TCSETS" }, { TCSETSW, "TCSETSW" },
	{ TCSETSF, "TCSETSF" }, { TIOCGWINSZ, "TIOCGWINSZ" }, { TIOCSWINSZ, "TIOCSWINSZ" },
	{ TIOCGPGRP, "TIOCGPGRP" }, { TIOCSPGRP, "TIOCSPGRP" }, { FIONREAD, "FIONREAD" },
	{ FIONBIO, "FIONBIO" }, { FIOCLEX, "FIOCLEX" }, { FIONCLEX, "FIONCLEX" },
	{ 0, NULL },
};

static const struct valname archprctl[] = {
	{ 0x1001, "ARCH_SET_GS" }, { 0x1002, "ARCH_SET_FS" }, { 0x1003, "ARCH_GET_FS" },
	{ 0x1004, "ARCH_GET_GS" }, { 0x1011, "ARCH_GET_CPUID" }, { 0x1012, "ARCH_SET_CPUID" },
	{ 0x3001, "ARCH_CET_STATUS" }, { 0x5001, "ARCH_SHSTK_ENABLE" }, { 0, NULL },
};

static const struct valname rlimits[] = {
	{ RLIMIT_CPU, "RLIMIT_CPU" }, { RLIMIT_FSIZE, "RLIMIT_FSIZE" },
	{ RLIMIT_DATA, "RLIMIT_DATA" }, { RLIMIT_STACK, "RLIMIT_STACK" },
	{ RLIMIT_CORE, "RLIMIT_CORE" }, { RLIMIT_RSS, "RLIMIT_RSS" },
	{ RLIMIT_NPROC, "RLIMIT_NPROC" }, { RLIMIT_NOFILE, "RLIMIT_NOFILE" },
	{ RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK" }, { RLIMIT_AS, "RLIMIT_AS" }, { 0, NULL },
};

static const struct valname clocks[] = {
	{ CLOCK_REALTIME, "CLOCK_REALTIME" }, { CLOCK_MONOTONIC, "CLOCK_MONOTONIC" },
	{ CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID" },
	{ CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID" },
	{ CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW" },
	{ CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE" },
	{ CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE" },
	{ CLOCK_BOOTTIME, "CLOCK_BOOTTIME" }, { 0, NULL },
};

static const struct valname whence[] = {
	{ SEEK_SET, "SEEK_SET" }, { SEEK_CUR, "SEEK_CUR" }, { SEEK_END, "SEEK_END" },
	{ SEEK_DATA, "SEEK_DATA" }, { SEEK_HOLE, "SEEK_HOLE" }, { 0, NULL },
};

static const struct valname fcntls[] = {
	{ F_DUPFD, "F_DUPFD" }, { F_GETFD, "F_GETFD" }, { F_SETFD, "F_SETFD" },
	{ F_GETFL, "F_GETFL" }, { F_SETFL, "F_SETFL" }, { F_GETLK, "F_GETLK" },
	{ F_SETLK, "F_SETLK" }, { F_SETLKW, "F_SETLKW" },
	{ F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC" }, { F_GETPIPE_SZ, "F_GETPIPE_SZ" },
	{ F_SETPIPE_SZ, "F_SETPIPE_SZ" }, { 0, NULL },
};

static const struct valname prctls[] = {
	{ PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG" }, { PR_GET_DUMPABLE, "PR_GET_DUMPABLE" },
	{ PR_SET_DUMPABLE, "PR_SET_DUMPABLE" }, { PR_SET_NAME, "PR_SET_NAME" },
	{ PR_GET_NAME, "PR_GET_NAME" }, { PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS" },
	{ 0, NULL },
};

static const struct valname sighow[] = {
	{ SIG_BLOCK, "SIG_BLOCK" }, { SIG_UNBLOCK, "SIG_UNBLOCK" },
	{ SIG_SETMASK, "SIG_SETMASK" }, { 0, NULL },
};

static void put_sigset(struct tb *t, u64 set)
{
	bool any = false;
	int s;

	tb_put(t, "[");
	for (s = 1; s <= NSIG_G; s++) {
		if (set & SIGBIT(s)) {
			const char *n = sig_name(s);

			tb_put(t, "%s%s", any ? " " : "", strncmp(n, "SIG", 3) ? n : n + 3);
			any = true;
		}
	}
	tb_put(t, "]");
}

static void put_mode(struct tb *t, u64 m)
{
	static const struct valname types[] = {
		{ S_IFREG, "S_IFREG" }, { S_IFDIR, "S_IFDIR" }, { S_IFLNK, "S_IFLNK" },
		{ S_IFCHR, "S_IFCHR" }, { S_IFBLK, "S_IFBLK" }, { S_IFIFO, "S_IFIFO" },
		{ S_IFSOCK, "S_IFSOCK" }, { 0, NULL },
	};

	put_val(t, m & S_IFMT, types);
	tb_put(t, "|%04llo", (unsigned long long)(m & 07777));
}

static void put_arg(struct tb *t, int type, const u64 *a, int i, long ret, bool ok)
{
	u64 v = a[i];

	switch (type) {
	case A_INT: tb_put(t, "%d", (int)v); break;
	case A_UINT: tb_put(t, "%llu", (unsigned long long)v); break;
	case A_LONG: tb_put(t, "%lld", (long long)v); break;
	case A_HEX: tb_put(t, "%#llx", (unsigned long long)v); break;
	case A_OCT: tb_put(t, "%#llo", (unsigned long long)v); break;
	case A_PTR: case A_IOV: put_ptr(t, v); break;
	case A_FD: tb_put(t, "%d", (int)v); break;
	case A_DIRFD:
		if ((int)v == AT_FDCWD)
			tb_put(t, "AT_FDCWD");
		else
			tb_put(t, "%d", (int)v);
		break;
	case A_PATH: put_str(t, v, PATH_SHOWN); break;
	case A_STR: put_str(t, v, STR_SHOWN); break;
	case A_BUFIN: put_buf(t, v, (long)a[i + 1]); break;
	case A_BUFOUT:
		if (ok && ret > 0)
			put_buf(t, v, ret);
		else
			put_ptr(t, v);
		break;
	case A_OFLAGS:
		if (!(v & O_ACCMODE))
			tb_put(t, v & ~(u64)O_ACCMODE ? "O_RDONLY|" : "O_RDONLY");
		if (v & ~(u64)O_ACCMODE || (v & O_ACCMODE))
			put_flags(t, v, oflags, NULL);
		break;
	case A_MODE: case A_OMODE: tb_put(t, "%#llo", (unsigned long long)v); break;
	case A_RANDFLAGS: put_flags(t, v, randflags, "0"); break;
	case A_PROT: put_flags(t, v, prot, "PROT_NONE"); break;
	case A_MFLAGS: put_flags(t, v, mflags, "0"); break;
	case A_ATFLAGS: put_flags(t, v, atflags, "0"); break;
	case A_ACCMODE: put_flags(t, v, accmode, "F_OK"); break;
	case A_SIG: tb_put(t, "%s", sig_name((int)v)); break;
	case A_SIGHOW: put_val(t, (long)v, sighow); break;
	case A_IOCTL: put_val(t, (long)v, ioctls); break;
	case A_ARCHPRCTL: put_val(t, (long)v, archprctl); break;
	case A_RLIMIT: put_val(t, (long)v, rlimits); break;
	case A_CLOCK: put_val(t, (long)v, clocks); break;
	case A_WHENCE: put_val(t, (long)v, whence); break;
	case A_FCNTL: put_val(t, (long)v, fcntls); break;
	case A_PRCTL: put_val(t, (long)v, prctls); break;
	case A_SIGSET: {
		u64 set;

		if (!v || mem_read(v, &set, sizeof(set)))
			put_ptr(t, v);
		else
			put_sigset(t, set);
		break;
	}
	case A_SIGACT: {
		struct guest_sigaction sa;

		if (!v || mem_read(v, &sa, sizeof(sa))) {
			put_ptr(t, v);
			break;
		}
		tb_put(t, "{sa_handler=");
		if (sa.handler == G_SIG_DFL)
			tb_put(t, "SIG_DFL");
		else if (sa.handler == G_SIG_IGN)
			tb_put(t, "SIG_IGN");
		else
			tb_put(t, "%#llx", (unsigned long long)sa.handler);
		tb_put(t, ", sa_mask=");
		put_sigset(t, sa.mask);
		tb_put(t, ", sa_flags=");
		put_flags(t, sa.flags, saflags, "0");
		if (sa.flags & 0x04000000)
			tb_put(t, ", sa_restorer=%#llx", (unsigned long long)sa.restorer);
		tb_put(t, "}");
		break;
	}
	case A_STATBUF: {
		struct stat st;

		if (!ok || !v || mem_read(v, &st, sizeof(st))) {
			put_ptr(t, v);
			break;
		}
		tb_put(t, "{st_mode=");
		put_mode(t, st.st_mode);
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			tb_put(t, ", st_rdev=makedev(%#x, %#x)}", major(st.st_rdev),
			       minor(st.st_rdev));
		else
			tb_put(t, ", st_size=%lld, ...}", (long long)st.st_size);
		break;
	}
	case A_PIPEFDS: {
		int fds[2];

		if (!ok || mem_read(v, fds, sizeof(fds)))
			put_ptr(t, v);
		else
			tb_put(t, "[%d, %d]", fds[0], fds[1]);
		break;
	}
	case A_TIMESPEC: {
		struct timespec ts;

		if (!v || mem_read(v, &ts, sizeof(ts)))
			put_ptr(t, v);
		else
			tb_put(t, "{tv_sec=%lld, tv_nsec=%ld}", (long long)ts.tv_sec, ts.tv_nsec);
		break;
	}
	default:
		tb_put(t, "%#llx", (unsigned long long)v);
	}
}

void trace_syscall(long nr, const struct sysent *e, const u64 *a, long ret,
		   const char *note)
{
	struct tb t = { .len = 0 };
	bool ok = ret >= 0;
	int i, n;

	if (e && e->name) {
		tb_put(&t, "%s(", e->name);
		for (n = 0; n < ARGS_MAX && e->arg[n]; n++)
			;
		/* open/openat: the mode only with O_CREAT or O_TMPFILE, as strace. */
		if (n > 1 && e->arg[n - 1] == A_OMODE && !(a[n - 2] & (O_CREAT | __O_TMPFILE)))
			n--;
		for (i = 0; i < n; i++) {
			if (i)
				tb_put(&t, ", ");
			put_arg(&t, e->arg[i], a, i, ret, ok);
		}
	} else {
		tb_put(&t, "syscall_%ld(", nr);
		for (i = 0; i < ARGS_MAX; i++)
			tb_put(&t, "%s%#llx", i ? ", " : "", (unsigned long long)a[i]);
	}
	tb_put(&t, ")");
	if (e && (e->flags & F_NORETURN)) {
		tb_put(&t, " = ?");
	} else if (ret == -512) {
		tb_put(&t, " = ? ERESTARTSYS (To be restarted)");
	} else if (ret < 0 && ret > -4096) {
		tb_put(&t, " = -1 %s (%s)", errno_name((int)-ret), strerror((int)-ret));
	} else if (e && (e->flags & F_RET_HEX)) {
		tb_put(&t, " = %#lx", ret);
	} else {
		tb_put(&t, " = %ld", ret);
	}
	if (note)
		tb_put(&t, " (%s)", note);
	tb_flush(&t);
}

void trace_signal(int sig, const siginfo_t *info)
{
	struct tb t = { .len = 0 };

	tb_put(&t, "--- %s {si_signo=%s, si_code=%d", sig_name(sig), sig_name(sig),
	       info->si_code);
	if (info->si_code <= 0)
		tb_put(&t, ", si_pid=%d, si_uid=%d", info->si_pid, info->si_uid);
	else if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		 sig == SIGTRAP)
		tb_put(&t, ", si_addr=%p", info->si_addr);
	tb_put(&t, "} ---");
	tb_flush(&t);
}
