// SPDX-License-Identifier: GPL-2.0
/*
 * suite_syscalls: VMEXEC_IOC_SYSCALLS argument checking, results, the
 * allow-list, STOP_ON_ERROR, and whose files and memory the calls use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "helpers.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define SENTINEL	((__s64)0x5a5a5a5a5a5a5a5aLL)
#define STOP		VMEXEC_SYSCALLS_STOP_ON_ERROR

/* ---- fixtures ----------------------------------------------------------- */

/* "args": a file bound to the test process itself. */
static int self_fd = -1;

static void bind_self_setup(void)
{
	self_fd = xvmexec_open();
	assert_ret(vmexec_bind_pid(self_fd, getpid()), 0);
}

static void bind_self_teardown(void)
{
	close_fdp(&self_fd);
}

/* "semantics": a file bound to a busy target. */
static struct target tgt;
static int tgt_fd = -1;

static void bind_target_setup(void)
{
	/* Opened first, so the target's pipe ends get the higher numbers. */
	tgt_fd = xvmexec_open();
	xtarget_start(&tgt);
	assert_ret(vmexec_bind_pid(tgt_fd, tgt.pid), 0);
}

static void bind_target_teardown(void)
{
	target_stop(&tgt);
	close_fdp(&tgt_fd);
}

static void fill(struct vmexec_syscall *calls, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		prep_nop(&calls[i]);
		calls[i].ret = SENTINEL;
	}
}

/* ---- argument checking (bound to self) ---------------------------------- */

START_TEST(syscalls_unbound)
{
	int fd _cleanup_fd_ = xvmexec_open();
	struct vmexec_syscall sc;

	fill(&sc, 1);
	assert_ret(vmexec_syscalls(fd, &sc, 1, 0), -EINVAL);
	assert_ret(vmexec_syscalls(fd, &sc, 1, STOP), -EINVAL);
	ck_assert_int_eq(sc.ret, SENTINEL);
}
END_TEST

static const unsigned int bad_flags[] = {
	1U << 1, 1U << 2, 1U << 31, ~0U, ~STOP,
};

START_TEST(syscalls_unknown_flags)
{
	struct vmexec_syscall sc;

	fill(&sc, 1);
	assert_ret(vmexec_syscalls(self_fd, &sc, 1, bad_flags[_i]), -EINVAL);
	ck_assert_int_eq(sc.ret, SENTINEL);
}
END_TEST

static const uint32_t bad_reserved[] = { 1, 1U << 31, ~0U };

START_TEST(syscalls_reserved)
{
	struct vmexec_syscalls args;
	struct vmexec_syscall sc;

	fill(&sc, 1);
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.count = 1;
	args.reserved = bad_reserved[_i];
	args.calls = (uintptr_t)&sc;
	assert_ret(raw_ioctl(self_fd, VMEXEC_IOC_SYSCALLS, &args), -EINVAL);
	ck_assert_int_eq(sc.ret, SENTINEL);
}
END_TEST

/* As bind_size, for the 24-byte struct vmexec_syscalls. */
static const struct size_case {
	const char *name;
	uint32_t size;
	int poke;
	int at_end;
	int end_at;
	int want;
} syscalls_sizes[] = {
	{ "size 0", 0, -1, 0, 0, -EINVAL },
	{ "size 4", 4, -1, 0, 0, -EINVAL },
	{ "size 16", 16, -1, 0, 0, -EINVAL },
	{ "size 23", 23, -1, 0, 0, -EINVAL },
	{ "size 24", 24, -1, 0, 0, 1 },
	{ "size 25, zero tail", 25, -1, 0, 0, 1 },
	{ "size 32, zero tail", 32, -1, 0, 0, 1 },
	{ "size 32, byte 24 set", 32, 24, 0, 0, -E2BIG },
	{ "size 32, byte 31 set", 32, 31, 0, 0, -E2BIG },
	{ "size 4096, zero tail", 4096, -1, 0, 0, 1 },
	{ "size 4096, byte 4095 set", 4096, 4095, 0, 0, -E2BIG },
	{ "size 4097, zero tail", 4097, -1, 0, 0, -E2BIG },
	{ "size 0xffffffff", UINT32_MAX, -1, 0, 0, -E2BIG },
	{ "size 24, struct runs into PROT_NONE", 24, -1, 1, 16, -EFAULT },
	{ "size 32, tail in PROT_NONE", 32, -1, 1, 24, -EFAULT },
};

START_TEST(syscalls_size)
{
	const struct size_case *c = &syscalls_sizes[_i];
	char *buf = guarded_alloc(2 * PAGE_SZ);
	char *at = c->at_end ? buf + 2 * PAGE_SZ - c->end_at : buf;
	struct vmexec_syscalls args;
	struct vmexec_syscall sc;
	int ret;

	fill(&sc, 1);
	memset(&args, 0, sizeof(args));
	args.size = c->size;
	args.count = 1;
	args.calls = (uintptr_t)&sc;
	memcpy(at, &args, c->at_end ? (size_t)c->end_at : sizeof(args));
	if (c->poke >= 0)
		at[c->poke] = 1;

	ret = raw_ioctl(self_fd, VMEXEC_IOC_SYSCALLS, at);
	ck_assert_msg(ret == c->want, "%s: got %d (%s), want %d (%s)",
		      c->name, ret, ret_name(ret), c->want, ret_name(c->want));
	ck_assert_int_eq(sc.ret, c->want == 1 ? 0 : SENTINEL);
}
END_TEST

static const struct {
	unsigned int ioc_size;
	uint32_t size;
} syscalls_numbers[] = {
	{ 0, 24 }, { 8, 24 }, { 23, 24 }, { 32, 24 }, { 32, 32 },
	{ 4096, 24 }, { _IOC_SIZEMASK, 24 },
};

START_TEST(syscalls_ioctl_number_size)
{
	unsigned long cmd = _IOC(_IOC_WRITE, VMEXEC_IOC_MAGIC, 0x02,
				 syscalls_numbers[_i].ioc_size);
	char *buf = guarded_alloc(PAGE_SZ);
	struct vmexec_syscalls args;
	struct vmexec_syscall sc;

	fill(&sc, 1);
	memset(&args, 0, sizeof(args));
	args.size = syscalls_numbers[_i].size;
	args.count = 1;
	args.calls = (uintptr_t)&sc;
	memcpy(buf, &args, sizeof(args));
	assert_ret(raw_ioctl(self_fd, cmd, buf), 1);
	ck_assert_int_eq(sc.ret, 0);
}
END_TEST

START_TEST(syscalls_bad_args_pointer)
{
	char *guard = (char *)guarded_alloc(PAGE_SZ) + PAGE_SZ;
	void *ptrs[] = {
		NULL, unmapped_ptr(), guard, (void *)0xffff800000000000UL,
	};

	assert_ret(raw_ioctl(self_fd, VMEXEC_IOC_SYSCALLS, ptrs[_i]),
		      -EFAULT);
}
END_TEST

START_TEST(syscalls_bad_calls_pointer)
{
	char *guard = (char *)guarded_alloc(PAGE_SZ) + PAGE_SZ;
	struct vmexec_syscall *ptrs[] = {
		NULL, unmapped_ptr(), (void *)guard,
		(void *)0xffff800000000000UL,
	};

	assert_ret(vmexec_syscalls(self_fd, ptrs[_i], 1, 0), -EFAULT);
	assert_ret(vmexec_syscalls(self_fd, ptrs[_i], 1, STOP), -EFAULT);
}
END_TEST

START_TEST(syscalls_count_zero)
{
	struct vmexec_syscall sc;

	fill(&sc, 1);
	assert_ret(vmexec_syscalls(self_fd, &sc, 0, 0), 0);
	assert_ret(vmexec_syscalls(self_fd, &sc, 0, STOP), 0);
	ck_assert_int_eq(sc.ret, SENTINEL);
	assert_ret(vmexec_syscalls(self_fd, NULL, 0, 0), 0);
	assert_ret(vmexec_syscalls(self_fd, unmapped_ptr(), 0, 0), 0);
}
END_TEST

static struct vmexec_syscall many[VMEXEC_SYSCALLS_MAX + 1];

/* N and N + 1. */
START_TEST(syscalls_count_limit)
{
	unsigned int i;

	ck_assert_int_eq(VMEXEC_SYSCALLS_MAX, 1024);
	fill(many, VMEXEC_SYSCALLS_MAX + 1);
	assert_ret(vmexec_syscalls(self_fd, many, VMEXEC_SYSCALLS_MAX + 1, 0),
		      -E2BIG);
	assert_ret(vmexec_syscalls(self_fd, many, UINT_MAX, 0), -E2BIG);
	assert_ret(vmexec_syscalls(self_fd, NULL, VMEXEC_SYSCALLS_MAX + 1, 0),
		      -E2BIG);
	for (i = 0; i <= VMEXEC_SYSCALLS_MAX; i++)
		ck_assert_int_eq(many[i].ret, SENTINEL);

	assert_ret(vmexec_syscalls(self_fd, many, VMEXEC_SYSCALLS_MAX, 0),
		      VMEXEC_SYSCALLS_MAX);
	for (i = 0; i < VMEXEC_SYSCALLS_MAX; i++)
		ck_assert_msg(many[i].ret == 0, "entry %u: ret %lld", i,
			      (long long)many[i].ret);
	ck_assert_int_eq(many[VMEXEC_SYSCALLS_MAX].ret, SENTINEL);
}
END_TEST

/* ---- semantics (bound to a busy target) --------------------------------- */

/* Each entry gets its own result; the return value counts them all. */
START_TEST(syscalls_results)
{
	int mfd _cleanup_fd_ = memfd_create("vmexec-test", MFD_CLOEXEC);
	struct vmexec_syscall calls[4];

	ck_assert_int_ge(mfd, 0);
	fill(calls, 4);
	vmexec_prep_syscall(&calls[0], SYS_close, -1, 0, 0, 0, 0, 0);
	vmexec_prep_syscall(&calls[2], SYS_lseek, mfd, 5, SEEK_SET, 0, 0, 0);
	vmexec_prep_syscall(&calls[3], SYS_getpid, 0, 0, 0, 0, 0, 0);
	assert_ret(vmexec_syscalls(tgt_fd, calls, 4, 0), 4);
	assert_ret(calls[0].ret, -EBADF);
	assert_ret(calls[1].ret, 0);
	assert_ret(calls[2].ret, 5);
	assert_ret(calls[3].ret, -EPERM);
	/* The memfd exists only here: the offset moved in our file. */
	ck_assert_int_eq(lseek(mfd, 0, SEEK_CUR), 5);
}
END_TEST

enum { K_NOP, K_EBADF, K_DENIED };

static const struct {
	unsigned int flags;
	unsigned int n;
	int kinds[5];
} stop_cases[] = {
	{ 0, 5, { K_NOP, K_EBADF, K_NOP, K_DENIED, K_NOP } },
	{ STOP, 4, { K_NOP, K_EBADF, K_NOP, K_NOP } },
	{ STOP, 4, { K_NOP, K_NOP, K_DENIED, K_NOP } },
	{ STOP, 2, { K_EBADF, K_NOP } },
	{ STOP, 1, { K_DENIED } },
	{ STOP, 3, { K_NOP, K_NOP, K_NOP } },
};

static long kind_ret(int kind)
{
	return kind == K_NOP ? 0 : kind == K_EBADF ? -EBADF : -EPERM;
}

START_TEST(syscalls_stop_on_error)
{
	struct vmexec_syscall calls[5];
	unsigned int i, n = stop_cases[_i].n, done = n;

	fill(calls, n);
	for (i = 0; i < n; i++) {
		int kind = stop_cases[_i].kinds[i];

		if (kind == K_EBADF)
			vmexec_prep_syscall(&calls[i], SYS_close, -1, 0, 0, 0, 0, 0);
		if (kind == K_DENIED)
			vmexec_prep_syscall(&calls[i], SYS_getpid, 0, 0, 0, 0, 0, 0);
		calls[i].ret = SENTINEL;
		if (done == n && kind != K_NOP && (stop_cases[_i].flags & STOP))
			done = i + 1;
	}

	assert_ret(vmexec_syscalls(tgt_fd, calls, n, stop_cases[_i].flags),
		      done);
	for (i = 0; i < n; i++) {
		long want = i < done ? kind_ret(stop_cases[_i].kinds[i]) :
			SENTINEL;

		ck_assert_msg(calls[i].ret == want, "entry %u: ret %lld, want %ld",
			      i, (long long)calls[i].ret, want);
	}
}
END_TEST

#define AT_CWD	(-100L)

/*
 * Not on the allow-list: -EPERM, and not run. The arguments are chosen so
 * that the call would fail harmlessly (or visibly) if it were run.
 */
static const struct {
	const char *name;
	unsigned long long nr;
	long args[6];
} denied[] = {
	{ "getpid", SYS_getpid, { 0 } },
	{ "execve", SYS_execve, { 0 } },
	{ "clone", SYS_clone, { 0x800 /* CLONE_SIGHAND without CLONE_VM */ } },
	{ "exit_group", SYS_exit_group, { 77 } },
	{ "exit", SYS_exit, { 77 } },
	{ "ioctl", SYS_ioctl, { -1 } },
	{ "prctl", SYS_prctl, { 0x7fffffff } },
	{ "arch_prctl", SYS_arch_prctl, { 0 } },
	{ "rt_sigaction", SYS_rt_sigaction, { 0, 0, 0, 8 } },
	{ "ptrace", SYS_ptrace, { 0x7fff } },
	{ "brk", SYS_brk, { 0 } },
	{ "dup", SYS_dup, { -1 } },
	{ "fcntl", SYS_fcntl, { -1 } },
	{ "kill", SYS_kill, { 0, 0 } },
	{ "socket", SYS_socket, { -1 } },
	{ "memfd_create", SYS_memfd_create, { 0 } },
	{ "process_vm_readv", SYS_process_vm_readv, { 0 } },
	{ "pidfd_open", SYS_pidfd_open, { 0 } },
	{ "nr 335 (unused)", 335, { 0 } },
	{ "nr 1000", 1000, { 0 } },
	{ "x32 read", 0x40000000ULL, { -1 } },
	{ "nr 1 << 40", 1ULL << 40, { 0 } },
	{ "nr ~0", ~0ULL, { 0 } },
};

START_TEST(syscalls_denied)
{
	const long *a = denied[_i].args;
	struct vmexec_syscall sc;

	vmexec_prep_syscall(&sc, 0, a[0], a[1], a[2], a[3], a[4], a[5]);
	sc.nr = denied[_i].nr;
	sc.ret = SENTINEL;
	assert_ret(vmexec_syscalls(tgt_fd, &sc, 1, 0), 1);
	ck_assert_msg(sc.ret == -EPERM, "%s: ret %lld (%s), want EPERM",
		      denied[_i].name, (long long)sc.ret, ret_name(sc.ret));
	assert_ret(target_ping(&tgt), 0);
}
END_TEST

/*
 * Every allowed call runs: arguments that give a known, harmless error on
 * both 6.1 and 6.12 (fd -1, NULL paths in the target, unaligned addresses).
 */
static const struct {
	const char *name;
	long nr;
	long args[6];
	long want;
} allowed[] = {
	{ "mmap", SYS_mmap, { 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 },
	  -EINVAL },
	{ "munmap", SYS_munmap, { 1, PAGE_SZ }, -EINVAL },
	{ "mprotect", SYS_mprotect, { 1, PAGE_SZ, PROT_READ }, -EINVAL },
	{ "madvise", SYS_madvise, { 1, PAGE_SZ, MADV_NORMAL }, -EINVAL },
	{ "mremap", SYS_mremap, { 1, PAGE_SZ, PAGE_SZ }, -EINVAL },
	{ "msync", SYS_msync, { 1, PAGE_SZ, MS_ASYNC }, -EINVAL },
	{ "mincore", SYS_mincore, { 1, PAGE_SZ, 0 }, -EINVAL },
	{ "mlock", SYS_mlock, { 0, PAGE_SZ }, -ENOMEM },
	{ "mlock2", SYS_mlock2, { 0, PAGE_SZ, 0xff }, -EINVAL },
	{ "munlock", SYS_munlock, { 0, PAGE_SZ }, -ENOMEM },
	{ "pkey_mprotect", SYS_pkey_mprotect, { 1, PAGE_SZ, PROT_READ, -1 },
	  -EINVAL },
	{ "read", SYS_read, { -1 }, -EBADF },
	{ "write", SYS_write, { -1 }, -EBADF },
	{ "pread64", SYS_pread64, { -1 }, -EBADF },
	{ "pwrite64", SYS_pwrite64, { -1 }, -EBADF },
	{ "readv", SYS_readv, { -1 }, -EBADF },
	{ "writev", SYS_writev, { -1 }, -EBADF },
	{ "preadv", SYS_preadv, { -1 }, -EBADF },
	{ "pwritev", SYS_pwritev, { -1 }, -EBADF },
	{ "preadv2", SYS_preadv2, { -1 }, -EBADF },
	{ "pwritev2", SYS_pwritev2, { -1 }, -EBADF },
	{ "vmsplice", SYS_vmsplice, { -1 }, -EBADF },
	{ "openat", SYS_openat, { AT_CWD, 0, O_RDONLY }, -EFAULT },
	{ "close", SYS_close, { -1 }, -EBADF },
	{ "lseek", SYS_lseek, { -1 }, -EBADF },
	{ "newfstatat", SYS_newfstatat, { AT_CWD, 0, 0, 0 }, -EFAULT },
	{ "fstat", SYS_fstat, { -1 }, -EBADF },
	{ "statx", SYS_statx, { AT_CWD, 0, 0, STATX__RESERVED }, -EINVAL },
	{ "getdents64", SYS_getdents64, { -1 }, -EBADF },
	{ "readlinkat", SYS_readlinkat, { AT_CWD, 0, 0, 0 }, -EINVAL },
	{ "faccessat", SYS_faccessat, { AT_CWD, 0, F_OK }, -EFAULT },
};

START_TEST(syscalls_allowed)
{
	const long *a = allowed[_i].args;
	struct vmexec_syscall sc;

	vmexec_prep_syscall(&sc, allowed[_i].nr, a[0], a[1], a[2], a[3], a[4],
			    a[5]);
	sc.ret = SENTINEL;
	assert_ret(vmexec_syscalls(tgt_fd, &sc, 1, 0), 1);
	ck_assert_msg(sc.ret == allowed[_i].want, "%s: ret %lld (%s), want %s",
		      allowed[_i].name, (long long)sc.ret, ret_name(sc.ret),
		      ret_name(allowed[_i].want));
}
END_TEST

#define LIST_NR(name, fd_arg, path, why, unused) __NR_##name,

/* The table above has a case for every call of the uapi list, and no other. */
START_TEST(syscalls_allowed_cases_cover_the_list)
{
	static const long listed[] = { VMEXEC_ALLOWED_CALLS(LIST_NR, 0) };
	unsigned int i, j;

	ck_assert_uint_eq(ARRAY_LEN(listed), ARRAY_LEN(allowed));
	for (i = 0; i < ARRAY_LEN(listed); i++) {
		for (j = 0; j < ARRAY_LEN(allowed) && allowed[j].nr != listed[i]; j++)
			;
		ck_assert_msg(j < ARRAY_LEN(allowed), "no case for listed call %ld", listed[i]);
		ck_assert(VMEXEC_CALL_ALLOWED(listed[i]));
	}
}
END_TEST

/* The module accepts for pass-through exactly the numbers the uapi list has. */
START_TEST(syscalls_module_agrees_with_the_list)
{
	struct vmexec_passthrough pt;
	unsigned int nr, listed = 0;

	for (nr = 0; nr < VMEXEC_PASSTHROUGH_WORDS * 64; nr++) {
		vmexec_passthrough_init(&pt);
		pt.flags = VMEXEC_PASSTHROUGH_PATHS;
		pt.bitmap[nr / 64] = 1ULL << (nr % 64);
		if (VMEXEC_CALL_ALLOWED(nr)) {
			listed++;
			assert_ret(vmexec_set_passthrough(tgt_fd, &pt), 0);
		} else {
			assert_ret(vmexec_set_passthrough(tgt_fd, &pt), -EINVAL);
		}
	}
	ck_assert_uint_eq(listed, ARRAY_LEN(allowed));
}
END_TEST

/* The memory calls act on the target's address space, not ours. */
START_TEST(syscalls_mm_in_target)
{
	unsigned long a = TEST_ADDR(3), b = TEST_ADDR(4);
	struct vmexec_syscall c[11];
	long want[11];
	int i;

	assert_ret(target_mincore(&tgt, a, PAGE_SZ), -ENOMEM);
	assert_ret(target_mincore(&tgt, b, PAGE_SZ), -ENOMEM);

	vmexec_prep_syscall(&c[0], SYS_mmap, a, PAGE_SZ, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			    -1, 0);
	want[0] = a;
	vmexec_prep_syscall(&c[1], SYS_mlock, a, PAGE_SZ, 0, 0, 0, 0);
	vmexec_prep_syscall(&c[2], SYS_munlock, a, PAGE_SZ, 0, 0, 0, 0);
	vmexec_prep_syscall(&c[3], SYS_mlock2, a, PAGE_SZ, MLOCK_ONFAULT, 0, 0, 0);
	vmexec_prep_syscall(&c[4], SYS_munlock, a, PAGE_SZ, 0, 0, 0, 0);
	vmexec_prep_syscall(&c[5], SYS_mprotect, a, PAGE_SZ, PROT_READ, 0, 0, 0);
	vmexec_prep_syscall(&c[6], SYS_pkey_mprotect, a, PAGE_SZ,
			    PROT_READ | PROT_WRITE, -1, 0, 0);
	vmexec_prep_syscall(&c[7], SYS_madvise, a, PAGE_SZ, MADV_DONTNEED, 0, 0, 0);
	vmexec_prep_syscall(&c[8], SYS_msync, a, PAGE_SZ, MS_ASYNC, 0, 0, 0);
	vmexec_prep_syscall(&c[9], SYS_mincore, a, PAGE_SZ, a + 64, 0, 0, 0);
	vmexec_prep_syscall(&c[10], SYS_mremap, a, PAGE_SZ, PAGE_SZ,
			    MREMAP_MAYMOVE | MREMAP_FIXED, b, 0);
	for (i = 1; i < 10; i++)
		want[i] = 0;
	want[10] = b;

	assert_ret(vmexec_syscalls(tgt_fd, c, 11, STOP), 11);
	for (i = 0; i < 11; i++)
		ck_assert_msg(c[i].ret == want[i], "entry %d: %lld (%s), want %ld",
			      i, (long long)c[i].ret, ret_name(c[i].ret), want[i]);

	assert_ret(target_mincore(&tgt, a, PAGE_SZ), -ENOMEM);
	assert_ret(target_mincore(&tgt, b, PAGE_SZ), 0);
	assert_ret(mapped_here(a), -ENOMEM);
	assert_ret(mapped_here(b), -ENOMEM);

	/* The mm persists between batches: b is taken, then freed. */
	vmexec_prep_syscall(&c[0], SYS_mmap, b, PAGE_SZ, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			    -1, 0);
	vmexec_prep_syscall(&c[1], SYS_munmap, b, PAGE_SZ, 0, 0, 0, 0);
	assert_ret(vmexec_syscalls(tgt_fd, c, 2, 0), 2);
	assert_ret(c[0].ret, -EEXIST);
	assert_ret(c[1].ret, 0);
	assert_ret(target_mincore(&tgt, b, PAGE_SZ), -ENOMEM);
}
END_TEST

/* Does /proc/<pid>/fd/<fd> exist? */
static int proc_fd_exists(pid_t pid, int fd)
{
	char path[64], link[256];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return readlink(path, link, sizeof(link)) > 0;
}

/* Descriptors are the caller's; pointers are the target's. */
START_TEST(syscalls_caller_files_target_memory)
{
	int p[2] _cleanup_pipe_ = { -1, -1 };
	char buf[MARKER_LEN + 1];
	long res = 0;
	int i;

	/* The target's own pipe ends: open there, not here. */
	for (i = 0; i < 2; i++) {
		int n = tgt.child_fds[i];

		ck_assert_msg(fcntl(n, F_GETFD) < 0 && errno == EBADF,
			      "fd %d is open in the test", n);
		ck_assert_msg(proc_fd_exists(tgt.pid, n),
			      "fd %d is not open in the target", n);
		/* On the target's pipe this would be -ESPIPE. */
		assert_ret(vmexec_syscall(tgt_fd, &res, SYS_lseek, n, 0,
					     SEEK_CUR, 0, 0, 0), 0);
		assert_ret(res, -EBADF);
	}

	/* Same address, different contents: the target's are written. */
	ck_assert_str_eq(helper_marker, MARKER_CALLER);
	xpipe(p);
	assert_ret(vmexec_syscall(tgt_fd, &res, SYS_write, p[1],
				     (long)helper_marker, MARKER_LEN, 0, 0, 0), 0);
	assert_ret(res, MARKER_LEN);
	ck_assert_int_eq(read_timeout(p[0], buf, MARKER_LEN, WAIT_MS),
			 MARKER_LEN);
	buf[MARKER_LEN] = '\0';
	ck_assert_str_eq(buf, MARKER_TARGET);

	/* close() closes our descriptor, and nothing of the target's. */
	assert_ret(vmexec_syscall(tgt_fd, &res, SYS_close, p[1], 0, 0, 0, 0,
				     0), 0);
	assert_ret(res, 0);
	ck_assert_msg(fcntl(p[1], F_GETFD) < 0 && errno == EBADF,
		      "fd %d still open after close() through vmexec", p[1]);
	p[1] = -1;
	assert_ret(target_ping(&tgt), 0);
}
END_TEST

Suite *suite_syscalls(void)
{
	Suite *s = suite_create("syscalls");
	TCase *tc;

	tc = tcase_new("args");
	tcase_add_checked_fixture(tc, bind_self_setup, bind_self_teardown);
	tcase_add_test(tc, syscalls_unbound);
	tcase_add_loop_test(tc, syscalls_unknown_flags, 0, ARRAY_LEN(bad_flags));
	tcase_add_loop_test(tc, syscalls_reserved, 0, ARRAY_LEN(bad_reserved));
	tcase_add_loop_test(tc, syscalls_size, 0, ARRAY_LEN(syscalls_sizes));
	tcase_add_loop_test(tc, syscalls_ioctl_number_size, 0,
			    ARRAY_LEN(syscalls_numbers));
	tcase_add_loop_test(tc, syscalls_bad_args_pointer, 0, 4);
	tcase_add_loop_test(tc, syscalls_bad_calls_pointer, 0, 4);
	tcase_add_test(tc, syscalls_count_zero);
	tcase_add_test(tc, syscalls_count_limit);
	suite_add_tcase(s, tc);

	tc = tcase_new("semantics");
	tcase_add_checked_fixture(tc, bind_target_setup, bind_target_teardown);
	tcase_add_test(tc, syscalls_results);
	tcase_add_loop_test(tc, syscalls_stop_on_error, 0, ARRAY_LEN(stop_cases));
	tcase_add_loop_test(tc, syscalls_denied, 0, ARRAY_LEN(denied));
	tcase_add_loop_test(tc, syscalls_allowed, 0, ARRAY_LEN(allowed));
	tcase_add_test(tc, syscalls_allowed_cases_cover_the_list);
	tcase_add_test(tc, syscalls_module_agrees_with_the_list);
	tcase_add_test(tc, syscalls_mm_in_target);
	tcase_add_test(tc, syscalls_caller_files_target_memory);
	suite_add_tcase(s, tc);
	return s;
}
