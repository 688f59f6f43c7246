// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-stress: everything at once, for a bounded time.
 *
 *   vmexec-stress [SECONDS]      (or VMEXEC_STRESS_TIME=SECONDS; default 25)
 *
 * Runs as root in the test guest with the module loaded. First two focused
 * checks (each in a child of its own):
 *  - fault race: a guest that faults at once, again and again, with SIGSEGV
 *    in its sigmask while another thread sends the caller signals that are
 *    in the sigmask too; every guest fault must come back as a RUN exit and
 *    never reach the caller as a signal (its handler counts those);
 *  - target exit: once the target was killed and reaped, or exec'd, RUN and
 *    SYSCALLS on the binding must fail with ESRCH (the ABI's promise), also
 *    while another thread still runs a guest in the old address space;
 *  - new mm: address spaces with no process made, run in, swapped and
 *    dropped with guests running in them, their processes SIGKILLed at
 *    random (new_mm_phase()).
 * Then the main phase (SECONDS long): one orchestrator process (never in
 * guest mode itself, holding /dev/vmexec open for the whole run) keeps, at
 * the same time:
 *  - a target process, killed (SIGKILL) and replaced at random moments while
 *    guests run in its address space;
 *  - CALLERS caller processes, each with RUN_THREADS threads doing RUN round
 *    trips on one binding (one file; the last of them through a context of
 *    the file, VMEXEC_IOC_CONTEXT_RUN, made again after each rebinding) and CHURN_THREADS threads doing
 *    SYSCALLS batches on the same binding (mmap/munmap/mprotect/mremap/
 *    madvise/mincore/read/write churn on the pages the guests write to, so
 *    guests also fault); callers are SIGKILLed at random moments and
 *    replaced;
 *  - exec'ers: processes whose main thread execs (or exit_group()s) while
 *    their other threads run guests;
 *  - signals of every kind but SIGKILL (1-31 and SIGRTMIN..SIGRTMAX, thread-
 *    and process-directed, SIGSTOP followed by SIGCONT) sent at random to
 *    the callers, which have handlers for all of them and report a random
 *    subset through the RUN sigmask;
 *  - delete_module("vmexec", O_NONBLOCK) in a loop, which must fail with
 *    EWOULDBLOCK every time (the orchestrator's own open file pins the
 *    module; the refcount is checked before each attempt, as test_api.c
 *    does, so a broken pin cannot unload the module mid-run).
 * Guests check their registers at every exit (a counter that must advance by
 * exactly one per system call, the syscall number and rip) and callers check
 * their own TLS.
 *
 * Afterwards: every process reaped within a time limit (else its state and
 * kernel stack are printed: a stuck task fails), no mm_struct leaked (the
 * mm_struct slab is shrunk, which also empties KASAN's quarantine, and its
 * active object count compared with the count before the run), and RUN still
 * works on a fresh target. The harness's init then unloads the module.
 * Prints "vmexec-stress: PASS: <figures>" or "vmexec-stress: FAIL: ...";
 * exit status 0 only on PASS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <libvmexec.h>

#define DEFAULT_SECONDS	25
#define CALLERS		2
#define RUN_THREADS	3
#define CHURN_THREADS	1
#define CALLER_THREADS	(RUN_THREADS + CHURN_THREADS)
#define EXEC_THREADS	2

/* The descriptor every caller thread uses; rebinding dup2()s onto it. */
#define CALLER_FD	100

/* Pages the churn threads map and unmap in the target; guests write there. */
#define CHURN_BASE	0x7e2000000000UL
#define CHURN_PAGES	16
#define PAGE		4096UL

/* Guest system call number: never executed, only reported. */
#define GUEST_NR	1000

/* Signals sent: everything but SIGKILL, SIGSTOP (sent apart) and glibc's 32, 33. */
#define SIGBIT(s)	(1ULL << ((s) - 1))
#define FAULT_SIGS	(SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | \
			 SIGBIT(SIGFPE) | SIGBIT(SIGTRAP))

/*
 * Guest code, executed in the target's address space. The target is a fork
 * of this program (no exec), so it has this text at the same address.
 *   rbx: a page to write to; r12: counter, +1 per system call.
 */
extern const char guest_loop[], guest_loop_store[], guest_loop_after_syscall[];
extern const char guest_spin[], guest_fault[];
__asm__(".pushsection .text\n"
	".globl guest_loop, guest_loop_store, guest_loop_after_syscall, guest_spin, guest_fault\n"
	"guest_loop:\n"
	"	inc %r12\n"
	"guest_loop_store:\n"
	"	mov %r12, (%rbx)\n"
	"	mov $1000, %eax\n"
	"	syscall\n"
	"guest_loop_after_syscall:\n"
	"	jmp guest_loop\n"
	"guest_spin:\n"
	"	inc %r12\n"
	"	jmp guest_spin\n"
	"guest_fault:\n"		/* load from rbx (unmapped): a fault at once */
	"	mov (%rbx), %rax\n"
	"	ud2\n"
	".popsection\n");

/* Never mapped anywhere: what guest_fault loads from. */
#define FAULT_ADDR	0x7e2100000000UL

/* Stable pages for the guests (the target's copy of them): one per thread. */
static unsigned char guest_home[CALLERS * CALLER_THREADS + EXEC_THREADS + 4][PAGE]
	__attribute__((aligned(4096)));

/* ---- state shared by every process of the run --------------------------- */

struct caller_slot {
	_Atomic int pid;		/* 0: none */
	_Atomic int tids[CALLER_THREADS];
};

struct shared {
	_Atomic int stop;
	/* The current target: gen is odd while it is being replaced. */
	_Atomic unsigned int target_gen;
	_Atomic int target_pid;
	struct caller_slot callers[CALLERS];
	_Atomic unsigned long round_trips, exits_signal, exits_interrupted;
	_Atomic unsigned long guest_faults, rebinds, esrch;
	_Atomic unsigned long churn_batches, churn_calls;
	_Atomic unsigned long handler_runs, fault_leaks;
	_Atomic unsigned long errors;
	char first_error[256];
	_Atomic int first_error_set;
};

static struct shared *sh;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A small per-thread PRNG (xorshift64*). */
static uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned int rnd_below(uint64_t *s, unsigned int n)
{
	return n ? (unsigned int)(rnd_next(s) % n) : 0;
}

/* Errors are counted; the first one is kept for the verdict. Async-signal-safe enough. */
static void error_at(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	atomic_fetch_add(&sh->errors, 1);
	if (!atomic_exchange(&sh->first_error_set, 1))
		memcpy(sh->first_error, buf, sizeof(buf));
	if (atomic_load(&sh->errors) <= 20) {
		char line[300];
		int len = snprintf(line, sizeof(line), "vmexec-stress: error (pid %d): %s\n",
				   getpid(), buf);

		if (len > 0 && write(2, line, len < (int)sizeof(line) ? len : (int)sizeof(line) - 1) < 0)
			return;
	}
}

static int valid_errno(long ret)
{
	return ret < 0 && ret >= -133;
}

/* ---- binding to the current target -------------------------------------- */

/*
 * A pidfd for the current target, race-free against its replacement: the
 * orchestrator makes target_gen odd before it kills (and later reaps) the
 * target, so an unchanged even generation around pidfd_open() means the pid
 * had not been reaped (and reused) when the pidfd was made.
 */
static int target_pidfd(unsigned int *gen)
{
	for (;;) {
		unsigned int g1 = atomic_load(&sh->target_gen), g2;
		int pid, pfd;

		if (atomic_load(&sh->stop))
			return -ECANCELED;
		if (g1 & 1) {
			sleep_us(500);
			continue;
		}
		pid = atomic_load(&sh->target_pid);
		pfd = syscall(SYS_pidfd_open, pid, 0);
		g2 = atomic_load(&sh->target_gen);
		if (pfd >= 0 && g1 == g2) {
			*gen = g1;
			return pfd;
		}
		if (pfd >= 0)
			close(pfd);
		sleep_us(500);
	}
}

/* A new file bound to the current target, on descriptor @at. */
static int bind_current(int at, unsigned int *gen)
{
	int fd, pfd, ret;

	for (;;) {
		pfd = target_pidfd(gen);
		if (pfd < 0)
			return pfd;
		fd = vmexec_open();
		if (fd < 0) {
			close(pfd);
			error_at("vmexec_open: %s", strerror(-fd));
			return fd;
		}
		ret = vmexec_bind_pidfd(fd, pfd);
		close(pfd);
		if (ret == 0) {
			if (dup2(fd, at) < 0) {
				ret = -errno;
				close(fd);
				error_at("dup2: %s", strerror(-ret));
				return ret;
			}
			close(fd);
			return 0;
		}
		close(fd);
		/* The target died between pidfd_open() and BIND. */
		if (ret != -ESRCH) {
			error_at("BIND to target: %s", strerror(-ret));
			return ret;
		}
		sleep_us(500);
	}
}

/* ---- the target --------------------------------------------------------- */

static volatile unsigned long target_spins;

static void __attribute__((noreturn)) target_main(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Busy half the time, so its own CPU runs the mm the guests run on. */
	for (;;) {
		long long end = now_ms() + 2;

		while (now_ms() < end)
			target_spins++;
		sleep_us(2000);
	}
}

static pid_t spawn_target(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		target_main();
	return pid;
}

/* ---- callers ------------------------------------------------------------ */

static __thread volatile unsigned int tls_canary;
static _Atomic unsigned long caller_handler_runs;
/* The thread's last RUN exit, for the report of a fault that reaches it. */
static __thread volatile int last_exit_reason, last_exit_signo, last_exit_code;

/*
 * A fault signal the kernel raised (si_code > 0) reaching a handler is a
 * fault of this program: guests' faults are always reported through the RUN
 * sigmask instead. Returning would fault again for ever.
 */
static void die_on_own_fault(int sig, const siginfo_t *si, const void *uc)
{
	if (si->si_code > 0 && (FAULT_SIGS & SIGBIT(sig))) {
		const ucontext_t *u = uc;
		unsigned long fsbase = 0;
		char msg[300];
		int n;

		syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fsbase);
		n = snprintf(msg, sizeof(msg),
			     "vmexec-stress: fault in the program itself (pid %d tid %d): signal %d "
			     "code %d addr %p at rip %#llx, fs base %#lx; the thread's last RUN exit: "
			     "reason %d signal %d code %d\n", getpid(), gettid(), sig,
			     si->si_code, si->si_addr,
			     (unsigned long long)u->uc_mcontext.gregs[REG_RIP], fsbase,
			     last_exit_reason, last_exit_signo, last_exit_code);
		if (n > 0 && write(2, msg, n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1) < 0)
			_exit(99);
		_exit(99);
	}
}

static void on_any_signal(int sig, siginfo_t *si, void *uc)
{
	/*
	 * A guest's fault (on a churned page) that reached the caller instead
	 * of a RUN exit: counted, and safe to return from (the caller's own
	 * instruction did not fault).
	 */
	if (si->si_code > 0 && (FAULT_SIGS & SIGBIT(sig)) &&
	    (unsigned long)si->si_addr >= CHURN_BASE &&
	    (unsigned long)si->si_addr < CHURN_BASE + CHURN_PAGES * PAGE) {
		atomic_fetch_add(&sh->fault_leaks, 1);
		return;
	}
	die_on_own_fault(sig, si, uc);
	atomic_fetch_add_explicit(&caller_handler_runs, 1, memory_order_relaxed);
}

/* Handlers for every signal that can have one (glibc's 32 and 33 excepted). */
static void install_handlers(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33)
			continue;
		sigaction(s, &sa, NULL);
	}
}

struct caller_thread {
	int slot, idx;
	uint64_t seed;
};

static uint64_t random_sigmask(uint64_t *seed)
{
	uint64_t m = FAULT_SIGS;
	int s;

	for (s = 1; s <= 64; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33)
			continue;
		if (rnd_below(seed, 3) == 0)
			m |= SIGBIT(s);
	}
	return m;
}

/* A run thread's context of CALLER_FD, if it uses one; fd -1 until made. */
struct run_ctx {
	int fd;
	struct vmexec_run *area;
};

/*
 * One RUN, or one CONTEXT_RUN through the run area with *run copied in and
 * out. The context belongs to the file bound when it was made: after ESRCH
 * (the main thread rebinds CALLER_FD to a new target) it is made again.
 */
static int run_once(struct run_ctx *c, struct vmexec_run *run)
{
	int ret;

	if (!c)
		return vmexec_run(CALLER_FD, run);
	if (c->fd < 0) {
		ret = vmexec_context(CALLER_FD);
		if (ret < 0)
			return ret;
		c->fd = ret;
		ret = vmexec_context_map(c->fd, &c->area);
		if (ret) {
			close(c->fd);
			c->fd = -1;
			return ret;
		}
	}
	c->area->flags = run->flags;
	c->area->sigmask = run->sigmask;
	c->area->regs = run->regs;
	ret = vmexec_context_run(c->fd);
	if (ret == -ESRCH) {
		munmap(c->area, VMEXEC_CONTEXT_SIZE);
		close(c->fd);
		c->fd = -1;
	}
	if (ret)
		return ret;
	run->exit_reason = c->area->exit_reason;
	run->regs = c->area->regs;
	run->exit = c->area->exit;
	return 0;
}

static void *run_thread(void *p)
{
	struct caller_thread *ct = p;
	unsigned long home = (unsigned long)guest_home[ct->slot * CALLER_THREADS + ct->idx];
	unsigned long churn_page = 0;
	uint64_t seed = ct->seed, last = 0, sigmask;
	struct vmexec_run run;
	unsigned int n = 0;
	int spinner = ct->idx == 0, ret;
	struct run_ctx ctx = { -1, NULL };
	struct run_ctx *c = ct->idx == RUN_THREADS - 1 ? &ctx : NULL;

	atomic_store(&sh->callers[ct->slot].tids[ct->idx], gettid());
	tls_canary = 0x5a5a0000u + gettid();
	sigmask = random_sigmask(&seed);
	/* Thread 0 spins in guest mode: only signals bring it back. */
	vmexec_run_prep(&run, (uintptr_t)(spinner ? guest_spin : guest_loop), home + PAGE - 64);
	run.sigmask = sigmask;
	run.regs.rbx = home;

	while (!atomic_load(&sh->stop)) {
		ret = run_once(c, &run);
		last_exit_reason = ret ? ret : (int)run.exit_reason;
		last_exit_signo = run.exit.signal.signo;
		last_exit_code = run.exit.signal.code;
		if (spinner) {
			if (ret == -ESRCH) {
				atomic_fetch_add(&sh->esrch, 1);
				sleep_us(1000);
			} else if (ret) {
				error_at("RUN (spinner): %d (%s)", ret, strerror(-ret));
				sleep_us(1000);
			} else if (run.exit_reason == VMEXEC_EXIT_INTERRUPTED) {
				atomic_fetch_add_explicit(&sh->exits_interrupted, 1,
							  memory_order_relaxed);
			} else if (run.exit_reason == VMEXEC_EXIT_SIGNAL &&
				   (sigmask & SIGBIT(run.exit.signal.signo)) &&
				   run.exit.signal.code <= 0) {
				atomic_fetch_add_explicit(&sh->exits_signal, 1,
							  memory_order_relaxed);
			} else {
				error_at("spinner: exit %u signal %d code %d rip %#llx",
					 run.exit_reason, run.exit.signal.signo,
					 run.exit.signal.code, (unsigned long long)run.regs.rip);
			}
			if (!ret && (run.regs.rip < (uintptr_t)guest_spin ||
				     run.regs.rip > (uintptr_t)guest_spin + 8))
				error_at("spinner: rip %#llx outside the loop",
					 (unsigned long long)run.regs.rip);
			continue;
		}
		if (tls_canary != 0x5a5a0000u + (unsigned int)gettid()) {
			error_at("caller TLS changed across RUN");
			tls_canary = 0x5a5a0000u + gettid();
		}
		if (ret == -ESRCH) {
			/* The target is gone; the main thread rebinds. */
			atomic_fetch_add(&sh->esrch, 1);
			sleep_us(1000);
			continue;
		}
		if (ret) {
			error_at("RUN: %d (%s)", ret, strerror(-ret));
			sleep_us(1000);
			continue;
		}
		switch (run.exit_reason) {
		case VMEXEC_EXIT_SYSCALL:
			if (run.exit.syscall.nr != GUEST_NR ||
			    run.exit.syscall.abi != VMEXEC_ABI_SYSCALL64 ||
			    run.regs.rip != (uintptr_t)guest_loop_after_syscall ||
			    run.regs.r12 != last + 1) {
				error_at("bad syscall exit: nr %llu abi %u rip %#llx (want %p) r12 %llu (want %llu)",
					 (unsigned long long)run.exit.syscall.nr,
					 run.exit.syscall.abi,
					 (unsigned long long)run.regs.rip,
					 (void *)guest_loop_after_syscall,
					 (unsigned long long)run.regs.r12,
					 (unsigned long long)last + 1);
			}
			last = run.regs.r12;
			run.regs.rax = 0;
			atomic_fetch_add_explicit(&sh->round_trips, 1, memory_order_relaxed);
			/* Now and then write to a page the churn threads play with. */
			if (++n % 8 == 0) {
				churn_page = CHURN_BASE + rnd_below(&seed, CHURN_PAGES) * PAGE;
				run.regs.rbx = churn_page;
			} else {
				run.regs.rbx = home;
			}
			if (n % 512 == 0)
				run.sigmask = sigmask = random_sigmask(&seed);
			break;
		case VMEXEC_EXIT_SIGNAL:
			atomic_fetch_add_explicit(&sh->exits_signal, 1, memory_order_relaxed);
			if (run.exit.signal.signo < 1 || run.exit.signal.signo > 64 ||
			    !(sigmask & SIGBIT(run.exit.signal.signo))) {
				error_at("reported signal %d not in sigmask %#llx",
					 run.exit.signal.signo, (unsigned long long)sigmask);
				break;
			}
			if (run.exit.signal.code > 0 && run.exit.signal.signo == SIGSEGV) {
				/* A guest fault: only on a churned page, at the store. */
				atomic_fetch_add_explicit(&sh->guest_faults, 1, memory_order_relaxed);
				if (run.exit.signal.addr != run.regs.rbx ||
				    run.regs.rbx < CHURN_BASE ||
				    run.regs.rbx >= CHURN_BASE + CHURN_PAGES * PAGE ||
				    run.regs.rip != (uintptr_t)guest_loop_store) {
					error_at("unexpected guest fault at %#llx rip %#llx rbx %#llx",
						 (unsigned long long)run.exit.signal.addr,
						 (unsigned long long)run.regs.rip,
						 (unsigned long long)run.regs.rbx);
				}
				run.regs.rbx = home;
			} else if (run.exit.signal.code > 0 &&
				   (FAULT_SIGS & SIGBIT(run.exit.signal.signo))) {
				error_at("unexpected guest fault signal %d code %d",
					 run.exit.signal.signo, run.exit.signal.code);
			}
			goto check_progress;
		case VMEXEC_EXIT_INTERRUPTED:
			atomic_fetch_add_explicit(&sh->exits_interrupted, 1, memory_order_relaxed);
check_progress:
			if (run.regs.r12 != last && run.regs.r12 != last + 1)
				error_at("r12 %llu after an interruption, last syscall at %llu",
					 (unsigned long long)run.regs.r12,
					 (unsigned long long)last);
			break;
		default:
			error_at("exit_reason %u", run.exit_reason);
			break;
		}
	}
	return NULL;
}

/* One SYSCALLS entry of the churn. */
static void churn_entry(struct vmexec_syscall *sc, uint64_t *seed, int pipe_rd, int pipe_wr)
{
	unsigned long page = CHURN_BASE + rnd_below(seed, CHURN_PAGES) * PAGE;
	unsigned long len = (1 + rnd_below(seed, 4)) * PAGE;
	unsigned long other = CHURN_BASE + rnd_below(seed, CHURN_PAGES) * PAGE;

	if (page + len > CHURN_BASE + CHURN_PAGES * PAGE)
		len = CHURN_BASE + CHURN_PAGES * PAGE - page;
	switch (rnd_below(seed, 9)) {
	case 0:
	case 1:
		vmexec_prep_syscall(sc, SYS_mmap, page, len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		vmexec_prep_syscall(sc, SYS_munmap, page, len, 0, 0, 0, 0);
		break;
	case 3:
		vmexec_prep_syscall(sc, SYS_mprotect, page, len,
				    rnd_below(seed, 2) ? PROT_READ : PROT_READ | PROT_WRITE,
				    0, 0, 0);
		break;
	case 4:
		vmexec_prep_syscall(sc, SYS_madvise, page, len, MADV_DONTNEED, 0, 0, 0);
		break;
	case 5:
		if (other + PAGE > CHURN_BASE + CHURN_PAGES * PAGE || other == page)
			other = CHURN_BASE;
		vmexec_prep_syscall(sc, SYS_mremap, page, PAGE, PAGE,
				    MREMAP_MAYMOVE | MREMAP_FIXED, other == page ? page + PAGE : other, 0);
		break;
	case 6:
		vmexec_prep_syscall(sc, SYS_mincore, page, len, other, 0, 0, 0);
		break;
	case 7:
		vmexec_prep_syscall(sc, SYS_write, pipe_wr, page, 64, 0, 0, 0);
		break;
	default:
		vmexec_prep_syscall(sc, SYS_read, pipe_rd, page + 128, 64, 0, 0, 0);
		break;
	}
}

static void *churn_thread(void *p)
{
	struct caller_thread *ct = p;
	struct vmexec_syscall sc[8];
	uint64_t seed = ct->seed;
	int pp[2], ret, i, n;

	atomic_store(&sh->callers[ct->slot].tids[ct->idx], gettid());
	if (pipe2(pp, O_NONBLOCK | O_CLOEXEC) < 0) {
		error_at("pipe2: %s", strerror(errno));
		return NULL;
	}
	while (!atomic_load(&sh->stop)) {
		n = 1 + rnd_below(&seed, 8);
		for (i = 0; i < n; i++)
			churn_entry(&sc[i], &seed, pp[0], pp[1]);
		ret = vmexec_syscalls(CALLER_FD, sc, n, 0);
		if (ret == -ESRCH) {
			atomic_fetch_add(&sh->esrch, 1);
			sleep_us(1000);
			continue;
		}
		if (ret != n) {
			error_at("SYSCALLS: %d of %d (%s)", ret, n, ret < 0 ? strerror(-ret) : "short");
			sleep_us(1000);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (sc[i].ret < 0 && !valid_errno(sc[i].ret))
				error_at("SYSCALLS entry nr %llu returned %lld",
					 (unsigned long long)sc[i].nr, (long long)sc[i].ret);
		}
		atomic_fetch_add_explicit(&sh->churn_batches, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&sh->churn_calls, n, memory_order_relaxed);
		if (rnd_below(&seed, 4) == 0)
			sleep_us(rnd_below(&seed, 2000));
	}
	close(pp[0]);
	close(pp[1]);
	return NULL;
}

static void __attribute__((noreturn)) caller_main(int slot, uint64_t seed)
{
	struct caller_thread ct[CALLER_THREADS];
	pthread_t th[CALLER_THREADS];
	unsigned int gen;
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	install_handlers(on_any_signal);
	if (bind_current(CALLER_FD, &gen))
		_exit(atomic_load(&sh->stop) ? 0 : 2);
	for (i = 0; i < CALLER_THREADS; i++) {
		ct[i].slot = slot;
		ct[i].idx = i;
		ct[i].seed = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		if (pthread_create(&th[i], NULL, i < RUN_THREADS ? run_thread : churn_thread,
				   &ct[i])) {
			error_at("pthread_create failed");
			_exit(3);
		}
	}
	/* Follow the target: rebind when it is replaced. */
	while (!atomic_load(&sh->stop)) {
		unsigned int g = atomic_load(&sh->target_gen);

		if (!(g & 1) && g != gen) {
			if (bind_current(CALLER_FD, &gen) == 0)
				atomic_fetch_add(&sh->rebinds, 1);
		}
		sleep_us(2000);
	}
	for (i = 0; i < CALLER_THREADS; i++)
		pthread_join(th[i], NULL);
	atomic_fetch_add(&sh->handler_runs, atomic_load(&caller_handler_runs));
	_exit(0);
}

static pid_t spawn_caller(int slot, uint64_t seed)
{
	pid_t pid;
	int i;

	for (i = 0; i < CALLER_THREADS; i++)
		atomic_store(&sh->callers[slot].tids[i], 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		caller_main(slot, seed);
	return pid;
}

/* ---- exec'ers ----------------------------------------------------------- */

static void *exec_guest_thread(void *p)
{
	struct vmexec_run run;
	unsigned long home = (unsigned long)guest_home[CALLERS * CALLER_THREADS + (uintptr_t)p];

	vmexec_run_prep(&run, (uintptr_t)guest_spin, home + PAGE - 64);
	run.sigmask = FAULT_SIGS;
	for (;;) {
		int ret = vmexec_run(CALLER_FD, &run);

		if (ret == -ESRCH)
			sleep_us(1000);
		else if (ret)
			_exit(20);	/* the exec'er's status says what went wrong */
	}
	return NULL;
}

/* Its main thread execs (or exits) while the other threads run guests. */
static void __attribute__((noreturn)) execer_main(uint64_t seed, int do_exec)
{
	pthread_t th;
	unsigned int gen;
	uintptr_t i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (bind_current(CALLER_FD, &gen))
		_exit(atomic_load(&sh->stop) ? 0 : 2);
	for (i = 0; i < EXEC_THREADS; i++) {
		if (pthread_create(&th, NULL, exec_guest_thread, (void *)i))
			_exit(3);
	}
	sleep_us(1000 + rnd_below(&seed, 30000));
	if (do_exec) {
		/* CALLER_FD is not close-on-exec: the probe checks it is still there. */
		execl("/proc/self/exe", "vmexec-stress", "--exec-probe", (char *)NULL);
		_exit(4);
	}
	_exit(0);
}

/* After exec: our file survived (no O_CLOEXEC on CALLER_FD) and still works. */
static int exec_probe(void)
{
	int ret = vmexec_api_version(CALLER_FD);

	if (ret != VMEXEC_API_VERSION)
		return 5;
	return 0;
}

/* ---- a guest fault together with other signals --------------------------- */

/*
 * One thread runs a guest that faults at once, again and again (SIGSEGV in
 * its sigmask, so every fault must come back as a RUN exit), while a second
 * thread of the same process sends it signals that are in the sigmask too.
 * A guest fault must never reach the caller as a signal: the handler counts
 * fault signals (si_code > 0) carrying the guest's address that arrive
 * outside RUN, which is safe to return from (the caller's own code did not
 * fault). Runs in a child of its own, with a target of its own.
 */
struct fault_race {
	_Atomic unsigned long runs, faults_reported, others_reported, interrupted;
	_Atomic unsigned long leaks, signals_sent, errors;
	_Atomic int leak_signo, leak_code, leak_prev_signo, leak_prev_code, leak_prev_exit_code;
	_Atomic int runner_tid, stop;
};

static struct fault_race *fr;
static __thread volatile int fr_leaked_now;

static void fault_race_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code > 0 && (FAULT_SIGS & SIGBIT(sig))) {
		if ((unsigned long)si->si_addr != FAULT_ADDR) {
			/* Not the guest's: a fault of this program. */
			die_on_own_fault(sig, si, uc);
		}
		if (!atomic_fetch_add(&fr->leaks, 1)) {
			atomic_store(&fr->leak_signo, sig);
			atomic_store(&fr->leak_code, si->si_code);
			fr_leaked_now = 1;
		}
	}
}

static void *fault_race_sender(void *p)
{
	static const int sigs[] = { SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGUSR1, SIGUSR2 };
	uint64_t seed = (uintptr_t)p;
	int tid;

	while (!(tid = atomic_load(&fr->runner_tid)))
		sleep_us(100);
	while (!atomic_load(&fr->stop)) {
		syscall(SYS_tgkill, getpid(), tid, sigs[rnd_below(&seed, 6)]);
		atomic_fetch_add(&fr->signals_sent, 1);
		sleep_us(rnd_below(&seed, 300));
	}
	return NULL;
}

static void __attribute__((noreturn)) fault_race_main(pid_t target, long long end_ms)
{
	struct sigaction sa;
	struct vmexec_run run;
	pthread_t th;
	int fd, s, ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_race_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (s = 1; s < NSIG; s++) {
		if (s != SIGKILL && s != SIGSTOP && s != 32 && s != 33)
			sigaction(s, &sa, NULL);
	}
	fd = vmexec_open();
	if (fd < 0 || vmexec_bind_pid(fd, target))
		_exit(2);
	atomic_store(&fr->runner_tid, gettid());
	if (pthread_create(&th, NULL, fault_race_sender, (void *)(uintptr_t)end_ms))
		_exit(3);
	while (now_ms() < end_ms) {
		vmexec_run_prep(&run, (uintptr_t)guest_fault, (uintptr_t)guest_home[0] + PAGE - 64);
		run.regs.rbx = FAULT_ADDR;
		run.sigmask = FAULT_SIGS | SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2);
		ret = vmexec_run(fd, &run);
		if (fr_leaked_now) {
			/* What this RUN reported while the guest's fault went to us. */
			atomic_store(&fr->leak_prev_signo, ret ? ret : (int)run.exit_reason);
			atomic_store(&fr->leak_prev_code, run.exit.signal.signo);
			atomic_store(&fr->leak_prev_exit_code, run.exit.signal.code);
			fr_leaked_now = 0;
		}
		atomic_fetch_add(&fr->runs, 1);
		if (ret) {
			atomic_fetch_add(&fr->errors, 1);
			continue;
		}
		if (run.exit_reason == VMEXEC_EXIT_INTERRUPTED)
			atomic_fetch_add(&fr->interrupted, 1);
		else if (run.exit_reason != VMEXEC_EXIT_SIGNAL)
			atomic_fetch_add(&fr->errors, 1);
		else if (run.exit.signal.signo == SIGSEGV && run.exit.signal.code > 0 &&
			 run.exit.signal.addr == FAULT_ADDR)
			atomic_fetch_add(&fr->faults_reported, 1);
		else
			atomic_fetch_add(&fr->others_reported, 1);
	}
	atomic_store(&fr->stop, 1);
	pthread_join(th, NULL);
	_exit(0);
}

static void fault_race_phase(unsigned long seconds)
{
	long long end;
	pid_t target, child;
	int status;

	fr = mmap(NULL, sizeof(*fr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fr == MAP_FAILED) {
		error_at("mmap: %s", strerror(errno));
		return;
	}
	memset(fr, 0, sizeof(*fr));
	target = spawn_target();
	end = now_ms() + (long long)seconds * 1000;
	fflush(NULL);
	child = fork();
	if (child == 0)
		fault_race_main(target, end);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		error_at("fault race child ended with status %#x", status);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	printf("vmexec-stress: fault race: %lu s, %lu RUNs of a guest that faults at once while "
	       "%lu signals (also in its sigmask) were sent to it: %lu faults reported, %lu other "
	       "signals reported, %lu interrupted, %lu errors; %lu guest faults delivered to the "
	       "caller instead of reported\n", seconds, atomic_load(&fr->runs),
	       atomic_load(&fr->signals_sent), atomic_load(&fr->faults_reported),
	       atomic_load(&fr->others_reported), atomic_load(&fr->interrupted),
	       atomic_load(&fr->errors), atomic_load(&fr->leaks));
	if (atomic_load(&fr->errors))
		error_at("fault race: %lu RUN errors", atomic_load(&fr->errors));
	if (atomic_load(&fr->leaks))
		error_at("fault race: %lu guest faults (SIGSEGV, in the RUN sigmask) were delivered "
			 "to the caller instead of being reported; the first as signal %d code %d, "
			 "on the way out of a RUN that returned exit %d with signal %d code %d",
			 atomic_load(&fr->leaks), atomic_load(&fr->leak_signo),
			 atomic_load(&fr->leak_code), atomic_load(&fr->leak_prev_signo),
			 atomic_load(&fr->leak_prev_code), atomic_load(&fr->leak_prev_exit_code));
	munmap(fr, sizeof(*fr));
}

/* ---- address spaces with no process ------------------------------------ */

/*
 * New-mm churn: in each of NM_PROCS processes, a creator thread makes a new
 * address space again and again (VMEXEC_BIND_NEW_MM, code and data mapped
 * with SYSCALLS, the code copied in with MEM) and swaps it onto NM_SLOT_FD
 * with dup2(), dropping its last descriptor to the one before while runner
 * threads may still run guests in it; NM_RUNNERS threads dup() the slot and
 * do RUN round trips there. The processes are SIGKILLed and replaced at
 * random, with guests running. Every exit must be the guest's syscall at
 * its rip; the mm_struct count checked at the end covers the teardown.
 */
#define NM_PROCS	2
#define NM_RUNNERS	2
#define NM_SLOT_FD	200
#define NM_CODE		0x7e2000000000UL
#define NM_DATA		0x7e2000100000UL

struct nm_shared {
	_Atomic unsigned long created, runs, bad_exits, errors, kills;
	_Atomic int stop;
};

static struct nm_shared *nm;
static int kill_reap(pid_t pid, int sig, const char *what);

/* 1: incq (%rbx); mov $39,%eax; syscall; jmp 1b */
static const unsigned char nm_code[] = {
	0x48, 0xff, 0x03, 0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf4,
};

/* A file bound to a new address space with nm_code at NM_CODE, or -errno. */
static int nm_make(void)
{
	struct iovec l = { (void *)nm_code, sizeof(nm_code) };
	struct iovec r = { (void *)NM_CODE, sizeof(nm_code) };
	struct vmexec_syscall sc[3];
	int fd = vmexec_open(), ret;

	if (fd < 0)
		return fd;
	ret = vmexec_bind_new_mm(fd);
	vmexec_prep_syscall(&sc[0], SYS_mmap, NM_CODE, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	vmexec_prep_syscall(&sc[1], SYS_mmap, NM_DATA, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	vmexec_prep_syscall(&sc[2], SYS_mprotect, NM_CODE, PAGE, PROT_READ | PROT_EXEC, 0, 0, 0);
	if (!ret && vmexec_mem_write(fd, &l, &r, 1) != -EFAULT)
		ret = -EPROTO;		/* nothing mapped yet: must fault */
	if (!ret && vmexec_syscalls(fd, sc, 2, VMEXEC_SYSCALLS_STOP_ON_ERROR) != 2)
		ret = -EPROTO;
	if (!ret && vmexec_mem_write(fd, &l, &r, 1) != (int)sizeof(nm_code))
		ret = -EPROTO;
	if (!ret && vmexec_syscalls(fd, &sc[2], 1, VMEXEC_SYSCALLS_STOP_ON_ERROR) != 1)
		ret = -EPROTO;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static void *nm_runner(void *p)
{
	uint64_t seed = (uintptr_t)p;
	struct vmexec_run run;
	int fd, i, n, ret;

	while (!atomic_load(&nm->stop)) {
		fd = dup(NM_SLOT_FD);
		if (fd < 0)
			continue;
		vmexec_run_prep(&run, NM_CODE, 0);
		run.regs.rbx = NM_DATA;
		n = 1 + rnd_below(&seed, 64);
		for (i = 0; i < n; i++) {
			ret = vmexec_run(fd, &run);
			if (ret) {
				atomic_fetch_add(&nm->errors, 1);
				break;
			}
			atomic_fetch_add(&nm->runs, 1);
			if (run.exit_reason != VMEXEC_EXIT_SYSCALL || run.exit.syscall.nr != 39 ||
			    run.regs.rip != NM_CODE + 10 || run.regs.rbx != NM_DATA)
				atomic_fetch_add(&nm->bad_exits, 1);
		}
		close(fd);
	}
	return NULL;
}

static void __attribute__((noreturn)) nm_main(uint64_t seed)
{
	pthread_t th[NM_RUNNERS];
	int i, fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = nm_make();
	if (fd < 0 || dup2(fd, NM_SLOT_FD) < 0)
		_exit(2);
	close(fd);
	for (i = 0; i < NM_RUNNERS; i++)
		if (pthread_create(&th[i], NULL, nm_runner, (void *)(uintptr_t)(seed + i + 1)))
			_exit(3);
	while (!atomic_load(&nm->stop)) {
		fd = nm_make();
		if (fd < 0) {
			atomic_fetch_add(&nm->errors, 1);
			continue;
		}
		atomic_fetch_add(&nm->created, 1);
		/* The old one goes when the last runner leaves it. */
		dup2(fd, NM_SLOT_FD);
		close(fd);
		sleep_us(rnd_below(&seed, 3000));
	}
	for (i = 0; i < NM_RUNNERS; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

static void new_mm_phase(unsigned long seconds, uint64_t seed)
{
	pid_t pids[NM_PROCS];
	long long end;
	int i, status;

	nm = mmap(NULL, sizeof(*nm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (nm == MAP_FAILED) {
		error_at("mmap: %s", strerror(errno));
		return;
	}
	memset(nm, 0, sizeof(*nm));
	fflush(NULL);
	for (i = 0; i < NM_PROCS; i++)
		if ((pids[i] = fork()) == 0)
			nm_main(seed + (uint64_t)i * 1000);
	end = now_ms() + (long long)seconds * 1000;
	while (now_ms() < end) {
		sleep_us(100000 + rnd_below(&seed, 300000));
		i = rnd_below(&seed, NM_PROCS);
		if (pids[i] > 0 && kill_reap(pids[i], SIGKILL, "new-mm process") != -1)
			atomic_fetch_add(&nm->kills, 1);
		fflush(NULL);
		if ((pids[i] = fork()) == 0)
			nm_main(rnd_next(&seed));
	}
	atomic_store(&nm->stop, 1);
	for (i = 0; i < NM_PROCS; i++) {
		if (pids[i] <= 0)
			continue;
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			error_at("new-mm process ended with status %#x", status);
	}
	printf("vmexec-stress: new mm: %lu s, %lu address spaces made and dropped, %lu RUNs in "
	       "them, %lu processes killed with guests running; %lu wrong exits, %lu errors\n",
	       seconds, atomic_load(&nm->created), atomic_load(&nm->runs), atomic_load(&nm->kills),
	       atomic_load(&nm->bad_exits), atomic_load(&nm->errors));
	if (atomic_load(&nm->bad_exits) || atomic_load(&nm->errors))
		error_at("new mm: %lu wrong exits, %lu errors", atomic_load(&nm->bad_exits),
			 atomic_load(&nm->errors));
	munmap(nm, sizeof(*nm));
}

/* ---- the binding after the target has gone ------------------------------ */

/*
 * README: "once the target exits or execs (the binding keeps the old address
 * space), every later call fails with ESRCH". Checked while another thread
 * of ours still runs a guest in that address space (which keeps it alive):
 * after the target was killed and reaped, and after it exec'd. Runs in a
 * child of its own, the target's parent, which reports through te.
 */

struct target_exit {
	int run_ret[2], sys_ret[2], run_after[2], setup_err[2];
};

static struct target_exit *te;
static _Atomic int te_stop;

static void te_noop(int sig)
{
	(void)sig;
}

static void *te_spinner(void *p)
{
	struct vmexec_run run;
	int fd = (int)(intptr_t)p;

	vmexec_run_prep(&run, (uintptr_t)guest_spin, (uintptr_t)guest_home[1] + PAGE - 64);
	while (!atomic_load(&te_stop)) {
		if (vmexec_run(fd, &run))
			break;
	}
	return NULL;
}

static void __attribute__((noreturn)) target_exit_main(int do_exec)
{
	struct vmexec_run run;
	pthread_t th;
	int fd, go[2], gone[2], i = do_exec;
	pid_t t;
	long res;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGUSR1, te_noop);
	if (pipe2(go, O_CLOEXEC) || pipe2(gone, O_CLOEXEC))
		_exit(2);
	fflush(NULL);
	t = fork();
	if (t == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(gone[0]);
		if (read(go[0], &c, 1) == 1 && do_exec)
			execl("/bin/busybox", "sleep", "60", (char *)NULL);
		for (;;)
			pause();
	}
	close(gone[1]);
	fd = vmexec_open();
	if (fd < 0 || vmexec_bind_pid(fd, t)) {
		te->setup_err[i] = 1;
		_exit(3);
	}
	if (pthread_create(&th, NULL, te_spinner, (void *)(intptr_t)fd))
		_exit(4);
	sleep_us(100000);
	if (do_exec) {
		/* EOF on the close-on-exec pipe: the exec is done. */
		if (write(go[1], "x", 1) != 1 || read(gone[0], &c, 1) != 0)
			te->setup_err[i] = 1;
	} else {
		kill(t, SIGKILL);
		waitpid(t, NULL, 0);
	}
	sleep_us(50000);
	vmexec_run_prep(&run, (uintptr_t)guest_loop, (uintptr_t)guest_home[0] + PAGE - 64);
	run.regs.rbx = (uintptr_t)guest_home[0];
	te->run_ret[i] = vmexec_run(fd, &run);
	te->sys_ret[i] = vmexec_syscall(fd, &res, SYS_mmap, 0, PAGE, PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	atomic_store(&te_stop, 1);
	while (pthread_tryjoin_np(th, NULL)) {
		pthread_kill(th, SIGUSR1);
		sleep_us(1000);
	}
	te->run_after[i] = vmexec_run(fd, &run);
	kill(t, SIGKILL);
	waitpid(t, NULL, 0);
	_exit(0);
}

static void target_exit_phase(void)
{
	static const char *const how[] = { "killed and reaped", "exec'd" };
	int i;
	pid_t child;

	te = mmap(NULL, sizeof(*te), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (te == MAP_FAILED) {
		error_at("mmap: %s", strerror(errno));
		return;
	}
	memset(te, 0, sizeof(*te));
	for (i = 0; i < 2; i++) {
		fflush(NULL);
		child = fork();
		if (child == 0)
			target_exit_main(i);
		if (kill_reap(child, 0, "target-exit check") != 0 || te->setup_err[i]) {
			error_at("target exit check (%s) could not run", how[i]);
			continue;
		}
		printf("vmexec-stress: target %s while another thread of the caller runs a guest in "
		       "its address space: then RUN %d (%s), SYSCALLS %d (%s), want ESRCH; with no "
		       "guest left, RUN %d (%s)\n", how[i], te->run_ret[i],
		       te->run_ret[i] ? strerror(-te->run_ret[i]) : "ran",
		       te->sys_ret[i], te->sys_ret[i] ? strerror(-te->sys_ret[i]) : "ran",
		       te->run_after[i], te->run_after[i] ? strerror(-te->run_after[i]) : "ran");
		if (te->run_ret[i] != -ESRCH || te->sys_ret[i] != -ESRCH)
			error_at("after the target %s, RUN gave %d and SYSCALLS %d instead of ESRCH "
				 "(README: every later call fails with ESRCH) while a guest of ours "
				 "still ran in its address space", how[i], te->run_ret[i],
				 te->sys_ret[i]);
		if (te->run_after[i] != -ESRCH)
			error_at("after the target %s and with no guest left, RUN gave %d, not ESRCH",
				 how[i], te->run_after[i]);
	}
	munmap(te, sizeof(*te));
}

/* ---- leak accounting ---------------------------------------------------- */

/* Active mm_structs after emptying the cache's per-cpu slabs and KASAN quarantine. */
static long mm_struct_count(void)
{
	char line[512];
	long active = -1;
	FILE *f;
	int fd;

	fd = open("/sys/kernel/slab/mm_struct/shrink", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			active = -1;
		close(fd);
	}
	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "mm_struct ", 10)) {
			active = atol(line + 10);
			break;
		}
	}
	fclose(f);
	return active;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = atol(line + klen + 1);
			break;
		}
	}
	fclose(f);
	return val;
}

/* ---- the orchestrator --------------------------------------------------- */

static volatile int control_fd = -1;
static _Atomic unsigned long rmmod_refused, rmmod_skipped, signals_sent, stops_sent;
static _Atomic int rmmod_succeeded;
static long long run_end_ms;

static int read_refcnt(void)
{
	char buf[32];
	ssize_t n;
	int fd = open("/sys/module/vmexec/refcnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

static void *rmmod_thread(void *p)
{
	uint64_t seed = (uintptr_t)p;

	while (!atomic_load(&sh->stop)) {
		int refs = read_refcnt();

		/* Our own open file pins it: never try unless the pin shows. */
		if (refs < 1) {
			atomic_fetch_add(&rmmod_skipped, 1);
			error_at("module refcnt %d while the orchestrator holds /dev/vmexec open", refs);
		} else if (syscall(SYS_delete_module, "vmexec", O_NONBLOCK) == 0) {
			atomic_store(&rmmod_succeeded, 1);
			error_at("delete_module() succeeded mid-run (refcnt was %d)", refs);
			break;
		} else if (errno != EWOULDBLOCK) {
			error_at("delete_module(): %s, want EWOULDBLOCK", strerror(errno));
		} else {
			atomic_fetch_add(&rmmod_refused, 1);
		}
		sleep_us(1000 + rnd_below(&seed, 3000));
	}
	return NULL;
}

static const int plain_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1,
	SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT,
	SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,
	SIGWINCH, SIGIO, SIGPWR, SIGSYS,
};

static int random_signal(uint64_t *seed)
{
	unsigned int n = sizeof(plain_signals) / sizeof(plain_signals[0]);
	unsigned int rt = SIGRTMAX - SIGRTMIN + 1;
	unsigned int i = rnd_below(seed, n + rt);

	return i < n ? plain_signals[i] : SIGRTMIN + (int)(i - n);
}

static void *signal_thread(void *p)
{
	uint64_t seed = (uintptr_t)p;

	while (!atomic_load(&sh->stop)) {
		int slot = rnd_below(&seed, CALLERS);
		int pid = atomic_load(&sh->callers[slot].pid);
		int tid = atomic_load(&sh->callers[slot].tids[rnd_below(&seed, CALLER_THREADS)]);
		int sig = random_signal(&seed);

		if (pid > 0 && tid > 0) {
			int r = rnd_below(&seed, 100);

			if (r < 2) {
				/* Group stop with threads in guest mode, then continue. */
				kill(pid, SIGSTOP);
				sleep_us(1000 + rnd_below(&seed, 10000));
				kill(pid, SIGCONT);
				atomic_fetch_add(&stops_sent, 1);
			} else if (r < 20) {
				kill(pid, sig);
			} else {
				syscall(SYS_tgkill, pid, tid, sig);
			}
			atomic_fetch_add(&signals_sent, 1);
		}
		sleep_us(rnd_below(&seed, 1500));
	}
	return NULL;
}

static void on_orchestrator_signal(int sig, siginfo_t *si, void *uc)
{
	die_on_own_fault(sig, si, uc);
}

/* Print what a task that does not die is doing, then give up on it. */
static void report_stuck(pid_t pid, const char *what)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	error_at("%s %d did not exit within 20 s after SIGKILL", what, pid);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			printf("vmexec-stress: stuck %s: %s", what, buf);
		}
		close(fd);
	}
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			printf("vmexec-stress: kernel stack of %d:\n%s", pid, buf);
		}
		close(fd);
	}
	fflush(stdout);
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "w", 1) < 0)
			printf("vmexec-stress: sysrq-trigger: %s\n", strerror(errno));
		close(fd);
	}
}

/* SIGKILL (if asked) and reap pid within 20 s; returns its wait status or -1. */
static int kill_reap(pid_t pid, int sig, const char *what)
{
	long long end = now_ms() + 20000;
	int status;

	if (sig)
		kill(pid, sig);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR) {
			error_at("waitpid(%s %d): %s", what, pid, strerror(errno));
			return -1;
		}
		if (now_ms() > end) {
			report_stuck(pid, what);
			return -1;
		}
		sleep_us(2000);
	}
}

struct figures {
	unsigned long target_kills, caller_kills, execs, exits;
};

/* target_gen is odd while there is no target to bind to. */
static void retire_target(struct figures *fig)
{
	pid_t old = atomic_load(&sh->target_pid);
	int status;

	if (!(atomic_load(&sh->target_gen) & 1))
		atomic_fetch_add(&sh->target_gen, 1);
	if (old <= 0)
		return;
	atomic_store(&sh->target_pid, 0);
	status = kill_reap(old, SIGKILL, "target");
	if (status != -1 && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		error_at("target %d ended with status %#x, not SIGKILL", old, status);
	else if (fig && status != -1)
		fig->target_kills++;
}

static void publish_target(void)
{
	pid_t pid = spawn_target();

	if (pid < 0) {
		error_at("fork target: %s", strerror(errno));
		return;
	}
	atomic_store(&sh->target_pid, pid);
	atomic_fetch_add(&sh->target_gen, 1);	/* even: published */
}

static void reap_caller(int slot, int sig, struct figures *fig)
{
	pid_t pid = atomic_load(&sh->callers[slot].pid);
	int status;

	if (pid <= 0)
		return;
	/* No more signals to it before its pid can be reused. */
	atomic_store(&sh->callers[slot].pid, 0);
	status = kill_reap(pid, sig, "caller");
	if (status == -1)
		return;
	if (sig == SIGKILL) {
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			fig->caller_kills++;
		else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			error_at("caller %d ended with status %#x", pid, status);
	} else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		error_at("caller %d ended with status %#x", pid, status);
	}
}

struct execer {
	pid_t pid;
	int do_exec;
};

static void reap_execer(struct execer *e, struct figures *fig, int force)
{
	int status;

	if (e->pid <= 0)
		return;
	if (!force) {
		pid_t r = waitpid(e->pid, &status, WNOHANG);

		if (r == 0)
			return;
		if (r != e->pid) {
			error_at("waitpid(exec'er %d): %s", e->pid, strerror(errno));
			e->pid = 0;
			return;
		}
	} else {
		status = kill_reap(e->pid, SIGKILL, "exec'er");
		if (status == -1) {
			e->pid = 0;
			return;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			e->pid = 0;
			return;
		}
	}
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		error_at("exec'er %d (%s) ended with status %#x", e->pid,
			 e->do_exec ? "exec" : "exit", status);
	else if (e->do_exec)
		fig->execs++;
	else
		fig->exits++;
	e->pid = 0;
}

/* A fresh target and binding after all that: 100 round trips must work. */
static int sanity_round_trips(void)
{
	struct vmexec_run run;
	unsigned int gen;
	int i, ret = 0;

	publish_target();
	if (bind_current(CALLER_FD, &gen))
		return -1;
	vmexec_run_prep(&run, (uintptr_t)guest_loop, (uintptr_t)guest_home[0] + PAGE - 64);
	run.regs.rbx = (uintptr_t)guest_home[0];
	for (i = 0; i < 100; i++) {
		ret = vmexec_run(CALLER_FD, &run);
		if (ret || run.exit_reason != VMEXEC_EXIT_SYSCALL ||
		    run.exit.syscall.nr != GUEST_NR || run.regs.r12 != (unsigned long)i + 1) {
			error_at("sanity round trip %d: ret %d exit %u nr %llu", i, ret,
				 run.exit_reason, (unsigned long long)run.exit.syscall.nr);
			ret = -1;
			break;
		}
		run.regs.rax = 0;
	}
	close(CALLER_FD);
	retire_target(NULL);
	return ret;
}

int main(int argc, char **argv)
{
	struct figures fig = { 0 };
	struct execer execers[2] = { { 0 } };
	pthread_t rmmod_th, sig_th;
	long long start, next_target, next_caller, next_exec;
	long mm_before, mm_after = -1, slab_before, slab_after, free_before, free_after;
	uint64_t seed;
	unsigned long seconds = DEFAULT_SECONDS;
	const char *env;
	int i, slot, tries;

	if (argc > 1 && !strcmp(argv[1], "--exec-probe"))
		return exec_probe();
	if (argc > 1)
		seconds = strtoul(argv[1], NULL, 0);
	else if ((env = getenv("VMEXEC_STRESS_TIME")) && *env)
		seconds = strtoul(env, NULL, 0);
	if (!seconds)
		seconds = DEFAULT_SECONDS;
	seed = 0x7e5151ULL;
	if ((env = getenv("VMEXEC_STRESS_SEED")) && *env)
		seed = strtoull(env, NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("vmexec-stress: mmap");
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	atomic_store(&sh->target_gen, 1);
	install_handlers(on_orchestrator_signal);
	/* The orchestrator reaps everything, exec'ers' orphans included. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	control_fd = vmexec_open();
	if (control_fd < 0) {
		printf("vmexec-stress: FAIL: cannot open %s: %s\n", VMEXEC_DEVICE_PATH,
		       strerror(-control_fd));
		return 1;
	}
	mm_before = mm_struct_count();
	slab_before = meminfo_kb("Slab");
	free_before = meminfo_kb("MemAvailable");
	printf("vmexec-stress: %lu s, seed %#llx, %d callers x (%d RUN + %d SYSCALLS threads), "
	       "mm_struct before: %ld\n", seconds, (unsigned long long)seed, CALLERS,
	       RUN_THREADS, CHURN_THREADS, mm_before);

	fault_race_phase(seconds >= 25 ? 5 : (seconds + 4) / 5);
	target_exit_phase();
	new_mm_phase(seconds >= 25 ? 5 : (seconds + 4) / 5, seed ^ 0xc);

	publish_target();
	for (slot = 0; slot < CALLERS; slot++)
		atomic_store(&sh->callers[slot].pid, spawn_caller(slot, seed + slot));
	if (pthread_create(&rmmod_th, NULL, rmmod_thread, (void *)(uintptr_t)(seed ^ 0xa)) ||
	    pthread_create(&sig_th, NULL, signal_thread, (void *)(uintptr_t)(seed ^ 0xb))) {
		printf("vmexec-stress: FAIL: pthread_create\n");
		return 1;
	}

	start = now_ms();
	run_end_ms = start + (long long)seconds * 1000;
	next_target = start + 300 + rnd_below(&seed, 1200);
	next_caller = start + 200 + rnd_below(&seed, 800);
	next_exec = start + 50 + rnd_below(&seed, 200);
	while (now_ms() < run_end_ms && !atomic_load(&rmmod_succeeded)) {
		long long t = now_ms();

		if (t >= next_target) {
			retire_target(&fig);
			publish_target();
			next_target = t + 300 + rnd_below(&seed, 1200);
		}
		if (t >= next_caller) {
			slot = rnd_below(&seed, CALLERS);
			reap_caller(slot, SIGKILL, &fig);
			atomic_store(&sh->callers[slot].pid, spawn_caller(slot, rnd_next(&seed)));
			next_caller = t + 200 + rnd_below(&seed, 800);
		}
		for (i = 0; i < 2; i++)
			reap_execer(&execers[i], &fig, 0);
		if (t >= next_exec) {
			for (i = 0; i < 2; i++) {
				if (execers[i].pid > 0)
					continue;
				execers[i].do_exec = rnd_below(&seed, 4) != 0;
				fflush(NULL);
				execers[i].pid = fork();
				if (execers[i].pid == 0)
					execer_main(rnd_next(&seed), execers[i].do_exec);
				break;
			}
			next_exec = t + 50 + rnd_below(&seed, 200);
		}
		sleep_us(5000);
	}

	/* Stop: callers finish cleanly, everything else is killed. */
	atomic_store(&sh->stop, 1);
	pthread_join(sig_th, NULL);
	pthread_join(rmmod_th, NULL);
	for (slot = 0; slot < CALLERS; slot++) {
		pid_t pid = atomic_load(&sh->callers[slot].pid);

		/* A caller stopped by a late SIGSTOP must go on to see the flag. */
		if (pid > 0)
			kill(pid, SIGCONT);
	}
	for (slot = 0; slot < CALLERS; slot++) {
		pid_t pid = atomic_load(&sh->callers[slot].pid);
		long long end = now_ms() + 20000;
		int status, done = 0;

		if (pid <= 0)
			continue;
		while (now_ms() < end) {
			int i;

			if (waitpid(pid, &status, WNOHANG) == pid) {
				done = 1;
				break;
			}
			/* Spinners leave guest mode only for a signal: see the flag. */
			for (i = 0; i < CALLER_THREADS; i++) {
				int tid = atomic_load(&sh->callers[slot].tids[i]);

				if (tid > 0)
					syscall(SYS_tgkill, pid, tid, SIGURG);
			}
			sleep_us(5000);
		}
		if (!done) {
			report_stuck(pid, "caller (asked to stop)");
			kill_reap(pid, SIGKILL, "caller");
		} else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			error_at("caller %d ended with status %#x", pid, status);
		}
		atomic_store(&sh->callers[slot].pid, 0);
	}
	for (i = 0; i < 2; i++)
		reap_execer(&execers[i], &fig, 1);
	retire_target(&fig);
	/* Orphans of exec'ers (none expected) come to us as the subreaper. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		error_at("children left after the run");

	atomic_store(&sh->stop, 0);
	if (sanity_round_trips())
		error_at("RUN does not work after the stress");
	atomic_store(&sh->stop, 1);

	/*
	 * Leaks: every target, caller and exec'er is reaped. A CPU can still
	 * hold a lazy-TLB reference to the last mm it ran: allow one per CPU,
	 * and give RCU and the KASAN quarantine time to settle.
	 */
	for (tries = 0; tries < 50; tries++) {
		mm_after = mm_struct_count();
		if (mm_before < 0 || mm_after <= mm_before + 4)
			break;
		sleep_us(100000);
	}
	slab_after = meminfo_kb("Slab");
	free_after = meminfo_kb("MemAvailable");
	if (mm_before >= 0 && mm_after > mm_before + 4)
		error_at("mm_struct objects: %ld before, %ld after the run (leak)", mm_before, mm_after);
	if (mm_before < 0)
		printf("vmexec-stress: note: no mm_struct line in /proc/slabinfo, mm leak check skipped\n");
	if (atomic_load(&sh->fault_leaks))
		error_at("%lu guest faults (SIGSEGV on a churned page, in the RUN sigmask) reached "
			 "the callers' handlers instead of being reported by RUN",
			 atomic_load(&sh->fault_leaks));
	if (atomic_load(&sh->round_trips) < 100)
		error_at("only %lu round trips", atomic_load(&sh->round_trips));
	if (fig.caller_kills < 2 || fig.target_kills < 2)
		error_at("too few kills (%lu callers, %lu targets)", fig.caller_kills, fig.target_kills);

	close(control_fd);
	printf("vmexec-stress: figures: %lu s, %d callers x %d RUN threads + %d SYSCALLS thread(s) "
	       "per binding; %lu round trips, %lu signal exits (%lu guest faults), "
	       "%lu interrupted exits, %lu SYSCALLS batches (%lu calls), %lu ESRCH, %lu rebinds; "
	       "kills survived: %lu callers, %lu targets; %lu execs + %lu exits with guests running; "
	       "%lu signals sent (%lu SIGSTOP/SIGCONT); %lu rmmod attempts refused\n",
	       seconds, CALLERS, RUN_THREADS, CHURN_THREADS,
	       atomic_load(&sh->round_trips), atomic_load(&sh->exits_signal),
	       atomic_load(&sh->guest_faults), atomic_load(&sh->exits_interrupted),
	       atomic_load(&sh->churn_batches), atomic_load(&sh->churn_calls),
	       atomic_load(&sh->esrch), atomic_load(&sh->rebinds),
	       fig.caller_kills, fig.target_kills, fig.execs, fig.exits,
	       atomic_load(&signals_sent), atomic_load(&stops_sent),
	       atomic_load(&rmmod_refused));
	printf("vmexec-stress: caller signal handlers ran %lu times (clean caller exits only); "
	       "guest faults that reached a caller's handler: %lu\n",
	       atomic_load(&sh->handler_runs), atomic_load(&sh->fault_leaks));
	printf("vmexec-stress: memory: mm_struct %ld -> %ld, Slab %ld -> %ld kB, MemAvailable %ld -> %ld kB\n",
	       mm_before, mm_after, slab_before, slab_after, free_before, free_after);
	if (atomic_load(&sh->errors)) {
		printf("vmexec-stress: FAIL: %lu errors, first: %s\n", atomic_load(&sh->errors),
		       sh->first_error);
		return 1;
	}
	printf("vmexec-stress: PASS: %lu s, %lu round trips, %lu caller + %lu target kills, "
	       "%lu execs, %lu signals, %lu rmmod refused, mm_struct %ld -> %ld\n",
	       seconds, atomic_load(&sh->round_trips), fig.caller_kills, fig.target_kills,
	       fig.execs, atomic_load(&signals_sent), atomic_load(&rmmod_refused),
	       mm_before, mm_after);
	return 0;
}
