// SPDX-License-Identifier: GPL-2.0
/*
 * VMEXEC_IOC_MEM: process_vm_readv/writev on the bound address space. Byte
 * counts are exact, the copy stops at the first fault on either side, the
 * target's protections hold, and the caller's seccomp filter is asked about
 * the equivalent process_vm_readv/writev call.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>
#include "helpers.h"
#include "stub.h"

#define IOV(p, n)	((struct iovec){ .iov_base = (void *)(p), .iov_len = (n) })

/* Byte i of the test pattern: never 0, so untouched (zero) memory shows. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 1) ?: 0x5a;
}

static void fill_pattern(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(i);
}

static int all_bytes(const unsigned char *buf, size_t len, unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != c)
			return 0;
	return 1;
}

/* A SYSCALLS call in the stub that must return 0 (mprotect, munmap). */
static void stub_call0(struct stub *s, long nr, long a0, long a1, long a2)
{
	long ret;

	assert_ret(vmexec_syscall(s->fd, &ret, nr, a0, a1, a2, 0, 0, 0), 0);
	assert_ret(ret, 0);
}

/*
 * Several segments of different sizes on each side, cut at different
 * places and crossing page boundaries: written in one order, read back in
 * another split, every byte where it belongs.
 */
START_TEST(test_mem_round_trip_across_pages)
{
	static const size_t lsz[] = { 1, 4095, 5000, 3, 8199 };
	static const size_t rsz[] = { 2000, 7, 6000, 4291, 5000 };
	static const size_t lsz2[] = { 4097, 3, 10000, 198, 3000 };
	const unsigned long roff[] = {
		PAGE - 1000, 3 * PAGE - 5, 5 * PAGE + 17, 8 * PAGE + 1, 10 * PAGE - 3,
	};
	struct iovec lv[5], rv[5], lv2[5];
	unsigned char *src, *dst, *peek;
	size_t total = 0, off, i;
	struct stub s;

	for (i = 0; i < 5; i++)
		total += lsz[i];
	ck_assert_uint_eq(total, 17298);
	src = malloc(total);
	dst = calloc(1, total);
	peek = malloc(total);
	ck_assert(src && dst && peek);
	fill_pattern(src, total);
	for (off = 0, i = 0; i < 5; i++) {
		lv[i] = IOV(src + off, lsz[i]);
		off += lsz[i];
	}
	for (off = 0, i = 0; i < 5; i++) {
		rv[i] = IOV(DATA_ADDR + roff[i], rsz[i]);
		lv2[i] = IOV(dst + off, lsz2[i]);
		off += lsz2[i];
	}
	ck_assert_uint_eq(off, total);

	stub_start(&s);
	assert_ret(vmexec_mem_write(s.fd, lv, rv, 5), 17298);
	/* Each remote segment holds its slice of the stream (seen by SYSCALLS). */
	for (off = 0, i = 0; i < 5; i++) {
		stub_peek(&s, DATA_ADDR + roff[i], peek, rsz[i]);
		ck_assert_mem_eq(peek, src + off, rsz[i]);
		off += rsz[i];
	}
	ck_assert_uint_eq(off, total);
	/* The bytes between segments are untouched. */
	stub_peek(&s, DATA_ADDR + roff[0] + rsz[0], peek, roff[1] - roff[0] - rsz[0]);
	ck_assert(all_bytes(peek, roff[1] - roff[0] - rsz[0], 0));

	/* Read back through local segments cut elsewhere. */
	assert_ret(vmexec_mem_read(s.fd, lv2, rv, 5), 17298);
	ck_assert_mem_eq(dst, src, total);
	stub_stop(&s);
	free(src);
	free(dst);
	free(peek);
}
END_TEST

/*
 * count segments on each side: with more local than remote bytes, the
 * copy ends with the remote segments (and the other way round).
 */
START_TEST(test_mem_count_is_the_shorter_side)
{
	unsigned char buf[300], back[300];
	struct iovec lv[2], rv[2];
	struct stub s;

	fill_pattern(buf, sizeof(buf));
	memset(back, 0, sizeof(back));
	stub_start(&s);
	lv[0] = IOV(buf, 200);
	lv[1] = IOV(buf + 200, 100);
	rv[0] = IOV(DATA_ADDR, 50);
	rv[1] = IOV(DATA_ADDR + PAGE, 0);
	assert_ret(vmexec_mem_write(s.fd, lv, rv, 2), 50);
	lv[0] = IOV(back, 10);
	lv[1] = IOV(back + 10, 0);
	rv[0] = IOV(DATA_ADDR, 300);
	assert_ret(vmexec_mem_read(s.fd, lv, rv, 2), 10);
	ck_assert_mem_eq(back, buf, 10);
	ck_assert(all_bytes(back + 10, sizeof(back) - 10, 0));
	/* Nothing to copy on the local side: 0. */
	assert_ret(vmexec_mem_read(s.fd, lv, rv, 0), 0);
	stub_stop(&s);
}
END_TEST

/*
 * Writing across into a read-only page of the target stops exactly at the
 * page boundary (no forced write), and the read-only page is unchanged.
 */
START_TEST(test_mem_write_stops_at_readonly_page)
{
	unsigned char buf[400], ro[PAGE];
	struct iovec lv, rv;
	struct stub s;

	fill_pattern(buf, sizeof(buf));
	stub_start(&s);
	stub_call0(&s, SYS_mprotect, DATA_ADDR + PAGE, PAGE, PROT_READ);
	lv = IOV(buf, sizeof(buf));
	rv = IOV(DATA_ADDR + PAGE - 100, sizeof(buf));
	assert_ret(vmexec_mem_write(s.fd, &lv, &rv, 1), 100);
	stub_peek(&s, DATA_ADDR + PAGE - 100, ro, 100);
	ck_assert_mem_eq(ro, buf, 100);
	stub_peek(&s, DATA_ADDR + PAGE, ro, PAGE);
	ck_assert(all_bytes(ro, PAGE, 0));
	/* Entirely in the read-only page (or the r-x code page): EFAULT. */
	rv = IOV(DATA_ADDR + PAGE, 10);
	assert_ret(vmexec_mem_write(s.fd, &lv, &rv, 1), -EFAULT);
	rv = IOV(CODE_ADDR, 10);
	assert_ret(vmexec_mem_write(s.fd, &lv, &rv, 1), -EFAULT);
	/* Reading it is allowed. */
	rv = IOV(DATA_ADDR + PAGE, 10);
	assert_ret(vmexec_mem_read(s.fd, &lv, &rv, 1), 10);
	stub_stop(&s);
}
END_TEST

/* Reading across into an unmapped page of the target: the exact partial count. */
START_TEST(test_mem_read_stops_at_unmapped_page)
{
	unsigned char buf[600], want[300];
	struct iovec lv, rv[2];
	struct stub s;

	fill_pattern(want, sizeof(want));
	memset(buf, 0, sizeof(buf));
	stub_start(&s);
	stub_poke(&s, DATA_ADDR + 2 * PAGE - 300, want, sizeof(want));
	stub_call0(&s, SYS_munmap, DATA_ADDR + 2 * PAGE, PAGE, 0);
	lv = IOV(buf, sizeof(buf));
	rv[0] = IOV(DATA_ADDR + 2 * PAGE - 300, 600);
	/* The copy stops at the fault: the next segment is not reached. */
	rv[1] = IOV(DATA_ADDR, 100);
	assert_ret(vmexec_mem_read(s.fd, &lv, rv, 2), 300);
	ck_assert_mem_eq(buf, want, 300);
	ck_assert(all_bytes(buf + 300, 300, 0));
	stub_stop(&s);
}
END_TEST

/* A PROT_NONE page of the target cannot be read (nor written). */
START_TEST(test_mem_prot_none_page_efault)
{
	unsigned char buf[16];
	struct iovec lv, rv;
	struct stub s;

	stub_start(&s);
	stub_call0(&s, SYS_mprotect, DATA_ADDR + 3 * PAGE, PAGE, PROT_NONE);
	lv = IOV(buf, sizeof(buf));
	rv = IOV(DATA_ADDR + 3 * PAGE + 8, sizeof(buf));
	assert_ret(vmexec_mem_read(s.fd, &lv, &rv, 1), -EFAULT);
	assert_ret(vmexec_mem_write(s.fd, &lv, &rv, 1), -EFAULT);
	stub_stop(&s);
}
END_TEST

/* A fault in the first segment, on either side, before any byte: EFAULT. */
START_TEST(test_mem_first_segment_fault_efault)
{
	unsigned char buf[64];
	struct iovec lv[2], rv[2];
	struct stub s;

	stub_start(&s);
	lv[0] = IOV(buf, 32);
	lv[1] = IOV(buf + 32, 32);
	rv[0] = IOV(TEST_ADDR(3), 32);
	rv[1] = IOV(DATA_ADDR, 32);
	assert_ret(vmexec_mem_read(s.fd, lv, rv, 2), -EFAULT);
	assert_ret(vmexec_mem_write(s.fd, lv, rv, 2), -EFAULT);
	lv[0] = IOV(unmapped_ptr(), 32);
	rv[0] = IOV(DATA_ADDR, 32);
	assert_ret(vmexec_mem_read(s.fd, lv, rv, 2), -EFAULT);
	assert_ret(vmexec_mem_write(s.fd, lv, rv, 2), -EFAULT);
	stub_stop(&s);
}
END_TEST

/*
 * A fault in the caller's own buffer stops the copy there: the count is
 * exactly the bytes before the guard page, in both directions.
 */
START_TEST(test_mem_caller_buffer_fault_partial)
{
	unsigned char want[300], *g;
	struct iovec lv, rv;
	struct stub s;

	fill_pattern(want, sizeof(want));
	g = guarded_alloc(PAGE);
	stub_start(&s);
	stub_poke(&s, DATA_ADDR, want, sizeof(want));
	lv = IOV(g + PAGE - 100, 300);
	rv = IOV(DATA_ADDR, 300);
	assert_ret(vmexec_mem_read(s.fd, &lv, &rv, 1), 100);
	ck_assert_mem_eq(g + PAGE - 100, want, 100);

	/* Write: 100 bytes from the buffer land at DATA_ADDR + PAGE, no more. */
	memset(g + PAGE - 100, 0xab, 100);
	rv = IOV(DATA_ADDR + PAGE, 300);
	assert_ret(vmexec_mem_write(s.fd, &lv, &rv, 1), 100);
	stub_peek(&s, DATA_ADDR + PAGE, want, sizeof(want));
	ck_assert(all_bytes(want, 100, 0xab));
	ck_assert(all_bytes(want + 100, 200, 0));
	stub_stop(&s);
	munmap(g, 2 * PAGE);
}
END_TEST

static int mem_ioctl(int fd, struct vmexec_mem *m)
{
	return raw_ioctl(fd, VMEXEC_IOC_MEM, m);
}

static void mem_init(struct vmexec_mem *m, struct iovec *lv, struct iovec *rv)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->count = 1;
	m->local = (uintptr_t)lv;
	m->remote = (uintptr_t)rv;
}

/* Unknown flags, reserved, a short size, negative lengths: EINVAL; a non-zero tail: E2BIG. */
START_TEST(test_mem_bad_args_einval)
{
	struct {
		struct vmexec_mem m;
		__u64 tail;
	} big;
	unsigned char buf[8] = { 0 };
	struct iovec lv, rv;
	struct vmexec_mem m;
	struct stub s;

	stub_start(&s);
	lv = IOV(buf, sizeof(buf));
	rv = IOV(DATA_ADDR, sizeof(buf));
	mem_init(&m, &lv, &rv);
	assert_ret(mem_ioctl(s.fd, &m), 8);
	m.flags = 1U << 1;
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);
	m.flags = ~VMEXEC_MEM_FLAGS;
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);
	mem_init(&m, &lv, &rv);
	m.reserved = 1;
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);
	mem_init(&m, &lv, &rv);
	m.size = offsetof(struct vmexec_mem, remote);
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);
	m.size = 0;
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);

	memset(&big, 0, sizeof(big));
	mem_init(&big.m, &lv, &rv);
	big.m.size = sizeof(big);
	assert_ret(mem_ioctl(s.fd, &big.m), 8);
	big.tail = 1;
	assert_ret(mem_ioctl(s.fd, &big.m), -E2BIG);

	/* A segment length that is negative as ssize_t, on either side. */
	mem_init(&m, &lv, &rv);
	rv.iov_len = (size_t)-1;
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);
	rv.iov_len = sizeof(buf);
	lv.iov_len = (size_t)-1;
	assert_ret(mem_ioctl(s.fd, &m), -EINVAL);
	lv.iov_len = sizeof(buf);
	/* Vectors the caller cannot read. */
	m.remote = (uintptr_t)unmapped_ptr();
	assert_ret(mem_ioctl(s.fd, &m), -EFAULT);
	m.remote = (uintptr_t)&rv;
	m.local = (uintptr_t)unmapped_ptr();
	assert_ret(mem_ioctl(s.fd, &m), -EFAULT);
	stub_stop(&s);
}
END_TEST

/* VMEXEC_MEM_MAX segments are taken, one more is EINVAL. */
START_TEST(test_mem_count_limit)
{
	struct iovec *lv, *rv;
	unsigned char *buf;
	struct stub s;
	unsigned int i;

	ck_assert_int_eq(VMEXEC_MEM_MAX, 1024);
	lv = calloc(VMEXEC_MEM_MAX + 1, sizeof(*lv));
	rv = calloc(VMEXEC_MEM_MAX + 1, sizeof(*rv));
	buf = malloc(VMEXEC_MEM_MAX + 1);
	ck_assert(lv && rv && buf);
	fill_pattern(buf, VMEXEC_MEM_MAX + 1);
	for (i = 0; i <= VMEXEC_MEM_MAX; i++) {
		lv[i] = IOV(buf + i, 1);
		rv[i] = IOV(DATA_ADDR + 2 * i, 1);
	}
	stub_start(&s);
	assert_ret(vmexec_mem_write(s.fd, lv, rv, VMEXEC_MEM_MAX), VMEXEC_MEM_MAX);
	assert_ret(vmexec_mem_write(s.fd, lv, rv, VMEXEC_MEM_MAX + 1), -EINVAL);
	assert_ret(vmexec_mem_read(s.fd, lv, rv, VMEXEC_MEM_MAX + 1), -EINVAL);
	assert_ret(vmexec_mem_read(s.fd, lv, rv, ~0U), -EINVAL);
	/* The last segment of the first call landed, the extra one did not. */
	stub_peek(&s, DATA_ADDR + 2 * (VMEXEC_MEM_MAX - 1), buf, 3);
	ck_assert_int_eq(buf[0], pattern(VMEXEC_MEM_MAX - 1));
	ck_assert_int_eq(buf[1], 0);
	ck_assert_int_eq(buf[2], 0);
	stub_stop(&s);
	free(lv);
	free(rv);
	free(buf);
}
END_TEST

START_TEST(test_mem_needs_bound_file)
{
	_cleanup_fd_ int fd = xvmexec_open();
	unsigned char buf[8];
	struct iovec lv = IOV(buf, sizeof(buf)), rv = IOV(DATA_ADDR, sizeof(buf));

	assert_ret(vmexec_mem_read(fd, &lv, &rv, 1), -EINVAL);
	assert_ret(vmexec_mem_write(fd, &lv, &rv, 1), -EINVAL);
}
END_TEST

START_TEST(test_mem_gone_target_esrch)
{
	unsigned char buf[8];
	struct iovec lv = IOV(buf, sizeof(buf)), rv = IOV(DATA_ADDR, sizeof(buf));
	struct stub s;

	stub_start(&s);
	assert_ret(vmexec_mem_read(s.fd, &lv, &rv, 1), 8);
	kill(s.pid, SIGKILL);
	ck_assert_int_eq(waitpid(s.pid, NULL, 0), s.pid);
	assert_ret(vmexec_mem_read(s.fd, &lv, &rv, 1), -ESRCH);
	assert_ret(vmexec_mem_write(s.fd, &lv, &rv, 1), -ESRCH);
	stub_stop(&s);
}
END_TEST

START_TEST(test_mem_feature_probed)
{
	_cleanup_fd_ int fd = xvmexec_open();

	assert_ret(vmexec_check_feature(fd, VMEXEC_FEATURE_MEM), 1);
}
END_TEST

/* The caller's filter and what it is shown (seccomp_data of the native call). */
struct filtered_mem {
	int fd;
	pid_t pid;		/* the target, as the caller sees it */
	int nr;			/* process_vm_readv or process_vm_writev */
	unsigned int action;
	unsigned char buf[64];
	struct iovec lv[2], rv[2];
};

#define ARG_LO(n)	(offsetof(struct seccomp_data, args) + 8 * (n))
#define ARG_HI(n)	(ARG_LO(n) + 4)
#define JNE_ALLOW	0xff	/* a jf patched to the ALLOW return */

/* Append: load seccomp_data word @off, on to ALLOW unless it equals @val. */
static int filter_word(struct sock_filter *f, int n, __u32 off, __u32 val)
{
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, val, 0, JNE_ALLOW);
	return n;
}

static int filter_arg(struct sock_filter *f, int n, int arg, uint64_t val)
{
	n = filter_word(f, n, ARG_LO(arg), (__u32)val);
	return filter_word(f, n, ARG_HI(arg), (__u32)(val >> 32));
}

/*
 * In a child: a filter that applies fm->action to fm->nr only when called
 * exactly as process_vm_*(pid, lv, 2, rv, 2, 0) on x86-64, then one MEM
 * read and one MEM write. Returns read result * 1000 + write result, after
 * checking that a refused read left the buffer untouched.
 */
static int filtered_mem(void *arg)
{
	struct filtered_mem *fm = arg;
	struct sock_filter f[32];
	struct sock_fprog prog;
	int n = 0, i, rd, wr;

	n = filter_word(f, n, offsetof(struct seccomp_data, nr), fm->nr);
	n = filter_word(f, n, offsetof(struct seccomp_data, arch), AUDIT_ARCH_X86_64);
	n = filter_arg(f, n, 0, (uint64_t)fm->pid);
	n = filter_arg(f, n, 1, (uintptr_t)fm->lv);
	n = filter_arg(f, n, 2, 2);
	n = filter_arg(f, n, 3, (uintptr_t)fm->rv);
	n = filter_arg(f, n, 4, 2);
	n = filter_arg(f, n, 5, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, fm->action);
	f[n] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (i = 0; i < n; i++)
		if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i].jf == JNE_ALLOW)
			f[i].jf = n - i - 1;
	prog.len = n + 1;
	prog.filter = f;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return CHILD_SETUP_ERR + errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return CHILD_SETUP_ERR + errno;
	memset(fm->buf, 0, sizeof(fm->buf));
	rd = vmexec_mem_read(fm->fd, fm->lv, fm->rv, 2);
	/* A refused read copies nothing. */
	if (rd < 0 && !all_bytes(fm->buf, sizeof(fm->buf), 0))
		return CHILD_SETUP_ERR + 2000;
	memset(fm->buf, 0xee, sizeof(fm->buf));
	wr = vmexec_mem_write(fm->fd, fm->lv, fm->rv, 2);
	return rd * 1000 + wr;
}

/*
 * Runs filtered_mem against a stub whose DATA_ADDR holds the pattern;
 * returns its result and stores the stub's first bytes after it in *after.
 */
static int run_filtered_mem(int nr, unsigned int action, unsigned char *after)
{
	_cleanup_child_ struct child c = { 0 };
	unsigned char want[64];
	struct filtered_mem fm;
	struct stub s;
	int res = 0;

	stub_start(&s);
	fill_pattern(want, sizeof(want));
	stub_poke(&s, DATA_ADDR, want, sizeof(want));
	fm.fd = s.fd;
	fm.pid = s.pid;
	fm.nr = nr;
	fm.action = action;
	fm.lv[0] = IOV(fm.buf, 40);
	fm.lv[1] = IOV(fm.buf + 40, 24);
	fm.rv[0] = IOV(DATA_ADDR, 30);
	fm.rv[1] = IOV(DATA_ADDR + 30, 34);
	assert_ret(child_start(&c, filtered_mem, &fm), 0);
	assert_ret(child_result(&c, &res), 0);
	stub_peek(&s, DATA_ADDR, after, sizeof(want));
	stub_stop(&s);
	return res;
}

/*
 * SECCOMP_RET_ERRNO for process_vm_writev (as the caller would call it)
 * makes MEM write fail with that errno, writing nothing; MEM read works.
 */
START_TEST(test_mem_seccomp_errno_governs_write)
{
	unsigned char after[64], want[64];

	fill_pattern(want, sizeof(want));
	assert_ret(run_filtered_mem(SYS_process_vm_writev, SECCOMP_RET_ERRNO | EOPNOTSUPP,
				    after), 64 * 1000 - EOPNOTSUPP);
	ck_assert_mem_eq(after, want, sizeof(want));
	/* The same for reads. */
	assert_ret(run_filtered_mem(SYS_process_vm_readv, SECCOMP_RET_ERRNO | EACCES, after),
		   -EACCES * 1000 + 64);
	ck_assert(all_bytes(after, sizeof(after), 0xee));
}
END_TEST

/* KILL and TRAP: -EPERM, nothing copied, the caller neither killed nor signalled. */
START_TEST(test_mem_seccomp_kill_trap_eperm)
{
	unsigned char after[64], want[64];

	fill_pattern(want, sizeof(want));
	assert_ret(run_filtered_mem(SYS_process_vm_writev, SECCOMP_RET_KILL_PROCESS, after),
		   64 * 1000 - EPERM);
	ck_assert_mem_eq(after, want, sizeof(want));
	assert_ret(run_filtered_mem(SYS_process_vm_writev, SECCOMP_RET_TRAP, after),
		   64 * 1000 - EPERM);
	ck_assert_mem_eq(after, want, sizeof(want));
	assert_ret(run_filtered_mem(SYS_process_vm_readv, SECCOMP_RET_KILL_THREAD, after),
		   -EPERM * 1000 + 64);
	assert_ret(run_filtered_mem(SYS_process_vm_readv, SECCOMP_RET_TRAP, after),
		   -EPERM * 1000 + 64);
	ck_assert(all_bytes(after, sizeof(after), 0xee));
}
END_TEST

/* SECCOMP_RET_LOG lets it run. */
START_TEST(test_mem_seccomp_log_runs)
{
	unsigned char after[64];

	assert_ret(run_filtered_mem(SYS_process_vm_writev, SECCOMP_RET_LOG, after),
		   64 * 1000 + 64);
	ck_assert(all_bytes(after, sizeof(after), 0xee));
}
END_TEST

Suite *suite_mem(void)
{
	Suite *s = suite_create("mem");
	TCase *tc;

	tc = tcase_new("mem");
	tcase_add_test(tc, test_mem_feature_probed);
	tcase_add_test(tc, test_mem_round_trip_across_pages);
	tcase_add_test(tc, test_mem_count_is_the_shorter_side);
	tcase_add_test(tc, test_mem_write_stops_at_readonly_page);
	tcase_add_test(tc, test_mem_read_stops_at_unmapped_page);
	tcase_add_test(tc, test_mem_prot_none_page_efault);
	tcase_add_test(tc, test_mem_first_segment_fault_efault);
	tcase_add_test(tc, test_mem_caller_buffer_fault_partial);
	tcase_add_test(tc, test_mem_bad_args_einval);
	tcase_add_test(tc, test_mem_count_limit);
	tcase_add_test(tc, test_mem_needs_bound_file);
	tcase_add_test(tc, test_mem_gone_target_esrch);
	suite_add_tcase(s, tc);

	tc = tcase_new("mem_seccomp");
	tcase_add_test(tc, test_mem_seccomp_errno_governs_write);
	tcase_add_test(tc, test_mem_seccomp_kill_trap_eperm);
	tcase_add_test(tc, test_mem_seccomp_log_runs);
	suite_add_tcase(s, tc);
	return s;
}
