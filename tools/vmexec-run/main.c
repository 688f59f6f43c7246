// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * vmexec-run [--trace] [--bind GUEST=HOST]... [--deny SYSCALL]... [--no-passthrough]
 *            [--stub] [--] PROGRAM [ARGS...]
 *
 * Runs a statically linked x86-64 program with every one of its system
 * calls handled by this tool, using only libvmexec (no ptrace): the program
 * lives in an address space of its own that no process has
 * (VMEXEC_BIND_NEW_MM), or with --stub (or a module without that) in the
 * address space of a stopped stub process (loader.c), and runs on this
 * thread through VMEXEC_IOC_RUN, which returns at each of its system calls
 * (systab.c) and signals (signals.c).
 *
 * Exit status: the program's own; 128+N if signal N ended it (a fault also
 * prints a one-line report); 125 if vmexec-run itself failed, 126 if the
 * program cannot be run, 127 if it was not found.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vmrun.h"

extern char **environ;

struct vmrun vr = { .vfd = -1, .errfd = 2, .stub = -1, .passthrough = true };

static void vmsg(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "vmexec-run: ");

	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	errkeep_write(buf, n);
}

void vr_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cleanup_stub(void)
{
	if (vr.stub > 0) {
		kill(vr.stub, SIGKILL);
		while (waitpid(vr.stub, NULL, 0) < 0 && errno == EINTR)
			;
		vr.stub = -1;
	}
}

void vr_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	cleanup_stub();
	_exit(status);
}

void guest_exit(int status)
{
	if (vr.trace)
		trace_line("+++ exited with %d +++", status);
	cleanup_stub();
	_exit(status);
}

/*
 * The guest ends by signal sig: exit status 128+sig. Faults (why given) and
 * other core-dumping signals get a one-line report, as a shell would print.
 */
void guest_die(int sig, const char *why)
{
	if (vr.trace)
		trace_line("+++ killed by %s +++", sig_name(sig));
	if (why)
		vr_msg("%s: %s", vr.prog, why);
	else if (sig == SIGQUIT || sig == SIGABRT || sig == SIGSYS || sig == SIGXCPU ||
		 sig == SIGXFSZ || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		 sig == SIGFPE || sig == SIGTRAP || sig == SIGKILL)
		vr_msg("%s: killed by %s", vr.prog, sig_name(sig));
	cleanup_stub();
	_exit(128 + sig);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmexec-run [--trace] [--bind GUEST=HOST]... [--deny SYSCALL]...\n"
		"                  [--no-passthrough] [--stub] [--] PROGRAM [ARGS...]\n"
		"Run a statically linked x86-64 PROGRAM with every system call handled\n"
		"by vmexec-run through /dev/vmexec (no ptrace).\n"
		"  -t, --trace            print each system call to stderr, strace style\n"
		"  -b, --bind GUEST=HOST  the program sees HOST at path GUEST\n"
		"  -d, --deny SYSCALL     SYSCALL (name or number) fails with EPERM\n"
		"      --no-passthrough   every call exits to vmexec-run; by default (not with\n"
		"                         --trace) the module runs read/write/mmap... in place\n"
		"      --stub             run the program in a stopped stub process's address\n"
		"                         space; by default it gets a new one that no process\n"
		"                         has (the stub is the fallback if the module cannot)\n");
}

static int deny_add(const char *name)
{
	char *end;
	long nr = strtol(name, &end, 10);

	if (*end || end == name)
		nr = sys_lookup(name);
	if (nr < 0 || nr >= SYSTAB_SIZE)
		return -EINVAL;
	vr.deny[nr / 64] |= 1ULL << (nr % 64);
	return 0;
}

static u64 xgetbv0(void)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

/*
 * In-place pass-through, if the module offers it: the calls that
 * only move data between a guest descriptor and guest memory, or only change
 * guest memory (and, without --bind, stat and access by path), stop exiting
 * to the tool. They then skip the descriptor check (fd_guest()): the module
 * keeps vmexec files out of the guest's reach; the tool's copy of stderr
 * moves to a keeper thread's own descriptor table (errkeep.c), and guest
 * memory is copied with VMEXEC_IOC_MEM on the vmexec file (mem.c). A
 * passed-through call that a
 * signal interrupts comes back set up to restart, with the kind of restart
 * in exit.signal.restart: sig_deliver() turns it into EINTR where the
 * kernel would. Off with --trace, --no-passthrough and for denied calls.
 */
/* nr itself, or a compile error if the module's allow-list lacks it. */
#define LISTED(nr)	((nr) + 0 * (int)sizeof(char[VMEXEC_CALL_ALLOWED(nr) ? 1 : -1]))

static void passthrough_setup(void)
{
#ifdef VMEXEC_IOC_SET_PASSTHROUGH
	static const int nrs[] = {
		LISTED(SYS_read), LISTED(SYS_write), LISTED(SYS_pread64), LISTED(SYS_pwrite64),
		LISTED(SYS_readv), LISTED(SYS_writev), LISTED(SYS_preadv), LISTED(SYS_pwritev),
		LISTED(SYS_preadv2), LISTED(SYS_pwritev2), LISTED(SYS_lseek), LISTED(SYS_fstat),
		LISTED(SYS_getdents64), LISTED(SYS_munmap), LISTED(SYS_mprotect),
		LISTED(SYS_madvise), LISTED(SYS_mremap), LISTED(SYS_mincore), LISTED(SYS_msync),
	};

	/* Path calls only when no --bind rewrites paths (readlink: /proc/self/exe). */
	static const int path_nrs[] = {
		LISTED(SYS_newfstatat), LISTED(SYS_statx), LISTED(SYS_faccessat),
	};
	struct vmexec_passthrough pt;
	unsigned int i, n = sizeof(nrs) / sizeof(nrs[0]);
	int ret;

	if (!vr.passthrough || vr.trace)
		return;
	memset(&pt, 0, sizeof(pt));
	pt.size = sizeof(pt);
	/*
	 * The guest then resolves paths as vmexec-run does, /proc/self (our
	 * memory) included: vmexec-run grants that, it is not a sandbox.
	 */
	if (!pathview_active() &&
	    ioctl(vr.vfd, VMEXEC_IOC_CHECK_FEATURE, VMEXEC_FEATURE_PASSTHROUGH_PATHS) == 1) {
		n += sizeof(path_nrs) / sizeof(path_nrs[0]);
		pt.flags |= VMEXEC_PASSTHROUGH_PATHS;
	}
	for (i = 0; i < n; i++) {
		int nr = i < sizeof(nrs) / sizeof(nrs[0]) ? nrs[i] :
			 path_nrs[i - sizeof(nrs) / sizeof(nrs[0])];

		if (!(vr.deny[nr / 64] & (1ULL << (nr % 64))))
			pt.bitmap[nr / 64] |= 1ULL << (nr % 64);
	}
	ret = errkeep_start();
	if (ret < 0) {
		vr_msg("pass-through: keeping stderr out of reach: %s (continuing without)",
		       strerror(-ret));
		return;
	}
	if (ioctl(vr.vfd, VMEXEC_IOC_SET_PASSTHROUGH, &pt) < 0)
		vr_msg("pass-through: VMEXEC_IOC_SET_PASSTHROUGH: %s (continuing without)",
		       strerror(errno));
#endif
}

static __attribute__((noreturn)) void run_loop(void)
{
	struct vmexec_run *run = &vr.run;
	int ret;

	for (;;) {
		sig_collect();
		if (sig_deliverable())
			sig_deliver();
		run->regs.rflags = (run->regs.rflags & 0x240ed7UL) | 0x202;
		ret = vmexec_run(vr.vfd, run);
		vr.restart = ret == 0 && run->exit_reason != VMEXEC_EXIT_SYSCALL ?
			     run->exit.signal.restart : VMEXEC_RESTART_NONE;
		if (ret < 0) {
			if (ret == -EINVAL)
				guest_die(SIGSEGV, "invalid register state (bad rt_sigreturn frame?)");
			vr_fatal(EXIT_TOOL_ERROR, "VMEXEC_IOC_RUN: %s", strerror(-ret));
		}
		switch (run->exit_reason) {
		case VMEXEC_EXIT_SYSCALL:
			sys_dispatch();
			break;
		case VMEXEC_EXIT_SIGNAL:
			if (vmexec_run_fault(run, NULL, NULL, NULL) > 0)
				sig_fault(run);
			else
				sig_raise(run->exit.signal.signo,
					  (const siginfo_t *)run->exit.signal.siginfo);
			break;
		case VMEXEC_EXIT_INTERRUPTED:
			break;
		default:
			vr_fatal(EXIT_TOOL_ERROR, "VMEXEC_IOC_RUN: unknown exit reason %u",
				 run->exit_reason);
		}
	}
}

int main(int argc, char **argv)
{
	int i, ret, fd;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (o[0] != '-')
			break;
		if (!strcmp(o, "-t") || !strcmp(o, "--trace")) {
			vr.trace = true;
		} else if (!strcmp(o, "--passthrough")) {
			vr.passthrough = true;	/* the default; kept for old scripts */
		} else if (!strcmp(o, "--no-passthrough")) {
			vr.passthrough = false;
		} else if (!strcmp(o, "--stub")) {
			vr.use_stub = true;
		} else if (!strcmp(o, "-b") || !strcmp(o, "--bind") ||
			   !strcmp(o, "-d") || !strcmp(o, "--deny")) {
			bool bind = o[1] == 'b' || o[2] == 'b';

			if (i + 1 >= argc) {
				fprintf(stderr, "vmexec-run: %s needs an argument\n", o);
				return EXIT_TOOL_ERROR;
			}
			ret = bind ? bind_add(argv[++i]) : deny_add(argv[++i]);
			if (ret < 0) {
				fprintf(stderr, "vmexec-run: bad %s argument '%s'%s\n", o, argv[i],
					bind ? " (GUEST=HOST, absolute paths)" :
					" (unknown system call)");
				return EXIT_TOOL_ERROR;
			}
		} else if (!strncmp(o, "--bind=", 7) || !strncmp(o, "--deny=", 7)) {
			ret = o[2] == 'b' ? bind_add(o + 7) : deny_add(o + 7);
			if (ret < 0) {
				fprintf(stderr, "vmexec-run: bad argument '%s'\n", o);
				return EXIT_TOOL_ERROR;
			}
		} else if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vmexec-run: unknown option '%s'\n", o);
			usage(stderr);
			return EXIT_TOOL_ERROR;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_TOOL_ERROR;
	}
	vr.prog = argv[i];
	vr.pid = getpid();

	ret = fdspace_setup();
	if (ret < 0) {
		fprintf(stderr, "vmexec-run: descriptor limit too low: %s\n", strerror(-ret));
		return EXIT_TOOL_ERROR;
	}
	fd = fcntl(2, F_DUPFD_CLOEXEC, vr.fd_limit);
	vr.errfd = fd;	/* -1 if stderr is closed: then the tool stays silent */
	vr.xstate_size = vmexec_xstate_size();
	if (vr.xstate_size < 0)
		vr_fatal(EXIT_TOOL_ERROR, "XSAVE: %s", strerror(-vr.xstate_size));
	vr.xstate = aligned_alloc(64, (vr.xstate_size + 63) & ~63);
	if (!vr.xstate)
		vr_fatal(EXIT_TOOL_ERROR, "out of memory");
	memset(vr.xstate, 0, vr.xstate_size);
	vr.xcr0 = xgetbv0();

	ret = load_program(vr.prog, argv + i, environ);
	if (ret) {
		cleanup_stub();
		return ret;
	}
	passthrough_setup();
	sig_setup();
	run_loop();
}
