// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-run-tests: vmexec-run against the real thing, in the qemu guest.
 *
 * 1. busybox applets run natively and under vmexec-run must give
 *    byte-identical stdout and stderr and the same exit status (a death by
 *    signal N counts as 128+N, the status vmexec-run gives for it);
 * 2. --trace, --deny, --bind, faults, Ctrl-C with and without a handler,
 *    signal frames and SA_RESTART, the hidden descriptors, fork/execve
 *    refused, no process beside vmexec-run (a new address space) or one
 *    stopped stub that is never left behind (--stub), the fallback to a
 *    stub. Several of these run this very program as the guest
 *    (argv[1] == "--guest").
 *
 * Every vmexec-run case runs in both of its modes: "new-mm" (the default,
 * an address space no process has) and "stub" (--stub); each native run
 * once. Prints one PASS/FAIL line per case and mode ("PASS: new-mm: ls -l
 * tree"); exits 0 only if every case passed. VMEXEC_RUN (default
 * /usr/bin/vmexec-run) and BUSYBOX (/bin/busybox) can point elsewhere;
 * VMEXEC_RUN_MODES=new-mm (or stub) runs one mode only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmexec.h>

#include "proc_state.h"

#define WORK	"/tmp/vrt"
#define OUTDIR	WORK "/out"

static const char *vmexec_run = "/usr/bin/vmexec-run";
static const char *busybox = "/bin/busybox";
/* This program built as a static PIE (tests/Makefile), run as a guest. */
static const char *pie_guest = "/usr/bin/vmexec-run-pie-guest";
static char self[4096];
static int passed, failed;

/* vmexec-run's ways to get an address space, each run by every case. */
struct mode {
	const char *name;	/* in every PASS/FAIL line */
	const char *opt;	/* vmexec-run option, or NULL */
	bool stub;		/* vmexec-run forks a stub process */
	bool hide_new_mm;	/* the module seems to lack VMEXEC_BIND_NEW_MM */
	int passed, failed;
};

static struct mode modes[] = {
	{ "new-mm", NULL, false, false, 0, 0 },
	{ "stub", "--stub", true, false, 0, 0 },
	/* The default mode on a module without VMEXEC_BIND_NEW_MM (seccomp says so). */
	{ "fallback", NULL, true, true, 0, 0 },
};
#define NMODES	2	/* modes[] of vmexec-run itself; then the fallback */
#define FALLBACK	(&modes[2])
static bool mode_on[NMODES] = { true, true };
static struct mode *mode = &modes[0];	/* the mode being tested */

struct result {
	int status;		/* exit status, or 128+signal */
	char *out, *err;
	size_t outlen, errlen;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "FAIL: setup: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, ": %s\n", strerror(errno));
	va_end(ap);
	exit(1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		die("open %s", path);
	do {
		if (n + 65536 > cap) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
			if (!buf)
				die("realloc");
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static int norm_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/*
 * In a child about to exec vmexec-run: make VMEXEC_IOC_CHECK_FEATURE of
 * VMEXEC_FEATURE_BIND_NEW_MM fail with ENOTTY, as on a module without
 * feature probing, by a seccomp filter. 0 or -errno.
 */
static int hide_new_mm(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VMEXEC_IOC_CHECK_FEATURE, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VMEXEC_FEATURE_BIND_NEW_MM, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

/* Run argv with stdin from in (or /dev/null), stdout/stderr captured. */
static void run(char *const argv[], const char *in, struct result *r)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int i = open(in ? in : "/dev/null", O_RDONLY);
		int o = open(OUTDIR "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(OUTDIR "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (i < 0 || o < 0 || e < 0)
			_exit(121);
		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		close(i);
		close(o);
		close(e);
		alarm(120);
		/* vm_argv() made it: vmexec-run in the current mode. */
		if (argv[0] == vmexec_run && mode->hide_new_mm && hide_new_mm())
			_exit(123);
		execv(argv[0], argv);
		_exit(122);
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	r->status = norm_status(st);
	r->out = slurp(OUTDIR "/stdout", &r->outlen);
	r->err = slurp(OUTDIR "/stderr", &r->errlen);
}

static void report(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		mode->passed++;
		printf("PASS: %s: %s\n", mode->name, name);
		return;
	}
	failed++;
	mode->failed++;
	printf("FAIL: %s: %s: ", mode->name, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static size_t first_diff(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i;

	for (i = 0; i < al && i < bl; i++)
		if (a[i] != b[i])
			break;
	return i;
}

static void show(const char *what, const char *s, size_t len, size_t at)
{
	size_t from = at > 40 ? at - 40 : 0, i;

	printf("  %s (%zu bytes) near offset %zu: \"", what, len, at);
	for (i = from; i < len && i < at + 80; i++)
		putchar(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '.');
	printf("\"\n");
}

static bool same(const char *name, const struct result *n, const struct result *v)
{
	size_t d;

	if (n->status == v->status && n->outlen == v->outlen && n->errlen == v->errlen &&
	    !memcmp(n->out, v->out, n->outlen) && !memcmp(n->err, v->err, n->errlen)) {
		report(true, name, NULL);
		return true;
	}
	report(false, name, "native status %d, %zu+%zu bytes; vmexec-run status %d, %zu+%zu bytes",
	       n->status, n->outlen, n->errlen, v->status, v->outlen, v->errlen);
	d = first_diff(n->out, n->outlen, v->out, v->outlen);
	if (d < n->outlen || d < v->outlen) {
		show("native stdout", n->out, n->outlen, d);
		show("vmexec-run stdout", v->out, v->outlen, d);
	}
	d = first_diff(n->err, n->errlen, v->err, v->errlen);
	if (d < n->errlen || d < v->errlen) {
		show("native stderr", n->err, n->errlen, d);
		show("vmexec-run stderr", v->err, v->errlen, d);
	}
	return false;
}

#define MAXARGS 32

/* argv of vmexec-run in the current mode: vmexec-run [--stub] ARGS... */
static void vm_argv(char *out[MAXARGS], char *const args[])
{
	int n = 0;

	out[n++] = (char *)vmexec_run;
	if (mode->opt)
		out[n++] = (char *)mode->opt;
	for (int i = 0; args[i] && n < MAXARGS - 1; i++)
		out[n++] = args[i];
	out[n] = NULL;
}

/* run() of vmexec-run ARGS... in the current mode. */
static void vmrun(char *const args[], const char *in, struct result *r)
{
	char *argv[MAXARGS];

	vm_argv(argv, args);
	run(argv, in, r);
}

/* execv() of vmexec-run ARGS... in the current mode (in a child). */
static void vmexec_vmrun(char *const args[])
{
	char *argv[MAXARGS];

	vm_argv(argv, args);
	if (mode->hide_new_mm && hide_new_mm())
		return;
	execv(argv[0], argv);
}

/*
 * PROGRAM ARGS natively once, then as vmexec-run [opts] -- PROGRAM ARGS in
 * every mode.
 */
static void compare_prog(const char *name, const char *in, const char *const opts[],
			 const char *prog, const char *const args[])
{
	char *nat[MAXARGS], *vm[MAXARGS];
	struct mode *was = mode;
	struct result rn, rv;
	int i, n = 0, v = 0;

	nat[n++] = (char *)prog;
	for (i = 0; opts && opts[i]; i++)
		vm[v++] = (char *)opts[i];
	vm[v++] = "--";
	vm[v++] = (char *)prog;
	for (i = 0; args[i]; i++) {
		nat[n++] = (char *)args[i];
		vm[v++] = (char *)args[i];
	}
	nat[n] = vm[v] = NULL;
	run(nat, in, &rn);
	for (size_t m = 0; m < NMODES; m++) {
		if (!mode_on[m])
			continue;
		mode = &modes[m];
		vmrun(vm, in, &rv);
		same(name, &rn, &rv);
		result_free(&rv);
	}
	mode = was;
	result_free(&rn);
}

#define APPLET(name, in, ...) \
	compare_prog(name, in, NULL, busybox, (const char *const[]){ __VA_ARGS__, NULL })
#define GUEST(name, mode) \
	compare_prog(name, NULL, NULL, self, (const char *const[]){ "--guest", mode, NULL })

/* ---- the fixture ---- */

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd))
		die("write %s", path);
}

static void make_fixture(void)
{
	static const char *const words[] = {
		"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
		"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
		"Quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "x-ray",
	};
	static const char *const dirs[] = {
		"tree", "tree/a", "tree/a/b", "tree/a/b/c", "tree/d", "tree/empty-dir",
	};
	char *text, *bin, path[256];
	size_t len = 0, i;

	mkdir(WORK, 0755);
	mkdir(OUTDIR, 0755);
	if (chdir(WORK))
		die("chdir " WORK);
	text = malloc(1 << 20);
	for (i = 0; i < 3000; i++) {
		int nw = 1 + rnd() % 6;

		for (int w = 0; w < nw; w++)
			len += sprintf(text + len, "%s%s", w ? " " : "",
				       words[rnd() % (sizeof(words) / sizeof(words[0]))]);
		len += sprintf(text + len, " %u\n", rnd() % 1000);
	}
	write_file("words.txt", text, len, 0644);
	bin = malloc(300000);
	for (i = 0; i < 300000; i++)
		bin[i] = (char)rnd();
	write_file("bin.dat", bin, 300000, 0644);
	write_file("empty", "", 0, 0644);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(dirs[i], 0755);
	for (i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "tree/%s/file%02zu.%s",
			 i % 3 == 0 ? "a" : i % 3 == 1 ? "a/b/c" : "d", i, i % 2 ? "txt" : "dat");
		write_file(path, text + i * 97, 1 + i * 131, i % 5 ? 0644 : 0600);
	}
	symlink("../words.txt", "tree/link-to-words");
	symlink("a/b", "tree/link-to-dir");
	write_file("tree/a/file1.txt", "one\ntwo\nthree\n", 14, 0644);
	free(text);
	free(bin);
	/* A gzip file made natively, for gunzip/zcat. */
	{
		struct result r;
		char *argv[] = { (char *)busybox, "gzip", "-c", "words.txt", NULL };

		run(argv, NULL, &r);
		write_file("words.txt.gz", r.out, r.outlen, 0644);
		result_free(&r);
	}
}

static void applet_tests(void)
{
	APPLET("ls -l tree", NULL, "ls", "-l", "tree");
	APPLET("ls -la tree/a", NULL, "ls", "-la", "tree/a");
	APPLET("ls -lR tree", NULL, "ls", "-lR", "tree");
	APPLET("ls -l /bin", NULL, "ls", "-l", "/bin");
	APPLET("ls missing (exit 1)", NULL, "ls", "-l", "no-such-file");
	APPLET("cat", NULL, "cat", "words.txt");
	APPLET("cat binary", NULL, "cat", "bin.dat", "words.txt");
	APPLET("cat stdin", "bin.dat", "cat");
	APPLET("cat missing (exit 1)", NULL, "cat", "words.txt", "no-such-file");
	APPLET("wc", NULL, "wc", "words.txt", "bin.dat");
	APPLET("wc -l stdin", "words.txt", "wc", "-l");
	APPLET("sort", NULL, "sort", "words.txt");
	APPLET("sort -n -r", NULL, "sort", "-n", "-r", "-k", "2", "words.txt");
	APPLET("sort -u stdin", "words.txt", "sort", "-u");
	APPLET("sha256sum", NULL, "sha256sum", "words.txt", "bin.dat", "empty");
	APPLET("md5sum", NULL, "md5sum", "words.txt", "bin.dat");
	APPLET("sha1sum stdin", "bin.dat", "sha1sum");
	APPLET("sha512sum", NULL, "sha512sum", "bin.dat");
	APPLET("find", NULL, "find", "tree");
	APPLET("find -type f -name", NULL, "find", "tree", "-type", "f", "-name", "*.txt");
	APPLET("find -L -type d", NULL, "find", "-L", "tree", "-type", "d");
	APPLET("gzip -c", NULL, "gzip", "-c", "words.txt");
	APPLET("gzip -9 -c binary", NULL, "gzip", "-9", "-c", "bin.dat");
	APPLET("gunzip -c", NULL, "gunzip", "-c", "words.txt.gz");
	APPLET("gunzip -c stdin", "words.txt.gz", "gunzip", "-c");
	APPLET("head", NULL, "head", "-n", "5", "words.txt");
	APPLET("head -c", NULL, "head", "-c", "1000", "bin.dat");
	APPLET("tail", NULL, "tail", "-n", "7", "words.txt");
	APPLET("tail -c stdin", "bin.dat", "tail", "-c", "100");
	APPLET("od", NULL, "od", "-A", "x", "-t", "x1z", "-N", "8192", "bin.dat");
	APPLET("od -c", NULL, "od", "-c", "words.txt");
	APPLET("hexdump -C", NULL, "hexdump", "-C", "-n", "4096", "bin.dat");
	APPLET("uniq -c", NULL, "uniq", "-c", "words.txt");
	APPLET("cut", NULL, "cut", "-d", " ", "-f", "1,2", "words.txt");
	APPLET("tr stdin", "words.txt", "tr", "a-z", "A-Z");
	APPLET("grep -c", NULL, "grep", "-c", "alpha", "words.txt");
	APPLET("grep -n -i", NULL, "grep", "-n", "-i", "quebec", "words.txt");
	APPLET("grep no match (exit 1)", NULL, "grep", "zzzzz", "words.txt");
	APPLET("sed", NULL, "sed", "-e", "s/a/A/g", "-e", "/echo/d", "words.txt");
	APPLET("awk", NULL, "awk", "{ s += $NF } END { print NR, s }", "words.txt");
	APPLET("base64", NULL, "base64", "bin.dat");
	APPLET("cksum", NULL, "cksum", "words.txt", "bin.dat");
	APPLET("seq", NULL, "seq", "1", "3", "5000");
	APPLET("du -a", NULL, "du", "-a", "tree");
	APPLET("stat -c", NULL, "stat", "-c", "%n %s %a %F", "words.txt", "tree", "tree/link-to-dir");
	APPLET("tac", NULL, "tac", "words.txt");
	APPLET("nl", NULL, "nl", "words.txt");
	APPLET("fold", NULL, "fold", "-w", "17", "words.txt");
	APPLET("cmp differ (exit 1)", NULL, "cmp", "words.txt", "bin.dat");
	APPLET("diff", NULL, "diff", "tree/a/file1.txt", "tree/d/file02.dat");
	APPLET("readlink -f", NULL, "readlink", "-f", "tree/link-to-dir");
	APPLET("realpath", NULL, "realpath", "tree/link-to-words");
	APPLET("basename", NULL, "basename", "/a/b/c.txt", ".txt");
	APPLET("dirname", NULL, "dirname", "/a/b/c");
	APPLET("true", NULL, "true");
	APPLET("false (exit 1)", NULL, "false");
	APPLET("sh -c exit 3", NULL, "sh", "-c", "echo hi; printf '%s-%d\\n' x 42; exit 3");
	APPLET("expr", NULL, "expr", "6", "*", "7");
	APPLET("test (exit 1)", NULL, "test", "-d", "words.txt");
	APPLET("bad option (exit 1)", NULL, "ls", "--no-such-option");
	/*
	 * Pass-through is the default; without it every call exits to the
	 * tool: same results.
	 */
	static const char *const pt[] = { "--no-passthrough", NULL };
	compare_prog("--no-passthrough: cat", NULL, pt, busybox,
		     (const char *const[]){ "cat", "words.txt", "bin.dat", NULL });
	compare_prog("--no-passthrough: sha256sum", NULL, pt, busybox,
		     (const char *const[]){ "sha256sum", "bin.dat", NULL });
	compare_prog("--no-passthrough: ls -lR", NULL, pt, busybox,
		     (const char *const[]){ "ls", "-lR", "tree", NULL });
	compare_prog("--no-passthrough: restart after a handler", NULL, pt, self,
		     (const char *const[]){ "--guest", "restart", NULL });
	compare_prog("--no-passthrough: EINTR without SA_RESTART", NULL, pt, self,
		     (const char *const[]){ "--guest", "eintr", NULL });
	compare_prog("--no-passthrough: sort stdin", "words.txt", pt, busybox,
		     (const char *const[]){ "sort", NULL });
	GUEST("guest: malloc, brk and mmap", "malloc");
	GUEST("guest: signal frames, FPU state kept", "sigfpu");
	GUEST("guest: SIGSEGV handler, siglongjmp", "segv-handler");
	GUEST("guest: blocked signal, sigpending, unblock", "sigmask");
	GUEST("guest: SA_RESTART read restarted after a handler", "restart");
	GUEST("guest: read without SA_RESTART fails with EINTR", "eintr");
	GUEST("guest: no extra descriptors", "fds");
	GUEST("guest: kill(1, 0) reaches init", "kill1");
	if (access(pie_guest, X_OK) == 0) {
		compare_prog("static-pie guest: malloc", NULL, NULL, pie_guest,
			     (const char *const[]){ "--guest", "malloc", NULL });
		compare_prog("static-pie guest: signal frames", NULL, NULL, pie_guest,
			     (const char *const[]){ "--guest", "sigfpu", NULL });
		compare_prog("static-pie guest: SIGSEGV handler", NULL, NULL, pie_guest,
			     (const char *const[]){ "--guest", "segv-handler", NULL });
	} else {
		report(false, "static-pie guest", "%s missing", pie_guest);
	}
}

/* ---- guest modes: this program run by vmexec-run (and natively) ---- */

static volatile sig_atomic_t got;
static sigjmp_buf jb;

static void on_sig(int sig)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "got %s\n", sig == SIGINT ? "SIGINT" : "signal");
	volatile double x = 1.0;

	/* Clobber the FPU/SSE state inside the handler. */
	for (int i = 0; i < 100; i++)
		x = x * 1.5 + 0.25;
	if (write(1, msg, n) < 0)
		_exit(9);
	got++;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_addr == (void *)16)
		siglongjmp(jb, 1);
	_exit(8);
}

static int pipefd[2];

static void on_alarm_write(int sig)
{
	(void)sig;
	got++;
	if (write(pipefd[1], "hello", 5) != 5)
		_exit(7);
}

static void on_alarm_count(int sig)
{
	(void)sig;
	got++;
}

static volatile int *volatile bad_ptr;	/* NULL */

static int guest_main(const char *mode)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	if (!strcmp(mode, "segv")) {
		*bad_ptr = 1;
		return 0;
	}
	if (!strcmp(mode, "malloc")) {
		unsigned long sum = 0;
		char *p[64];

		for (int i = 0; i < 64; i++) {
			size_t n = (size_t)(i + 1) * (i % 8 == 0 ? 300000 : 1000);

			p[i] = malloc(n);
			memset(p[i], i, n);
		}
		for (int i = 0; i < 64; i++) {
			size_t n = (size_t)(i + 1) * (i % 8 == 0 ? 300000 : 1000);

			for (size_t j = 0; j < n; j += 4096)
				sum += (unsigned char)p[i][j];
			p[i] = realloc(p[i], n * 3);
			free(p[i]);
		}
		printf("sum %lu\n", sum);
		return 0;
	}
	if (!strcmp(mode, "sigfpu")) {
		volatile double a = 1.0, b = 3.0;
		double before, after;

		sa.sa_handler = on_sig;
		sigaction(SIGUSR1, &sa, NULL);
		before = a / b;
		for (int i = 0; i < 5; i++)
			raise(SIGUSR1);
		after = a / b;
		printf("handled %d, fpu %s, %.17g\n", got, before == after ? "same" : "CHANGED",
		       after);
		return 0;
	}
	if (!strcmp(mode, "segv-handler")) {
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		if (!sigsetjmp(jb, 1))
			bad_ptr[4] = 1;
		printf("recovered from SIGSEGV\n");
		return 0;
	}
	if (!strcmp(mode, "sigmask")) {
		sigset_t set, pend;

		sa.sa_handler = on_sig;
		sigaction(SIGUSR2, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		kill(getpid(), SIGUSR2);
		sigpending(&pend);
		printf("pending %d, handled %d\n", sigismember(&pend, SIGUSR2), got);
		fflush(stdout);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		printf("handled %d\n", got);
		signal(SIGUSR2, SIG_IGN);
		kill(getpid(), SIGUSR2);
		printf("ignored, handled %d\n", got);
		return 0;
	}
	if (!strcmp(mode, "restart") || !strcmp(mode, "eintr")) {
		/* A read on an empty pipe, SIGALRM after 200 ms: with SA_RESTART
		 * the handler writes and the read completes, without it EINTR. */
		struct itimerval it = { { 0, 0 }, { 0, 200000 } };
		bool restart = !strcmp(mode, "restart");
		char buf[16];
		ssize_t n;

		if (pipe(pipefd))
			return 2;
		sa.sa_handler = restart ? on_alarm_write : on_alarm_count;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		n = read(pipefd[0], buf, sizeof(buf));
		printf("read %zd (%s) after %d signal(s)\n", n, n < 0 ? strerror(errno) : "ok", got);
		return 0;
	}
	if (!strcmp(mode, "fds")) {
		struct rlimit rl;
		int n = 0;

		getrlimit(RLIMIT_NOFILE, &rl);
		for (int fd = 3; fd < 4200; fd++) {
			if (fcntl(fd, F_GETFD) >= 0) {
				printf("open fd %d\n", fd);
				n++;
			}
		}
		printf("%d extra descriptors\n", n);
		/* Just above the limit sit the tool's own: none may answer. */
		for (rlim_t fd = rl.rlim_cur; fd < rl.rlim_cur + 16; fd++) {
			if (write((int)fd, "", 0) != -1 || errno != EBADF)
				printf("fd %d above the limit is reachable\n", (int)fd);
		}
		return 0;
	}
	if (!strcmp(mode, "kill1")) {
		/* A real pid, not the stub's: init is there, signal 0 checks it. */
		int r = kill(1, 0);

		printf("kill(1, 0) = %d (%s)\n", r, r ? strerror(errno) : "ok");
		return 0;
	}
	if (!strcmp(mode, "exec")) {
		pid_t pid = fork();

		printf("fork: %s\n", pid < 0 ? strerror(errno) : "worked?");
		if (pid == 0)
			_exit(0);
		execl(busybox, "true", (char *)NULL);
		printf("execve: %s\n", strerror(errno));
		return 0;
	}
	if (!strcmp(mode, "sigint-handler") || !strcmp(mode, "sigint-spin")) {
		sa.sa_handler = on_sig;
		sigaction(SIGINT, &sa, NULL);
		printf("ready\n");
		fflush(stdout);
		if (!strcmp(mode, "sigint-spin")) {
			while (!got)
				;
		} else {
			while (!got)
				pause();
		}
		return 0;
	}
	if (!strcmp(mode, "sigint-default")) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	return 2;
}

/* ---- feature tests ---- */

static bool contains(const struct result *r, const char *s, bool err)
{
	return err ? memmem(r->err, r->errlen, s, strlen(s)) != NULL :
		     memmem(r->out, r->outlen, s, strlen(s)) != NULL;
}

static void trace_test(void)
{
	char *argv[] = { "--trace", "--", (char *)busybox, "cat", "tree/a/file1.txt", NULL };
	struct result r;

	vmrun(argv, NULL, &r);
	report(r.status == 0 && r.outlen == 14 && !memcmp(r.out, "one\ntwo\nthree\n", 14) &&
	       contains(&r, "openat(AT_FDCWD, \"tree/a/file1.txt\", O_RDONLY) = 3\n", true) &&
	       contains(&r, "arch_prctl(ARCH_SET_FS, 0x", true) &&
	       contains(&r, "exit_group(0) = ?\n+++ exited with 0 +++\n", true),
	       "--trace: strace-style lines", "status %d, stderr:\n%.*s", r.status,
	       (int)(r.errlen > 3000 ? 3000 : r.errlen), r.err);
	result_free(&r);
}

static void deny_test(void)
{
	char *argv[] = { "--deny", "openat", "--", (char *)busybox, "cat", "words.txt", NULL };
	struct result r;

	vmrun(argv, NULL, &r);
	report(r.status == 1 && r.outlen == 0 &&
	       contains(&r, "can't open 'words.txt': Operation not permitted", true),
	       "--deny openat: EPERM", "status %d, stderr: %.*s", r.status, (int)r.errlen, r.err);
	result_free(&r);
}

static void bind_pair(const char *name, char *const nat[], char *const vm[])
{
	struct result rn, rv;

	run(nat, NULL, &rn);
	vmrun(vm, NULL, &rv);
	same(name, &rn, &rv);
	result_free(&rn);
	result_free(&rv);
}

static void bind_tests(void)
{
#define VB "--bind", "/data=" WORK "/tree", "--", (char *)busybox
	char *nat1[] = { (char *)busybox, "cat", WORK "/tree/a/file1.txt", NULL };
	char *vm1[] = { VB, "cat", "/data/a/file1.txt", NULL };
	char *nat2[] = { (char *)busybox, "ls", "-l", WORK "/tree", NULL };
	char *vm2[] = { VB, "ls", "-l", "/data/", NULL };
	char *nat3[] = { (char *)busybox, "find", WORK "/tree/a", "-name", "*.dat", NULL };
	char *vm3[] = { VB, "find", "/data/x/../a", "-name", "*.dat", NULL };
	char *cwd[] = { VB, "sh", "-c", "cd /data/a/b && pwd && echo *", NULL };
	struct result rv;

	bind_pair("--bind: cat /data/a/file1.txt", nat1, vm1);
	bind_pair("--bind: ls -l /data/", nat2, vm2);
	run(nat3, NULL, &rv);
	{
		/* find prints the paths it was given: map them for the comparison. */
		struct result rn = rv, rb;
		char *p;

		vmrun(vm3, NULL, &rb);
		while ((p = memmem(rn.out, rn.outlen, WORK "/tree/a", strlen(WORK "/tree/a")))) {
			size_t off = p - rn.out, l = strlen(WORK "/tree/a");
			const char *rep = "/data/x/../a";
			size_t rl = strlen(rep);
			char *n = malloc(rn.outlen - l + rl + 1);

			memcpy(n, rn.out, off);
			memcpy(n + off, rep, rl);
			memcpy(n + off + rl, p + l, rn.outlen - off - l);
			rn.outlen = rn.outlen - l + rl;
			n[rn.outlen] = 0;
			free(rn.out);
			rn.out = n;
		}
		same("--bind: find through a path with ..", &rn, &rb);
		result_free(&rn);
		result_free(&rb);
	}
	vmrun(cwd, NULL, &rv);
	report(rv.status == 0 && rv.outlen == strlen("/data/a/b\nc\n") &&
	       !memcmp(rv.out, "/data/a/b\nc\n", rv.outlen),
	       "--bind: chdir into it, getcwd maps back", "status %d, out: %.*s err: %.*s",
	       rv.status, (int)rv.outlen, rv.out, (int)rv.errlen, rv.err);
	result_free(&rv);
#undef VB
}

static void fault_test(void)
{
	char *argv[] = { "--", self, "--guest", "segv", NULL };
	struct result r;

	vmrun(argv, NULL, &r);
	report(r.status == 128 + SIGSEGV && r.outlen == 0 &&
	       contains(&r, "SIGSEGV at address 0, ip 0x", true) &&
	       memchr(r.err, '\n', r.errlen) == r.err + r.errlen - 1,
	       "fault: exit 139 and a one-line report", "status %d, stderr: %.*s", r.status,
	       (int)r.errlen, r.err);
	result_free(&r);
}

static void exec_test(void)
{
	char *argv[] = { "--", self, "--guest", "exec", NULL };
	struct result r;

	vmrun(argv, NULL, &r);
	report(r.status == 0 &&
	       contains(&r, "fork: Function not implemented\nexecve: Function not implemented\n",
			false) &&
	       contains(&r, "execve is not supported (multi-process programs are out of scope)",
			true),
	       "fork/execve: ENOSYS and a message", "status %d, out: %.*s err: %.*s", r.status,
	       (int)r.outlen, r.out, (int)r.errlen, r.err);
	result_free(&r);
}

static void notfound_test(void)
{
	char *argv[] = { "--", "/no/such/program", NULL };
	char *argv2[] = { "--", "./words.txt", NULL };
	struct result r;

	vmrun(argv, NULL, &r);
	report(r.status == 127 && contains(&r, "No such file or directory", true),
	       "missing program: 127", "status %d", r.status);
	result_free(&r);
	vmrun(argv2, NULL, &r);
	report(r.status == 126 && contains(&r, "not an ELF file", true),
	       "not an ELF file: 126", "status %d", r.status);
	result_free(&r);
}

/* Kill a vmexec-run started by start_ready(), reap it, close its pipe. */
static void kill_ready(pid_t pid, int fd)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
}

/* Start vmexec-run on a guest mode with stdout on a pipe; wait for "ready". */
static pid_t start_ready(const char *gmode, int *outfd)
{
	int p[2];
	char buf[6];
	pid_t pid;

	if (pipe(p))
		die("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "--", self, "--guest", (char *)gmode, NULL };

		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		alarm(60);
		vmexec_vmrun(argv);
		_exit(122);
	}
	close(p[1]);
	if (read(p[0], buf, 6) != 6 || memcmp(buf, "ready\n", 6)) {
		kill_ready(pid, p[0]);
		return -1;
	}
	*outfd = p[0];
	return pid;
}

static void sigint_test(const char *gmode, int want_status, const char *want_out)
{
	char name[128], buf[256];
	int fd, st, n = 0, r;
	pid_t pid;

	snprintf(name, sizeof(name), "Ctrl-C (SIGINT to vmexec-run): %s", gmode);
	pid = start_ready(gmode, &fd);
	if (pid < 0) {
		report(false, name, "guest never became ready");
		return;
	}
	/*
	 * pause() in the guest is vmexec-run waiting in rt_sigsuspend: signal
	 * it there. The spinning guest is in RUN from "ready" on.
	 */
	if (strcmp(gmode, "sigint-spin") &&
	    wait_sleeping_in_syscall(pid, SYS_rt_sigsuspend, 10000)) {
		kill_ready(pid, fd);
		report(false, name, "vmexec-run never waited in rt_sigsuspend");
		return;
	}
	kill(pid, SIGINT);
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	waitpid(pid, &st, 0);
	report(norm_status(st) == want_status && !strcmp(buf, want_out), name,
	       "status %d (want %d), output '%s'", norm_status(st), want_status, buf);
}

static void sigpipe_test(void)
{
	int p[2], st;
	char buf[4];
	pid_t pid;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "--", (char *)busybox, "yes", NULL };

		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		alarm(60);
		vmexec_vmrun(argv);
		_exit(122);
	}
	close(p[1]);
	if (read(p[0], buf, 4) != 4)
		buf[0] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	report(norm_status(st) == 128 + SIGPIPE && buf[0] == 'y', "yes | head: SIGPIPE, 141",
	       "status %d", norm_status(st));
}

/* A stub left behind would be a stopped process. */
static int stopped_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && target_state(atoi(e->d_name)) == 'T')
			n++;
	closedir(d);
	return n;
}

/* How many processes have pid as their parent (a stub is vmexec-run's). */
static int children_of(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], buf[1024], *p;
	int n = 0, ppid;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (read_proc(path, buf, sizeof(buf)) < 0)
			continue;
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == pid)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * A new address space: no process beside vmexec-run while a guest runs.
 * A stub: exactly one, vmexec-run's stopped child, gone after the run, even
 * when vmexec-run is SIGKILLed.
 */
static void process_tests(void)
{
	int fd, kids, stopped;
	pid_t pid;

	report(stopped_processes() == 0, "no stub left after the runs above",
	       "%d stopped processes", stopped_processes());
	pid = start_ready("sigint-default", &fd);
	if (pid < 0) {
		report(false, "processes while a guest runs", "guest never ready");
		return;
	}
	kids = children_of(pid);
	stopped = stopped_processes();
	if (mode->stub)
		report(kids == 1 && stopped == 1,
		       "the stub is vmexec-run's one child, stopped, while a guest runs",
		       "%d children, %d stopped processes", kids, stopped);
	else
		report(kids == 0 && stopped == 0,
		       "no stub: vmexec-run has no child while a guest runs",
		       "%d children, %d stopped processes", kids, stopped);
	kill_ready(pid, fd);
	for (int i = 0; i < 50 && stopped_processes() > 0; i++)
		usleep(100000);
	report(stopped_processes() == 0, mode->stub ? "stub dies with a SIGKILLed vmexec-run" :
	       "nothing left by a SIGKILLed vmexec-run", "%d stopped processes",
	       stopped_processes());
}

/*
 * A module without VMEXEC_BIND_NEW_MM (a seccomp filter makes the probe
 * fail): the default mode falls back to a stub, with a one-line note under
 * --trace only.
 */
static void fallback_tests(void)
{
	static const char note[] = "vmexec-run: the vmexec module has no VMEXEC_BIND_NEW_MM: "
				   "running the program in a stub process\n";
	char *tr[] = { "--trace", "--", (char *)busybox, "true", NULL };
	char *quiet[] = { "--", (char *)busybox, "echo", "hi", NULL };
	size_t nl = strlen(note);
	struct result r;

	vmrun(tr, NULL, &r);
	report(r.status == 0 && r.errlen > nl && !memcmp(r.err, note, nl) &&
	       !memmem(r.err + nl, r.errlen - nl, "VMEXEC_BIND_NEW_MM", 18),
	       "--trace: one note, first line", "status %d, stderr: %.*s", r.status,
	       (int)(r.errlen > 600 ? 600 : r.errlen), r.err);
	result_free(&r);
	vmrun(quiet, NULL, &r);
	report(r.status == 0 && r.errlen == 0 && r.outlen == 3 && !memcmp(r.out, "hi\n", 3),
	       "no note without --trace", "status %d, out: %.*s err: %.*s", r.status,
	       (int)r.outlen, r.out, (int)r.errlen, r.err);
	result_free(&r);
	process_tests();
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc == 3 && !strcmp(argv[1], "--guest"))
		return guest_main(argv[2]);
	if (getenv("VMEXEC_RUN"))
		vmexec_run = getenv("VMEXEC_RUN");
	if (getenv("BUSYBOX"))
		busybox = getenv("BUSYBOX");
	if (getenv("VMEXEC_RUN_PIE_GUEST"))
		pie_guest = getenv("VMEXEC_RUN_PIE_GUEST");
	if (getenv("VMEXEC_RUN_MODES")) {
		for (size_t m = 0; m < NMODES; m++)
			mode_on[m] = strstr(getenv("VMEXEC_RUN_MODES"), modes[m].name) != NULL;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe");
	self[n] = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(vmexec_run, X_OK) || access("/dev/vmexec", R_OK | W_OK)) {
		printf("FAIL: %s or /dev/vmexec missing\n", vmexec_run);
		return 1;
	}
	make_fixture();
	applet_tests();
	for (size_t m = 0; m < NMODES; m++) {
		if (!mode_on[m])
			continue;
		mode = &modes[m];
		trace_test();
		deny_test();
		bind_tests();
		fault_test();
		exec_test();
		notfound_test();
		sigint_test("sigint-handler", 0, "got SIGINT\n");
		sigint_test("sigint-spin", 0, "got SIGINT\n");
		sigint_test("sigint-default", 128 + SIGINT, "");
		sigpipe_test();
		process_tests();
	}
	if (mode_on[0]) {
		mode = FALLBACK;
		fallback_tests();
	}
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (modes[m].passed + modes[m].failed)
			printf("vmexec-run-tests: %s: %d passed, %d failed\n", modes[m].name,
			       modes[m].passed, modes[m].failed);
	printf("vmexec-run-tests: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
