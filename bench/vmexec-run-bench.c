// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-run-bench: the vmexec-run benchmark workload, for `make bench` to run in
 * its guest (or by hand on a machine with the module loaded).
 *
 *   vmexec-run-bench [-n RUNS] [-m MIB] [-o FILE.csv] [-w dd,sha,find]
 *
 * Workloads (busybox applets on files it creates under /tmp/vrbench):
 *   dd    dd if=16MiB of=/dev/null bs=512   ~65,500 syscalls: the syscall-heavy case
 *   sha   sha256sum 16MiB                   ~4,100 syscalls, compute-bound
 *   find  find over 3,000 files in 60 dirs  ~3,300 syscalls, path-heavy
 * each run natively, under `vmexec-run --` (which passes read/write/... through
 * in place if the module offers VMEXEC_IOC_SET_PASSTHROUGH), under
 * `vmexec-run --no-passthrough --` (every syscall an exit), under a built-in
 * PTRACE_SYSCALL loop that reads the registers at every stop (strace's
 * mechanism without its decoding: a faster baseline than strace) and under
 * `strace -f -o /dev/null` if strace is in PATH.
 *
 * Each row: RUNS measured runs (after one warm-up) of the whole command,
 * wall-clock CLOCK_MONOTONIC, median/min/max in ms; every run must exit 0
 * with the same stdout as the native run (dd and find: byte count of stdout
 * checked). Ratios: median / native median ("slowdown"), and tracer median
 * / vmexec-run median (the target: strace / vmexec-run >= 5).
 * Under qemu TCG every address-space switch flushes the software TLB: say
 * "qemu TCG" next to every figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIR_	"/tmp/vrbench"
#define BIG	DIR_ "/data.bin"
#define TREE	DIR_ "/tree"

static const char *vmexec_run = "/usr/bin/vmexec-run";
static const char *busybox = "/bin/busybox";
static char strace_path[256];
static int runs = 5;
static int mib = 16;	/* size of the dd and sha256sum file */

enum runner { NATIVE, VMEXEC, VMEXEC_EXITS, PTRACE, STRACE, NRUNNERS };
static const char *const runner_names[] = {
	"native", "vmexec-run", "vmexec-run --no-passthrough", "ptrace loop",
	"strace -f -o /dev/null",
};

struct workload {
	const char *name;
	const char *desc;
	const char *args[8];
};

static const struct workload workloads[] = {
	{ "dd", "dd of=/dev/null bs=512 (the file)",
	  { "dd", "if=" BIG, "of=/dev/null", "bs=512", NULL } },
	{ "sha", "sha256sum of the file (4 KiB reads)", { "sha256sum", BIG, NULL } },
	{ "find", "find over 3000 files in 60 directories", { "find", TREE, NULL } },
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void setup_files(void)
{
	static char buf[1 << 16];
	unsigned int x = 1;
	char path[256];
	int fd, i, j;

	mkdir(DIR_, 0755);
	fd = open(BIG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(BIG);
		exit(1);
	}
	for (i = 0; i < mib * 16; i++) {
		for (j = 0; j < (int)sizeof(buf); j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (char)(x >> 16);
		}
		if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			perror("write");
			exit(1);
		}
	}
	close(fd);
	mkdir(TREE, 0755);
	for (i = 0; i < 60; i++) {
		snprintf(path, sizeof(path), TREE "/d%02d", i);
		mkdir(path, 0755);
		for (j = 0; j < 50; j++) {
			snprintf(path, sizeof(path), TREE "/d%02d/f%02d", i, j);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0)
				close(fd);
		}
	}
}

/* The built-in ptrace baseline: stop at every syscall entry and exit. */
static int ptrace_run(char *const argv[])
{
	struct user_regs_struct regs;
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	ptrace(PTRACE_SETOPTIONS, pid, 0,
	       PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC);
	for (;;) {
		int sig = 0;

		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
			return -1;
		if (waitpid(pid, &st, 0) != pid)
			return -1;
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return 128 + WTERMSIG(st);
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			ptrace(PTRACE_GETREGS, pid, 0, &regs);
			continue;
		}
		if (WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != SIGSTOP)
			sig = WSTOPSIG(st);
		if (sig) {
			if (ptrace(PTRACE_SYSCALL, pid, 0, sig) < 0)
				return -1;
			if (waitpid(pid, &st, 0) != pid)
				return -1;
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			if (WIFSIGNALED(st))
				return 128 + WTERMSIG(st);
		}
	}
}

/* One run; returns the elapsed ms, or < 0. *outlen: bytes on stdout. */
static double run_once(enum runner r, const struct workload *w, long *outlen)
{
	char *argv[16];
	int n = 0, i, st, out;
	double t0, t1;
	pid_t pid;

	if (r == STRACE) {
		argv[n++] = strace_path;
		argv[n++] = "-f";
		argv[n++] = "-o";
		argv[n++] = "/dev/null";
	} else if (r == VMEXEC || r == VMEXEC_EXITS) {
		argv[n++] = (char *)vmexec_run;
		if (r == VMEXEC_EXITS)
			argv[n++] = "--no-passthrough";
		argv[n++] = "--";
	}
	argv[n++] = (char *)busybox;
	for (i = 0; w->args[i]; i++)
		argv[n++] = (char *)w->args[i];
	argv[n] = NULL;

	out = open(DIR_ "/stdout", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return -1;
	fflush(NULL);
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(out, 1);
		dup2(null, 2);
		if (r == PTRACE)
			_exit(ptrace_run(argv) == 0 ? 0 : 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		close(out);
		return -1;
	}
	t1 = now_ms();
	*outlen = lseek(out, 0, SEEK_END);
	close(out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Whether the module took the pass-through set (no warning printed). */
static bool passthrough_works(void)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "out=$(%s -- %s true 2>&1) && "
		 "! echo \"$out\" | grep -q pass-through", vmexec_run, busybox);
	st = system(cmd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void find_strace(void)
{
	const char *path = getenv("PATH");
	char *p, *save, *copy;

	if (!path)
		return;
	copy = strdup(path);
	for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		snprintf(strace_path, sizeof(strace_path), "%s/strace", p);
		if (access(strace_path, X_OK) == 0) {
			free(copy);
			return;
		}
	}
	strace_path[0] = 0;
	free(copy);
}

int main(int argc, char **argv)
{
	const char *csv_path = NULL, *only = NULL;
	double med[NRUNNERS];
	bool have_pt;
	FILE *csv = NULL;
	int opt, fail = 0;
	unsigned int wi;

	while ((opt = getopt(argc, argv, "n:m:o:w:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'm': mib = atoi(optarg); break;
		case 'o': csv_path = optarg; break;
		case 'w': only = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n RUNS] [-m MIB] [-o FILE.csv] [-w dd,sha,find]\n",
				argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > 100)
		runs = 5;
	if (mib < 1 || mib > 1024)
		mib = 16;
	if (getenv("VMEXEC_RUN"))
		vmexec_run = getenv("VMEXEC_RUN");
	if (getenv("BUSYBOX"))
		busybox = getenv("BUSYBOX");
	find_strace();
	setup_files();
	have_pt = passthrough_works();
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			perror(csv_path);
			return 1;
		}
		fprintf(csv, "workload,runner,runs,median_ms,min_ms,max_ms,slowdown_vs_native,"
			"tracer_over_vmexec\n");
	}
	printf("vmexec-run benchmark (%d runs per row after a warm-up, %d MiB file; "
	       "ptrace loop: PTRACE_SYSCALL + PTRACE_GETREGS at each stop; strace: %s)\n",
	       runs, mib, strace_path[0] ? strace_path : "not found");
	printf("| workload | runner | median ms | min | max | vs native | ratio |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (wi = 0; wi < sizeof(workloads) / sizeof(workloads[0]); wi++) {
		const struct workload *w = &workloads[wi];
		long native_out = -1;
		int r;

		if (only && !strstr(only, w->name))
			continue;
		for (r = 0; r < NRUNNERS; r++) {
			double t[100], warm;
			long outlen;
			int i;

			med[r] = -1;
			if ((r == VMEXEC_EXITS && !have_pt) || (r == STRACE && !strace_path[0]))
				continue;
			warm = run_once(r, w, &outlen);
			for (i = 0; i < runs && warm >= 0; i++) {
				t[i] = run_once(r, w, &outlen);
				if (t[i] < 0 || (native_out >= 0 && outlen != native_out)) {
					warm = -1;
					break;
				}
			}
			if (warm < 0) {
				printf("| %s | %s | FAILED | | | | |\n", w->name, runner_names[r]);
				fail = 1;
				continue;
			}
			if (r == NATIVE)
				native_out = outlen;
			qsort(t, runs, sizeof(t[0]), cmp_double);
			med[r] = t[runs / 2];
			{
				double slow = med[NATIVE] > 0 ? med[r] / med[NATIVE] : 0;

				printf("| %s | %s | %.1f | %.1f | %.1f | %.2f | |\n", w->desc,
				       runner_names[r], med[r], t[0], t[runs - 1], slow);
				if (csv)
					fprintf(csv, "%s,%s,%d,%.3f,%.3f,%.3f,%.3f,\n", w->name,
						runner_names[r], runs, med[r], t[0], t[runs - 1],
						slow);
			}
		}
		for (r = PTRACE; r <= STRACE; r++) {
			if (med[r] <= 0 || med[VMEXEC] <= 0)
				continue;
			printf("| %s | **%s / vmexec-run** | | | | | **%.2f** |\n", w->desc,
			       runner_names[r], med[r] / med[VMEXEC]);
			if (med[VMEXEC_EXITS] > 0)
				printf("| %s | **%s / vmexec-run --no-passthrough** | | | | | **%.2f** |\n",
				       w->desc, runner_names[r], med[r] / med[VMEXEC_EXITS]);
			if (csv)
				fprintf(csv, "%s,%s / vmexec-run,%d,,,,,%.3f\n", w->name,
					runner_names[r], runs, med[r] / med[VMEXEC]);
			if (csv && med[VMEXEC_EXITS] > 0)
				fprintf(csv, "%s,%s / vmexec-run --no-passthrough,%d,,,,,%.3f\n",
					w->name, runner_names[r], runs, med[r] / med[VMEXEC_EXITS]);
		}
	}
	if (csv)
		fclose(csv);
	return fail;
}
