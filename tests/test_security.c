// SPDX-License-Identifier: GPL-2.0
/*
 * Everything the module does for a caller is what the caller could have done
 * itself, checked the same way: audit records, the tracer's stops, the
 * seccomp filter, the memory cgroup, capabilities, port I/O, and exit
 * registers that are valid input again.
 *
 * The guests these run in have audit enabled with a rule loaded (harness
 * init), cgroup v2 with the memory controller at /sys/fs/cgroup and tracefs
 * at /sys/kernel/tracing.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>
#include "audit_nl.h"
#include "helpers.h"
#include "stub.h"

#define SIGBIT(sig)	(1ULL << ((sig) - 1))
#define X86_RF		0x10000UL
#define X86_TF		0x100UL
#define X86_NT		0x4000UL

/* ud2 */
static const unsigned char code_ud2[] = { 0x0f, 0x0b };
/* mov $123,%eax; syscall */
static const unsigned char code_exit123[] = { 0xb8, 0x7b, 0, 0, 0, 0x0f, 0x05 };
/* pushfq; pop %rdi; mov $123,%eax; syscall */
static const unsigned char code_flags123[] = { 0x9c, 0x5f, 0xb8, 0x7b, 0, 0, 0, 0x0f, 0x05 };
/* A guest that does one syscall (number and args in its registers), then ud2. */
static const unsigned char code_syscall_ud2[] = { 0x0f, 0x05, 0x0f, 0x0b };

/*
 * The audit daemon's side: this process receives the records (the daemon's
 * own syscalls are never audited, so what is audited runs in a child).
 * Runs fn(arg) in a child under one exit rule on syscall @nr with key @key
 * and collects that child's records of the key (at most @max). Returns how
 * many came; *res is fn's result.
 */
static int audited_child(int nr, const char *key, int (*fn)(void *), void *arg, int *res,
			 struct audit_nl_syscall *recs, int max)
{
	_cleanup_child_ struct child c = { 0 };
	int fd, n;
	pid_t pid;

	fd = audit_nl_open();
	ck_assert_int_ge(fd, 0);
	assert_ret(audit_nl_set_pid(fd, getpid()), 0);
	assert_ret(audit_nl_syscall_rule(fd, 1, &nr, 1, key), 0);
	assert_ret(child_start(&c, fn, arg), 0);
	pid = c.pid;
	assert_ret(child_result(&c, res), 0);
	n = audit_nl_collect(fd, key, pid, recs, max, 1500);
	assert_ret(audit_nl_syscall_rule(fd, 0, &nr, 1, key), 0);
	assert_ret(audit_nl_set_pid(fd, 0), 0);
	close(fd);
	return n;
}

static struct stub audit_stub;

/* In a child: a RUN that ends on a signal, then getpgid(0). */
static int signal_exit_then_getpgid(void *arg)
{
	struct vmexec_run run;
	int err;

	(void)arg;
	vmexec_run_prep(&run, CODE_ADDR, STACK_TOP - 64);
	run.sigmask = SIGBIT(SIGILL);
	err = vmexec_run(audit_stub.fd, &run);
	if (err || run.exit_reason != VMEXEC_EXIT_SIGNAL)
		return CHILD_SETUP_ERR + 1000 - err;
	return (int)syscall(SYS_getpgid, 0);
}

/*
 * After a RUN that ends on a signal, the caller's next syscall is audited
 * normally (no record left open: no WARN in __audit_syscall_entry, and the
 * next call's record is not lost).
 */
START_TEST(test_audit_signal_exit_leaves_no_record_open)
{
	struct audit_nl_syscall recs[2];
	int res = 0;

	stub_start(&audit_stub);
	stub_poke(&audit_stub, CODE_ADDR, code_ud2, sizeof(code_ud2));
	/* Exactly one record: the getpgid's, with its result. */
	assert_ret(audited_child(SYS_getpgid, "vmexec-t-signal", signal_exit_then_getpgid, NULL,
				 &res, recs, 2), 1);
	ck_assert_int_eq(res, getpgid(0));
	ck_assert_int_eq(recs[0].nr, SYS_getpgid);
	ck_assert_int_eq(recs[0].success, 1);
	ck_assert_int_eq(recs[0].exit, res);
	stub_stop(&audit_stub);
}
END_TEST

static int audit_pipe[2];

/* In a child: a guest's passed-through read of one byte. */
static int passthrough_read(void *arg)
{
	struct vmexec_run run;
	int err;

	(void)arg;
	vmexec_run_prep(&run, CODE_ADDR, STACK_TOP - 64);
	run.regs.rax = SYS_read;
	run.regs.rdi = audit_pipe[0];
	run.regs.rsi = DATA_ADDR;
	run.regs.rdx = 1;
	run.sigmask = SIGBIT(SIGILL);
	err = vmexec_run(audit_stub.fd, &run);
	if (err || run.exit_reason != VMEXEC_EXIT_SIGNAL)
		return CHILD_SETUP_ERR + 1000 - err;
	return (int)run.regs.rax;
}

/* A passed-through guest call gets the audit record the call gets natively. */
START_TEST(test_audit_passthrough_call_has_its_record)
{
	struct audit_nl_syscall recs[2];
	struct vmexec_passthrough pt;
	int res = 0;

	stub_start(&audit_stub);
	stub_poke(&audit_stub, CODE_ADDR, code_syscall_ud2, sizeof(code_syscall_ud2));
	ck_assert_int_eq(pipe(audit_pipe), 0);
	xwrite(audit_pipe[1], "x", 1);
	vmexec_passthrough_init(&pt);
	assert_ret(vmexec_passthrough_add(&pt, "read"), 0);
	assert_ret(vmexec_set_passthrough(audit_stub.fd, &pt), 0);
	assert_ret(audited_child(SYS_read, "vmexec-t-pt", passthrough_read, NULL, &res, recs, 2), 1);
	ck_assert_int_eq(res, 1);
	ck_assert_int_eq(recs[0].nr, SYS_read);
	ck_assert_int_eq(recs[0].success, 1);
	ck_assert_int_eq(recs[0].exit, 1);
	close(audit_pipe[0]);
	close(audit_pipe[1]);
	stub_stop(&audit_stub);
}
END_TEST

/* In a child: mincore of an unmapped range (-ENOMEM), then of the data page. */
static int batch_mincore(void *arg)
{
	struct vmexec_syscall sc[2];
	int n;

	(void)arg;
	vmexec_prep_syscall(&sc[0], SYS_mincore, TEST_ADDR(3), PAGE, DATA_ADDR, 0, 0, 0);
	vmexec_prep_syscall(&sc[1], SYS_mincore, DATA_ADDR, PAGE, DATA_ADDR, 0, 0, 0);
	n = vmexec_syscalls(audit_stub.fd, sc, 2, 0);
	if (n != 2 || sc[0].ret != -ENOMEM || sc[1].ret != 0)
		return CHILD_SETUP_ERR + 1000 - n;
	return 0;
}

/* Each SYSCALLS entry gets the audit record of that call. */
START_TEST(test_audit_syscalls_entries_have_their_records)
{
	struct audit_nl_syscall recs[3];
	int res = 1;

	stub_start(&audit_stub);
	assert_ret(audited_child(SYS_mincore, "vmexec-t-batch", batch_mincore, NULL, &res, recs,
				 3), 2);
	assert_ret(res, 0);
	ck_assert_int_eq(recs[0].nr, SYS_mincore);
	ck_assert_int_eq(recs[0].success, 0);
	ck_assert_int_eq(recs[0].exit, -ENOMEM);
	ck_assert_int_eq(recs[1].nr, SYS_mincore);
	ck_assert_int_eq(recs[1].success, 1);
	ck_assert_int_eq(recs[1].exit, 0);
	ck_assert_str_ne(recs[0].stamp, recs[1].stamp);
	stub_stop(&audit_stub);
}
END_TEST

/* In a child: a MEM write of 100 bytes, then one whose target page is unmapped. */
static int mem_writes(void *arg)
{
	static char buf[100];
	struct iovec lv = { buf, sizeof(buf) }, rv = { (void *)DATA_ADDR, sizeof(buf) };
	int a, b;

	(void)arg;
	a = vmexec_mem_write(audit_stub.fd, &lv, &rv, 1);
	rv.iov_base = (void *)TEST_ADDR(3);
	b = vmexec_mem_write(audit_stub.fd, &lv, &rv, 1);
	if (a != 100 || b != -EFAULT)
		return CHILD_SETUP_ERR + 1000 + a * 10 - b;
	return 0;
}

/* A MEM copy gets the audit record of the equivalent process_vm_writev. */
START_TEST(test_audit_mem_has_process_vm_record)
{
	struct audit_nl_syscall recs[3];
	int res = 1;

	stub_start(&audit_stub);
	assert_ret(audited_child(SYS_process_vm_writev, "vmexec-t-mem", mem_writes, NULL, &res,
				 recs, 3), 2);
	assert_ret(res, 0);
	ck_assert_int_eq(recs[0].nr, SYS_process_vm_writev);
	ck_assert_int_eq(recs[0].success, 1);
	ck_assert_int_eq(recs[0].exit, 100);
	ck_assert_int_eq(recs[1].nr, SYS_process_vm_writev);
	ck_assert_int_eq(recs[1].success, 0);
	ck_assert_int_eq(recs[1].exit, -EFAULT);
	stub_stop(&audit_stub);
}
END_TEST

/* A PTRACE_SYSCALL tracer gets the RUN ioctl's exit stop after a signal exit. */
START_TEST(test_tracer_sees_run_exit_after_signal_exit)
{
	struct __ptrace_syscall_info info;
	int status, entries = 0, exits = 0;
	struct vmexec_run run;
	struct stub s;
	pid_t pid;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_ud2, sizeof(code_ud2));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		run_init(&run, CODE_ADDR);
		run.sigmask = SIGBIT(SIGILL);
		_exit(vmexec_run(s.fd, &run) == 0 &&
		      run.exit_reason == VMEXEC_EXIT_SIGNAL ? 0 : 1);
	}
	assert_ret(reap_timeout(pid, &status, WAIT_MS), 0);
	ck_assert(WIFSTOPPED(status));
	ck_assert_int_eq(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD |
				PTRACE_O_EXITKILL), 0);
	for (;;) {
		ck_assert_int_eq(ptrace(PTRACE_SYSCALL, pid, 0, 0), 0);
		assert_ret(reap_timeout(pid, &status, WAIT_MS), 0);
		if (WIFEXITED(status))
			break;
		ck_assert(WIFSTOPPED(status));
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		ck_assert_int_gt(ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info), 0);
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY && info.entry.nr == SYS_ioctl &&
		    info.entry.args[1] == VMEXEC_IOC_RUN)
			entries++;
		else if (info.op == PTRACE_SYSCALL_INFO_EXIT && entries > exits)
			exits++;
	}
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(entries, 1);
	ck_assert_int_eq(exits, 1);
	stub_stop(&s);
}
END_TEST

/* Install a filter: @nr -> @action, everything else allowed. */
static int install_filter(int nr, unsigned int action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

struct filtered_batch {
	int fd;
	unsigned int action;
};

/* In a child: under a filter on mincore, SYSCALLS mincore's result. */
static int filtered_mincore(void *arg)
{
	struct filtered_batch *fb = arg;
	struct vmexec_syscall sc[2];
	int err;

	err = install_filter(SYS_mincore, fb->action);
	if (err)
		return CHILD_SETUP_ERR - err;
	vmexec_prep_syscall(&sc[0], SYS_mincore, DATA_ADDR, PAGE, DATA_ADDR, 0, 0, 0);
	prep_nop(&sc[1]);
	err = vmexec_syscalls(fb->fd, sc, 2, 0);
	if (err != 2)
		return CHILD_SETUP_ERR + 1000 - err;
	/* The nop is not filtered: it must have run. */
	if (sc[1].ret != 0)
		return CHILD_SETUP_ERR + 2000;
	return (int)sc[0].ret;
}

static int run_filtered_mincore(unsigned int action)
{
	struct filtered_batch fb;
	_cleanup_child_ struct child c = { 0 };
	struct stub s;
	int res = 0;

	stub_start(&s);
	fb.fd = s.fd;
	fb.action = action;
	assert_ret(child_start(&c, filtered_mincore, &fb), 0);
	assert_ret(child_result(&c, &res), 0);
	stub_stop(&s);
	return res;
}

/* SECCOMP_RET_ERRNO on a call makes that SYSCALLS entry return the errno. */
START_TEST(test_seccomp_errno_governs_syscalls_entry)
{
	assert_ret(run_filtered_mincore(SECCOMP_RET_ERRNO | EACCES), -EACCES);
}
END_TEST

/* TRAP (or any action without exact meaning here): -EPERM, no SIGSYS. */
START_TEST(test_seccomp_trap_refuses_syscalls_entry)
{
	assert_ret(run_filtered_mincore(SECCOMP_RET_TRAP), -EPERM);
	assert_ret(run_filtered_mincore(SECCOMP_RET_KILL_PROCESS), -EPERM);
}
END_TEST

/* SECCOMP_RET_LOG runs the call. */
START_TEST(test_seccomp_log_runs_syscalls_entry)
{
	assert_ret(run_filtered_mincore(SECCOMP_RET_LOG), 0);
}
END_TEST

/* In a child: a guest's passed-through read under a filter denying read. */
static int filtered_passthrough(void *arg)
{
	struct filtered_batch *fb = arg;
	struct vmexec_run run;
	int err;

	err = install_filter(SYS_read, fb->action);
	if (err)
		return CHILD_SETUP_ERR - err;
	vmexec_run_prep(&run, CODE_ADDR, STACK_TOP - 64);
	run.regs.rax = SYS_read;
	run.regs.rdi = 0;
	run.regs.rsi = DATA_ADDR;
	run.regs.rdx = 0;
	run.sigmask = SIGBIT(SIGILL);
	err = vmexec_run(fb->fd, &run);
	if (err)
		return CHILD_SETUP_ERR + 1000 - err;
	/* An exit at the read: reason 1, the number; run in place: ud2's SIGILL. */
	return (int)run.exit_reason * 1000 + (int)run.exit.syscall.nr;
}

/* A passed-through call the filter does not allow exits to the supervisor. */
START_TEST(test_seccomp_denied_passthrough_call_exits)
{
	_cleanup_child_ struct child c = { 0 };
	struct vmexec_passthrough pt;
	struct filtered_batch fb;
	struct stub s;
	int res = 0;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_syscall_ud2, sizeof(code_syscall_ud2));
	vmexec_passthrough_init(&pt);
	assert_ret(vmexec_passthrough_add(&pt, "read"), 0);
	assert_ret(vmexec_set_passthrough(s.fd, &pt), 0);
	fb.fd = s.fd;
	fb.action = SECCOMP_RET_ERRNO | EPERM;
	assert_ret(child_start(&c, filtered_passthrough, &fb), 0);
	assert_ret(child_result(&c, &res), 0);
	ck_assert_int_eq(res, VMEXEC_EXIT_SYSCALL * 1000 + SYS_read);
	stub_stop(&s);
}
END_TEST

/* Path calls pass through only with VMEXEC_PASSTHROUGH_PATHS. */
START_TEST(test_passthrough_path_calls_need_opt_in)
{
	static const char *const paths[] = {
		"openat", "newfstatat", "statx", "readlinkat", "faccessat",
	};
	struct vmexec_passthrough pt;
	struct stub s;
	unsigned int i;

	stub_start(&s);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		vmexec_passthrough_init(&pt);
		assert_ret(vmexec_passthrough_add(&pt, paths[i]), 0);
		assert_ret(vmexec_set_passthrough(s.fd, &pt), -EPERM);
		pt.flags = VMEXEC_PASSTHROUGH_PATHS;
		assert_ret(vmexec_set_passthrough(s.fd, &pt), 0);
	}
	stub_stop(&s);
}
END_TEST

/* madvise(MADV_HWPOISON / MADV_SOFT_OFFLINE) is never run for a caller. */
START_TEST(test_madvise_poison_refused)
{
	struct stub s;
	long ret;

	stub_start(&s);
	assert_ret(vmexec_syscall(s.fd, &ret, SYS_madvise, DATA_ADDR, PAGE, 100 /* HWPOISON */,
				  0, 0, 0), 0);
	assert_ret(ret, -EPERM);
	assert_ret(vmexec_syscall(s.fd, &ret, SYS_madvise, DATA_ADDR, PAGE,
				  101 /* SOFT_OFFLINE */, 0, 0, 0), 0);
	assert_ret(ret, -EPERM);
	stub_stop(&s);
}
END_TEST

/* Passed-through calls run without the caller's capabilities: mlock at RLIMIT 0. */
START_TEST(test_passthrough_runs_without_capabilities)
{
	struct rlimit rl = { 0, 0 };
	struct vmexec_passthrough pt;
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_syscall_ud2, sizeof(code_syscall_ud2));
	vmexec_passthrough_init(&pt);
	assert_ret(vmexec_passthrough_add(&pt, "mlock"), 0);
	assert_ret(vmexec_set_passthrough(s.fd, &pt), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	/* We are root with CAP_IPC_LOCK: our own mlock would succeed. */
	run_init(&run, CODE_ADDR);
	run.regs.rax = SYS_mlock;
	run.regs.rdi = DATA_ADDR;
	run.regs.rsi = PAGE;
	run.sigmask = SIGBIT(SIGILL);
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	assert_ret((long)run.regs.rax, -EPERM);
	stub_stop(&s);
}
END_TEST

/* A caller with port I/O permission (ioperm) cannot run guests. */
START_TEST(test_run_refuses_caller_with_ioperm)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_exit123, sizeof(code_exit123));
	ck_assert_int_eq(ioperm(0x80, 1, 1), 0);
	run_init(&run, CODE_ADDR);
	assert_ret(run_guest(&s, &run), -EOPNOTSUPP);
	ck_assert_int_eq(ioperm(0x80, 1, 0), 0);
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	stub_stop(&s);
}
END_TEST

/* RF, TF and NT in the registers passed in are accepted and cleared. */
START_TEST(test_run_accepts_and_clears_exit_flags)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_flags123, sizeof(code_flags123));
	run_init(&run, CODE_ADDR);
	run.regs.rflags |= X86_RF | X86_TF | X86_NT;
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.exit.syscall.nr, 123);
	/* pushfq saw neither TF nor NT (RF never shows in a pushf image). */
	ck_assert_uint_eq(run.exit.syscall.args[0] & (X86_TF | X86_NT), 0);
	stub_stop(&s);
}
END_TEST

/* Any canonical fs/gs base (what WRFSBASE accepts) can be passed in. */
START_TEST(test_run_accepts_canonical_kernel_half_bases)
{
	struct vmexec_run run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_exit123, sizeof(code_exit123));
	run_init(&run, CODE_ADDR);
	run.regs.fs_base = 0xffff888000000000UL;
	run.regs.gs_base = 0xfffffffffffff000UL;
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SYSCALL);
	ck_assert_uint_eq(run.regs.fs_base, 0xffff888000000000UL);
	ck_assert_uint_eq(run.regs.gs_base, 0xfffffffffffff000UL);
	run_init(&run, CODE_ADDR);
	run.regs.fs_base = 0x8000000000000000UL;	/* canonical in no paging mode */
	assert_ret(run_guest(&s, &run), -EINVAL);
	stub_stop(&s);
}
END_TEST

/*
 * The memory cgroup: the leader exits while the first other thread runs a
 * guest. The thread that remains must still be charged to the cgroup.
 */
#define CG_DIR		"/sys/fs/cgroup/vmexec-test-owner"
#define TOUCH_MB	24

struct owner_test {
	int fd;			/* bound to the stub */
	pid_t stub;
	pthread_t guest;
	volatile int guest_err;
	int res_fd;		/* result: memory.current delta in KiB */
};

/* memory.current of the test cgroup in KiB, or -errno (helpers: read_int_file). */
static long cg_current_kib(void)
{
	int bytes, err = read_int_file(CG_DIR "/memory.current", &bytes);

	return err ? err : bytes / 1024;
}

static void nop_handler(int sig)
{
	(void)sig;
}

static void *owner_guest(void *arg)
{
	struct owner_test *t = arg;
	struct vmexec_run run;

	vmexec_run_prep(&run, CODE_ADDR, STACK_TOP - 64);
	run.sigmask = SIGBIT(SIGUSR1);
	t->guest_err = vmexec_run(t->fd, &run);
	if (!t->guest_err && run.exit_reason != VMEXEC_EXIT_SIGNAL)
		t->guest_err = -EPROTO;
	return NULL;
}

static void *owner_toucher(void *arg)
{
	struct owner_test *t = arg;
	long before, after, res;
	pid_t leader = getpid();
	char state = 0;
	int i;
	char *p;

	/* Wait until the leader has exited (/proc/PID/stat is its thread's). */
	for (i = 0; i < WAIT_MS && (state = target_state(leader)) != 'Z' && state != 'X'; i++)
		usleep(1000);
	/* The guest thread comes back; then this thread touches memory. */
	pthread_kill(t->guest, SIGUSR1);
	pthread_join(t->guest, NULL);
	before = cg_current_kib();
	p = mmap(NULL, TOUCH_MB << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		res = CHILD_SETUP_ERR + errno;
	} else {
		memset(p, 1, TOUCH_MB << 20);
		after = cg_current_kib();
		res = t->guest_err ? CHILD_SETUP_ERR + 500 - t->guest_err :
		      before < 0 || after < 0 ? CHILD_SETUP_ERR + 900 : after - before;
	}
	i = (int)res;
	if (write(t->res_fd, &i, sizeof(i)) != sizeof(i))
		_exit(3);
	_exit(0);
}

START_TEST(test_memcg_owner_survives_leader_exit)
{
	struct owner_test t;
	struct stub s;
	int p[2], res = 0, status;
	pid_t pid;

	ck_assert_int_eq(access("/sys/fs/cgroup/cgroup.controllers", F_OK), 0);
	ck_assert(mkdir(CG_DIR, 0755) == 0 || errno == EEXIST);
	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code_mark_spin, sizeof(code_mark_spin));
	xpipe(p);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = nop_handler };
		pthread_t toucher;
		int cg = open(CG_DIR "/cgroup.procs", O_WRONLY);

		/* Reported through the sigmask, never handled: but not default-fatal. */
		sigaction(SIGUSR1, &sa, NULL);
		if (cg < 0 || write(cg, "0", 1) != 1)
			_exit(2);
		close(cg);
		t.fd = s.fd;
		t.stub = s.pid;
		t.res_fd = p[1];
		t.guest_err = 0;
		/* Thread order: leader, guest, toucher. */
		if (pthread_create(&t.guest, NULL, owner_guest, &t) ||
		    stub_wait_mark(&s, WAIT_MS) ||
		    pthread_create(&toucher, NULL, owner_toucher, &t))
			_exit(2);
		pthread_exit(NULL);
	}
	close(p[1]);
	p[1] = -1;
	ck_assert_int_eq(read_timeout(p[0], &res, sizeof(res), 3 * WAIT_MS), sizeof(res));
	assert_ret(reap_timeout(pid, &status, WAIT_MS), 0);
	/*
	 * Charged to the cgroup: nearly all of the pages touched (charges are
	 * taken from per-CPU stock in batches, so the growth is not exact);
	 * with the owner lost it stays at 0.
	 */
	ck_assert_msg(res >= TOUCH_MB * 1024 * 3 / 4, "memory.current grew by %d KiB, want >= %d",
		      res, TOUCH_MB * 1024 * 3 / 4);
	close(p[0]);
	stub_stop(&s);
	rmdir(CG_DIR);
}
END_TEST

/*
 * uprobes: a guest whose probed instruction faults while it is being
 * single-stepped out of line gets its exit only after the step is undone,
 * with rip at the probed instruction, never in the XOL area.
 */
#define UPROBE_FILE	"/tmp/vmexec-uprobe-code"
#define UPROBE_ADDR	(CODE_ADDR + 0x10000)
#define TRACEFS		"/sys/kernel/tracing"

static int write_str(const char *path, const char *str, int flags)
{
	int fd = open(path, O_WRONLY | flags);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, str, strlen(str));
	n = n == (ssize_t)strlen(str) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return (int)n;
}

START_TEST(test_uprobe_step_finishes_before_exit)
{
	/* mov (%rbx),%eax with rbx = 0: faults in the single-step. */
	unsigned char code[PAGE] = { 0x8b, 0x03, 0x0f, 0x0b };
	struct vmexec_run run;
	struct stub s;
	long ret;
	int fd;

	fd = open(UPROBE_FILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, code, sizeof(code)), (ssize_t)sizeof(code));
	assert_ret(write_str(TRACEFS "/uprobe_events", "p:vmexec_t/step " UPROBE_FILE ":0x0\n",
			     O_APPEND), 0);
	assert_ret(write_str(TRACEFS "/events/vmexec_t/step/enable", "1", 0), 0);

	stub_start(&s);
	assert_ret(vmexec_syscall(s.fd, &ret, SYS_mmap, UPROBE_ADDR, PAGE, PROT_READ | PROT_EXEC,
				  MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0), 0);
	assert_ret(ret, (long)UPROBE_ADDR);
	run_init(&run, UPROBE_ADDR);
	run.regs.rbx = 0;
	run.sigmask = SIGBIT(SIGSEGV);
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
	ck_assert_uint_eq(run.exit.signal.addr, 0);
	ck_assert_msg(run.regs.rip == UPROBE_ADDR, "exit rip %#llx, want the probe at %#lx",
		      (unsigned long long)run.regs.rip, UPROBE_ADDR);
	ck_assert_uint_eq(run.regs.rflags & X86_TF, 0);
	/* And the registers of that exit run again (and fault again). */
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_uint_eq(run.regs.rip, UPROBE_ADDR);
	stub_stop(&s);

	assert_ret(write_str(TRACEFS "/events/vmexec_t/step/enable", "0", 0), 0);
	assert_ret(write_str(TRACEFS "/uprobe_events", "-:vmexec_t/step\n", O_APPEND), 0);
	close(fd);
	unlink(UPROBE_FILE);
}
END_TEST

/* With vsyscall=xonly, a guest's vsyscall faults instead of being emulated. */
START_TEST(test_vsyscall_faults_in_guest)
{
	/* mov $0xffffffffff600000,%rax; call *%rax; mov $123,%eax; syscall */
	static const unsigned char code[] = {
		0x48, 0xc7, 0xc0, 0x00, 0x00, 0x60, 0xff, 0xff, 0xd0,
		0xb8, 0x7b, 0x00, 0x00, 0x00, 0x0f, 0x05,
	};
	char cmdline[1024] = "";
	struct vmexec_run run;
	struct stub s;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(read(fd, cmdline, sizeof(cmdline) - 1), 0);
	close(fd);
	ck_assert_msg(strstr(cmdline, "vsyscall=xonly"), "boot with vsyscall=xonly: %s", cmdline);

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code, sizeof(code));
	run_init(&run, CODE_ADDR);
	run.sigmask = SIGBIT(SIGSEGV);
	assert_ret(run_guest(&s, &run), 0);
	ck_assert_uint_eq(run.exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run.exit.signal.signo, SIGSEGV);
	ck_assert_uint_eq(run.regs.rip, 0xffffffffff600000UL);
	stub_stop(&s);
}
END_TEST

/* A signal exit that cannot be written to the caller keeps its signal. */
START_TEST(test_signal_kept_when_exit_cannot_be_written)
{
	/* ud2; mov $123,%eax; syscall */
	static const unsigned char code[] = { 0x0f, 0x0b, 0xb8, 0x7b, 0, 0, 0, 0x0f, 0x05 };
	struct vmexec_run *run;
	struct stub s;

	stub_start(&s);
	stub_poke(&s, CODE_ADDR, code, sizeof(code));
	run = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(run != MAP_FAILED);
	run_init(run, CODE_ADDR);
	run->sigmask = SIGBIT(SIGILL);
	/* Readable for the ioctl's copy in, not writable for the exit. */
	ck_assert_int_eq(mprotect(run, PAGE, PROT_READ), 0);
	assert_ret(vmexec_run(s.fd, run), -EFAULT);
	ck_assert_int_eq(mprotect(run, PAGE, PROT_READ | PROT_WRITE), 0);
	/* The next RUN reports the SIGILL without running the syscall. */
	run_init(run, CODE_ADDR + 2);
	run->sigmask = SIGBIT(SIGILL);
	assert_ret(vmexec_run(s.fd, run), 0);
	ck_assert_uint_eq(run->exit_reason, VMEXEC_EXIT_SIGNAL);
	ck_assert_int_eq(run->exit.signal.signo, SIGILL);
	ck_assert_uint_eq(run->exit.signal.addr, CODE_ADDR);
	munmap(run, PAGE);
	stub_stop(&s);
}
END_TEST

/* A target with a second thread, which exits when told. */
static int thread_pipe[2];

static void *target_thread(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char c;

	(void)arg;
	if (write(thread_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		_exit(2);
	while (read(thread_pipe[0], &c, 1) != 1)
		;
	return NULL;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

/* BIND by a thread's pidfd binds the process: the thread may exit. */
START_TEST(test_bind_by_thread_pidfd_outlives_thread)
{
	struct vmexec_syscall sc;
	_cleanup_fd_ int vfd = -1, pfd = -1;
	char path[64];
	pid_t pid, tid = 0;
	int i, up[2], down[2];

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pthread_t t;

		thread_pipe[0] = down[0];
		thread_pipe[1] = up[1];
		if (pthread_create(&t, NULL, target_thread, NULL))
			_exit(2);
		pthread_join(t, NULL);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read_timeout(up[0], &tid, sizeof(tid), WAIT_MS), sizeof(tid));
	pfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pfd < 0) {
		/* Before 6.9 there are no thread pidfds at all. */
		ck_assert_int_eq(errno, EINVAL);
		kill_reap(&pid);
		return;
	}
	vfd = xvmexec_open();
	assert_ret(vmexec_bind_pidfd(vfd, pfd), 0);
	ck_assert_int_eq(write(down[1], "x", 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	for (i = 0; i < WAIT_MS && access(path, F_OK) == 0; i++)
		usleep(1000);
	ck_assert_int_ne(access(path, F_OK), 0);
	prep_nop(&sc);
	assert_ret(vmexec_syscalls(vfd, &sc, 1, 0), 1);
	assert_ret(sc.ret, 0);
	kill_reap(&pid);
}
END_TEST

/*
 * userfaultfd: a SYSCALLS munmap of a range the target registered for
 * UNMAP events waits for the target to read the event; SIGKILL ends it.
 */
#define UFFD_ADDR	TEST_ADDR(7)

static int uffd_target(void *arg)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_UNMAP };
	struct uffdio_register reg = {
		.range = { .start = UFFD_ADDR, .len = PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd, ready = *(int *)arg, res = 0;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		res = CHILD_SETUP_ERR + errno;
	else if (mmap((void *)UFFD_ADDR, PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)UFFD_ADDR)
		res = CHILD_SETUP_ERR + errno;
	else if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		res = CHILD_SETUP_ERR + errno;
	if (write(ready, &res, sizeof(res)) != sizeof(res) || res)
		return res;
	/* Never reads the event. */
	for (;;)
		pause();
}

static int uffd_munmap(void *arg)
{
	struct vmexec_syscall sc;
	int fd = *(int *)arg;

	vmexec_prep_syscall(&sc, SYS_munmap, UFFD_ADDR, PAGE, 0, 0, 0, 0);
	return vmexec_syscalls(fd, &sc, 1, 0);
}

START_TEST(test_uffd_stall_ends_with_sigkill)
{
	_cleanup_child_ struct child tgt = { 0 }, caller = { 0 };
	_cleanup_fd_ int vfd = -1, pfd = -1;
	_cleanup_pipe_ int ready[2] = { -1, -1 };
	int res = 1, i, status;
	char state = 0;

	/* The target: a child that registers the range, then waits for ever. */
	xpipe(ready);
	assert_ret(child_start(&tgt, uffd_target, &ready[1]), 0);
	ck_assert_int_eq(read_timeout(ready[0], &res, sizeof(res), WAIT_MS), sizeof(res));
	assert_ret(res, 0);
	pfd = pidfd_open_pid(tgt.pid);
	ck_assert_int_ge(pfd, 0);
	vfd = xvmexec_open();
	assert_ret(vmexec_bind_pidfd(vfd, pfd), 0);
	assert_ret(child_start(&caller, uffd_munmap, &vfd), 0);
	for (i = 0; i < WAIT_MS && (state = target_state(caller.pid)) != 'D'; i++)
		usleep(1000);
	ck_assert_msg(state == 'D', "caller state %c, want D (waiting for the target)", state);
	ck_assert_int_eq(kill(caller.pid, SIGKILL), 0);
	assert_ret(reap_timeout(caller.pid, &status, WAIT_MS), 0);
	caller.pid = 0;
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

/* The rules of a guest's run whatever holds its address space. */
static void add_guest_security_rules(TCase *tc)
{
	tcase_add_test(tc, test_passthrough_runs_without_capabilities);
	tcase_add_test(tc, test_run_refuses_caller_with_ioperm);
	tcase_add_test(tc, test_run_accepts_and_clears_exit_flags);
	tcase_add_test(tc, test_run_accepts_canonical_kernel_half_bases);
	tcase_add_test(tc, test_uprobe_step_finishes_before_exit);
	tcase_add_test(tc, test_vsyscall_faults_in_guest);
}

Suite *suite_security(void)
{
	Suite *s = suite_create("security");
	TCase *tc;

	tc = tcase_new("audit");
	tcase_add_test(tc, test_audit_signal_exit_leaves_no_record_open);
	tcase_add_test(tc, test_audit_passthrough_call_has_its_record);
	tcase_add_test(tc, test_audit_syscalls_entries_have_their_records);
	tcase_add_test(tc, test_audit_mem_has_process_vm_record);
	tcase_add_test(tc, test_tracer_sees_run_exit_after_signal_exit);
	suite_add_tcase(s, tc);

	tc = tcase_new("seccomp");
	tcase_add_test(tc, test_seccomp_errno_governs_syscalls_entry);
	tcase_add_test(tc, test_seccomp_trap_refuses_syscalls_entry);
	tcase_add_test(tc, test_seccomp_log_runs_syscalls_entry);
	tcase_add_test(tc, test_seccomp_denied_passthrough_call_exits);
	suite_add_tcase(s, tc);

	tc = tcase_new("authority");
	tcase_add_test(tc, test_passthrough_path_calls_need_opt_in);
	tcase_add_test(tc, test_madvise_poison_refused);
	tcase_add_test(tc, test_passthrough_runs_without_capabilities);
	tcase_add_test(tc, test_run_refuses_caller_with_ioperm);
	suite_add_tcase(s, tc);

	tc = tcase_new("registers");
	tcase_add_test(tc, test_run_accepts_and_clears_exit_flags);
	tcase_add_test(tc, test_run_accepts_canonical_kernel_half_bases);
	suite_add_tcase(s, tc);

	tc = tcase_new("memcg");
	tcase_add_test(tc, test_memcg_owner_survives_leader_exit);
	suite_add_tcase(s, tc);

	tc = tcase_new("exits");
	tcase_add_test(tc, test_uprobe_step_finishes_before_exit);
	tcase_add_test(tc, test_vsyscall_faults_in_guest);
	tcase_add_test(tc, test_signal_kept_when_exit_cannot_be_written);
	suite_add_tcase(s, tc);

	tc = tcase_new("binding");
	tcase_add_test(tc, test_bind_by_thread_pidfd_outlives_thread);
	tcase_add_test(tc, test_uffd_stall_ends_with_sigkill);
	suite_add_tcase(s, tc);

	/* The same rules for VMEXEC_IOC_CONTEXT_RUN (stub.h, stub_use_context). */
	tc = tcase_new("security_via_context");
	tcase_add_checked_fixture(tc, stub_context_mode, NULL);
	add_guest_security_rules(tc);
	suite_add_tcase(s, tc);

	/* The same rules in an address space no process has (stub_use_new_mm). */
	tc = tcase_new("security_via_new_mm");
	tcase_add_checked_fixture(tc, stub_new_mm_mode, NULL);
	add_guest_security_rules(tc);
	tcase_add_test(tc, test_audit_signal_exit_leaves_no_record_open);
	tcase_add_test(tc, test_audit_passthrough_call_has_its_record);
	tcase_add_test(tc, test_audit_syscalls_entries_have_their_records);
	tcase_add_test(tc, test_audit_mem_has_process_vm_record);
	tcase_add_test(tc, test_seccomp_denied_passthrough_call_exits);
	tcase_add_test(tc, test_madvise_poison_refused);
	suite_add_tcase(s, tc);
	return s;
}
