// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-fuzz: a random ioctl fuzzer for /dev/vmexec, reproducible from its
 * seed.
 *
 *   vmexec-fuzz [SECONDS [COUNT [SEED]]]
 *   environment: VMEXEC_FUZZ_TIME (default 20 s), VMEXEC_FUZZ_COUNT
 *   (default 1000000 iterations: whichever limit comes first),
 *   VMEXEC_FUZZ_SEED (default 0x5eed; printed either way).
 *
 * Every iteration issues one ioctl: API_VERSION, BIND, SYSCALLS, RUN,
 * SET_PASSTHROUGH, GET_STATS, CONTEXT (a new context, its run area mapped),
 * on the context CONTEXT_RUN (RUN's random input written into the run
 * area), GET_XSTATE or SET_XSTATE, MEM (random segments between a buffer
 * of its own or bad pointers and the target's pages), or an unknown number (with random size
 * and direction bits too), with
 *  - random and boundary sizes (0, 1, the struct size -1/+0/+1, with zero and
 *    non-zero tails, 4096, 4097, huge), random flags and reserved fields;
 *  - argument pointers that are valid, NULL, unmapped, kernel addresses,
 *    non-canonical, on a read-only page (results cannot be written back),
 *    straddling into an unmapped page, or on a page a second thread
 *    munmap()s and mmap()s again all the time;
 *  - RUN: random registers and rflags, single steps (VMEXEC_RUN_SINGLE_STEP),
 *    rip in hand-written guest stubs
 *    (system calls of every ABI, faults of every kind, TF, far returns into
 *    32-bit mode, segment and base writes, wrpkru, rep movs, spins), at
 *    random byte offsets into them, in a page of random bytes, or anywhere;
 *    random sigmasks (always with every fault signal, which also have
 *    handlers, so faults are reported), xstate images that are clean,
 *    round-tripped, bit-flipped, undersized or on bad pages; a per-thread
 *    timer (SIGALRM, 20 ms) interrupts guests that spin;
 *  - SYSCALLS: up to 1025+ entries, allowed and refused numbers, arguments
 *    aimed at the target's pages, the caller's harmless descriptors
 *    (/dev/null, non-blocking pipes, a memfd, a vmexec file, a pidfd) and
 *    bad values;
 *  - SET_PASSTHROUGH: random bitmaps (mostly refused) and random subsets of
 *    the allowed calls, which the guests' random system calls then hit;
 *  - BIND: pidfds of the target, of itself, of init, of a kernel thread and
 *    of a zombie, non-pidfd descriptors, bad numbers, rebinding; new
 *    address spaces (VMEXEC_BIND_NEW_MM), with and without a pidfd, which
 *    must start empty and take a mapping and a MEM write.
 * Only files bound to the fuzzer's own stub target or to a new address
 * space of their own ever get SYSCALLS or RUN.
 *
 * Every result must be success or one of the errno values the ABI allows
 * for that ioctl (see the tables below); 0..count for SYSCALLS with every
 * processed entry's ret a real errno (never a kernel-internal -ERESTART* or
 * -ENOIOCTLCMD); RUN exits must be one of the three reasons, a reported
 * signal must be in the sigmask; invalid input that the ABI defines
 * (flags, reserved, SIGKILL in sigmask, a single step without SIGTRAP in
 * sigmask, kernel rip) must fail with EINVAL;
 * the per-file exit counters may only grow. Prints "vmexec-fuzz: PASS: ..."
 * with the figures or "vmexec-fuzz: FAIL: ..."; exit status 0 only on PASS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <libvmexec.h>

#define PAGE		4096UL
#define CODE_ADDR	0x7e3000000000UL	/* 2 pages: stubs, random bytes */
#define DATA_ADDR	0x7e3000100000UL	/* 16 pages, guests' data */
#define STACK_ADDR	0x7e3000200000UL	/* 16 pages */
#define STACK_TOP	(STACK_ADDR + 16 * PAGE)
#define SCRATCH_ADDR	0x7e3000300000UL	/* 1 page: paths for SYSCALLS */
#define FUZZ_ADDR	0x7e3000400000UL	/* 64 pages SYSCALLS may play with */
#define FUZZ_PAGES	64
/* The stubs again below 4 GiB, where a far return into 32-bit mode can go. */
#define LOW_ADDR	0x10000000UL

/* The fuzzer's own descriptors sit at fixed high numbers; 3..899 is junk. */
#define LOG_FD		987
#define FD_NULL		900
#define FD_PIPE_R	901
#define FD_PIPE_W	902
#define FD_MEMFD	903
#define FD_VMEXEC	904	/* bound to the stub target */
#define FD_PIDFD	905	/* of the stub target */
#define FD_OTHER_VM	906	/* another vmexec file, unbound */
#define FD_CTX		907	/* the latest context of FD_VMEXEC, if any */
#define FD_FIRST_JUNK	3
#define FD_LAST_JUNK	899

#define SIGBIT(s)	(1ULL << ((s) - 1))
#define FAULT_SIGS	(SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | \
			 SIGBIT(SIGFPE) | SIGBIT(SIGTRAP))

static FILE *logf_;

/* ---- random numbers ----------------------------------------------------- */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	uint64_t x = rnd_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rnd_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(unsigned int n)
{
	return n ? (unsigned int)(rnd() % n) : 0;
}

static int chance(unsigned int percent)
{
	return below(100) < percent;
}

/* ---- guest stubs (copied into the target's code page) ------------------- */

extern const unsigned char stubs_start[], stubs_end[];
extern const unsigned char stub_loop[], stub_fault[], stub_spin[], stub_int80[];
extern const unsigned char stub_sysenter[], stub_ud2[], stub_int3[], stub_hlt[];
extern const unsigned char stub_div0[], stub_tf[], stub_lret32[], stub_segs[];
extern const unsigned char stub_bases[], stub_wrpkru[], stub_movs[], stub_syscall[];
extern const unsigned char stub_cpuid[], stub_fxrstor[], stub_icebp[], stub_iret[];
extern const unsigned char stub_syscall_reg[];

__asm__(".pushsection .rodata\n"
	".globl stubs_start, stubs_end\n"
	"stubs_start:\n"
	"stub_loop:\n"			/* mov $123,%eax; syscall; jmp stub_loop */
	"	mov $123, %eax\n"
	"	syscall\n"
	"	jmp stub_loop\n"
	"stub_fault:\n"			/* load from rax */
	"	mov (%rax), %rax\n"
	"	syscall\n"
	"stub_spin:\n"
	"	jmp stub_spin\n"
	"stub_int80:\n"
	"	int $0x80\n"
	"	jmp stub_int80\n"
	"stub_sysenter:\n"
	"	sysenter\n"
	"stub_ud2:\n"
	"	ud2\n"
	"stub_int3:\n"
	"	int3\n"
	"	syscall\n"
	"stub_hlt:\n"
	"	hlt\n"
	"stub_div0:\n"
	"	xor %ecx, %ecx\n"
	"	div %ecx\n"
	"stub_tf:\n"			/* set TF, then a few instructions and a syscall */
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"	nop\n"
	"	nop\n"
	"	syscall\n"
	"	jmp stub_tf\n"
	"stub_lret32:\n"		/* far return to the 32-bit user code segment */
	"	push $0x23\n"
	"	lea 1f(%rip), %rcx\n"
	"	push %rcx\n"
	"	lretq\n"
	"1:\n"
	"	.byte 0xb8, 0x14, 0, 0, 0\n"	/* (32-bit) mov $20,%eax */
	"	.byte 0xcd, 0x80\n"		/* int $0x80 */
	"	.byte 0x0f, 0x05\n"		/* syscall (compat mode) */
	"	.byte 0x0f, 0x34\n"		/* sysenter */
	"	.byte 0xeb, 0xf5\n"
	"stub_segs:\n"			/* random selectors into fs, gs, es, ds */
	"	mov %eax, %fs\n"
	"	mov %ebx, %gs\n"
	"	mov %ecx, %es\n"
	"	mov %edx, %ds\n"
	"	syscall\n"
	"stub_bases:\n"
	"	wrfsbase %rax\n"
	"	wrgsbase %rbx\n"
	"	mov %fs:(%rcx), %rdx\n"
	"	syscall\n"
	"stub_wrpkru:\n"		/* wrpkru(eax), then a store to rbx */
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n"
	"	wrpkru\n"
	"	mov %rax, (%rbx)\n"
	"	syscall\n"
	"stub_movs:\n"			/* rep movsb rsi -> rdi, rcx bytes */
	"	rep movsb\n"
	"	syscall\n"
	"stub_syscall:\n"		/* any rax: maybe passed through */
	"	syscall\n"
	"	syscall\n"
	"	jmp stub_syscall\n"
	"stub_cpuid:\n"
	"	cpuid\n"
	"	rdtsc\n"
	"	syscall\n"
	"stub_fxrstor:\n"		/* load FPU state from rax, then xrstor */
	"	fxrstor64 (%rax)\n"
	"	mov $-1, %eax\n"
	"	mov $-1, %edx\n"
	"	xrstor64 (%rbx)\n"
	"	syscall\n"
	"stub_icebp:\n"
	"	.byte 0xf1\n"
	"	syscall\n"
	"stub_iret:\n"			/* iretq with whatever the stack holds */
	"	iretq\n"
	"stub_syscall_reg:\n"		/* a syscall with registers taken from memory at rbx */
	"	mov 0(%rbx), %rax\n"
	"	mov 8(%rbx), %rdi\n"
	"	mov 16(%rbx), %rsi\n"
	"	mov 24(%rbx), %rdx\n"
	"	syscall\n"
	"	jmp stub_syscall_reg\n"
	"stubs_end:\n"
	".popsection\n");

static const unsigned char *const stub_list[] = {
	stub_loop, stub_fault, stub_spin, stub_int80, stub_sysenter, stub_ud2,
	stub_int3, stub_hlt, stub_div0, stub_tf, stub_lret32, stub_segs,
	stub_bases, stub_wrpkru, stub_movs, stub_syscall, stub_cpuid,
	stub_fxrstor, stub_icebp, stub_iret, stub_syscall_reg,
};
#define NSTUBS	(sizeof(stub_list) / sizeof(stub_list[0]))

/*
 * QEMU's TCG (7.2, Debian 12) has two bugs any user process can hit, vmexec
 * or not: it emulates the stack accesses of far returns, far calls and IRET
 * in 64-bit mode as supervisor accesses, so with SMAP the guest kernel oopses
 * ("supervisor read access in user mode"); and some VEX-encoded instructions
 * abort qemu itself (e.g. "gen_pinsr: Assertion `vec_len == 16' failed" for
 * a 256-bit VPINSR). Under TCG the fuzzer's guest code leaves them out:
 * those opcodes (and the VEX/EVEX prefixes) become hlt (#GP).
 */
static int under_tcg;

static int detect_tcg(void)
{
	unsigned int eax, ebx, ecx, edx;
	char sig[13];

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
			 : "a"(0x40000000), "c"(0));
	memcpy(sig, &ebx, 4);
	memcpy(sig + 4, &ecx, 4);
	memcpy(sig + 8, &edx, 4);
	sig[12] = '\0';
	if (!strcmp(sig, "TCGTCGTCGTCG"))
		return 1;
	/* Older QEMU has no TCG signature: a QEMU machine that is not KVM. */
	if (!strncmp(sig, "KVMKVMKVM", 9))
		return 0;
	{
		char vendor[32] = "";
		FILE *f = fopen("/sys/class/dmi/id/sys_vendor", "re");

		if (f) {
			if (!fgets(vendor, sizeof(vendor), f))
				vendor[0] = '\0';
			fclose(f);
		}
		return !strncmp(vendor, "QEMU", 4);
	}
}

static void tcg_sanitize(unsigned char *code, size_t len)
{
	size_t i;

	if (!under_tcg)
		return;
	for (i = 0; i < len; i++) {
		/* retf imm16, retf, iret, 0xff (lcall/ljmp m16:64), VEX, EVEX. */
		if (code[i] == 0xca || code[i] == 0xcb || code[i] == 0xcf || code[i] == 0xff ||
		    code[i] == 0xc4 || code[i] == 0xc5 || code[i] == 0x62)
			code[i] = 0xf4;
	}
}

/* ---- the stub target ---------------------------------------------------- */

static pid_t target_pid;
static uint64_t last_total;	/* exits counted on FD_VMEXEC's file so far */

static long vm_call(int fd, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long res;
	int ret = vmexec_syscall(fd, &res, nr, a0, a1, a2, a3, a4, a5);

	return ret ? ret : res;
}

/* Copy bytes into the target through a pipe and a SYSCALLS read(). */
static int poke(unsigned long addr, const void *buf, size_t len)
{
	int p[2], ret = 0;
	long r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	while (len) {
		size_t n = len > 4096 ? 4096 : len;

		if (write(p[1], buf, n) != (ssize_t)n) {
			ret = -EIO;
			break;
		}
		r = vm_call(FD_VMEXEC, SYS_read, p[0], addr, n, 0, 0, 0);
		if (r != (long)n) {
			ret = r < 0 ? (int)r : -EIO;
			break;
		}
		addr += n;
		buf = (const char *)buf + n;
		len -= n;
	}
	close(p[0]);
	close(p[1]);
	return ret;
}

static void fill_random_code(void)
{
	unsigned char page[PAGE];
	unsigned int i;

	for (i = 0; i < PAGE; i++)
		page[i] = rnd();
	/* Sprinkle system call instructions so random code exits often. */
	for (i = 0; i < 64; i++) {
		unsigned int at = below(PAGE - 2);

		page[at] = 0x0f;
		page[at + 1] = 0x05;
	}
	tcg_sanitize(page, PAGE);
	poke(CODE_ADDR + PAGE, page, PAGE);
}

static void target_stop(void)
{
	if (target_pid > 0) {
		kill(target_pid, SIGKILL);
		waitpid(target_pid, NULL, 0);
	}
	target_pid = 0;
}

/* A paused fork of ours, bound on FD_VMEXEC, with code, data and stack. */
static int target_start(void)
{
	static const char paths[] = "/dev/null\0/nonexistent/x\0.\0/proc/self/status\0\0";
	static unsigned char stubs[4096];
	size_t nstubs = stubs_end - stubs_start;
	int fd, pfd;
	long r;

	target_stop();
	fflush(NULL);
	target_pid = fork();
	if (target_pid < 0)
		return -errno;
	if (target_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	pfd = syscall(SYS_pidfd_open, target_pid, 0);
	fd = vmexec_open();
	if (pfd < 0 || fd < 0 || vmexec_bind_pidfd(fd, pfd))
		return -EIO;
	dup2(fd, FD_VMEXEC);
	dup2(pfd, FD_PIDFD);
	last_total = 0;
	close(fd);
	close(pfd);

	r = vm_call(FD_VMEXEC, SYS_mmap, CODE_ADDR, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (r != (long)CODE_ADDR)
		return -EIO;
	vm_call(FD_VMEXEC, SYS_mmap, DATA_ADDR, 16 * PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	vm_call(FD_VMEXEC, SYS_mmap, STACK_ADDR, 16 * PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	vm_call(FD_VMEXEC, SYS_mmap, SCRATCH_ADDR, PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	r = vm_call(FD_VMEXEC, SYS_mmap, LOW_ADDR, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (r != (long)LOW_ADDR)
		return -EIO;
	memcpy(stubs, stubs_start, nstubs);
	tcg_sanitize(stubs, nstubs);
	if (poke(CODE_ADDR, stubs, nstubs) || poke(LOW_ADDR, stubs, nstubs) ||
	    poke(SCRATCH_ADDR, paths, sizeof(paths)))
		return -EIO;
	fill_random_code();
	return 0;
}

static unsigned long stub_addr(const unsigned char *stub)
{
	return CODE_ADDR + (stub - stubs_start);
}

/* ---- signals ------------------------------------------------------------ */

static __thread volatile int in_run;
static _Atomic unsigned long handler_runs, own_faults;
static unsigned long long iter;
/* What the fuzzing thread did last, for the report of a fault of our own. */
static volatile const char *last_op = "setup";
static volatile unsigned long long last_rip, last_xstate;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	/* A fault of our own (not a guest's, reported after the ioctl) is fatal. */
	if (!in_run && si->si_code > 0 && (FAULT_SIGS & SIGBIT(sig))) {
		const ucontext_t *u = uc;
		unsigned long fsbase = 0;
		unsigned int mxcsr = 0, pkru = 0, ecx = 0;
		char msg[400];
		int n;

		syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fsbase);
		__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
		{
			unsigned int a, b, c, d;

			__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
			if (c & (1u << 4))	/* OSPKE */
				__asm__ volatile("rdpkru" : "=a"(pkru), "=d"(d) : "c"(ecx));
		}
		n = snprintf(msg, sizeof(msg),
			     "vmexec-fuzz: FAIL: fault in the fuzzer itself: signal %d code %d "
			     "addr %p at rip %#llx, tid %d; fs base %#lx, mxcsr %#x, pkru %#x; "
			     "iteration %llu, last op %s (guest rip %#llx, xstate %#llx)\n",
			     sig, si->si_code, si->si_addr,
			     (unsigned long long)u->uc_mcontext.gregs[REG_RIP], gettid(), fsbase,
			     mxcsr, pkru, iter, last_op, last_rip, last_xstate);
		if (n > 0 && write(LOG_FD, msg, n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1) < 0)
			_exit(98);
		_exit(99);
	}
	if (si->si_code > 0 && (FAULT_SIGS & SIGBIT(sig)))
		atomic_fetch_add(&own_faults, 1);
	atomic_fetch_add_explicit(&handler_runs, 1, memory_order_relaxed);
}

static void install_handlers(void)
{
	struct sigaction sa;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33)
			continue;
		sigaction(s, &sa, NULL);
	}
}

/* SIGALRM every 20 ms to this thread: guests that spin come back. */
static int arm_watchdog(void)
{
	struct sigevent sev;
	struct itimerspec its = { { 0, 20000000 }, { 0, 20000000 } };
	timer_t t;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) < 0)
		return -errno;
	if (timer_settime(t, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

/* ---- interesting pointers ----------------------------------------------- */

static char *page_ro;		/* read-only page, zero-filled */
static char *page_guard;	/* one RW page followed by an unmapped page */
static char *page_race;		/* munmap()ed and mmap()ed by the racer */
static _Atomic int racer_stop;
static _Atomic unsigned long racer_flips;

static void *racer(void *p)
{
	(void)p;
	while (!atomic_load(&racer_stop)) {
		munmap(page_race, PAGE);
		sched_yield();
		if (mmap(page_race, PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		/* A plausible size in place, so calls get past the first read. */
		*(volatile uint32_t *)page_race = 64 + (atomic_load(&racer_flips) % 512);
		atomic_fetch_add(&racer_flips, 1);
		sched_yield();
	}
	return NULL;
}

enum ptr_kind { P_GOOD, P_NULL, P_UNMAPPED, P_KERNEL, P_NONCANON, P_RO, P_STRADDLE, P_RACE, P_END };

static const char *const ptr_names[] = {
	"good", "NULL", "unmapped", "kernel", "non-canonical", "read-only", "straddling", "racing",
};

static enum ptr_kind pick_ptr_kind(void)
{
	return chance(70) ? P_GOOD : (enum ptr_kind)(1 + below(P_END - 1));
}

/*
 * Place the @len bytes at @src as the kind of pointer asked for; returns
 * the address to pass. P_RO copies are made by remapping page_ro briefly.
 */
static void *place(enum ptr_kind k, const void *src, size_t len, void *good)
{
	static const uintptr_t kernel[] = {
		0xffff888000000000UL, 0xffffffff81000000UL, 0xffffffffff600000UL,
		0xfffffffffffff000UL,
	};

	switch (k) {
	case P_NULL:
		return NULL;
	case P_UNMAPPED:
		return (void *)(0x7e3f00000000UL + below(1 << 20) * 8);
	case P_KERNEL:
		return (void *)kernel[below(4)];
	case P_NONCANON:
		return (void *)(0x8000000000000000UL + below(1 << 20) * 8);
	case P_RO:
		if (len > PAGE)
			len = PAGE;
		mprotect(page_ro, PAGE, PROT_READ | PROT_WRITE);
		memset(page_ro, 0, PAGE);
		memcpy(page_ro, src, len);
		mprotect(page_ro, PAGE, PROT_READ);
		return page_ro;
	case P_STRADDLE: {
		/* The struct ends 0..len-1 bytes short of the guard page. */
		size_t keep = len ? below(len < PAGE ? len : PAGE) : 0;
		char *p = page_guard + PAGE - keep;

		memcpy(p, src, keep);
		return p;
	}
	case P_RACE:
		/* Best effort: the page may be gone already (or right after). */
		return page_race + 8 * below(4);
	default:
		if (good != src)
			memcpy(good, src, len);
		return good;
	}
}

/* ---- result checking ---------------------------------------------------- */

static _Atomic unsigned long failures;
static unsigned long errno_hist[160], ok_count;

static void fail(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&failures, 1);
	if (atomic_load(&failures) > 30)
		return;
	fprintf(logf_, "vmexec-fuzz: failure at iteration %llu: ", iter);
	va_start(ap, fmt);
	vfprintf(logf_, fmt, ap);
	va_end(ap);
	fputc('\n', logf_);
	fflush(logf_);
}

static void count_result(long ret)
{
	if (ret >= 0)
		ok_count++;
	else if (-ret < (long)(sizeof(errno_hist) / sizeof(errno_hist[0])))
		errno_hist[-ret]++;
}

/* ret must be >= 0 or -(one of the listed errnos). */
static int check_errno(const char *what, long ret, const int *allowed, const char *detail)
{
	count_result(ret);
	if (ret >= 0)
		return 0;
	for (; *allowed; allowed++) {
		if (ret == -*allowed)
			return 0;
	}
	fail("%s returned %ld (%s) [%s]", what, ret,
	     ret >= -4095 ? strerror((int)-ret) : "not an errno", detail);
	return -1;
}

static int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static const int errs_copy[] = { EINVAL, E2BIG, EFAULT, 0 };
/* EPERM: a path call without VMEXEC_PASSTHROUGH_PATHS. */
static const int errs_passthrough[] = { EINVAL, E2BIG, EFAULT, EPERM, 0 };
static const int errs_bind[] = { EINVAL, E2BIG, EFAULT, EBADF, ESRCH, EACCES, EBUSY, ENOMEM, 0 };
static const int errs_syscalls[] = { EINVAL, E2BIG, EFAULT, ENOMEM, ESRCH, EINTR, 0 };
static const int errs_run[] = { EINVAL, E2BIG, EFAULT, ENOMEM, ESRCH, 0 };

/* ---- struct sizes ------------------------------------------------------- */

/*
 * A size for a struct of @ksize bytes, and whether the bytes past ksize in
 * the buffer are non-zero. The buffer is BUFSZ bytes.
 */
#define BUFSZ	(2 * PAGE)

static uint32_t pick_size(size_t ksize, int *dirty_tail)
{
	static const uint32_t odd[] = { 0, 1, 4, 7, 8, 4096, 4097, 8192, 0xffffffff, 0x80000000 };

	*dirty_tail = 0;
	if (chance(75))
		return ksize;
	switch (below(6)) {
	case 0:
		return ksize - 1 - below(ksize);
	case 1:
		return ksize + 1 + below(64);
	case 2:
		*dirty_tail = 1;
		return ksize + 1 + below(64);
	case 3:
		return ksize + below(4096 - ksize + 1);
	default:
		return odd[below(sizeof(odd) / sizeof(odd[0]))];
	}
}

/* Fill buf (BUFSZ) past ksize with zeros or, if asked, a random non-zero byte. */
static void set_tail(unsigned char *buf, size_t ksize, uint32_t size, int dirty)
{
	memset(buf + ksize, 0, BUFSZ - ksize);
	if (dirty && size > ksize) {
		size_t at = ksize + below(size - ksize < BUFSZ - ksize ? size - ksize : BUFSZ - ksize);

		buf[at] = 1 + below(255);
	}
}

/* ---- interesting values ------------------------------------------------- */

static uint64_t any_value(void)
{
	static const uint64_t vals[] = {
		0, 1, 2, 3, 0xff, 0xffff, 0xffffffff, 0x100000000ULL, 0x7fffffffffffULL,
		0x800000000000ULL, 0xffffffffffffffffULL, 0x8000000000000000ULL,
		0xffff888000000000ULL, 0xffffffff81000000ULL, CODE_ADDR, DATA_ADDR,
		STACK_TOP - 8, SCRATCH_ADDR, FUZZ_ADDR, 4096, (uint64_t)-4096,
		(uint64_t)-515 /* -ENOIOCTLCMD */, (uint64_t)-512, 0x23, 0x2b, 0x33, 0x3b,
	};

	uint64_t v;

	switch (below(4)) {
	case 0:
		v = vals[below(sizeof(vals) / sizeof(vals[0]))];
		break;
	case 1:
		v = DATA_ADDR + below(16 * PAGE);
		break;
	case 2:
		v = below(1024);
		break;
	default:
		v = rnd();
		break;
	}
	/* Guests' pass-through write()s must not reach our log. */
	return v == LOG_FD ? 0 : v;
}

static int any_fd(void)
{
	static const int fds[] = {
		-1, 0, 1, 2, FD_NULL, FD_PIPE_R, FD_PIPE_W, FD_MEMFD, FD_VMEXEC, FD_PIDFD,
		FD_OTHER_VM, 1000000, 0x7fffffff,
	};
	int fd = fds[below(sizeof(fds) / sizeof(fds[0]))];

	if (chance(10)) {
		fd = (int)rnd();
		if (fd == LOG_FD)
			fd = -1;
	}
	return fd;
}

static unsigned long fuzz_addr(void)
{
	switch (below(8)) {
	case 0:
		return any_value();
	case 1:
		return DATA_ADDR + below(16) * PAGE;
	case 2:
		return SCRATCH_ADDR + below(64);
	default:
		return FUZZ_ADDR + below(FUZZ_PAGES) * PAGE + (chance(10) ? below(PAGE) : 0);
	}
}

static unsigned long fuzz_len(void)
{
	switch (below(4)) {
	case 0:
		return any_value() & (chance(50) ? 0xffffff : ~0UL);
	case 1:
		return below(4096);
	default:
		return (1 + below(8)) * PAGE;
	}
}

/* ---- SYSCALLS entries ---------------------------------------------------- */

#define ALLOWED_NR(name, fd_arg, path, why, unused) __NR_##name,
static const long allowed_nrs[] = { VMEXEC_ALLOWED_CALLS(ALLOWED_NR, 0) };
#define NALLOWED	(sizeof(allowed_nrs) / sizeof(allowed_nrs[0]))

static void fuzz_entry(struct vmexec_syscall *sc)
{
	long nr;
	int i;

	if (chance(70))
		nr = allowed_nrs[below(NALLOWED)];
	else if (chance(80))
		nr = below(600);
	else
		nr = (long)any_value();
	/* Never ask to run something that would hurt the fuzzer itself. */
	switch (nr) {
	case SYS_exit: case SYS_exit_group: case SYS_kill: case SYS_tkill: case SYS_tgkill:
	case SYS_reboot: case SYS_delete_module: case SYS_rt_sigreturn:
		nr = SYS_getpid;
		break;
	}
	vmexec_prep_syscall(sc, nr, 0, 0, 0, 0, 0, 0);
	for (i = 0; i < 6; i++)
		sc->args[i] = any_value();
	sc->ret = (int64_t)rnd();

	switch (nr) {
	case SYS_mmap:
		sc->args[0] = fuzz_addr();
		sc->args[1] = fuzz_len() & 0xffffff;
		sc->args[2] = below(8);
		sc->args[3] = (chance(50) ? MAP_PRIVATE : MAP_SHARED) |
			      (chance(80) ? MAP_ANONYMOUS : 0) | (chance(50) ? MAP_FIXED : 0) |
			      (chance(10) ? MAP_POPULATE : 0) | (chance(5) ? rnd() & 0xfffff : 0);
		sc->args[4] = any_fd();
		sc->args[5] = below(4) * PAGE;
		break;
	case SYS_mremap:
		sc->args[0] = fuzz_addr();
		sc->args[1] = fuzz_len() & 0xffffff;
		sc->args[2] = fuzz_len() & 0xffffff;
		sc->args[3] = below(8);
		sc->args[4] = fuzz_addr();
		break;
	case SYS_munmap: case SYS_mprotect: case SYS_madvise: case SYS_msync:
	case SYS_mincore: case SYS_mlock: case SYS_mlock2: case SYS_munlock:
	case SYS_pkey_mprotect:
		sc->args[0] = fuzz_addr();
		sc->args[1] = fuzz_len();
		sc->args[2] = nr == SYS_mincore ? fuzz_addr() : below(32);
		sc->args[3] = below(4);
		break;
	case SYS_close:
		/* Only junk numbers: our own descriptors stay. */
		sc->args[0] = chance(50) ? FD_FIRST_JUNK + below(32) : (uint64_t)-1;
		break;
	case SYS_openat: case SYS_newfstatat: case SYS_statx: case SYS_readlinkat:
	case SYS_faccessat:
		sc->args[0] = chance(50) ? (uint64_t)AT_FDCWD : (uint64_t)any_fd();
		sc->args[1] = chance(70) ? SCRATCH_ADDR + below(48) : fuzz_addr();
		sc->args[2] = nr == SYS_openat ? (rnd() & ~(uint64_t)(O_TRUNC | O_CREAT)) | O_NONBLOCK
					       : fuzz_addr();
		sc->args[3] = nr == SYS_readlinkat ? below(PAGE) : rnd() & 0xfff;
		sc->args[4] = fuzz_addr();
		break;
	default:
		if (nr >= 0 && nr < 600) {
			sc->args[0] = any_fd();
			sc->args[1] = fuzz_addr();
			sc->args[2] = below(2) ? below(4096) : fuzz_len();
			sc->args[3] = below(4) ? below(4096) : any_value();
		}
		break;
	}
}

/* ---- the ioctls ---------------------------------------------------------- */

static unsigned char *good_buf;	/* BUFSZ bytes, good for any struct */
static unsigned long op_counts[12];
enum { OP_VERSION, OP_BIND, OP_SYSCALLS, OP_RUN, OP_PASSTHROUGH, OP_STATS, OP_CONTEXT,
	OP_CONTEXT_RUN, OP_CONTEXT_XSTATE, OP_MEM, OP_UNKNOWN };
static const char *const op_names[] = {
	"API_VERSION", "BIND", "SYSCALLS", "RUN", "SET_PASSTHROUGH", "GET_STATS", "CONTEXT",
	"CONTEXT_RUN", "CONTEXT_XSTATE", "MEM", "unknown",
};

/* The number with random size bits: the module ignores them. */
static unsigned long mangle_cmd(unsigned long cmd)
{
	if (chance(80))
		return cmd;
	cmd &= ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT);
	cmd |= (unsigned long)below(1 << _IOC_SIZEBITS) << _IOC_SIZESHIFT;
	return cmd;
}

static void op_version(void)
{
	int ret = raw_ioctl(chance(50) ? FD_VMEXEC : FD_OTHER_VM, VMEXEC_IOC_API_VERSION,
			    (void *)any_value());

	unsigned long feature = chance(50) ? below(VMEXEC_FEATURE_COUNT + 4) : any_value();

	count_result(ret);
	if (ret != VMEXEC_API_VERSION)
		fail("API_VERSION returned %d", ret);
	/* Known features 1, anything else 0, bound or not. */
	ret = raw_ioctl(chance(50) ? FD_VMEXEC : FD_OTHER_VM, VMEXEC_IOC_CHECK_FEATURE,
			(void *)feature);
	count_result(ret);
	if (ret != (feature < VMEXEC_FEATURE_COUNT))
		fail("CHECK_FEATURE(%#lx) returned %d", feature, ret);
}

/*
 * Numbers that are not ours: other magic numbers, our magic with numbers
 * past the last ioctl, and our numbers with the wrong direction bits (the
 * module ignores only the size bits). All must give ENOTTY.
 */
static void op_unknown(void)
{
	/*
	 * Directions of API_VERSION, BIND, SYSCALLS, RUN, SET_PASSTHROUGH,
	 * GET_STATS, CHECK_FEATURE, CONTEXT. (The numbers after CONTEXT are
	 * the context's own: unknown on a vmexec file.)
	 */
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_WRITE, _IOC_WRITE, _IOC_READ | _IOC_WRITE, _IOC_WRITE,
		_IOC_READ | _IOC_WRITE, _IOC_NONE, _IOC_NONE,
	};
	unsigned int type = chance(60) ? VMEXEC_IOC_MAGIC : below(256);
	unsigned int nr = type == VMEXEC_IOC_MAGIC ? 8 + below(248) : below(256);
	unsigned int dir = below(4);
	unsigned long cmd;
	char detail[64];
	int ret;

	/* Generic VFS numbers ('T' FIO*, 'f', 'X', 0x94, 0x15, 0) are not ours to test. */
	if (type == 'T' || type == 'f' || type == 'X' || type == 0x94 || type == 0x15 ||
	    type == 0x12 || type == 0) {
		type = VMEXEC_IOC_MAGIC;
		nr = 8 + below(248);
	}
	if (chance(25)) {
		type = VMEXEC_IOC_MAGIC;
		nr = below(8);
		while (dir == dirs[nr])
			dir = below(4);
	}
	/* MEM's number is ours: only with another direction. */
	if (type == VMEXEC_IOC_MAGIC && nr == _IOC_NR(VMEXEC_IOC_MEM))
		while (dir == _IOC_DIR(VMEXEC_IOC_MEM))
			dir = below(4);
	cmd = _IOC(dir, type, nr, below(1 << _IOC_SIZEBITS));
	if (nr == 0 && type == VMEXEC_IOC_MAGIC && dir == _IOC_NONE)
		cmd = _IOC(_IOC_READ, type, nr, 0);
	ret = raw_ioctl(chance(50) ? FD_VMEXEC : FD_OTHER_VM, cmd,
			place(pick_ptr_kind(), good_buf, 64, good_buf));
	count_result(ret);
	snprintf(detail, sizeof(detail), "cmd %#lx", cmd);
	if (ret != -ENOTTY)
		fail("unknown ioctl returned %d (%s), want ENOTTY [%s]", ret,
		     ret < 0 ? strerror(-ret) : "success", detail);
}

static void op_stats(void)
{
	struct vmexec_stats st;
	unsigned char buf[BUFSZ];
	enum ptr_kind k = pick_ptr_kind();
	int dirty, ret, fd = chance(80) ? FD_VMEXEC : FD_OTHER_VM;
	uint32_t size = pick_size(sizeof(st), &dirty);
	void *arg;
	char detail[96];

	memset(&st, 0, sizeof(st));
	st.size = size;
	if (chance(10))
		st.flags = rnd();
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &st, sizeof(st));
	set_tail(buf, sizeof(st), size, dirty);
	arg = place(k, buf, BUFSZ, good_buf);
	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_GET_STATS), arg);
	snprintf(detail, sizeof(detail), "size %u flags %#x ptr %s", size, st.flags, ptr_names[k]);
	if (check_errno("GET_STATS", ret, errs_copy, detail))
		return;
	if (ret == 0 && k == P_GOOD && fd == FD_VMEXEC && size >= sizeof(st)) {
		struct vmexec_stats *o = (struct vmexec_stats *)good_buf;
		uint64_t total = o->exits_syscall + o->exits_signal + o->exits_interrupted;

		if (o->size != sizeof(st))
			fail("GET_STATS size out %u", o->size);
		if (total < last_total)
			fail("GET_STATS exits went down: %llu -> %llu",
			     (unsigned long long)last_total, (unsigned long long)total);
		last_total = total;
	}
	if (ret == 0 && k == P_GOOD && size == sizeof(st) && st.flags)
		fail("GET_STATS accepted flags %#x", st.flags);
}

/*
 * Canonical with 57-bit addresses (bits 63..56 equal). A base that is not is
 * refused in either paging mode; one that is may still be refused with
 * 4-level paging, which this oracle does not know.
 */
static int canonical57(uint64_t v)
{
	uint64_t top = v >> 56;

	return top == 0 || top == 0xff;
}

static int has_path_call(const struct vmexec_passthrough *pt)
{
	static const unsigned int paths[] = {
		SYS_openat, SYS_newfstatat, SYS_statx, SYS_readlinkat, SYS_faccessat,
	};
	unsigned int i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (pt->bitmap[paths[i] / 64] >> (paths[i] % 64) & 1)
			return 1;
	}
	return 0;
}

static int random_passthrough(struct vmexec_passthrough *pt)
{
	static const char *const calls[] = {
		"read", "write", "mmap", "munmap", "mprotect", "madvise", "mremap", "mincore",
		"pread64", "pwrite64", "readv", "writev", "lseek", "fstat", "newfstatat",
		"statx", "openat", "getdents64", "readlinkat", "faccessat", "msync",
	};
	unsigned int i;
	int valid = 1;

	vmexec_passthrough_init(pt);
	if (chance(30)) {
		for (i = 0; i < VMEXEC_PASSTHROUGH_WORDS; i++)
			pt->bitmap[i] = chance(50) ? rnd() : 0;
		if (chance(50))
			pt->bitmap[below(VMEXEC_PASSTHROUGH_WORDS)] |= 1ULL << below(64);
		valid = -1;	/* unknown: the module decides */
	} else if (chance(30)) {
		/* One number the module refuses (ioctl 16, exit 60, ...) next to good ones. */
		static const unsigned int refused[] = { 16, 39, 56, 57, 59, 60, 62, 231, 511 };

		pt->bitmap[0] |= 1ULL << SYS_read;
		i = refused[below(sizeof(refused) / sizeof(refused[0]))];
		pt->bitmap[i / 64] |= 1ULL << (i % 64);
		valid = 0;
	} else {
		/* close is left out: the guest must not close our descriptors. */
		for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			if (chance(30) && vmexec_passthrough_add(pt, calls[i]))
				valid = 0;
		}
		/* Path calls need the flag that gives them the caller's view. */
		if (chance(50))
			pt->flags = VMEXEC_PASSTHROUGH_PATHS;
		else if (has_path_call(pt) && valid == 1)
			valid = 0;
	}
	if (chance(5))
		pt->flags = rnd() | 2;
	return valid;
}

static void op_passthrough(void)
{
	struct vmexec_passthrough pt;
	unsigned char buf[BUFSZ];
	enum ptr_kind k = pick_ptr_kind();
	int dirty, ret, valid, fd = chance(80) ? FD_VMEXEC : FD_OTHER_VM;
	uint32_t size = pick_size(sizeof(pt), &dirty);
	char detail[96];

	valid = random_passthrough(&pt);
	pt.size = size;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &pt, sizeof(pt));
	set_tail(buf, sizeof(pt), size, dirty);
	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_SET_PASSTHROUGH),
			place(k, buf, BUFSZ, good_buf));
	snprintf(detail, sizeof(detail), "size %u flags %#x valid %d ptr %s", size, pt.flags,
		 valid, ptr_names[k]);
	check_errno("SET_PASSTHROUGH", ret, errs_passthrough, detail);
	if (k == P_GOOD && size == sizeof(pt) && !dirty) {
		if (ret == 0 && ((pt.flags & ~VMEXEC_PASSTHROUGH_FLAGS) || valid == 0))
			fail("SET_PASSTHROUGH accepted %s", detail);
		if (ret != 0 && !(pt.flags & ~VMEXEC_PASSTHROUGH_FLAGS) && valid == 1)
			fail("SET_PASSTHROUGH refused a valid set: %d [%s]", ret, detail);
	}
}

static pid_t zombie_pid;

static void fuzz_new_mm(int fd, const char *detail)
{
	char byte = 1;
	struct iovec l = { &byte, 1 }, r = { (void *)0x100000000UL, 1 };
	long addr;
	int ret;

	ret = vmexec_mem_write(fd, &l, &r, 1);
	if (ret != -EFAULT)
		fail("MEM into an empty new mm returned %d, not -EFAULT [%s]", ret, detail);
	ret = vmexec_syscall(fd, &addr, SYS_mmap, 0x100000000L, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (ret || addr != 0x100000000L)
		fail("mmap in a new mm: %d, %#lx [%s]", ret, addr, detail);
	else if ((ret = vmexec_mem_write(fd, &l, &r, 1)) != 1)
		fail("MEM into a new mm's page returned %d [%s]", ret, detail);
}

static void op_bind(void)
{
	struct vmexec_bind b;
	unsigned char buf[BUFSZ];
	enum ptr_kind k = pick_ptr_kind();
	int dirty, ret, fd, pfd = -1, close_pfd = 0;
	uint32_t size = pick_size(sizeof(b), &dirty);
	char detail[128];
	const char *who = "";

	fd = chance(10) ? FD_VMEXEC : vmexec_open();	/* FD_VMEXEC: EBUSY */
	if (fd < 0) {
		fail("vmexec_open: %d", fd);
		return;
	}
	switch (below(11)) {
	case 9:
	case 10:
		/* A new address space: pidfd -1, or any of the others. */
		pfd = chance(75) ? -1 : FD_PIDFD;
		who = "new mm";
		break;
	case 0:
		pfd = syscall(SYS_pidfd_open, getpid(), 0);
		close_pfd = 1;
		who = "self";
		break;
	case 1:
		pfd = syscall(SYS_pidfd_open, 1, 0);
		close_pfd = 1;
		who = "init";
		break;
	case 2:
		pfd = syscall(SYS_pidfd_open, 2, 0);
		close_pfd = 1;
		who = "kthreadd";
		break;
	case 3:
		pfd = zombie_pid > 0 ? syscall(SYS_pidfd_open, zombie_pid, 0) : -1;
		close_pfd = 1;
		who = "zombie";
		break;
	case 4:
		pfd = any_fd();
		who = "any fd";
		break;
	default:
		pfd = FD_PIDFD;
		who = "target";
		break;
	}
	memset(&b, 0, sizeof(b));
	b.size = size;
	b.pidfd = pfd;
	if (!strcmp(who, "new mm"))
		b.flags = VMEXEC_BIND_NEW_MM;
	if (chance(10))
		b.flags = rnd();
	if (chance(10))
		b.reserved = rnd();
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &b, sizeof(b));
	set_tail(buf, sizeof(b), size, dirty);
	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_BIND),
			place(k, buf, BUFSZ, good_buf));
	snprintf(detail, sizeof(detail), "size %u flags %#x reserved %#x pidfd %d (%s) ptr %s",
		 size, b.flags, b.reserved, pfd, who, ptr_names[k]);
	check_errno("BIND", ret, errs_bind, detail);
	if (ret == 0 && ((b.flags && (b.flags != VMEXEC_BIND_NEW_MM || b.pidfd != -1)) ||
			 b.reserved) && k == P_GOOD && size == sizeof(b))
		fail("BIND accepted %s", detail);
	/* A new mm starts empty: the first MEM faults, SYSCALLS maps in it. */
	if (ret == 0 && b.flags == VMEXEC_BIND_NEW_MM && fd != FD_VMEXEC)
		fuzz_new_mm(fd, detail);
	if (ret == 0 && fd == FD_VMEXEC)
		fail("BIND on a bound file succeeded [%s]", detail);
	/* Never SYSCALLS or RUN on these: only stats and the version. */
	if (fd != FD_VMEXEC) {
		struct vmexec_stats st = { .size = sizeof(st) };

		if (vmexec_get_stats(fd, &st) || st.exits_syscall)
			fail("GET_STATS on a fresh file");
		close(fd);
	}
	if (close_pfd && pfd >= 0)
		close(pfd);
}

static void op_syscalls(void)
{
	static struct vmexec_syscall calls[1100];
	struct vmexec_syscalls s;
	unsigned char buf[BUFSZ];
	enum ptr_kind k = pick_ptr_kind(), kc = pick_ptr_kind();
	int dirty, ret, fd = chance(90) ? FD_VMEXEC : FD_OTHER_VM;
	uint32_t size = pick_size(sizeof(s), &dirty), count, i;
	size_t bytes;
	char detail[128];
	void *calls_ptr;

	count = chance(80) ? 1 + below(8) : (chance(50) ? below(1100) : (uint32_t)rnd());
	for (i = 0; i < count && i < 1100; i++)
		fuzz_entry(&calls[i]);
	memset(&s, 0, sizeof(s));
	s.size = size;
	s.count = count;
	if (chance(10))
		s.flags = chance(50) ? VMEXEC_SYSCALLS_STOP_ON_ERROR : rnd();
	if (chance(5))
		s.reserved = rnd();
	bytes = (count < 1100 ? count : 1100) * sizeof(calls[0]);
	if (kc == P_GOOD || bytes > PAGE)
		calls_ptr = calls;
	else
		calls_ptr = place(kc, calls, bytes, calls);
	s.calls = (uintptr_t)calls_ptr;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &s, sizeof(s));
	set_tail(buf, sizeof(s), size, dirty);
	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_SYSCALLS),
			place(k, buf, BUFSZ, good_buf));
	snprintf(detail, sizeof(detail), "size %u flags %#x count %u calls %s ptr %s fd %s",
		 size, s.flags, count, kc == P_GOOD || bytes > PAGE ? "good" : ptr_names[kc],
		 ptr_names[k], fd == FD_VMEXEC ? "bound" : "unbound");
	if (check_errno("SYSCALLS", ret, errs_syscalls, detail))
		return;
	if (ret >= 0 && (uint32_t)ret > count)
		fail("SYSCALLS processed %d of %u [%s]", ret, count, detail);
	if (ret >= 0 && calls_ptr == (void *)calls) {
		for (i = 0; i < (uint32_t)ret; i++) {
			int64_t r = calls[i].ret;

			/*
			 * Whatever the call returns natively, but never a -ERESTART*
			 * (the module turns those into -EINTR) and never less than
			 * -4095. (mmap(MAP_FIXED) at an address between -4095 and -1
			 * natively returns the address itself: not an error here.)
			 */
			if ((r < -4095 || r == -512 || r == -513 || r == -514 || r == -516) &&
			    !(calls[i].nr == SYS_mmap && (uint64_t)r == calls[i].args[0]))
				fail("SYSCALLS entry %u (nr %lld, args %#llx %#llx %#llx %#llx %#llx %#llx) "
				     "returned %lld [%s]", i, (long long)calls[i].nr,
				     (unsigned long long)calls[i].args[0],
				     (unsigned long long)calls[i].args[1],
				     (unsigned long long)calls[i].args[2],
				     (unsigned long long)calls[i].args[3],
				     (unsigned long long)calls[i].args[4],
				     (unsigned long long)calls[i].args[5], (long long)r, detail);
			/* Descriptors the target's calls opened for us: ours to close. */
			if (calls[i].nr == SYS_openat && r >= FD_FIRST_JUNK && r <= FD_LAST_JUNK)
				close((int)r);
		}
	}
	if (k == P_GOOD && size == sizeof(s) && !dirty && ret >= 0 &&
	    ((s.flags & ~VMEXEC_SYSCALLS_FLAGS) || s.reserved || count > VMEXEC_SYSCALLS_MAX))
		fail("SYSCALLS accepted %s reserved %#x", detail, s.reserved);
}

/* ---- RUN ------------------------------------------------------------------ */

static void *xbuf_good, *xbuf_saved;
static int xsize;
static int have_saved_xstate;
static unsigned long run_ok, run_exits[4], run_faults_reported;

static uint64_t pick_rip(void)
{
	switch (below(10)) {
	case 0:
		return LOW_ADDR + (stub_list[below(NSTUBS)] - stubs_start);
	case 1: case 2: case 3: case 4:
		return stub_addr(stub_list[below(NSTUBS)]);
	case 5:
		return CODE_ADDR + below(stubs_end - stubs_start);
	case 6: case 7:
		return CODE_ADDR + PAGE + below(PAGE);
	case 8:
		return (rnd() & 0x7ffffffff000ULL) + below(PAGE);
	default:
		return any_value();
	}
}

static uint64_t pick_sigmask(void)
{
	uint64_t m = FAULT_SIGS;

	if (chance(10))
		return rnd();
	if (chance(50))
		m |= rnd() & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	if (chance(3))
		m |= chance(50) ? SIGBIT(SIGKILL) : SIGBIT(SIGSTOP);
	return m;
}

static void flip_bits(unsigned char *p, size_t len, unsigned int n)
{
	while (n--)
		p[below(len)] ^= 1u << below(8);
}

/* Whether RUN's fields other than the xstate ones are ones the ABI refuses. */
static int run_fields_invalid(const struct vmexec_run *rp)
{
	return (rp->flags & ~VMEXEC_RUN_FLAGS) ||
	       ((rp->flags & VMEXEC_RUN_SINGLE_STEP) && !(rp->sigmask & SIGBIT(SIGTRAP))) ||
	       (rp->sigmask & (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))) ||
	       rp->regs.rip >= 0x8000000000000000ULL || !canonical57(rp->regs.fs_base) ||
	       !canonical57(rp->regs.gs_base) || (rp->regs.rflags & ~(uint64_t)0x254fd7);
}

/* Random RUN input, the xstate fields included; 1 if the ABI says EINVAL. */
static int random_run(struct vmexec_run *rp)
{
	int must_einval = 0;
	unsigned int i, xk;
	__u64 *r;

	vmexec_run_prep(rp, pick_rip(), STACK_TOP - 8 * below(64));
	r = (__u64 *)&rp->regs;
	for (i = 0; i < sizeof(rp->regs) / 8; i++) {
		if (&r[i] == &rp->regs.rip || &r[i] == &rp->regs.rsp ||
		    &r[i] == &rp->regs.rflags)
			continue;
		if (chance(60))
			r[i] = any_value();
	}
	if (chance(30))
		rp->regs.rsp = any_value();
	if (chance(70)) {
		rp->regs.fs_base = chance(80) ? 0 : DATA_ADDR;
		rp->regs.gs_base = chance(80) ? 0 : DATA_ADDR + PAGE;
	}
	/*
	 * rflags: the allowed bits mostly (RF, TF and NT, which the module
	 * accepts and clears, now and then), anything sometimes.
	 */
	rp->regs.rflags = chance(85) ? (0x202 | (rnd() & (chance(90) ? 0x240cd5 : 0x254dd5))) :
		rnd();
	rp->sigmask = pick_sigmask();
	/* Single steps now and then (SIGTRAP is in most sigmasks), or junk. */
	if (chance(10))
		rp->flags = VMEXEC_RUN_SINGLE_STEP;
	else if (chance(5))
		rp->flags = rnd() | 2;
	must_einval = run_fields_invalid(rp);

	xk = below(20);
	if (xk < 10) {
		rp->xstate = 0;
	} else if (xk < 13) {
		memset(xbuf_good, 0, xsize);
		rp->xstate = (uintptr_t)xbuf_good;
		rp->xstate_size = xsize;
	} else if (xk < 16 && have_saved_xstate) {
		memcpy(xbuf_good, xbuf_saved, xsize);
		if (chance(50))
			flip_bits(xbuf_good, chance(50) ? 576 + 64 : (size_t)xsize, 1 + below(4));
		rp->xstate = (uintptr_t)xbuf_good;
		rp->xstate_size = xsize;
	} else if (xk < 17) {
		rp->xstate = (uintptr_t)xbuf_good;
		rp->xstate_size = chance(50) ? xsize - 1 - below(xsize) : rnd();
		if (rp->xstate_size < (uint32_t)xsize)
			must_einval = 1;
	} else {
		enum ptr_kind xp = (enum ptr_kind)(1 + below(P_END - 1));

		memset(xbuf_good, 0, xsize);
		rp->xstate = (uintptr_t)place(xp == P_STRADDLE ? P_UNMAPPED : xp, xbuf_good,
					      xsize, xbuf_good);
		rp->xstate_size = xsize;
		if (!rp->xstate)
			rp->xstate_size = chance(50) ? 0 : xsize;
	}
	return must_einval;
}

/* A RUN exit's fields: one of the three reasons, a signal of the sigmask. */
static void check_exit(const char *what, const struct vmexec_run *o, __u64 sigmask,
		       const char *detail)
{
	if (o->exit_reason < 1 || o->exit_reason > 3) {
		fail("%s exit_reason %u [%s]", what, o->exit_reason, detail);
		return;
	}
	run_exits[o->exit_reason]++;
	if (o->exit_reason == VMEXEC_EXIT_SIGNAL) {
		int s = o->exit.signal.signo;

		if (s < 1 || s > 64 || !(sigmask & SIGBIT(s)))
			fail("%s reported signal %d outside sigmask %#llx [%s]", what, s,
			     (unsigned long long)sigmask, detail);
		if (o->exit.signal.code > 0 && (FAULT_SIGS & SIGBIT(s)))
			run_faults_reported++;
	}
	if (o->exit_reason == VMEXEC_EXIT_SYSCALL && o->exit.syscall.abi > 2)
		fail("%s syscall abi %u [%s]", what, o->exit.syscall.abi, detail);
	if (o->regs.rip >= 0x8000000000000000ULL)
		fail("%s exit rip %#llx is a kernel address [%s]", what,
		     (unsigned long long)o->regs.rip, detail);
}

static void op_run(void)
{
	struct vmexec_run run, *out;
	unsigned char buf[BUFSZ];
	enum ptr_kind k = pick_ptr_kind();
	int dirty, ret, fd = chance(95) ? FD_VMEXEC : FD_OTHER_VM;
	uint32_t size = pick_size(sizeof(run), &dirty);
	char detail[200];
	int must_einval = random_run(&run);

	run.size = size;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &run, sizeof(run));
	set_tail(buf, sizeof(run), size, dirty);
	out = place(k, buf, BUFSZ, good_buf);
	last_op = "RUN";
	last_rip = run.regs.rip;
	last_xstate = run.xstate;
	in_run = 1;
	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_RUN), out);
	in_run = 0;
	snprintf(detail, sizeof(detail),
		 "size %u flags %#x rip %#llx rflags %#llx sigmask %#llx xstate %#llx/%u ptr %s fd %s",
		 size, run.flags, (unsigned long long)run.regs.rip,
		 (unsigned long long)run.regs.rflags, (unsigned long long)run.sigmask,
		 (unsigned long long)run.xstate, run.xstate_size, ptr_names[k],
		 fd == FD_VMEXEC ? "bound" : "unbound");
	if (check_errno("RUN", ret, errs_run, detail))
		return;
	if (ret > 0)
		fail("RUN returned %d [%s]", ret, detail);
	if (k == P_GOOD && size == sizeof(run) && !dirty && fd == FD_VMEXEC &&
	    must_einval && ret == 0)
		fail("RUN accepted invalid input [%s]", detail);
	if (ret != 0 || out != (void *)good_buf)
		return;
	run_ok++;
	check_exit("RUN", (struct vmexec_run *)good_buf, run.sigmask, detail);
	if (run.xstate == (uintptr_t)xbuf_good && run.xstate_size >= (uint32_t)xsize) {
		memcpy(xbuf_saved, xbuf_good, xsize);
		have_saved_xstate = 1;
	}
}

/* ---- contexts: FD_CTX and its run area ----------------------------------- */

static struct vmexec_run *ctx_area;
static const int errs_context[] = { EINVAL, ESRCH, ENOMEM, EMFILE, 0 };
static const int errs_context_run[] = { EINVAL, ESRCH, ENOMEM, EBUSY, 0 };
static const int errs_xstate[] = { EINVAL, E2BIG, EFAULT, EBUSY, 0 };

static void ctx_drop(void)
{
	if (ctx_area)
		munmap(ctx_area, VMEXEC_CONTEXT_SIZE);
	ctx_area = NULL;
	close(FD_CTX);
}

/* A new context, of the bound file or the unbound one, with a random argument. */
static void op_context(void)
{
	int fd = chance(80) ? FD_VMEXEC : FD_OTHER_VM;
	unsigned long arg = chance(85) ? 0 : any_value();
	char detail[96];
	void *p;
	int ret;

	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_CONTEXT), (void *)arg);
	snprintf(detail, sizeof(detail), "arg %#lx fd %s", arg,
		 fd == FD_VMEXEC ? "bound" : "unbound");
	if (check_errno("CONTEXT", ret, errs_context, detail))
		return;
	if (ret >= 0 && (arg || fd != FD_VMEXEC))
		fail("CONTEXT accepted [%s]", detail);
	if (ret < 0)
		return;
	ctx_drop();
	dup2(ret, FD_CTX);
	close(ret);
	/* Now and then a mapping the module must refuse. */
	if (chance(10)) {
		size_t len = chance(50) ? 2 * VMEXEC_CONTEXT_SIZE : VMEXEC_CONTEXT_SIZE;
		int flags = chance(50) ? MAP_PRIVATE : MAP_SHARED;
		off_t off = chance(50) ? 0 : VMEXEC_CONTEXT_SIZE;

		p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, FD_CTX, off);
		if ((len != VMEXEC_CONTEXT_SIZE || flags != MAP_SHARED || off) &&
		    (p != MAP_FAILED || errno != EINVAL))
			fail("CONTEXT: mmap of %zu bytes at %lld, flags %#x, not refused", len,
			     (long long)off, flags);
		if (p != MAP_FAILED)
			munmap(p, len);
	}
	if (vmexec_context_map(FD_CTX, &ctx_area)) {
		fail("CONTEXT: mapping the run area failed");
		ctx_area = NULL;
	}
}

static void op_context_run(void)
{
	struct vmexec_run run;
	char detail[200];
	int must_einval, ret;

	if (!ctx_area) {
		op_context();
		return;
	}
	random_run(&run);
	/* The context has its own xstate: mostly none passed, else EINVAL. */
	if (chance(90)) {
		run.xstate = 0;
		run.xstate_size = 0;
	}
	must_einval = run_fields_invalid(&run) || run.xstate || run.xstate_size;
	ctx_area->flags = run.flags;
	ctx_area->sigmask = run.sigmask;
	ctx_area->regs = run.regs;
	ctx_area->xstate = run.xstate;
	ctx_area->xstate_size = run.xstate_size;
	last_op = "CONTEXT_RUN";
	last_rip = run.regs.rip;
	last_xstate = run.xstate;
	in_run = 1;
	ret = raw_ioctl(FD_CTX, VMEXEC_IOC_CONTEXT_RUN, (void *)(chance(97) ? 0UL : any_value()));
	in_run = 0;
	snprintf(detail, sizeof(detail),
		 "flags %#x rip %#llx rflags %#llx sigmask %#llx xstate %#llx/%u",
		 run.flags, (unsigned long long)run.regs.rip,
		 (unsigned long long)run.regs.rflags, (unsigned long long)run.sigmask,
		 (unsigned long long)run.xstate, run.xstate_size);
	if (check_errno("CONTEXT_RUN", ret, errs_context_run, detail))
		return;
	if (ret > 0)
		fail("CONTEXT_RUN returned %d [%s]", ret, detail);
	if (must_einval && ret == 0)
		fail("CONTEXT_RUN accepted invalid input [%s]", detail);
	if (ret != 0)
		return;
	run_ok++;
	check_exit("CONTEXT_RUN", ctx_area, run.sigmask, detail);
}

static void op_context_xstate(void)
{
	struct vmexec_xstate x;
	unsigned char buf[BUFSZ];
	enum ptr_kind k = pick_ptr_kind(), xp = pick_ptr_kind();
	int dirty, ret, set = chance(50);
	uint32_t size = pick_size(sizeof(x), &dirty);
	char detail[128];

	if (!ctx_area) {
		op_context();
		return;
	}
	memset(&x, 0, sizeof(x));
	x.size = size;
	x.len = chance(80) ? (uint32_t)xsize : (uint32_t)rnd();
	if (chance(5))
		x.flags = rnd();
	if (chance(5))
		x.reserved = rnd();
	if (set && have_saved_xstate && chance(70)) {
		memcpy(xbuf_good, xbuf_saved, xsize);
		if (chance(30))
			flip_bits(xbuf_good, chance(50) ? 576 + 64 : (size_t)xsize, 1 + below(4));
	} else if (set) {
		memset(xbuf_good, 0, xsize);
	}
	x.addr = (uintptr_t)place(xp == P_STRADDLE ? P_UNMAPPED : xp, xbuf_good, xsize,
				  xbuf_good);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &x, sizeof(x));
	set_tail(buf, sizeof(x), size, dirty);
	ret = raw_ioctl(FD_CTX, mangle_cmd(set ? VMEXEC_IOC_CONTEXT_SET_XSTATE :
				  VMEXEC_IOC_CONTEXT_GET_XSTATE), place(k, buf, BUFSZ, good_buf));
	snprintf(detail, sizeof(detail), "%s size %u flags %#x len %u ptr %s buf %s",
		 set ? "SET" : "GET", size, x.flags, x.len, ptr_names[k], ptr_names[xp]);
	if (check_errno("CONTEXT_XSTATE", ret, errs_xstate, detail))
		return;
	if (ret == 0 && k == P_GOOD && size == sizeof(x) &&
	    (x.flags || x.reserved || x.len < (uint32_t)xsize))
		fail("CONTEXT_XSTATE accepted invalid input [%s]", detail);
	if (ret == 0 && !set && x.addr == (uintptr_t)xbuf_good) {
		memcpy(xbuf_saved, xbuf_good, xsize);
		have_saved_xstate = 1;
	}
}

/* ---- MEM: copies between mem_buf (or bad pointers) and the target -------- */

#define MEM_SEGS	8
static const int errs_mem[] = { EINVAL, E2BIG, EFAULT, ESRCH, ENOMEM, 0 };
static unsigned char mem_buf[4 * PAGE];	/* the only memory of ours MEM reads into */

/* A local segment: in mem_buf mostly, else a pointer that faults (or page_ro). */
static struct iovec mem_local(void)
{
	struct iovec v;
	size_t off = below(sizeof(mem_buf));

	v.iov_len = chance(90) ? below(sizeof(mem_buf) - off + 1) : any_value();
	if (chance(85)) {
		v.iov_base = mem_buf + off;
		if (v.iov_len > sizeof(mem_buf) - off)
			v.iov_len = sizeof(mem_buf) - off;
		return v;
	}
	switch (below(4)) {
	case 0:
		v.iov_base = page_ro;
		break;
	case 1:
		/* Straddles into the guard page: never further. */
		v.iov_base = page_guard + PAGE - below(64);
		break;
	default:
		v.iov_base = place(chance(50) ? P_UNMAPPED : P_KERNEL, NULL, 0, NULL);
		break;
	}
	return v;
}

static struct iovec mem_remote(void)
{
	struct iovec v;

	v.iov_base = (void *)(chance(70) ? DATA_ADDR + below(17 * PAGE) : fuzz_addr());
	v.iov_len = chance(90) ? below(3 * PAGE) : any_value();
	return v;
}

/*
 * VMEXEC_IOC_MEM: random segments, counts, flags, sizes and vector pointers.
 * A result is a byte count no larger than either side's total, or an errno
 * of the table; bad flags, reserved or counts must be EINVAL.
 */
static void op_mem(void)
{
	struct iovec lv[MEM_SEGS], rv[MEM_SEGS];
	enum ptr_kind k = pick_ptr_kind(), lk = pick_ptr_kind(), rk = pick_ptr_kind();
	unsigned char buf[BUFSZ];
	uint64_t ltotal = 0, rtotal = 0;
	int dirty, ret, fd = chance(90) ? FD_VMEXEC : FD_OTHER_VM;
	uint32_t size = pick_size(sizeof(struct vmexec_mem), &dirty);
	struct vmexec_mem m;
	char detail[160];
	unsigned int i, n = below(MEM_SEGS + 1);

	for (i = 0; i < MEM_SEGS; i++) {
		lv[i] = mem_local();
		rv[i] = mem_remote();
	}
	memset(&m, 0, sizeof(m));
	m.size = size;
	m.flags = chance(50) ? VMEXEC_MEM_WRITE : 0;
	if (chance(5))
		m.flags = rnd();
	if (chance(5))
		m.reserved = rnd();
	m.count = chance(95) ? n : (chance(50) ? VMEXEC_MEM_MAX + 1 : (uint32_t)rnd());
	/* The vectors: good ones, or bad pointers (never a valid count past MEM_SEGS). */
	m.local = (uintptr_t)(lk == P_GOOD || m.count > MEM_SEGS ? (void *)lv :
			      place(lk == P_RO || lk == P_RACE ? P_UNMAPPED : lk, NULL, 0, NULL));
	m.remote = (uintptr_t)(rk == P_GOOD || m.count > MEM_SEGS ? (void *)rv :
			       place(rk == P_RO || rk == P_RACE ? P_UNMAPPED : rk, NULL, 0, NULL));
	if (m.count > MEM_SEGS && m.count <= VMEXEC_MEM_MAX)
		m.count = n;
	for (i = 0; i < m.count && i < MEM_SEGS; i++) {
		ltotal += lv[i].iov_len;
		rtotal += rv[i].iov_len;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &m, sizeof(m));
	set_tail(buf, sizeof(m), size, dirty);
	/*
	 * mem_buf holds what earlier reads took from the target's data and
	 * stack; a write may put it on a code page the guest then runs.
	 */
	tcg_sanitize(mem_buf, sizeof(mem_buf));
	ret = raw_ioctl(fd, mangle_cmd(VMEXEC_IOC_MEM), place(k, buf, BUFSZ, good_buf));
	snprintf(detail, sizeof(detail),
		 "size %u flags %#x reserved %#x count %u local %s remote %s ptr %s fd %s",
		 size, m.flags, m.reserved, m.count, ptr_names[lk], ptr_names[rk], ptr_names[k],
		 fd == FD_VMEXEC ? "bound" : "unbound");
	if (check_errno("MEM", ret, errs_mem, detail))
		return;
	if (ret > 0 && ((uint64_t)ret > ltotal || (uint64_t)ret > rtotal))
		fail("MEM copied %d bytes of %llu/%llu [%s]", ret, (unsigned long long)ltotal,
		     (unsigned long long)rtotal, detail);
	if (ret >= 0 && k == P_GOOD && size == sizeof(m) &&
	    ((m.flags & ~VMEXEC_MEM_FLAGS) || m.reserved || m.count > VMEXEC_MEM_MAX))
		fail("MEM accepted invalid input [%s]", detail);
}

/* ---- the buddy: plain round trips on the same file, concurrently --------- */

static _Atomic int buddy_stop;
static _Atomic unsigned long buddy_trips, buddy_errors;

static void *buddy(void *p)
{
	struct vmexec_run run;

	(void)p;
	if (arm_watchdog())
		atomic_fetch_add(&buddy_errors, 1);
	vmexec_run_prep(&run, stub_addr(stub_loop), STACK_TOP - 4096);
	run.sigmask = FAULT_SIGS;
	while (!atomic_load(&buddy_stop)) {
		int ret;

		in_run = 1;
		ret = vmexec_run(FD_VMEXEC, &run);
		in_run = 0;
		if (ret == 0) {
			atomic_fetch_add(&buddy_trips, 1);
			if (run.exit_reason == VMEXEC_EXIT_SIGNAL)
				vmexec_run_prep(&run, stub_addr(stub_loop), STACK_TOP - 4096);
			run.sigmask = FAULT_SIGS;
		} else if (ret != -ESRCH && ret != -EBADF && ret != -EINVAL) {
			atomic_fetch_add(&buddy_errors, 1);
		} else {
			/* The target or the code is being replaced. */
			vmexec_run_prep(&run, stub_addr(stub_loop), STACK_TOP - 4096);
			run.sigmask = FAULT_SIGS;
			usleep(1000);
		}
	}
	return NULL;
}

/* ---- main ------------------------------------------------------------------ */

static void setup_fds(void)
{
	int p[2], fd, nul;

	fd = dup(1);
	dup2(fd, LOG_FD);
	close(fd);
	logf_ = fdopen(LOG_FD, "w");
	setvbuf(logf_, NULL, _IOLBF, 0);
	nul = open("/dev/null", O_RDWR);
	dup2(nul, 0);
	dup2(nul, 1);
	dup2(nul, 2);
	dup2(nul, FD_NULL);
	if (nul > 2)
		close(nul);
	if (pipe2(p, O_NONBLOCK) == 0) {
		dup2(p[0], FD_PIPE_R);
		dup2(p[1], FD_PIPE_W);
		close(p[0]);
		close(p[1]);
	}
	fd = memfd_create("vmexec-fuzz", 0);
	if (fd >= 0) {
		if (ftruncate(fd, 16 * PAGE) < 0)
			fprintf(logf_, "vmexec-fuzz: ftruncate: %s\n", strerror(errno));
		dup2(fd, FD_MEMFD);
		close(fd);
	}
	fd = vmexec_open();
	if (fd >= 0) {
		dup2(fd, FD_OTHER_VM);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	unsigned long seconds = 20, count = 1000000;
	unsigned long long seed = 0x5eed;
	pthread_t racer_th, buddy_th;
	struct rlimit rl;
	long long start, now, end;
	const char *env;
	unsigned int i;
	int ret;

	if ((env = getenv("VMEXEC_FUZZ_TIME")) && *env)
		seconds = strtoul(env, NULL, 0);
	if ((env = getenv("VMEXEC_FUZZ_COUNT")) && *env)
		count = strtoul(env, NULL, 0);
	if ((env = getenv("VMEXEC_FUZZ_SEED")) && *env)
		seed = strtoull(env, NULL, 0);
	if (argc > 1)
		seconds = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		count = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		seed = strtoull(argv[3], NULL, 0);
	rnd_state = seed ? seed : 1;

	setup_fds();
	signal(SIGPIPE, SIG_IGN);
	install_handlers();
	/* SYSCALLS and pass-through mmap() in the target count against our RLIMIT_AS. */
	rl.rlim_cur = rl.rlim_max = 128UL << 20;
	setrlimit(RLIMIT_AS, &rl);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	under_tcg = detect_tcg();
	fprintf(logf_, "vmexec-fuzz: seed %#llx, %lu s, at most %lu iterations%s\n", seed, seconds,
		count, under_tcg ? "; qemu TCG: no far return/call, IRET or VEX/EVEX in guest "
		"code (qemu 7.2 bugs any process can hit: an SMAP oops, an abort)" : "");
	xsize = vmexec_xstate_size();
	if (xsize <= 0 || posix_memalign(&xbuf_good, 64, xsize) ||
	    posix_memalign(&xbuf_saved, 64, xsize)) {
		fprintf(logf_, "vmexec-fuzz: FAIL: xstate size %d\n", xsize);
		return 1;
	}
	good_buf = aligned_alloc(PAGE, BUFSZ);
	page_ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page_guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page_race = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!good_buf || page_ro == MAP_FAILED || page_guard == MAP_FAILED ||
	    page_race == MAP_FAILED) {
		fprintf(logf_, "vmexec-fuzz: FAIL: setup\n");
		return 1;
	}
	munmap(page_guard + PAGE, PAGE);

	/* A zombie to bind to: exited, not reaped until the end. */
	zombie_pid = fork();
	if (zombie_pid == 0)
		_exit(0);

	ret = target_start();
	if (ret) {
		fprintf(logf_, "vmexec-fuzz: FAIL: stub target setup: %d\n", ret);
		return 1;
	}
	if (arm_watchdog()) {
		fprintf(logf_, "vmexec-fuzz: FAIL: timer_create: %s\n", strerror(errno));
		return 1;
	}
	pthread_create(&racer_th, NULL, racer, NULL);
	pthread_create(&buddy_th, NULL, buddy, NULL);

	start = now = ({ struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
			 ts.tv_sec * 1000LL + ts.tv_nsec / 1000000; });
	end = start + (long long)seconds * 1000;
	for (iter = 0; iter < count; iter++) {
		unsigned int op;

		if ((iter & 63) == 0) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
			if (now >= end)
				break;
		}
		/* A fresh target and code now and then (SYSCALLS may wreck it). */
		if (iter && iter % 1500 == 0) {
			ret = target_start();
			if (ret) {
				fail("stub target setup: %d", ret);
				break;
			}
		} else if (iter % 97 == 0) {
			fill_random_code();
		}
		op = below(100);
		if (op < 3)
			op = OP_VERSION;
		else if (op < 13)
			op = OP_BIND;
		else if (op < 35)
			op = OP_SYSCALLS;
		else if (op < 68)
			op = OP_RUN;
		else if (op < 70)
			op = OP_CONTEXT;
		else if (op < 79)
			op = OP_CONTEXT_RUN;
		else if (op < 81)
			op = OP_CONTEXT_XSTATE;
		else if (op < 84)
			op = OP_MEM;
		else if (op < 87)
			op = OP_PASSTHROUGH;
		else if (op < 94)
			op = OP_STATS;
		else
			op = OP_UNKNOWN;
		op_counts[op]++;
		last_op = op_names[op];
		switch (op) {
		case OP_VERSION: op_version(); break;
		case OP_BIND: op_bind(); break;
		case OP_SYSCALLS: op_syscalls(); break;
		case OP_RUN: op_run(); break;
		case OP_PASSTHROUGH: op_passthrough(); break;
		case OP_STATS: op_stats(); break;
		case OP_CONTEXT: op_context(); break;
		case OP_CONTEXT_RUN: op_context_run(); break;
		case OP_CONTEXT_XSTATE: op_context_xstate(); break;
		case OP_MEM: op_mem(); break;
		default: op_unknown(); break;
		}
		/* Whatever the guests' pass-through calls opened. */
		syscall(SYS_close_range, FD_FIRST_JUNK, FD_LAST_JUNK, 0);
		if (atomic_load(&failures) > 30)
			break;
	}

	atomic_store(&racer_stop, 1);
	atomic_store(&buddy_stop, 1);
	pthread_join(racer_th, NULL);
	pthread_join(buddy_th, NULL);

	/* Still healthy: a plain round trip on a fresh target. */
	{
		struct vmexec_run run;

		if (target_start())
			fail("stub target setup after the run");
		int tries = 0;

		vmexec_run_prep(&run, stub_addr(stub_loop), STACK_TOP - 64);
		/* The 20 ms SIGALRM may still interrupt it: resume until the syscall. */
		do {
			in_run = 1;
			ret = vmexec_run(FD_VMEXEC, &run);
			in_run = 0;
		} while (!ret && run.exit_reason == VMEXEC_EXIT_INTERRUPTED && ++tries < 100);
		if (ret || run.exit_reason != VMEXEC_EXIT_SYSCALL || run.exit.syscall.nr != 123)
			fail("final round trip: %d exit %u nr %llu", ret, run.exit_reason,
			     (unsigned long long)run.exit.syscall.nr);
	}
	target_stop();
	ctx_drop();
	close(FD_VMEXEC);
	close(FD_OTHER_VM);
	waitpid(zombie_pid, NULL, 0);

	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	}
	fprintf(logf_, "vmexec-fuzz: %llu iterations in %.1f s (seed %#llx):", iter,
		(now - start) / 1000.0, seed);
	for (i = 0; i <= OP_UNKNOWN; i++)
		fprintf(logf_, " %s %lu%s", op_names[i], op_counts[i], i < OP_UNKNOWN ? "," : "\n");
	fprintf(logf_, "vmexec-fuzz: RUN: %lu ran (%lu syscall, %lu signal [%lu guest faults], "
		"%lu interrupted exits); buddy thread %lu round trips; racer %lu remaps; "
		"%lu handler runs\n", run_ok, run_exits[1], run_exits[2], run_faults_reported,
		run_exits[3], atomic_load(&buddy_trips), atomic_load(&racer_flips),
		atomic_load(&handler_runs));
	fprintf(logf_, "vmexec-fuzz: results: %lu ok", ok_count);
	for (i = 1; i < sizeof(errno_hist) / sizeof(errno_hist[0]); i++) {
		if (errno_hist[i])
			fprintf(logf_, ", %s %lu", strerrorname_np(i) ? strerrorname_np(i) : "?",
				errno_hist[i]);
	}
	fputc('\n', logf_);
	if (atomic_load(&buddy_errors))
		fail("buddy thread: %lu unexpected RUN errors", atomic_load(&buddy_errors));
	if (atomic_load(&failures)) {
		fprintf(logf_, "vmexec-fuzz: FAIL: %lu failures (seed %#llx; rerun with "
			"VMEXEC_FUZZ_SEED=%#llx VMEXEC_FUZZ_COUNT=%llu)\n", atomic_load(&failures),
			seed, seed, iter + 1);
		return 1;
	}
	fprintf(logf_, "vmexec-fuzz: PASS: seed %#llx, %llu iterations in %.1f s, %lu RUNs ran, "
		"0 failures\n", seed, iter, (now - start) / 1000.0, run_ok);
	return 0;
}
