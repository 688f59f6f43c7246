// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-seccomp-exec: run a program under a seccomp filter, as services on
 * production hosts are (the check guest runs vmexec-stress and vmexec-fuzz
 * this way, so that the module's system call paths meet a filter).
 *
 *   vmexec-seccomp-exec -- PROG [ARGS...]
 *
 * Sets PR_SET_NO_NEW_PRIVS, installs (SECCOMP_SET_MODE_FILTER) a classic
 * BPF filter that
 *   - kills the process (SECCOMP_RET_KILL_PROCESS) for any arch but x86-64;
 *   - acct (163):       SECCOMP_RET_ERRNO | EPERM
 *   - sync (162):       SECCOMP_RET_LOG (allowed, and logged)
 *   - kexec_load (246): SECCOMP_RET_KILL_PROCESS
 *   - anything else:    SECCOMP_RET_ALLOW (x32 numbers included)
 * says so on stderr and execvp()s PROG. Exit status 127 if that fails, 1 if
 * the filter cannot be installed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#define NR_SYNC		162
#define NR_ACCT		163
#define NR_KEXEC_LOAD	246

#define LD_DATA(field) \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
/* if (A == nr) skip 0, else skip 1: the next statement runs only on nr. */
#define IF_NR(nr)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1)
#define RET(val)	BPF_STMT(BPF_RET | BPF_K, (val))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static struct sock_filter filter[] = {
	LD_DATA(arch),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	RET(SECCOMP_RET_KILL_PROCESS),
	LD_DATA(nr),
	IF_NR(NR_ACCT),
	RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	IF_NR(NR_SYNC),
	RET(SECCOMP_RET_LOG),
	IF_NR(NR_KEXEC_LOAD),
	RET(SECCOMP_RET_KILL_PROCESS),
	RET(SECCOMP_RET_ALLOW),
};

int main(int argc, char **argv)
{
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(filter),
		.filter = filter,
	};
	int i = 1;

	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		fprintf(stderr, "usage: vmexec-seccomp-exec -- PROG [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fprintf(stderr, "vmexec-seccomp-exec: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return 1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		fprintf(stderr, "vmexec-seccomp-exec: SECCOMP_SET_MODE_FILTER: %s\n",
			strerror(errno));
		return 1;
	}
	/* For the guest's console log: the program really runs filtered. */
	fprintf(stderr, "vmexec-seccomp-exec: seccomp filter installed, exec %s\n", argv[i]);
	execvp(argv[i], argv + i);
	fprintf(stderr, "vmexec-seccomp-exec: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
