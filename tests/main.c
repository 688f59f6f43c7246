// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-tests: every Check suite of /dev/vmexec in one static program.
 *
 * Runs as root in the guest with the module loaded. Exit status 0 only if
 * no check failed. Environment: the usual Check variables (CK_RUN_SUITE,
 * CK_RUN_CASE, CK_VERBOSITY, CK_DEFAULT_TIMEOUT, ...) and
 * VMEXEC_TEST_YAMA_SCOPE3=1 to also run the one test that locks Yama's
 * ptrace_scope at 3 until the next boot (see test_perm.c).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "helpers.h"

/*
 * The skips the README documents for the test guests: the Yama scope 3 case
 * runs only on request (it locks ptrace_scope until the next boot).
 */
static const char *const expected_skips[] = { "perm_yama_scope3" };

/* Print the skips apart from the passes; count those not expected. */
static int check_skips(void)
{
	char buf[4096], *name, *save = NULL;
	int n = test_skips_read(buf, sizeof(buf)), unexpected = 0;
	unsigned int i;

	for (name = strtok_r(buf, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < sizeof(expected_skips) / sizeof(expected_skips[0]); i++) {
			if (!strcmp(name, expected_skips[i]))
				break;
		}
		if (i == sizeof(expected_skips) / sizeof(expected_skips[0])) {
			fprintf(stderr, "vmexec-tests: unexpected skip: %s\n", name);
			unexpected++;
		}
	}
	printf("vmexec-tests: skipped %d (%d unexpected); Check counts them as passes\n", n,
	       unexpected);
	return unexpected;
}

int main(void)
{
	SRunner *sr;
	int failed, ret;

	/* A target that died must give EPIPE, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Targets and children of a failed test (Check _exit()s it, SIGKILLs
	 * its process group) come back here to be reaped, so that nothing
	 * still holds /dev/vmexec when this program exits.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		perror("vmexec-tests: PR_SET_CHILD_SUBREAPER");

	/* The order matters: suite_perm() must stay last (see test_perm.c). */
	sr = srunner_create(suite_api());
	srunner_add_suite(sr, suite_bind());
	srunner_add_suite(sr, suite_syscalls());
	srunner_add_suite(sr, suite_target());
	srunner_add_suite(sr, suite_run());
	srunner_add_suite(sr, suite_security());
	srunner_add_suite(sr, suite_context());
	srunner_add_suite(sr, suite_mem());
	srunner_add_suite(sr, suite_new_mm());
	srunner_add_suite(sr, suite_perm());
	srunner_set_fork_status(sr, CK_FORK);

	test_skips_reset();
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	failed += check_skips();

	ret = reap_orphans(WAIT_MS);
	if (ret)
		fprintf(stderr, "vmexec-tests: some children not reaped: %s\n",
			ret_name(ret));
	return failed != 0 || ret != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
