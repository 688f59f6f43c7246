// SPDX-License-Identifier: GPL-2.0
/*
 * suite_perm: BIND is a ptrace attach check with the real credentials of
 * the task calling BIND (the file itself is opened by root, then inherited).
 *
 * Yama: ptrace_scope is written by root before the binders are forked and
 * restored by an unchecked fixture (in the runner, even after a failure).
 * Scope 3 cannot be lowered again until reboot, so that case would break
 * every later BIND in the same boot (vmexec-demo runs after this program in
 * the guest): it only runs with VMEXEC_TEST_YAMA_SCOPE3=1, and this suite
 * must stay the last one, with that case last.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define UID_NOBODY	65534
#define UID_USER	1000
#ifndef YAMA_SCOPE
#define YAMA_SCOPE	"/proc/sys/kernel/yama/ptrace_scope"
#endif

/* Whom the unprivileged child P binds to. */
enum rel {
	REL_SELF,	/* P itself */
	REL_SIBLING,	/* a target forked by the test, like P */
	REL_TEST,	/* P's parent, the root test process */
	REL_CHILD,	/* a target P forks after dropping privileges */
	REL_PARENT,	/* P, bound by a child of P: the target is the parent */
};

static const char *const rel_names[] = {
	"itself", "a sibling", "the root test process", "its own child",
	"its parent",
};

struct bind_job {
	int vfd;
	uid_t uid;		/* P drops to this uid (and gid) */
	enum rel rel;
	uid_t sibling_uid;	/* REL_SIBLING: the target's uid */
	pid_t sibling;
};

static int bind_parent(void *arg)
{
	const struct bind_job *j = arg;

	return vmexec_bind_pid(j->vfd, getppid());
}

static int bind_own_child(const struct bind_job *j)
{
	struct target t;
	int ret;

	ret = target_start(&t);
	if (ret)
		return CHILD_SETUP_ERR - ret;
	ret = vmexec_bind_pid(j->vfd, t.pid);
	target_stop(&t);
	return ret;
}

static int bind_from_own_child(struct bind_job *j)
{
	struct child c;
	int ret, res = 0;

	ret = child_start(&c, bind_parent, j);
	if (!ret)
		ret = child_result(&c, &res);
	if (ret)
		return CHILD_SETUP_ERR - ret;
	return res;
}

/* Runs in P: drop to j->uid, then bind as j->rel says. */
static int bind_job_child(void *arg)
{
	struct bind_job *j = arg;
	int ret;

	ret = drop_privileges(j->uid, j->uid);
	if (ret)
		return CHILD_SETUP_ERR - ret;
	switch (j->rel) {
	case REL_SELF:
		return vmexec_bind_pid(j->vfd, getpid());
	case REL_SIBLING:
		return vmexec_bind_pid(j->vfd, j->sibling);
	case REL_TEST:
		return vmexec_bind_pid(j->vfd, getppid());
	case REL_CHILD:
		return bind_own_child(j);
	case REL_PARENT:
		return bind_from_own_child(j);
	}
	return CHILD_SETUP_ERR + EINVAL;
}

/* Fork P, collect its BIND result (0 or -errno). */
static int run_bind_job(struct bind_job *j)
{
	struct child c _cleanup_child_ = { 0 };
	int ret, res = 0;

	ret = child_start(&c, bind_job_child, j);
	ck_assert_msg(ret == 0, "fork: %s", ret_name(ret));
	ret = child_result(&c, &res);
	ck_assert_msg(ret == 0, "binder: %s", ret_name(ret));
	ck_assert_msg(res < CHILD_SETUP_ERR, "binder setup failed: %s",
		      ret_name(CHILD_SETUP_ERR - res));
	return res;
}

static void check_bind_job(struct bind_job *j, int want, const char *what)
{
	struct target t _cleanup_target_ = { 0 };
	int res, ret;

	if (j->rel == REL_SIBLING) {
		ret = target_start_as(&t, j->sibling_uid);
		ck_assert_msg(ret == 0, "target as uid %d: %s",
			      (int)j->sibling_uid, ret_name(ret));
		j->sibling = t.pid;
	}
	res = run_bind_job(j);
	ck_assert_msg(res == want, "%s: uid %u binding %s: got %d (%s), want %s",
		      what, j->uid, rel_names[j->rel], res, ret_name(res),
		      ret_name(want));
}

static const struct {
	enum rel rel;
	int want;
} nobody_cases[] = {
	{ REL_SIBLING, -EACCES },
	{ REL_TEST, -EACCES },
	{ REL_SELF, 0 },
};

/* uid 65534 without capabilities cannot bind root's processes. */
START_TEST(perm_nobody)
{
	int vfd _cleanup_fd_ = xvmexec_open();
	struct bind_job j = {
		.vfd = vfd, .uid = UID_NOBODY, .rel = nobody_cases[_i].rel,
		.sibling_uid = TARGET_NO_UID,	/* root */
	};
	struct vmexec_syscall sc;

	check_bind_job(&j, nobody_cases[_i].want, "no privileges");

	/* Refused: still unbound. Bound to P, which has exited: ESRCH. */
	prep_nop(&sc);
	assert_ret(vmexec_syscalls(vfd, &sc, 1, 0),
		      nobody_cases[_i].want ? -EINVAL : -ESRCH);
}
END_TEST

static int yama_saved = -1;

static void yama_save(void)
{
	if (read_int_file(YAMA_SCOPE, &yama_saved))
		yama_saved = -1;
}

static void yama_restore(void)
{
	int now = -1;

	if (yama_saved < 0 || read_int_file(YAMA_SCOPE, &now) || now == yama_saved)
		return;
	if (write_int_file(YAMA_SCOPE, yama_saved))
		printf("NOTE: could not restore %s to %d: it stays %d until reboot\n",
		       YAMA_SCOPE, yama_saved, now);
	fflush(stdout);
}

static const struct {
	int scope;
	enum rel rel;
	int want;
} yama_cases[] = {
	{ 0, REL_SIBLING, 0 },
	{ 0, REL_PARENT, 0 },
	{ 0, REL_CHILD, 0 },
	{ 1, REL_SIBLING, -EACCES },
	{ 1, REL_PARENT, -EACCES },
	{ 1, REL_CHILD, 0 },
	{ 2, REL_CHILD, -EACCES },
	/* Irreversible: must stay the very last case of the whole run. */
	{ 3, REL_CHILD, -EACCES },
};

static int yama_skip(int scope)
{
	if (access(YAMA_SCOPE, F_OK)) {
		test_skip("perm_yama", "no Yama (" YAMA_SCOPE " absent)");
	} else if (scope == 3 && !getenv("VMEXEC_TEST_YAMA_SCOPE3")) {
		test_skip("perm_yama_scope3", "locks ptrace_scope until reboot; "
			  "set VMEXEC_TEST_YAMA_SCOPE3=1 to run it");
	} else {
		return 0;
	}
	return 1;
}

/* Same uid 1000, no capabilities: Yama decides. */
START_TEST(perm_yama)
{
	int vfd _cleanup_fd_ = -1;
	struct bind_job j = {
		.uid = UID_USER, .rel = yama_cases[_i].rel,
		.sibling_uid = UID_USER,
	};
	int scope = yama_cases[_i].scope, now = -1;
	char what[32];

	if (yama_skip(scope))
		return;
	vfd = xvmexec_open();
	j.vfd = vfd;
	assert_ret(read_int_file(YAMA_SCOPE, &now), 0);
	ck_assert_msg(now != 3 || scope == 3,
		      "ptrace_scope is locked at 3 (until reboot)");
	assert_ret(write_int_file(YAMA_SCOPE, scope), 0);
	snprintf(what, sizeof(what), "ptrace_scope %d", scope);
	check_bind_job(&j, yama_cases[_i].want, what);
}
END_TEST

Suite *suite_perm(void)
{
	Suite *s = suite_create("perm");
	TCase *tc;

	tc = tcase_new("creds");
	tcase_add_loop_test(tc, perm_nobody, 0, ARRAY_LEN(nobody_cases));
	suite_add_tcase(s, tc);

	/* Last tcase of the last suite: see the comment at the top. */
	tc = tcase_new("yama");
	tcase_add_unchecked_fixture(tc, yama_save, yama_restore);
	tcase_add_loop_test(tc, perm_yama, 0, ARRAY_LEN(yama_cases));
	suite_add_tcase(s, tc);
	return s;
}
