// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UML guest's workload program (uml/guest/smoke.sh runs it): the parts
 * of the smoke test busybox cannot do. Statically linked on the host by
 * uml/check.sh. Output must not depend on what runs the UML guest.
 *
 *   workload segv          write to address 0: killed by SIGSEGV
 *   workload catch         fault at 0x1000, catch it, print the siginfo
 *   workload touch N       first touch of N anonymous pages
 *   workload fpu N         SSE/x87 state across N system calls
 *   workload fork N        N children, each exits with its index
 *   workload getppid N     N getppid calls
 *   workload hold          touch a page at 0x5a5a0000, then sleep forever
 *                          (uml/guest/run.sh finds its stub by that address
 *                          and kills it from outside UML)
 *
 * With WORKLOAD_TIME set, it also prints "time CMD N: X us/op" (monotonic
 * clock, so a figure for timing runs only, never in compared output).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf catch_env;
static volatile siginfo_t caught;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	memcpy((void *)&caught, si, sizeof(*si));
	siglongjmp(catch_env, 1);
}

static struct timespec t0;

static void report_time(const char *cmd, long n)
{
	struct timespec t1;
	double us;

	if (!getenv("WORKLOAD_TIME") || n <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
	printf("time %s %ld: %.1f us/op\n", cmd, n, us / n);
}

static long arg(int argc, char **argv, long dflt)
{
	return argc > 2 ? strtol(argv[2], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	long i, n = arg(argc, argv, 100);

	setvbuf(stdout, NULL, _IONBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(cmd, "segv")) {
		printf("about to write to address 0\n");
		*(volatile int *)0 = 1;
		printf("still alive?\n");
		return 1;
	}
	if (!strcmp(cmd, "catch")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		if (!sigsetjmp(catch_env, 1)) {
			(void)*(volatile int *)0x1000;
			printf("no fault?\n");
			return 1;
		}
		printf("caught signal %d code %d addr %p\n", caught.si_signo,
		       caught.si_code, caught.si_addr);
		return 0;
	}
	if (!strcmp(cmd, "touch")) {
		size_t len = (size_t)n * 4096;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned long sum = 0;

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		for (i = 0; i < n; i++)
			p[i * 4096] = (unsigned char)i;
		for (i = 0; i < n; i++)
			sum += p[i * 4096];
		printf("touched %ld pages, sum %lu\n", n, sum);
		report_time(cmd, n);
		return munmap(p, len) != 0;
	}
	if (!strcmp(cmd, "fpu")) {
		volatile double x = 1.0, y = 0.5;
		long double z = 1.0L;

		for (i = 0; i < n; i++) {
			x = x * 1.000001 + y;
			y = y / 1.0000003;
			z = z * 1.0000001L;
			syscall(SYS_getppid);
		}
		printf("fpu: %.9f %.9f %.9Lf\n", x, y, z);
		return 0;
	}
	if (!strcmp(cmd, "fork")) {
		long sum = 0;

		for (i = 0; i < n; i++) {
			pid_t pid = fork();
			int st;

			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0)
				_exit((int)(i & 0x7f));
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
				return 1;
			sum += WEXITSTATUS(st);
		}
		printf("forked %ld children, exit status sum %ld\n", n, sum);
		report_time(cmd, n);
		return 0;
	}
	if (!strcmp(cmd, "getppid")) {
		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("getppid x %ld\n", n);
		report_time(cmd, n);
		return 0;
	}
	if (!strcmp(cmd, "hold")) {
		volatile char *p = mmap((void *)0x5a5a0000UL, 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					-1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		*p = 1;
		printf("holding a page at %p\n", (void *)p);
		/* Back to user mode five times a second: UML then finds the stub gone. */
		for (;;)
			usleep(200000);
	}
	fprintf(stderr, "usage: workload segv|catch|touch N|fpu N|fork N|getppid N|hold\n");
	return 2;
}
