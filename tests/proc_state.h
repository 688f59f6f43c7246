/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says a task is doing: its scheduler state and the system call
 * it sleeps in. No Check dependency: vmexec-run-tests uses it too.
 */
#ifndef VMEXEC_TESTS_PROC_STATE_H
#define VMEXEC_TESTS_PROC_STATE_H

#include <sys/types.h>

/*
 * Read a small file in one read(), NUL-terminated: its length, or -errno
 * (-EIO when it is empty).
 */
ssize_t read_proc(const char *path, char *buf, size_t len);

/* The task's /proc/<pid>/stat state letter, or 0. */
char target_state(pid_t pid);

/*
 * Wait (at most ms) until thread tid sleeps in system call nr (its
 * /proc/<tid>/syscall starts with nr, its state is S). 0 or -ETIMEDOUT;
 * never asserts.
 */
int wait_sleeping_in_syscall(pid_t tid, long nr, int ms);

#endif
