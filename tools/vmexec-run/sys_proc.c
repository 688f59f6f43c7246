// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * Calls about the process: emulated, since the guest is not a process of
 * its own. Its pid and tid are the tool's (so /proc/self and kill(getpid())
 * mean the same thing to it), its heap (brk) is anonymous memory mapped in
 * its address space, its FS/GS bases are register state, its signal state lives in
 * signals.c, and time, identity and random numbers come from the tool.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "vmrun.h"

#define ARCH_SET_GS	0x1001
#define ARCH_SET_FS	0x1002
#define ARCH_GET_FS	0x1003
#define ARCH_GET_GS	0x1004

H(h_exit)
{
	(void)nr;
	guest_exit((int)(a[0] & 0xff));
}

H(h_getpid)
{
	(void)nr;
	(void)a;
	return vr.pid;
}

H(h_set_tid_address)
{
	(void)nr;
	vr.clear_tid = a[0];
	return vr.pid;
}

H(h_set_robust_list)
{
	(void)nr;
	if (a[1] != 24)
		return -EINVAL;
	vr.robust_list = a[0];
	return 0;
}

H(h_nosys)
{
	(void)nr;
	(void)a;
	return -ENOSYS;
}

H(h_eopnotsupp)
{
	(void)nr;
	(void)a;
	return -EOPNOTSUPP;
}

H(h_echild)
{
	(void)nr;
	(void)a;
	return -ECHILD;
}

/* The heap: anonymous pages mapped and unmapped in the guest's address space. */
H(h_brk)
{
	u64 want = a[0], end;
	long r;

	(void)nr;
	if (!want || want < vr.brk_start || want >= GUEST_STACK_TOP - (1UL << 30))
		return vr.brk_cur;
	end = PAGE_UP(want);
	if (end > vr.brk_end) {
		r = gsys(SYS_mmap, vr.brk_end, end - vr.brk_end, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (r != (long)vr.brk_end) {
			if (r >= 0)
				gsys(SYS_munmap, r, end - vr.brk_end, 0, 0, 0, 0);
			return vr.brk_cur;
		}
	} else if (end < vr.brk_end) {
		gsys(SYS_munmap, end, vr.brk_end - end, 0, 0, 0, 0);
	}
	vr.brk_end = end;
	vr.brk_cur = want;
	return want;
}

H(h_arch_prctl)
{
	u64 v;

	(void)nr;
	switch (a[0]) {
	case ARCH_SET_FS:
		if (a[1] >= GUEST_TASK_END)
			return -EPERM;
		vr.run.regs.fs_base = a[1];
		return 0;
	case ARCH_SET_GS:
		if (a[1] >= GUEST_TASK_END)
			return -EPERM;
		vr.run.regs.gs_base = a[1];
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		v = a[0] == ARCH_GET_FS ? vr.run.regs.fs_base : vr.run.regs.gs_base;
		return mem_write(a[1], &v, sizeof(v)) ? -EFAULT : 0;
	default:
		return -EINVAL;
	}
}

H(h_prctl)
{
	char name[16];
	int zero = 0;

	(void)nr;
	switch (a[0]) {
	case PR_SET_NAME:
		if (mem_read_partial(a[1], name, sizeof(name)) <= 0)
			return -EFAULT;
		name[15] = 0;
		memcpy(vr.comm, name, sizeof(name));
		return 0;
	case PR_GET_NAME:
		return mem_write(a[1], vr.comm, sizeof(vr.comm)) ? -EFAULT : 0;
	case PR_SET_PDEATHSIG:
		return a[1] <= NSIG_G ? 0 : -EINVAL;
	case PR_GET_PDEATHSIG:
		return mem_write(a[1], &zero, sizeof(zero)) ? -EFAULT : 0;
	case PR_GET_DUMPABLE: case PR_SET_DUMPABLE: case PR_CAPBSET_READ:
	case PR_GET_NO_NEW_PRIVS: case PR_SET_NO_NEW_PRIVS: case PR_GET_KEEPCAPS:
	case PR_GET_TIMERSLACK: case PR_GET_THP_DISABLE:
		return HOST(prctl((int)a[0], a[1], a[2], a[3], a[4]));
	default:
		return -EINVAL;
	}
}

H(h_uname)
{
	struct utsname u;

	(void)nr;
	if (uname(&u) < 0)
		return -errno;
	return mem_write(a[0], &u, sizeof(u)) ? -EFAULT : 0;
}

H(h_getrandom)
{
	unsigned char buf[4096];
	size_t len = a[1], done = 0;

	(void)nr;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t r = getrandom(buf, n, (unsigned int)a[2]);

		if (r < 0)
			return done ? (long)done : -errno;
		if (mem_write(a[0] + done, buf, r))
			return -EFAULT;
		done += r;
		if ((size_t)r < n)
			break;
	}
	return done;
}

H(h_clock_gettime)
{
	struct timespec ts;

	(void)nr;
	if (syscall(SYS_clock_gettime, a[0], &ts) < 0)
		return -errno;
	return mem_write(a[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}

H(h_clock_getres)
{
	struct timespec ts;

	(void)nr;
	if (syscall(SYS_clock_getres, a[0], &ts) < 0)
		return -errno;
	if (a[1] && mem_write(a[1], &ts, sizeof(ts)))
		return -EFAULT;
	return 0;
}

H(h_gettimeofday)
{
	struct timeval tv;
	struct timezone tz;

	(void)nr;
	if (gettimeofday(&tv, &tz) < 0)
		return -errno;
	if ((a[0] && mem_write(a[0], &tv, sizeof(tv))) ||
	    (a[1] && mem_write(a[1], &tz, sizeof(tz))))
		return -EFAULT;
	return 0;
}

H(h_time)
{
	long t = time(NULL);

	(void)nr;
	if (a[0] && mem_write(a[0], &t, sizeof(t)))
		return -EFAULT;
	return t;
}

/*
 * Sleeps: the tool sleeps; a signal the guest would see ends the sleep
 * with EINTR (and the time left), any other one just continues it.
 */
static long do_sleep(clockid_t clk, int flags, u64 ureq, u64 urem)
{
	struct timespec req, rem;
	int r;

	if (mem_read(ureq, &req, sizeof(req)))
		return -EFAULT;
	for (;;) {
		r = clock_nanosleep(clk, flags, &req, &rem);
		if (r != EINTR)
			return -r;
		sig_collect();
		if (sig_deliverable()) {
			if (urem && !(flags & TIMER_ABSTIME) &&
			    mem_write(urem, &rem, sizeof(rem)))
				return -EFAULT;
			return -EINTR;
		}
		if (!(flags & TIMER_ABSTIME))
			req = rem;
	}
}

H(h_nanosleep)
{
	(void)nr;
	return do_sleep(CLOCK_MONOTONIC, 0, a[0], a[1]);
}

H(h_clock_nanosleep)
{
	(void)nr;
	return do_sleep((clockid_t)a[0], (int)a[1], a[2], a[3]);
}

H(h_getitimer)
{
	struct itimerval it;

	(void)nr;
	if (getitimer((int)a[0], &it) < 0)
		return -errno;
	return mem_write(a[1], &it, sizeof(it)) ? -EFAULT : 0;
}

H(h_setitimer)
{
	struct itimerval it, old;

	(void)nr;
	if (a[1] && mem_read(a[1], &it, sizeof(it)))
		return -EFAULT;
	if (a[1])
		memset(&old, 0, sizeof(old));
	if (setitimer((int)a[0], a[1] ? &it : &old, &old) < 0)
		return -errno;
	if (a[2] && mem_write(a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

H(h_sysinfo)
{
	struct sysinfo si;

	(void)nr;
	if (sysinfo(&si) < 0)
		return -errno;
	return mem_write(a[0], &si, sizeof(si)) ? -EFAULT : 0;
}

H(h_times)
{
	struct tms t;
	clock_t r = times(&t);

	(void)nr;
	if (a[0] && mem_write(a[0], &t, sizeof(t)))
		return -EFAULT;
	return r;
}

H(h_getrusage)
{
	struct rusage ru;

	(void)nr;
	if (getrusage((int)a[0], &ru) < 0)
		return -errno;
	return mem_write(a[1], &ru, sizeof(ru)) ? -EFAULT : 0;
}

H(h_sched_getaffinity)
{
	unsigned char buf[512];
	long r;

	(void)nr;
	if ((long)a[0] != 0 && (long)a[0] != vr.pid)
		return -ESRCH;
	r = HOST(syscall(SYS_sched_getaffinity, 0, a[1] < sizeof(buf) ? a[1] : sizeof(buf), buf));
	if (r > 0 && mem_write(a[2], buf, r))
		return -EFAULT;
	return r;
}

H(h_getcpu)
{
	unsigned int cpu, node;

	(void)nr;
	if (syscall(SYS_getcpu, &cpu, &node, NULL) < 0)
		return -errno;
	if ((a[0] && mem_write(a[0], &cpu, 4)) || (a[1] && mem_write(a[1], &node, 4)))
		return -EFAULT;
	return 0;
}

H(h_getgroups)
{
	gid_t g[1024];
	int n;

	(void)nr;
	if ((int)a[0] < 0)
		return -EINVAL;
	n = getgroups((int)a[0] > 1024 ? 1024 : (int)a[0], g);
	if (n < 0)
		return -errno;
	if (a[0] && mem_write(a[1], g, n * sizeof(gid_t)))
		return -EFAULT;
	return n;
}

H(h_setgroups)
{
	gid_t g[1024];

	(void)nr;
	if (a[0] > 1024)
		return -EINVAL;
	if (mem_read(a[1], g, a[0] * sizeof(gid_t)))
		return -EFAULT;
	return HOST(syscall(SYS_setgroups, a[0], g));
}

H(h_getres_ids)
{
	unsigned int id[3];

	if (syscall(nr, &id[0], &id[1], &id[2]) < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (mem_write(a[i], &id[i], 4))
			return -EFAULT;
	return 0;
}

/* Limits: NOFILE is the guest's descriptor space; AS, DATA, STACK and RSS
 * would apply to the tool's own memory and are only recorded. */
static struct rlimit guest_lim[RLIM_NLIMITS];
static bool guest_lim_set[RLIM_NLIMITS];

static long do_prlimit(long pid, unsigned int res, u64 unew, u64 uold)
{
	struct rlimit old, new;

	if (pid && pid != vr.pid) {
		struct rlimit *pn = NULL;
		long r;

		if (unew) {
			if (mem_read(unew, &new, sizeof(new)))
				return -EFAULT;
			pn = &new;
		}
		r = HOST(prlimit(pid, res, pn, &old));
		if (r >= 0 && uold && mem_write(uold, &old, sizeof(old)))
			return -EFAULT;
		return r;
	}
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (res == RLIMIT_NOFILE)
		old = vr.nofile_guest;
	else if (guest_lim_set[res])
		old = guest_lim[res];
	else if (getrlimit(res, &old) < 0)
		return -errno;
	if (unew) {
		if (mem_read(unew, &new, sizeof(new)))
			return -EFAULT;
		if (new.rlim_cur > new.rlim_max)
			return -EINVAL;
		if (res == RLIMIT_NOFILE) {
			if (new.rlim_max > (rlim_t)vr.fd_limit)
				return -EPERM;
			vr.nofile_guest = new;
		} else if (res == RLIMIT_AS || res == RLIMIT_DATA || res == RLIMIT_STACK ||
			   res == RLIMIT_RSS) {
			guest_lim[res] = new;
			guest_lim_set[res] = true;
		} else if (setrlimit(res, &new) < 0) {
			return -errno;
		}
	}
	if (uold && mem_write(uold, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

H(h_prlimit64)
{
	(void)nr;
	return do_prlimit((long)a[0], (unsigned int)a[1], a[2], a[3]);
}

H(h_getrlimit)
{
	(void)nr;
	return do_prlimit(0, (unsigned int)a[0], 0, a[1]);
}

H(h_setrlimit)
{
	(void)nr;
	return do_prlimit(0, (unsigned int)a[0], a[1], 0);
}

/* A single-threaded guest: no one else can wake a futex. */
H(h_futex)
{
	int op = (int)a[1] & 0x7f;
	u32 val;

	(void)nr;
	switch (op) {
	case 1:		/* FUTEX_WAKE */
	case 10:	/* FUTEX_WAKE_BITSET */
		return 0;
	case 0:		/* FUTEX_WAIT */
	case 9:		/* FUTEX_WAIT_BITSET */
		if (mem_read(a[0], &val, sizeof(val)))
			return -EFAULT;
		if (val != (u32)a[2])
			return -EAGAIN;
		if (a[3]) {
			long r = do_sleep(op == 0 ? CLOCK_MONOTONIC :
					  ((a[1] & 256) ? CLOCK_REALTIME : CLOCK_MONOTONIC),
					  op == 0 ? 0 : TIMER_ABSTIME, a[3], 0);
			return r ? r : -ETIMEDOUT;
		}
		sig_wait(vr.blocked);
		return -EINTR;
	default:
		return -ENOSYS;
	}
}

/*
 * With --stub, the stub (pid or process group) is no target for the guest's
 * signals: it does not exist as far as the guest knows. Without a stub
 * every other pid is a real one (1 included).
 */
static bool is_stub(long pid)
{
	return vr.stub > 0 && (pid == vr.stub || pid == -(long)vr.stub);
}

/* kill/tgkill/tkill: to itself emulated, to the stub refused, else real. */
static long self_signal(int sig, int code)
{
	siginfo_t info;

	if (sig < 0 || sig > NSIG_G)
		return -EINVAL;
	if (!sig)
		return 0;
	if (sig == SIGKILL)
		guest_die(SIGKILL, NULL);
	if (sig == SIGSTOP) {
		kill(getpid(), SIGSTOP);
		return 0;
	}
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = code;
	info.si_pid = vr.pid;
	info.si_uid = getuid();
	sig_raise(sig, &info);
	return 0;
}

H(h_kill)
{
	long pid = (int)a[0];

	(void)nr;
	if (pid == vr.pid || pid == 0 || pid == -1 || pid == -(long)getpgrp())
		return self_signal((int)a[1], SI_USER);
	if (is_stub(pid))
		return -ESRCH;
	return HOST(kill(pid, (int)a[1]));
}

H(h_tgkill)
{
	(void)nr;
	if ((long)(int)a[0] == vr.pid) {
		if ((int)a[1] != vr.pid)
			return -ESRCH;
		return self_signal((int)a[2], SI_TKILL);
	}
	if (is_stub((int)a[0]))
		return -ESRCH;
	return HOST(syscall(SYS_tgkill, a[0], a[1], a[2]));
}

H(h_tkill)
{
	(void)nr;
	if ((int)a[0] == vr.pid)
		return self_signal((int)a[1], SI_TKILL);
	if (is_stub((int)a[0]))
		return -ESRCH;
	return HOST(syscall(SYS_tkill, a[0], a[1]));
}

H(h_rt_sigaction)
{
	int sig = (int)a[0];
	struct guest_sigaction act;

	(void)nr;
	if (a[3] != 8 || sig < 1 || sig > NSIG_G)
		return -EINVAL;
	if (a[1] && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (a[1] && mem_read(a[1], &act, sizeof(act)))
		return -EFAULT;
	if (a[2] && mem_write(a[2], &vr.act[sig], sizeof(act)))
		return -EFAULT;
	if (a[1]) {
		act.mask &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
		vr.act[sig] = act;
		/* Ignoring a signal discards its pending instance. */
		if (act.handler == G_SIG_IGN ||
		    (act.handler == G_SIG_DFL &&
		     (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH)))
			vr.pending &= ~SIGBIT(sig);
		sig_apply_host(sig);
	}
	return 0;
}

H(h_rt_sigprocmask)
{
	u64 set, old = vr.blocked;

	(void)nr;
	if (a[3] != 8)
		return -EINVAL;
	if (a[1]) {
		if (mem_read(a[1], &set, sizeof(set)))
			return -EFAULT;
		switch (a[0]) {
		case SIG_BLOCK: vr.blocked |= set; break;
		case SIG_UNBLOCK: vr.blocked &= ~set; break;
		case SIG_SETMASK: vr.blocked = set; break;
		default: return -EINVAL;
		}
		vr.blocked &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	}
	if (a[2] && mem_write(a[2], &old, sizeof(old))) {
		vr.blocked = old;
		return -EFAULT;
	}
	return 0;
}

H(h_rt_sigpending)
{
	u64 set = vr.pending & vr.blocked;

	(void)nr;
	if (a[1] > 8)
		return -EINVAL;
	return mem_write(a[0], &set, a[1]) ? -EFAULT : 0;
}

H(h_rt_sigsuspend)
{
	u64 mask;

	(void)nr;
	if (a[1] != 8)
		return -EINVAL;
	if (mem_read(a[0], &mask, sizeof(mask)))
		return -EFAULT;
	vr.saved_blocked = vr.blocked;
	vr.blocked = mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	sig_wait(vr.blocked);
	vr.suspend_restore = true;
	return -EINTR;
}

H(h_pause)
{
	(void)nr;
	(void)a;
	sig_wait(vr.blocked);
	return -EINTR;
}

H(h_sigaltstack)
{
	struct { u64 sp; int flags; int pad; u64 size; } ss, old;
	bool on = vr.ss_size && vr.run.regs.rsp > vr.ss_sp &&
		  vr.run.regs.rsp - vr.ss_sp <= vr.ss_size;

	(void)nr;
	memset(&old, 0, sizeof(old));
	old.sp = vr.ss_sp;
	old.size = vr.ss_size;
	old.flags = !vr.ss_size ? SS_DISABLE : on ? SS_ONSTACK : 0;
	if (a[0]) {
		if (mem_read(a[0], &ss, sizeof(ss)))
			return -EFAULT;
		if (on)
			return -EPERM;
		if (ss.flags & SS_DISABLE) {
			vr.ss_sp = vr.ss_size = 0;
		} else {
			if (ss.flags & ~SS_ONSTACK)
				return -EINVAL;
			if (ss.size < 2048)
				return -ENOMEM;
			vr.ss_sp = ss.sp;
			vr.ss_size = ss.size;
		}
	}
	if (a[1] && mem_write(a[1], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

H(h_rt_sigreturn)
{
	(void)nr;
	(void)a;
	return sig_rt_sigreturn();
}
