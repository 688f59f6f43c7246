/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmexec-bench: shared declarations. See bench/README.md for the method.
 */
#ifndef VMEXEC_BENCH_H
#define VMEXEC_BENCH_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/types.h>
#include <time.h>

#define BENCH_RUNS	5	/* measured runs per row (after one warm-up run) */
#define MAX_RUNS	16
#define PAGE		4096UL

/* guest.S */
long bench_loop_local(long n);
long bench_loop_sud(long n, volatile char *selector);
long bench_getppid_loop(long n, long ppid);
void bench_remote_loop(void);
void bench_stop_then_remote(long n, long pid) __attribute__((noreturn));
void bench_fault_loop(void);
void bench_stop_then_fault(long n, long pid, void *base) __attribute__((noreturn));
void bench_syscall_int3(void);

/* Where row processes run: one CPU for the supervisor (and its target
 * unless the row says otherwise), or unpinned. */
enum pin { PIN_CPU0, PIN_NONE };

struct row;
/*
 * One row: setup() once in a fresh child process, then run() once as a
 * warm-up with warm ops and BENCH_RUNS times with ops ops. run() does its
 * own untimed preparation, times only the operations, verifies that they
 * did their work, and stores the elapsed nanoseconds in *ns.
 * Return 0 on success, 1 for "not available on this kernel" (setup only),
 * -1 on failure; msg (bench_fail()) says why.
 */
struct row {
	const char *sec, *id, *label;
	const char *base;	/* id of the row ratios are taken against */
	long ops, warm;		/* operations per measured run, per warm-up run */
	long bytes_per_op;	/* for throughput rows (MB/s), else 0 */
	enum pin pin;
	int (*setup)(const struct row *r, void **state);
	int (*run)(const struct row *r, void *state, long ops, double *ns);
	void (*teardown)(const struct row *r, void *state);
	const char *note;
	long param;		/* row-specific (threads, variant) */
};

/*
 * A second figure of a row, measured in the same runs: run() adds its ns
 * over the run's operations to bench_aux_ns (0 before each run); the driver
 * prints it, per operation, as a row of its own (id, label, ratio base)
 * right after the row.
 */
struct aux_row {
	const char *id, *label, *base, *note;
};

/* main.c */
extern const char *bench_ext4_dir;	/* -e DIR: section D's ext4 directory, or NULL */
extern double bench_aux_ns;
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bench_measure(const struct row *r);
void bench_measure_aux(const struct row *r, const struct aux_row *aux);
void bench_derived(const char *sec, const char *id, const char *label,
		   const char *a, const char *b, double factor, const char *note);
void bench_derived_sum(const char *sec, const char *id, const char *label,
		       const char *terms, const char *note);
/* Around a row's timed region: context switches and wakeups of the row's
 * process and of target (0: the row has none), per operation (main.c). */
void bench_sw_begin(pid_t target);
void bench_sw_end(pid_t target);
double now_ns(void);
int pin_to_cpu(pid_t pid, int cpu);	/* cpu < 0: all CPUs */
int online_cpus(void);
int other_cpu(void);			/* CPU 1 if there is one, else 0 */

/* Sections. */
void section_a(void);
void section_b(void);
void section_c(void);
void section_d(void);
void section_e(void);
void section_f(void);
void section_h(void);
void section_a_trace(void);	/* -s t: not a row; console only */

/* Helpers shared by sections (util.c). */
struct stub {
	pid_t pid;
	int fd;		/* /dev/vmexec bound to the stub */
};
int stub_start(struct stub *s);			/* stopped child, bound */
void stub_stop(struct stub *s);
pid_t busy_child(volatile unsigned long *counter, int cpu);	/* running target */
void kill_wait(pid_t pid);
int wait_stopped(pid_t pid, int *status);	/* waitpid(__WALL), 0 if stopped */
struct vmexec_stats;
/* VMEXEC_IOC_GET_STATS into *st; 0, or -1 with the reason (bench_fail()). */
int stats_read(int fd, struct vmexec_stats *st);
/* A context of fd in *ctx (the caller closes it) and its run area mapped: 0, or -1 reported. */
struct vmexec_run;
int context_open(int fd, int *ctx, struct vmexec_run **area);
/*
 * What the module counted on fd since stats_read(fd, st0): exactly this many
 * syscall exits and passed-through calls, and no signal or interrupted exit.
 */
int stats_check(int fd, const struct vmexec_stats *st0, __u64 syscall_exits, __u64 passthrough);

#define FAILF(...)	do { bench_fail(__VA_ARGS__); return -1; } while (0)
#define CHECK(cond, ...)	do { if (!(cond)) FAILF(__VA_ARGS__); } while (0)

#endif
