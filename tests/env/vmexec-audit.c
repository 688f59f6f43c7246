// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-audit: the audit setup of the check guest (tests/harness/init).
 *
 *   vmexec-audit on       enable auditing and load one exit rule on the
 *                         x86-64 system call acct (163), key vmexec-harness
 *                         (already loaded: fine)
 *   vmexec-audit status   print "enabled=E pid=P rules=N backlog=B lost=L"
 *
 * Nothing in the guest calls acct(2): the rule is there so that, as on a
 * production host with audit rules loaded, every task has a real (not a
 * dummy) audit context and goes through the audit syscall entry and exit
 * paths. Exit status 0 on success, 1 on failure (with a message on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit_nl.h"

#define HARNESS_KEY	"vmexec-harness"
#define NR_ACCT		163	/* x86-64 */

static int status(int fd)
{
	struct audit_status st;
	int err, rules;

	err = audit_nl_get_status(fd, &st);
	if (err) {
		fprintf(stderr, "vmexec-audit: AUDIT_GET: %s\n", strerror(-err));
		return 1;
	}
	rules = audit_nl_count_rules(fd);
	if (rules < 0) {
		fprintf(stderr, "vmexec-audit: AUDIT_LIST_RULES: %s\n", strerror(-rules));
		return 1;
	}
	printf("enabled=%u pid=%u rules=%d backlog=%u lost=%u\n",
	       st.enabled, st.pid, rules, st.backlog, st.lost);
	return 0;
}

static int on(int fd)
{
	static const int nrs[] = { NR_ACCT };
	int err;

	err = audit_nl_set_enabled(fd, 1);
	if (err) {
		fprintf(stderr, "vmexec-audit: AUDIT_SET enabled=1: %s\n", strerror(-err));
		return 1;
	}
	err = audit_nl_syscall_rule(fd, 1, nrs, 1, HARNESS_KEY);
	if (err && err != -EEXIST) {
		fprintf(stderr, "vmexec-audit: AUDIT_ADD_RULE (exit, acct, key %s): %s\n",
			HARNESS_KEY, strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, ret;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "status"))) {
		fprintf(stderr, "usage: vmexec-audit on|status\n");
		return 2;
	}
	fd = audit_nl_open();
	if (fd < 0) {
		fprintf(stderr, "vmexec-audit: socket(NETLINK_AUDIT): %s\n", strerror(-fd));
		return 1;
	}
	ret = strcmp(argv[1], "on") ? status(fd) : on(fd);
	close(fd);
	return ret;
}
