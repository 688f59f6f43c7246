// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * Guest signals: dispositions, the blocked mask and pending signals are
 * guest state kept here; the kernel only ever sees the tool's own.
 *
 * Where a signal comes from:
 *  - a fault of the guest: a VMEXEC_EXIT_SIGNAL with a fault code (the
 *    fault signals are always in run.sigmask, the tool keeps them SIG_DFL);
 *  - another process (Ctrl-C, kill): the tool catches every signal the
 *    guest handles or whose default action ends it. During a RUN it comes
 *    back as VMEXEC_EXIT_SIGNAL (it is in run.sigmask); at any other time
 *    the tool's handler notes it and sig_collect() picks it up;
 *  - the guest itself (kill, tgkill, tkill, raise, abort): emulated.
 * Signals the guest ignores are ignored by the tool too; default-stop
 * signals stop the tool (job control works as for any program);
 * default-ignored ones are left to the kernel's default.
 *
 * Delivery happens before the next RUN: for a handler, an x86-64
 * rt_sigframe (ucontext, siginfo, XSAVE image with the kernel's magic
 * words) is written to the guest's stack as the kernel would, and
 * rt_sigreturn reads it back. A default action ends the guest with exit
 * status 128+signal (see guest_die()).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmrun.h"

#define FAULT_SIGS (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | \
		    SIGBIT(SIGFPE) | SIGBIT(SIGTRAP))
#define SYNC_SIGS (FAULT_SIGS | SIGBIT(SIGSYS))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

#define G_SA_ONSTACK	0x08000000UL
#define G_SA_RESTART	0x10000000UL
#define G_SA_NODEFER	0x40000000UL
#define G_SA_RESETHAND	0x80000000UL
#define G_SA_RESTORER	0x04000000UL

#define UC_FP_XSTATE		0x1
#define UC_SIGCONTEXT_SS	0x2
#define UC_STRICT_RESTORE_SS	0x4
#define FP_XSTATE_MAGIC1	0x46505853U
#define FP_XSTATE_MAGIC2	0x46505845U

/* Flags a guest may run with (the module refuses TF, IOPL, NT, RF, VM...). */
#define RFLAGS_OK	0x240ed7UL

/* The kernel's 64-bit signal frame (arch/x86/include/asm/sigframe.h). */
struct k_sigcontext {
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	u64 err, trapno, oldmask, cr2;
	u64 fpstate;
	u64 reserved1[8];
};

struct k_stack {
	u64 ss_sp;
	int32_t ss_flags;
	int32_t pad;
	u64 ss_size;
};

struct k_ucontext {
	u64 uc_flags;
	u64 uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	u64 uc_sigmask;
};

struct k_rt_sigframe {
	u64 pretcode;
	struct k_ucontext uc;
	unsigned char info[128];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext layout");
_Static_assert(sizeof(siginfo_t) == 128, "siginfo size");

enum dfl { D_TERM, D_CORE, D_IGN, D_STOP, D_CONT };

static volatile sig_atomic_t host_pend[NSIG_G + 1];
static volatile sig_atomic_t host_any;
static siginfo_t host_info[NSIG_G + 1];
/* The fault that ends the guest, for the report. */
static char fault_report[256];

static const char *const names[] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
	[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

const char *sig_name(int sig)
{
	static char buf[16];

	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) && names[sig])
		return names[sig];
	if (sig >= 32 && sig <= NSIG_G)
		snprintf(buf, sizeof(buf), "SIGRT_%d", sig - 32);
	else
		snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}

static enum dfl default_action(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGURG: case SIGWINCH:
		return D_IGN;
	case SIGCONT:
		return D_CONT;
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return D_STOP;
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return D_CORE;
	default:
		return D_TERM;
	}
}

static void on_host_signal(int sig, siginfo_t *info, void *uc)
{
	(void)uc;
	host_info[sig] = *info;
	host_pend[sig] = 1;
	host_any = 1;
}

/* The tool's own disposition for sig, following the guest's. */
void sig_apply_host(int sig)
{
	struct sigaction sa;
	u64 h = vr.act[sig].handler;
	bool catch;

	if (sig == SIGKILL || sig == SIGSTOP || (SIGBIT(sig) & FAULT_SIGS) || sig == SIGCHLD ||
	    sig == 32 || sig == 33)	/* glibc's own: never the guest's */
		return;
	memset(&sa, 0, sizeof(sa));
	if (h == G_SIG_IGN) {
		sa.sa_handler = SIG_IGN;
		catch = false;
	} else if (h == G_SIG_DFL) {
		enum dfl d = default_action(sig);

		catch = d == D_TERM || d == D_CORE;
		sa.sa_handler = SIG_DFL;
	} else {
		catch = true;
	}
	if (catch) {
		sa.sa_sigaction = on_host_signal;
		sa.sa_flags = SA_SIGINFO;
		vr.run.sigmask |= SIGBIT(sig);
	} else {
		vr.run.sigmask &= ~SIGBIT(sig);
	}
	sigaction(sig, &sa, NULL);
}

void sig_setup(void)
{
	sigset_t cur, none;
	int s;

	sigprocmask(SIG_SETMASK, NULL, &cur);
	vr.run.sigmask = FAULT_SIGS;
	for (s = 1; s <= NSIG_G; s++) {
		struct sigaction old;

		if (sigismember(&cur, s) == 1)
			vr.blocked |= SIGBIT(s);
		/* As across execve: ignored stays ignored, handled becomes default. */
		if (sigaction(s, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			vr.act[s].handler = G_SIG_IGN;
		sig_apply_host(s);
	}
	vr.blocked &= ~UNBLOCKABLE;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A signal arrives for the guest. */
static void sig_post(int sig, const siginfo_t *info)
{
	u64 h = vr.act[sig].handler;
	bool blocked = vr.blocked & SIGBIT(sig);

	if (!blocked && (h == G_SIG_IGN ||
			 (h == G_SIG_DFL && default_action(sig) == D_IGN)))
		return;
	vr.pending |= SIGBIT(sig);
	vr.pinfo[sig] = *info;
}

void sig_raise(int sig, const siginfo_t *info)
{
	sig_post(sig, info);
}

void sig_collect(void)
{
	int s;

	if (!host_any)
		return;
	host_any = 0;
	for (s = 1; s <= NSIG_G; s++) {
		if (host_pend[s]) {
			host_pend[s] = 0;
			sig_post(s, &host_info[s]);
		}
	}
}

bool sig_deliverable(void)
{
	return vr.pending & ~vr.blocked;
}

static int next_signal(u64 set)
{
	if (set & SYNC_SIGS)
		set &= SYNC_SIGS;
	return set ? __builtin_ctzll(set) + 1 : 0;
}

/* The signal the next delivery runs a guest handler for, or 0. */
int sig_handler_deliverable(void)
{
	int s = next_signal(vr.pending & ~vr.blocked);

	return s && vr.act[s].handler > G_SIG_IGN ? s : 0;
}

static bool on_sig_stack(u64 sp)
{
	return vr.ss_size && sp > vr.ss_sp && sp - vr.ss_sp <= vr.ss_size;
}

static void put_sigcontext(struct k_sigcontext *sc, const struct vmexec_regs *r)
{
	sc->r8 = r->r8; sc->r9 = r->r9; sc->r10 = r->r10; sc->r11 = r->r11;
	sc->r12 = r->r12; sc->r13 = r->r13; sc->r14 = r->r14; sc->r15 = r->r15;
	sc->rdi = r->rdi; sc->rsi = r->rsi; sc->rbp = r->rbp; sc->rbx = r->rbx;
	sc->rdx = r->rdx; sc->rax = r->rax; sc->rcx = r->rcx; sc->rsp = r->rsp;
	sc->rip = r->rip; sc->eflags = r->rflags;
	sc->cs = 0x33;
	sc->ss = 0x2b;
}

static void get_sigcontext(struct vmexec_regs *r, const struct k_sigcontext *sc)
{
	r->r8 = sc->r8; r->r9 = sc->r9; r->r10 = sc->r10; r->r11 = sc->r11;
	r->r12 = sc->r12; r->r13 = sc->r13; r->r14 = sc->r14; r->r15 = sc->r15;
	r->rdi = sc->rdi; r->rsi = sc->rsi; r->rbp = sc->rbp; r->rbx = sc->rbx;
	r->rdx = sc->rdx; r->rax = sc->rax; r->rcx = sc->rcx; r->rsp = sc->rsp;
	r->rip = sc->rip;
	r->rflags = (r->rflags & ~RFLAGS_OK) | (sc->eflags & RFLAGS_OK);
}

/* Run the guest's handler for sig: 0, or -EFAULT if no frame could be written. */
static int setup_frame(int sig, const siginfo_t *info)
{
	struct guest_sigaction *ka = &vr.act[sig];
	struct vmexec_regs *r = &vr.run.regs;
	struct k_rt_sigframe f;
	size_t xsz = vr.xstate_size;
	unsigned char *x;
	u64 sp = r->rsp - 128, fx, frame;
	int ret;

	if (!(ka->flags & G_SA_RESTORER))
		return -EFAULT;	/* x86-64 has no default restorer */
	if ((ka->flags & G_SA_ONSTACK) && vr.ss_size && !on_sig_stack(r->rsp))
		sp = vr.ss_sp + vr.ss_size;
	fx = (sp - xsz - 4) & ~63UL;
	frame = ((fx - sizeof(f) + 8) & ~15UL) - 8;

	memset(&f, 0, sizeof(f));
	f.pretcode = ka->restorer;
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.uc_stack.ss_sp = vr.ss_sp;
	f.uc.uc_stack.ss_size = vr.ss_size;
	f.uc.uc_stack.ss_flags = !vr.ss_size ? SS_DISABLE : on_sig_stack(r->rsp) ? SS_ONSTACK : 0;
	/* An interrupted passed-through call, as the kernel's handle_signal() does it. */
	if (vr.restart == VMEXEC_RESTART_NOHAND ||
	    (vr.restart == VMEXEC_RESTART_SYS && !(ka->flags & G_SA_RESTART))) {
		r->rax = (u64)-EINTR;
		r->rip += 2;
	}
	vr.restart = VMEXEC_RESTART_NONE;
	put_sigcontext(&f.uc.uc_mcontext, r);
	if (vr.run.exit_reason == VMEXEC_EXIT_SIGNAL && vr.run.exit.signal.signo == sig) {
		f.uc.uc_mcontext.trapno = vr.run.exit.signal.trap_nr;
		f.uc.uc_mcontext.err = vr.run.exit.signal.error_code;
		f.uc.uc_mcontext.cr2 = vr.run.exit.signal.addr;
	}
	f.uc.uc_mcontext.oldmask = vr.blocked;
	f.uc.uc_mcontext.fpstate = fx;
	f.uc.uc_sigmask = vr.suspend_restore ? vr.saved_blocked : vr.blocked;
	memcpy(f.info, info, sizeof(f.info));

	/* The XSAVE image, with the software bytes the kernel puts there. */
	x = calloc(1, xsz + 4);
	if (!x)
		return -ENOMEM;
	memcpy(x, vr.xstate, xsz);
	{
		u32 m1 = FP_XSTATE_MAGIC1, ext = xsz + 4, size = xsz, m2 = FP_XSTATE_MAGIC2;

		memcpy(x + 464, &m1, 4);
		memcpy(x + 468, &ext, 4);
		memcpy(x + 472, &vr.xcr0, 8);
		memcpy(x + 480, &size, 4);
		memcpy(x + xsz, &m2, 4);
	}
	ret = mem_write(fx, x, xsz + 4);
	free(x);
	if (!ret)
		ret = mem_write(frame, &f, sizeof(f));
	if (ret)
		return -EFAULT;

	r->rdi = sig;
	r->rsi = frame + offsetof(struct k_rt_sigframe, info);
	r->rdx = frame + offsetof(struct k_rt_sigframe, uc);
	r->rax = 0;
	r->rsp = frame;
	r->rip = ka->handler;
	r->rflags &= ~0x400UL;	/* DF */
	memset(vr.xstate, 0, xsz);	/* the handler starts with a clean FPU */

	if (vr.suspend_restore) {
		vr.blocked = vr.saved_blocked;
		vr.suspend_restore = false;
	}
	vr.blocked |= ka->mask;
	if (!(ka->flags & G_SA_NODEFER))
		vr.blocked |= SIGBIT(sig);
	vr.blocked &= ~UNBLOCKABLE;
	if (ka->flags & G_SA_RESETHAND) {
		ka->handler = G_SIG_DFL;
		ka->flags &= ~G_SA_RESETHAND;
		sig_apply_host(sig);
	}
	return 0;
}

/* Deliver every pending, unblocked signal, as the kernel does on its way out. */
void sig_deliver(void)
{
	int sig;

	while ((sig = next_signal(vr.pending & ~vr.blocked))) {
		siginfo_t info = vr.pinfo[sig];
		u64 h = vr.act[sig].handler;

		vr.pending &= ~SIGBIT(sig);
		if (vr.trace)
			trace_signal(sig, &info);
		if (h == G_SIG_IGN)
			continue;
		if (h == G_SIG_DFL) {
			switch (default_action(sig)) {
			case D_IGN:
			case D_CONT:
				continue;
			case D_STOP:
				kill(getpid(), SIGSTOP);
				continue;
			case D_TERM:
			case D_CORE:
				guest_die(sig, NULL);
			}
		}
		if (setup_frame(sig, &info) < 0)
			guest_die(SIGSEGV, "cannot write a signal frame on the guest's stack");
	}
	if (vr.suspend_restore) {
		vr.blocked = vr.saved_blocked;
		vr.suspend_restore = false;
	}
}

/* A fault of the guest (VMEXEC_EXIT_SIGNAL with a fault code). */
void sig_fault(const struct vmexec_run *run)
{
	int sig = run->exit.signal.signo;
	const siginfo_t *info = (const siginfo_t *)run->exit.signal.siginfo;

	snprintf(fault_report, sizeof(fault_report),
		 "%s at address %#llx, ip %#llx (trap %u, error code %#llx)",
		 sig_name(sig), (unsigned long long)run->exit.signal.addr,
		 (unsigned long long)run->regs.rip, run->exit.signal.trap_nr,
		 (unsigned long long)run->exit.signal.error_code);
	/* As force_sig(): blocked or ignored, the default action applies. */
	if ((vr.blocked & SIGBIT(sig)) || vr.act[sig].handler <= G_SIG_IGN) {
		if (vr.trace)
			trace_signal(sig, info);
		guest_die(sig, fault_report);
	}
	sig_post(sig, info);
	sig_deliver();
}

long sig_rt_sigreturn(void)
{
	struct vmexec_regs *r = &vr.run.regs;
	struct k_rt_sigframe f;
	u64 frame = r->rsp - 8;

	if (mem_read(frame, &f, sizeof(f)))
		guest_die(SIGSEGV, "rt_sigreturn: bad signal frame");
	get_sigcontext(r, &f.uc.uc_mcontext);
	vr.blocked = f.uc.uc_sigmask & ~UNBLOCKABLE;
	if (f.uc.uc_mcontext.fpstate) {
		if (mem_read(f.uc.uc_mcontext.fpstate, vr.xstate, vr.xstate_size))
			guest_die(SIGSEGV, "rt_sigreturn: bad FPU state");
	} else {
		memset(vr.xstate, 0, vr.xstate_size);
	}
	return (long)r->rax;
}

void sig_block_host(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, old);
}

void sig_unblock_host(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* Sleep until a signal the guest does not block in mask is pending for it. */
void sig_wait(u64 mask)
{
	sigset_t old;

	for (;;) {
		sig_block_host(&old);
		sig_collect();
		if (vr.pending & ~mask) {
			sig_unblock_host(&old);
			return;
		}
		sigsuspend(&old);
		sig_unblock_host(&old);
	}
}
