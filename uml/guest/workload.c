// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UML guest's workload program (uml/guest/smoke.sh runs it): the parts
 * of the smoke test busybox cannot do. Statically linked on the host by
 * uml/check.sh. Output must not depend on what runs the UML guest.
 *
 *   workload segv          write to address 0: killed by SIGSEGV
 *   workload catch         fault at 0x1000, catch it, print the siginfo
 *   workload touch N       first touch of N anonymous pages
 *   workload fpu N         SSE/x87 state across N system calls
 *   workload fork N        N children, each exits with its index
 *   workload getppid N     N getppid calls
 *   workload hold          touch a page at 0x5a5a0000, say so, then sleep
 *                          forever (uml/guest/run.sh finds its stub by that
 *                          address and kills it from outside UML, or, with
 *                          no stubs, checks that no host process holds it)
 *   workload stat N        N stat("/bin/busybox") calls
 *   workload read N        N 1-byte read() calls on /dev/zero
 *   workload timed N CMD [ARG...]
 *                          run CMD (fork, execvp, wait) and time it as N
 *                          operations, reported under CMD's name (make
 *                          bench's UML section: inside UML for dd and the
 *                          shell loop, in the qemu guest for UML's boot to
 *                          halt); fails unless CMD exits 0
 *
 *   workload ptrace-step   PTRACE_SINGLESTEP through a known instruction
 *                          sequence of a traced child: step count, rip deltas
 *   workload ptrace-fpregs PTRACE_GETFPREGS/SETFPREGS (and GETREGSET
 *                          NT_X86_XSTATE) on a traced child's xmm and x87
 *   workload core          a child with known registers faults; its core's
 *                          NT_PRSTATUS and NT_PRFPREG values
 *
 * With WORKLOAD_TIME set, it also prints "time CMD N: X us/op" (monotonic
 * clock, so a figure for timing runs only, never in compared output); with
 * WORKLOAD_TIME=ns, "time CMD N: X ns/op" (make bench: under qemu -icount
 * a guest ns is one instruction, too fine for us).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf catch_env;
static volatile siginfo_t caught;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	memcpy((void *)&caught, si, sizeof(*si));
	siglongjmp(catch_env, 1);
}

static struct timespec t0;

static void report_time(const char *cmd, long n)
{
	struct timespec t1;
	double us;

	if (!getenv("WORKLOAD_TIME") || n <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
	if (!strcmp(getenv("WORKLOAD_TIME"), "ns"))
		printf("time %s %ld: %.0f ns/op\n", cmd, n, us * 1e3 / n);
	else
		printf("time %s %ld: %.1f us/op\n", cmd, n, us / n);
}

/*
 * Guest ptrace, single steps: a traced child runs step_code from its int3
 * on; every PTRACE_SINGLESTEP must stop it after one instruction (the
 * getppid syscall one too, as Linux reports a step over a syscall).
 *   step_first+0   nop
 *             +1   mov $5,%eax
 *             +6   add %rax,%rcx
 *             +9   jmp +2
 *            +11   ud2 (jumped over)
 *            +13   mov $110,%eax
 *            +18   syscall (getppid)
 *            +20   xor %eax,%eax
 *            +22   lea 1(%rax),%rax
 *            +26   step_done: ret
 */
extern const char step_code[], step_first[], step_done[];
asm(".text\n"
    ".globl step_code\n.type step_code,@function\nstep_code:\n\tint3\n"
    ".globl step_first\nstep_first:\n"
    "\tnop\n\t.byte 0xb8,5,0,0,0\n\t.byte 0x48,0x01,0xc1\n\t.byte 0xeb,0x02\n"
    "\tud2\n\t.byte 0xb8,110,0,0,0\n\tsyscall\n\t.byte 0x31,0xc0\n"
    "\t.byte 0x48,0x8d,0x40,0x01\n"
    ".globl step_done\nstep_done:\n\tret\n"
    ".size step_code, .-step_code\n");

/* Fork a child that is traced by us and stops at its int3 in code. */
static pid_t traced_child(void (*code)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(100);
		code();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) ||
	    WSTOPSIG(st) != SIGTRAP) {
		printf("traced child did not stop at its int3\n");
		return -1;
	}
	return pid;
}

static int finish_child(pid_t pid, const char *what)
{
	int st;

	if (ptrace(PTRACE_CONT, pid, 0, 0) || waitpid(pid, &st, 0) != pid) {
		printf("%s: cannot resume the child\n", what);
		return 1;
	}
	printf("%s: child exit status %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return !WIFEXITED(st) || WEXITSTATUS(st);
}

static int ptrace_step(void)
{
	struct user_regs_struct r;
	unsigned long tf = 0;
	char line[256];
	int n = 0, len, st;
	pid_t pid;

	pid = traced_child((void (*)(void))step_code);
	if (pid < 0)
		return 1;
	if (ptrace(PTRACE_GETREGS, pid, 0, &r) || r.rip != (unsigned long)step_first) {
		printf("step: stopped at step_first%+ld\n", (long)(r.rip - (unsigned long)step_first));
		return 1;
	}
	len = snprintf(line, sizeof(line), "step: rip deltas:");
	while (r.rip != (unsigned long)step_done && n < 20) {
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) || waitpid(pid, &st, 0) != pid ||
		    !WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP ||
		    ptrace(PTRACE_GETREGS, pid, 0, &r)) {
			printf("step %d: no SIGTRAP stop (status %#x)\n", n + 1, st);
			return 1;
		}
		n++;
		tf |= r.eflags & 0x100;
		len += snprintf(line + len, sizeof(line) - len, " %ld",
				(long)(r.rip - (unsigned long)step_first));
	}
	printf("%s\n", line);
	printf("step: %d steps, rax %llu, TF seen %s\n", n, r.rax, tf ? "yes" : "no");
	return finish_child(pid, "step");
}

/*
 * Guest ptrace, FP registers: the child loads xmm0 and st(0), stops at an
 * int3; the parent reads them (PTRACE_GETFPREGS), writes xmm1 and st(0),
 * and the child reports what it then has.
 */
static const uint32_t fp_xmm0[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
static const uint32_t fp_xmm1[4] = { 0xa5a5a5a5, 0x5a5a5a5a, 0xdeadbeef, 0x01234567 };
static const long double fp_st0 = 1.25L, fp_st0_new = -3.5L;

static void fp_child(void)
{
	uint32_t x1[4];
	long double st0;

	asm volatile("movdqu %2, %%xmm0\n\t"
		     "pxor %%xmm1, %%xmm1\n\t"
		     "fninit\n\t"
		     "fldt %3\n\t"
		     "int3\n\t"
		     "movdqu %%xmm1, %0\n\t"
		     "fstpt %1\n\t"
		     : "=m"(x1), "=m"(st0)
		     : "m"(fp_xmm0), "m"(fp_st0)
		     : "xmm0", "xmm1", "st");
	printf("fpregs: child sees xmm1 %08x %08x %08x %08x, st0 %Lg\n",
	       x1[0], x1[1], x1[2], x1[3], st0);
	_exit(memcmp(x1, fp_xmm1, sizeof(x1)) || st0 != fp_st0_new);
}

static int ptrace_fpregs(void)
{
	struct user_fpregs_struct fp;
	long double st0;
	uint32_t *x;
	pid_t pid;

	pid = traced_child(fp_child);
	if (pid < 0)
		return 1;
	memset(&fp, 0, sizeof(fp));
	if (ptrace(PTRACE_GETFPREGS, pid, 0, &fp)) {
		printf("fpregs: PTRACE_GETFPREGS: %s\n", strerror(errno));
		return 1;
	}
	x = (uint32_t *)fp.xmm_space;
	memcpy(&st0, fp.st_space, 10);
	printf("fpregs: parent reads xmm0 %08x %08x %08x %08x, st0 %Lg, fcw %#x, mxcsr %#x\n",
	       x[0], x[1], x[2], x[3], st0, fp.cwd, fp.mxcsr);
	memcpy(x + 4, fp_xmm1, sizeof(fp_xmm1));
	memcpy(fp.st_space, &fp_st0_new, 10);
	if (ptrace(PTRACE_SETFPREGS, pid, 0, &fp)) {
		printf("fpregs: PTRACE_SETFPREGS: %s\n", strerror(errno));
		return 1;
	}
	{
		static char xs[4096];
		struct iovec iov = { xs, sizeof(xs) };
		long ret = ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov);

		if (ret)
			printf("fpregs: PTRACE_GETREGSET NT_X86_XSTATE: %s\n", strerror(errno));
		else
			printf("fpregs: PTRACE_GETREGSET NT_X86_XSTATE: xmm1 %08x\n",
			       ((uint32_t *)(xs + 160))[4]);
	}
	return finish_child(pid, "fpregs");
}

/*
 * A core dump: a child sets known general and FP registers and faults; its
 * core (core_pattern "core", in the current directory) must hold them in
 * NT_PRSTATUS and NT_PRFPREG.
 */
extern const char core_fault[];

static void __attribute__((noreturn)) core_child(void)
{
	asm volatile("movdqu %0, %%xmm0\n\t"
		     "fninit\n\t"
		     "fldt %1\n\t"
		     "movabs $0x1212121212121212, %%r12\n\t"
		     "movabs $0x1313131313131313, %%r13\n\t"
		     "movabs $0x1414141414141414, %%r14\n\t"
		     "movabs $0x1515151515151515, %%r15\n\t"
		     "movabs $0xb0b0b0b0b0b0b0b0, %%rbx\n\t"
		     "xor %%eax, %%eax\n\t"
		     ".globl core_fault\ncore_fault:\n\t"
		     "movl %%eax, (%%rax)\n\t"
		     : : "m"(fp_xmm0), "m"(fp_st0) : "memory");
	__builtin_unreachable();
}

static int core_dump(void)
{
	static unsigned char buf[1 << 20];
	const struct user_regs_struct *r = NULL;
	const struct user_fpregs_struct *fp = NULL;
	const Elf64_Ehdr *eh = (const void *)buf;
	long double st0;
	size_t len, off;
	int fd, st, i, sig = 0;
	pid_t pid;

	unlink("core");
	pid = fork();
	if (pid == 0)
		core_child();
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st)) {
		printf("core: the child did not die of a signal\n");
		return 1;
	}
	printf("core: child killed by signal %d, core dumped: %s\n", WTERMSIG(st),
	       WCOREDUMP(st) ? "yes" : "no");
	fd = open("core", O_RDONLY);
	if (fd < 0) {
		printf("core: no core file: %s\n", strerror(errno));
		return 1;
	}
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_CORE) {
		printf("core: not an ELF core file\n");
		return 1;
	}
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(buf + eh->e_phoff + i * eh->e_phentsize);

		if (ph->p_type != PT_NOTE || ph->p_offset + ph->p_filesz > len)
			continue;
		for (off = ph->p_offset; off + sizeof(Elf64_Nhdr) <= ph->p_offset + ph->p_filesz;) {
			const Elf64_Nhdr *nh = (const void *)(buf + off);
			const unsigned char *desc = buf + off + sizeof(*nh) + ((nh->n_namesz + 3) & ~3U);

			if (nh->n_type == NT_PRSTATUS && !r) {
				const struct elf_prstatus *ps = (const void *)desc;

				sig = ps->pr_cursig;
				r = (const void *)&ps->pr_reg;
			} else if (nh->n_type == NT_PRFPREG && !fp) {
				fp = (const void *)desc;
			}
			off += sizeof(*nh) + ((nh->n_namesz + 3) & ~3U) + ((nh->n_descsz + 3) & ~3U);
		}
	}
	if (!r || !fp) {
		printf("core: NT_PRSTATUS %s, NT_PRFPREG %s\n", r ? "found" : "missing",
		       fp ? "found" : "missing");
		return 1;
	}
	printf("core: NT_PRSTATUS signal %d, rip core_fault%+ld, rax %#llx, rbx %#llx\n",
	       sig, (long)(r->rip - (unsigned long)core_fault), r->rax, r->rbx);
	printf("core: r12 %#llx r13 %#llx r14 %#llx r15 %#llx\n", r->r12, r->r13, r->r14, r->r15);
	memcpy(&st0, fp->st_space, 10);
	printf("core: NT_PRFPREG xmm0 %08x %08x %08x %08x, st0 %Lg, fcw %#x\n",
	       fp->xmm_space[0], fp->xmm_space[1], fp->xmm_space[2], fp->xmm_space[3], st0,
	       fp->cwd);
	unlink("core");
	return 0;
}

static long arg(int argc, char **argv, long dflt)
{
	return argc > 2 ? strtol(argv[2], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	long i, n = arg(argc, argv, 100);

	setvbuf(stdout, NULL, _IONBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(cmd, "segv")) {
		printf("about to write to address 0\n");
		*(volatile int *)0 = 1;
		printf("still alive?\n");
		return 1;
	}
	if (!strcmp(cmd, "catch")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		if (!sigsetjmp(catch_env, 1)) {
			(void)*(volatile int *)0x1000;
			printf("no fault?\n");
			return 1;
		}
		printf("caught signal %d code %d addr %p\n", caught.si_signo,
		       caught.si_code, caught.si_addr);
		return 0;
	}
	if (!strcmp(cmd, "touch")) {
		size_t len = (size_t)n * 4096;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned long sum = 0;

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		for (i = 0; i < n; i++)
			p[i * 4096] = (unsigned char)i;
		for (i = 0; i < n; i++)
			sum += p[i * 4096];
		printf("touched %ld pages, sum %lu\n", n, sum);
		report_time(cmd, n);
		return munmap(p, len) != 0;
	}
	if (!strcmp(cmd, "fpu")) {
		volatile double x = 1.0, y = 0.5;
		long double z = 1.0L;

		for (i = 0; i < n; i++) {
			x = x * 1.000001 + y;
			y = y / 1.0000003;
			z = z * 1.0000001L;
			syscall(SYS_getppid);
		}
		printf("fpu: %.9f %.9f %.9Lf\n", x, y, z);
		return 0;
	}
	if (!strcmp(cmd, "fork")) {
		long sum = 0;

		for (i = 0; i < n; i++) {
			pid_t pid = fork();
			int st;

			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0)
				_exit((int)(i & 0x7f));
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
				return 1;
			sum += WEXITSTATUS(st);
		}
		printf("forked %ld children, exit status sum %ld\n", n, sum);
		report_time(cmd, n);
		return 0;
	}
	if (!strcmp(cmd, "getppid")) {
		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("getppid x %ld\n", n);
		report_time(cmd, n);
		return 0;
	}
	if (!strcmp(cmd, "hold")) {
		volatile char *p = mmap((void *)0x5a5a0000UL, 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					-1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		*p = 1;
		printf("holding a page at %p\n", (void *)p);
		/* uml/guest/run.sh waits for this line. */
		fflush(stdout);
		/* Back to user mode five times a second: UML then finds the stub gone. */
		for (;;)
			usleep(200000);
	}
	if (!strcmp(cmd, "ptrace-step"))
		return ptrace_step();
	if (!strcmp(cmd, "ptrace-fpregs"))
		return ptrace_fpregs();
	if (!strcmp(cmd, "core"))
		return core_dump();
	if (!strcmp(cmd, "stat")) {
		struct stat st;

		for (i = 0; i < n; i++)
			if (stat("/bin/busybox", &st)) {
				perror("stat /bin/busybox");
				return 1;
			}
		printf("stat x %ld\n", n);
		report_time(cmd, n);
		return 0;
	}
	if (!strcmp(cmd, "read")) {
		int fd = open("/dev/zero", O_RDONLY);
		char c = 1;

		if (fd < 0) {
			perror("open /dev/zero");
			return 1;
		}
		for (i = 0; i < n; i++)
			if (read(fd, &c, 1) != 1 || c) {
				perror("read /dev/zero");
				return 1;
			}
		printf("1-byte read x %ld\n", n);
		report_time(cmd, n);
		return close(fd) != 0;
	}
	if (!strcmp(cmd, "timed") && argc > 3) {
		pid_t pid;
		int st;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			execvp(argv[3], argv + 3);
			perror(argv[3]);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "workload timed: %s failed (status 0x%x)\n", argv[3], st);
			return 1;
		}
		report_time(argv[3], n);
		return 0;
	}
	fprintf(stderr, "usage: workload segv|catch|touch N|fpu N|fork N|getppid N|hold|ptrace-step|ptrace-fpregs|core|stat N|read N|timed N CMD...\n");
	return 2;
}
