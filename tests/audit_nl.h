/* SPDX-License-Identifier: GPL-2.0 */
/*
 * audit_nl: a small client of the kernel's audit netlink interface
 * (NETLINK_AUDIT, <linux/audit.h>), for the tests and the harness
 * (tests/env/vmexec-audit.c). No libaudit.
 *
 * Every function returns 0 (or a value, as documented) on success and a
 * negative errno on failure; none prints anything. The caller needs
 * CAP_AUDIT_CONTROL in the initial user namespace (root in the test guest).
 *
 * Requests (audit_nl_set_*, audit_nl_syscall_rule, audit_nl_get_status,
 * audit_nl_count_rules) are sent with NLM_F_ACK and wait, at most
 * AUDIT_NL_ACK_TIMEOUT_MS, for the kernel's NLMSG_ERROR with the request's
 * sequence number: its error (0 or -errno) is what they return, -ETIMEDOUT
 * if none came. Any other message read from the socket meanwhile (audit
 * records, if the socket is the audit daemon's) is DISCARDED: a test that
 * becomes the audit daemon should use one socket for the records
 * (audit_nl_set_pid() on it, then audit_nl_read()/audit_nl_collect()) and
 * another one for its requests.
 *
 * The kernel sends every audit message in a datagram of its own; the
 * readers rely on that (audit records' nlmsg_len leaves out the netlink
 * header's length, so the datagram's length is the one to trust).
 *
 * The kernel never audits the system calls of the audit daemon's process
 * (auditd_test_task(): any thread of the process whose pid was registered),
 * so the system calls under test must run in another process, e.g. a child
 * forked after the rule is loaded. Typical test:
 *	ctl = audit_nl_open();  rec = audit_nl_open();
 *	audit_nl_set_enabled(ctl, 1);
 *	audit_nl_set_pid(rec, getpid());
 *	audit_nl_syscall_rule(ctl, 1, nrs, n, "mytest");
 *	child = fork(): the child makes the system calls under test, _exit()s
 *	n = audit_nl_collect(rec, "mytest", child, recs, 8, 2000);
 *	waitpid(child, ...);
 *	... assert n and recs[i].nr / .success / .exit ...
 *	audit_nl_syscall_rule(ctl, 0, nrs, n, "mytest");
 *	audit_nl_set_pid(rec, 0);
 *	close(rec); close(ctl);
 * Only one audit daemon can be registered at a time (-EEXIST otherwise),
 * and a registered one that exits is replaced only when the kernel notices
 * (the next AUDIT_SET with a pid does).
 */
#ifndef VMEXEC_TESTS_AUDIT_NL_H
#define VMEXEC_TESTS_AUDIT_NL_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/audit.h>

/* How long a request waits for its ACK (and its reply, if any). */
#define AUDIT_NL_ACK_TIMEOUT_MS	5000

/* Longest text of one audit message (the kernel's limit is 8970). */
#define AUDIT_NL_MAX_TEXT	9000

/*
 * A socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT): its fd, or
 * -errno (-EPROTONOSUPPORT on a kernel without CONFIG_AUDIT).
 */
int audit_nl_open(void);

/*
 * AUDIT_SET with AUDIT_STATUS_ENABLED: @enabled 1 turns auditing on, 0 off
 * (2, locked, cannot be undone until reboot). 0 or the ACK's -errno.
 */
int audit_nl_set_enabled(int fd, int enabled);

/*
 * AUDIT_SET with AUDIT_STATUS_PID: with @pid == getpid() the socket @fd
 * becomes the audit daemon's (the kernel delivers the audit records to it
 * instead of printk, and stops auditing the caller's own system calls);
 * with @pid == 0 the caller, which must be the current audit daemon, stops
 * being it. -EEXIST if another live daemon is registered, -EINVAL if @pid
 * is neither 0 nor the caller's pid.
 */
int audit_nl_set_pid(int fd, pid_t pid);

/*
 * Add (@add != 0: AUDIT_ADD_RULE) or delete (@add == 0: AUDIT_DEL_RULE) the
 * syscall rule: list AUDIT_FILTER_EXIT, action AUDIT_ALWAYS, field
 * AUDIT_ARCH == AUDIT_ARCH_X86_64, the syscall mask bits of the @n numbers
 * in @nrs (each 0..AUDIT_BITMASK_SIZE * 32 - 1), and AUDIT_FILTERKEY == @key
 * if @key is not NULL (1..AUDIT_MAX_KEY_LEN characters). A deletion must
 * name the same numbers and key as the addition. 0, -EINVAL for bad
 * arguments, or the ACK's -errno (-EEXIST: the rule is already loaded;
 * -ENOENT: no such rule to delete).
 */
int audit_nl_syscall_rule(int fd, int add, const int *nrs, int n, const char *key);

/*
 * AUDIT_GET: the kernel's audit status into @st (fields the kernel does not
 * send are zeroed). 0 or -errno.
 */
int audit_nl_get_status(int fd, struct audit_status *st);

/* AUDIT_LIST_RULES: the number of loaded rules (>= 0), or -errno. */
int audit_nl_count_rules(int fd);

/*
 * The next message on @fd, waiting at most @timeout_ms (poll; < 0: no
 * limit). Stores its nlmsg_type in *@type (e.g. AUDIT_SYSCALL, AUDIT_EOE;
 * NLMSG_ERROR for an ACK, whose text is then empty) and its text, without
 * trailing newlines and truncated to @len - 1 bytes, NUL-terminated, in
 * @buf (@len >= 1). Returns the length of the text stored, -ETIMEDOUT if
 * no message came within @timeout_ms, or another -errno. Messages that do
 * not come from the kernel are skipped.
 */
int audit_nl_read(int fd, int *type, char *buf, size_t len, int timeout_ms);

/* One AUDIT_SYSCALL record, as audit_nl_collect() parses it. */
struct audit_nl_syscall {
	char stamp[64];		/* "SEC.MSEC:SERIAL" of audit(...): the event */
	long nr;		/* syscall= */
	int success;		/* success=yes: 1, success=no: 0 */
	long long exit;		/* exit= (the return value, or -errno) */
	pid_t pid;		/* pid= */
};

/*
 * audit_nl_collect - the syscall records of one key, in the order they came.
 * @fd:		the audit daemon's socket (audit_nl_set_pid(fd, getpid()))
 * @key:	only records with key="@key" count (NULL: every AUDIT_SYSCALL
 *		record, whatever its key)
 * @pid:	only records with pid=@pid count (0: any pid); never the
 *		caller's own pid, whose system calls are not audited
 * @recs:	where the matching records go, in arrival order
 * @max:	capacity of @recs (>= 1)
 * @timeout_ms:	deadline of the whole call, from its start (>= 0)
 *
 * Reads messages from @fd until either
 *  - @max matching records are stored and the AUDIT_EOE record of the event
 *    of the last one (same audit(...) stamp) has been read: returns @max at
 *    once, leaving any later message in the socket; or
 *  - @timeout_ms have passed: returns the number of matching records
 *    stored, 0..@max (a record counts even if its event's EOE did not
 *    arrive in time).
 * Every other message read (other types, other keys or pids, EOE of other
 * events) is consumed and dropped. Returns -errno on a socket error or a
 * matching AUDIT_SYSCALL record that cannot be parsed (-EBADMSG).
 *
 * To assert "exactly these N records with key K": pass @max = N + 1 and
 * check that the call returns N after the timeout, then check each
 * recs[i].nr, .success and .exit; records of one event share .stamp (one
 * SYSCALL record per event, so distinct stamps mean distinct system calls).
 * To wait just for N records, pass @max = N (returns as soon as they are
 * complete).
 */
int audit_nl_collect(int fd, const char *key, pid_t pid,
		     struct audit_nl_syscall *recs, int max, int timeout_ms);

/*
 * Parse one AUDIT_SYSCALL record's text ("audit(SEC.MSEC:SERIAL): arch=...
 * syscall=NR success=yes|no exit=VALUE ... pid=PID ... key="KEY"") into
 * @rec, and its key into @key (@keylen bytes, NUL-terminated; "" for
 * key=(null)) if @key is not NULL. 0, or -EBADMSG if a field is missing.
 */
int audit_nl_parse_syscall(const char *text, struct audit_nl_syscall *rec,
			   char *key, size_t keylen);

#endif /* VMEXEC_TESTS_AUDIT_NL_H */
