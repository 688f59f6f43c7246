// SPDX-License-Identifier: GPL-2.0
/*
 * vmexec-bench: the driver. Every row runs in a fresh child process (so no
 * row inherits another's seccomp filter, dispatch state, tracer, caches of
 * its own making or bindings), does one warm-up run and BENCH_RUNS measured
 * runs, and reports the per-run ns/op to the parent. The parent prints the
 * table and writes the CSV (bench/README.md describes both).
 *
 *   vmexec-bench [-o FILE.csv] [-s SECTIONS] [-x SCALE] [-e DIR]
 *     -s  sections to run, e.g. "ace" (default "abcdef"; "h", new address
 *         spaces against stubs, only when asked for); "t" adds the
 *         per-function trace of the A1 round trip (console only)
 *     -e  a directory on an ext4 file system for section D's files
 *         (without it, the ext4 rows are "n/a")
 *     -x  multiply every row's operation count (debugging only; the
 *         published tables use 1)
 */
#include "bench.h"
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvmexec.h>

struct msg {
	int status;
	int nruns;
	double ns[MAX_RUNS];	/* per measured run: ns per operation */
	double aux[MAX_RUNS];	/* the same for bench_aux_ns */
	char text[256];
	int sw, sw_target;	/* switches counted; the row has a target */
	double sw_per_op[2][3];	/* [caller, target][voluntary, involuntary, wakeups] */
};

struct result {
	char sec[4], id[24], label[112], base[24], note[200], msg[256];
	long ops, bytes_per_op;
	int runs, status;	/* 0 ok, 1 n/a, -1 failed, 2 derived */
	double med, min, max;
	int sw, sw_target;	/* as in struct msg */
	double sw_per_op[2][3];
};

static struct result results[192];
static int nresults, nfailed;
static double scale = 1.0;
static char fail_text[256];
const char *bench_ext4_dir;
double bench_aux_ns;

void bench_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fail_text, sizeof(fail_text), fmt, ap);
	va_end(ap);
}

double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

int other_cpu(void)
{
	return online_cpus() > 1 ? 1 : 0;
}

int pin_to_cpu(pid_t pid, int cpu)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		for (i = 0; i < online_cpus(); i++)
			CPU_SET(i, &set);
	}
	return sched_setaffinity(pid, sizeof(set), &set);
}

/*
 * Context switches and wakeups around a row's timed region: the row's run()
 * calls bench_sw_begin() just before it starts the clock and bench_sw_end()
 * just after it stops it; row_child() sums the deltas of the measured runs.
 * Sources, summed over every thread in /proc/PID/task: voluntary_ctxt_switches
 * and nonvoluntary_ctxt_switches (status), nr_wakeups (sched, with
 * kernel.sched_schedstats=1, which main() sets for section A).
 */
struct swc {
	long long v[3];		/* voluntary, involuntary, wakeups (< 0: unknown) */
};

static int schedstats_on;	/* kernel.sched_schedstats is 1 (set by us) */
static int wakeups_counted;	/* it was, for section A */
static char wakeup_field[64] = "none";

static struct {
	int active, err, nrun, target;
	struct swc c0, t0;
	long long sum[2][3];
} sw;

/* The value of "key: value" lines whose key is key or ends with ".key". */
static long long proc_field(const char *path, const char *key, char *name, size_t namelen)
{
	char line[256];
	long long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *end;
		size_t l;

		if (!colon)
			continue;
		end = colon;
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		l = end - line;
		if (l < kl || memcmp(end - kl, key, kl) || (l > kl && end[-kl - 1] != '.'))
			continue;
		v = strtoll(colon + 1, NULL, 10);
		if (name)
			snprintf(name, namelen, "%.*s", (int)l, line);
		break;
	}
	fclose(f);
	return v;
}

static int proc_counts(pid_t pid, struct swc *c)
{
	static const char *const keys[2] = { "voluntary_ctxt_switches",
					     "nonvoluntary_ctxt_switches" };
	char path[320];
	struct dirent *e;
	DIR *d;
	int i, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	memset(c, 0, sizeof(*c));
	if (!schedstats_on)
		c->v[2] = -1;
	while ((e = readdir(d))) {
		long long v;

		if (e->d_name[0] == '.')
			continue;
		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
			/* "nonvoluntary_..." must not match "voluntary_...": exact keys. */
			v = proc_field(path, keys[i], NULL, 0);
			if (v < 0)
				break;
			c->v[i] += v;
		}
		if (i < 2)
			continue;	/* the thread is gone */
		n++;
		if (c->v[2] >= 0) {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/sched", (int)pid, e->d_name);
			v = proc_field(path, "nr_wakeups", NULL, 0);
			c->v[2] = v < 0 ? -1 : c->v[2] + v;
		}
	}
	closedir(d);
	return n ? 0 : -1;
}

void bench_sw_begin(pid_t target)
{
	if (target > 0 && proc_counts(target, &sw.t0))
		sw.err = 1;
	if (proc_counts(getpid(), &sw.c0))
		sw.err = 1;
}

void bench_sw_end(pid_t target)
{
	struct swc c1, t1;
	int i;

	if (proc_counts(getpid(), &c1) || (target > 0 && proc_counts(target, &t1))) {
		sw.err = 1;
		return;
	}
	if (!sw.active)
		return;		/* the warm-up run */
	if (target > 0)
		sw.target = 1;
	for (i = 0; i < 3; i++) {
		sw.sum[0][i] = (c1.v[i] < 0 || sw.c0.v[i] < 0) ? -1 :
			       sw.sum[0][i] + c1.v[i] - sw.c0.v[i];
		if (target > 0)
			sw.sum[1][i] = (t1.v[i] < 0 || sw.t0.v[i] < 0) ? -1 :
				       sw.sum[1][i] + t1.v[i] - sw.t0.v[i];
	}
	sw.nrun++;
}

/*
 * 1 if kernel.sched_schedstats is 1 now (set by us; *prev gets the old
 * value, -1 if unknown). The wakeup counter's name goes to wakeup_field.
 */
static int schedstats_enable(int *prev)
{
	char buf[8] = "";
	FILE *f = fopen("/proc/sys/kernel/sched_schedstats", "r+");

	*prev = -1;
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		*prev = atoi(buf);
	rewind(f);
	fputs("1\n", f);
	if (fclose(f))
		return 0;
	/* /proc/PID/sched shows the schedstats only while they are on. */
	return proc_field("/proc/self/sched", "nr_wakeups", wakeup_field,
			  sizeof(wakeup_field)) >= 0;
}

static void schedstats_restore(int prev)
{
	FILE *f;

	if (prev < 0 || !(f = fopen("/proc/sys/kernel/sched_schedstats", "w")))
		return;
	fprintf(f, "%d\n", prev);
	fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct result *find(const char *id)
{
	int i;

	for (i = 0; i < nresults; i++)
		if (!strcmp(results[i].id, id))
			return &results[i];
	return NULL;
}

static long scaled(long n)
{
	long v = (long)(n * scale);

	return v < 1 ? 1 : v;
}

/* In the row's child: setup, warm-up, runs; the outcome goes to fd. */
static void row_child(const struct row *r, int fd)
{
	struct msg m;
	void *state = NULL;
	int i, ret;

	memset(&m, 0, sizeof(m));
	alarm(1200);
	if (r->pin == PIN_CPU0 && pin_to_cpu(0, 0)) {
		snprintf(m.text, sizeof(m.text), "sched_setaffinity: %s", strerror(errno));
		m.status = -1;
		goto out;
	}
	fail_text[0] = 0;
	ret = r->setup ? r->setup(r, &state) : 0;
	if (ret) {
		m.status = ret;
		snprintf(m.text, sizeof(m.text), "%s", fail_text);
		goto out;
	}
	if (r->warm) {
		double ns;

		ret = r->run(r, state, scaled(r->warm), &ns);
		if (ret) {
			m.status = -1;
			snprintf(m.text, sizeof(m.text), "warm-up: %s", fail_text);
			goto done;
		}
	}
	memset(&sw, 0, sizeof(sw));
	sw.active = 1;
	for (i = 0; i < BENCH_RUNS; i++) {
		double ns;
		long n = scaled(r->ops);

		bench_aux_ns = 0;
		ret = r->run(r, state, n, &ns);
		if (ret) {
			m.status = -1;
			snprintf(m.text, sizeof(m.text), "run %d: %s", i, fail_text);
			goto done;
		}
		m.aux[m.nruns] = bench_aux_ns / n;
		m.ns[m.nruns++] = ns / n;
	}
	/* Counted in every measured run: per operation, over all of them. */
	if (sw.nrun == BENCH_RUNS && !sw.err) {
		double ops = (double)scaled(r->ops) * BENCH_RUNS;
		int k;

		m.sw = 1;
		m.sw_target = sw.target;
		for (k = 0; k < 3; k++) {
			m.sw_per_op[0][k] = sw.sum[0][k] < 0 ? -1 : sw.sum[0][k] / ops;
			m.sw_per_op[1][k] = sw.sum[1][k] < 0 ? -1 : sw.sum[1][k] / ops;
		}
	}
done:
	if (r->teardown)
		r->teardown(r, state);
out:
	if (write(fd, &m, sizeof(m)) != sizeof(m))
		_exit(2);
	_exit(0);
}

static void print_row(const struct result *x, FILE *f, int csv);

static void set_stats(struct result *x, const double *ns, int nruns)
{
	double v[MAX_RUNS];

	memcpy(v, ns, sizeof(v));
	qsort(v, nruns, sizeof(double), cmp_double);
	x->runs = nruns;
	x->min = v[0];
	x->max = v[nruns - 1];
	x->med = (nruns % 2) ? v[nruns / 2] : (v[nruns / 2 - 1] + v[nruns / 2]) / 2;
}

void bench_measure(const struct row *r)
{
	bench_measure_aux(r, NULL);
}

/* A result's names, everything else zero; base and note may be NULL. */
static void result_init(struct result *x, const char *sec, const char *id, const char *label,
			const char *base, const char *note)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->sec, sizeof(x->sec), "%s", sec);
	snprintf(x->id, sizeof(x->id), "%s", id);
	snprintf(x->label, sizeof(x->label), "%s", label);
	snprintf(x->base, sizeof(x->base), "%s", base ? base : "");
	snprintf(x->note, sizeof(x->note), "%s", note ? note : "");
}

/*
 * The row, then (if aux) a second row of the figure its run() adds up in
 * bench_aux_ns alongside the timed operations, per operation, from the same
 * runs.
 */
void bench_measure_aux(const struct row *r, const struct aux_row *aux)
{
	struct result *x = &results[nresults++];
	struct msg m;
	int p[2], status;
	pid_t pid;
	ssize_t got;

	result_init(x, r->sec, r->id, r->label, r->base, r->note);
	x->ops = scaled(r->ops);
	x->bytes_per_op = r->bytes_per_op;
	printf("bench: %s %s: %s ...\n", r->sec, r->id, r->label);
	fflush(stdout);

	memset(&m, 0, sizeof(m));
	if (pipe(p)) {
		perror("pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(p[0]);
		row_child(r, p[1]);
	}
	close(p[1]);
	got = read(p[0], &m, sizeof(m));
	close(p[0]);
	waitpid(pid, &status, 0);
	if (got != sizeof(m)) {
		m.status = -1;
		if (WIFSIGNALED(status))
			snprintf(m.text, sizeof(m.text), "row process killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(m.text, sizeof(m.text), "row process exited %d without a result",
				 WEXITSTATUS(status));
	}
	x->status = m.status;
	snprintf(x->msg, sizeof(x->msg), "%s", m.text);
	x->sw = m.sw;
	x->sw_target = m.sw_target;
	memcpy(x->sw_per_op, m.sw_per_op, sizeof(x->sw_per_op));
	if (m.status == 0)
		set_stats(x, m.ns, m.nruns);
	else if (m.status < 0)
		nfailed++;
	print_row(x, stdout, 0);
	if (aux) {
		struct result *y = &results[nresults++];

		result_init(y, r->sec, aux->id, aux->label, aux->base, aux->note);
		y->ops = x->ops;
		y->status = m.status;
		if (m.status == 0)
			set_stats(y, m.aux, m.nruns);
		else
			snprintf(y->msg, sizeof(y->msg), "see row %s", r->id);
		print_row(y, stdout, 0);
	}
	fflush(stdout);
}

/* A figure computed from two measured rows: (med(a) - med(b)) * factor. */
void bench_derived(const char *sec, const char *id, const char *label,
		   const char *a, const char *b, double factor, const char *note)
{
	struct result *x = &results[nresults++], *ra = find(a), *rb = find(b);

	result_init(x, sec, id, label, NULL, note);
	if (!ra || !rb || ra->status || rb->status) {
		x->status = 1;
		snprintf(x->msg, sizeof(x->msg), "needs rows %s and %s", a, b);
	} else {
		x->status = 2;
		x->med = (ra->med - rb->med) * factor;
	}
	print_row(x, stdout, 0);
}

/*
 * A figure computed from several measured rows: terms is "ID [+|- ID]...",
 * e.g. "A3 - A16 - A10".
 */
void bench_derived_sum(const char *sec, const char *id, const char *label,
		       const char *terms, const char *note)
{
	struct result *x = &results[nresults++];
	char buf[128], *tok, *save = NULL;
	double sign = 1, sum = 0;

	result_init(x, sec, id, label, NULL, note);
	x->status = 2;
	snprintf(buf, sizeof(buf), "%s", terms);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		const struct result *t;

		if (!strcmp(tok, "+") || !strcmp(tok, "-")) {
			sign = *tok == '-' ? -1 : 1;
			continue;
		}
		t = find(tok);
		if (!t || t->status) {
			x->status = 1;
			snprintf(x->msg, sizeof(x->msg), "needs rows %s", terms);
			break;
		}
		sum += sign * t->med;
		sign = 1;
	}
	if (x->status == 2)
		x->med = sum;
	print_row(x, stdout, 0);
}

static void fmt_ns(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.0f", v);
}

/* Switches and wakeups per operation: "" not counted, "n/a" no target or no counter. */
static void sw_fmt(const struct result *x, char out[2][3][16])
{
	int i, k;

	for (i = 0; i < 2; i++) {
		for (k = 0; k < 3; k++) {
			double v = x->sw_per_op[i][k];

			if (!x->sw)
				out[i][k][0] = 0;
			else if ((i == 1 && !x->sw_target) || v < 0)
				snprintf(out[i][k], 16, "n/a");
			else
				snprintf(out[i][k], 16, "%.2f", v);
		}
	}
}

static void print_row(const struct result *x, FILE *f, int csv)
{
	const struct result *b = x->base[0] ? find(x->base) : NULL;
	char med[32] = "", mn[32] = "", mx[32] = "", ratio[32] = "", tput[48] = "";
	char swv[2][3][16];
	const char *status = "ok";

	if (x->status == 0 || x->status == 2)
		fmt_ns(med, sizeof(med), x->med);
	if (x->status == 0) {
		fmt_ns(mn, sizeof(mn), x->min);
		fmt_ns(mx, sizeof(mx), x->max);
		if (b && b->status == 0 && b->med != 0)
			snprintf(ratio, sizeof(ratio), "%.2f", x->med / b->med);
		if (x->bytes_per_op)
			snprintf(tput, sizeof(tput), "%.0f MB/s", x->bytes_per_op / x->med * 1e3);
		else if (x->sec[0] == 'E')
			snprintf(tput, sizeof(tput), "%.0f /s", 1e9 / x->med);
	} else if (x->status == 1) {
		status = "n/a";
		snprintf(med, sizeof(med), "n/a");
	} else if (x->status < 0) {
		status = "FAIL";
		snprintf(med, sizeof(med), "FAIL");
	} else {
		status = "derived";
	}
	sw_fmt(x, swv);
	if (csv) {
		/* Labels and notes never hold a double quote. */
		fprintf(f, "%s,%s,\"%s\",%ld,%d,%s,%s,%s,%s,%s,\"%s\",%s,\"%s%s%s\",%s,%s,%s,%s,%s,%s\n",
			x->sec, x->id, x->label, x->status == 2 ? 0 : x->ops, x->runs,
			med, mn, mx, ratio, x->base, tput, status, x->note,
			x->note[0] && x->msg[0] ? "; " : "", x->msg,
			swv[0][0], swv[0][1], swv[0][2], swv[1][0], swv[1][1], swv[1][2]);
	} else {
		fprintf(f, "  %-2s %-10s %-58.58s %10s %10s %10s %7s %12s %s%s%s\n",
			x->sec, x->id, x->label, med, mn, mx, ratio, tput,
			status, x->msg[0] ? ": " : "", x->msg);
		if (x->sw)
			fprintf(f, "  %-2s %-10s per op: caller %s voluntary, %s involuntary switches, "
				"%s wakeups; target %s, %s, %s\n", "", "", swv[0][0], swv[0][1],
				swv[0][2], swv[1][0], swv[1][1], swv[1][2]);
	}
}

static void read_line_field(const char *path, const char *key, char *out, size_t len)
{
	char line[512];
	FILE *f = fopen(path, "r");

	snprintf(out, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (key && strncmp(line, key, strlen(key)))
			continue;
		p = key ? strchr(line, ':') : line - 1;
		if (!p)
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\n")] = 0;
		snprintf(out, len, "%s", p);
		break;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *csv = NULL, *sections = "abcdef";
	char cpu[200], vuln[200], clk[64], date[64], flags[4096];
	struct utsname u;
	time_t t = time(NULL);
	FILE *f;
	int c, i;

	while ((c = getopt(argc, argv, "e:o:s:x:")) != -1) {
		switch (c) {
		case 'e': bench_ext4_dir = optarg; break;
		case 'o': csv = optarg; break;
		case 's': sections = optarg; break;
		case 'x': scale = atof(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-o FILE.csv] [-s abcdefh] [-x SCALE] [-e EXT4DIR]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	read_line_field("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
	read_line_field("/proc/cpuinfo", "flags", flags, sizeof(flags));
	strcat(flags, " ");
	read_line_field("/sys/devices/system/cpu/vulnerabilities/meltdown", NULL, vuln, sizeof(vuln));
	read_line_field("/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL,
			clk, sizeof(clk));
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));

	printf("vmexec-bench: kernel %s, CPU \"%s\" x %d, meltdown: %s, clocksource %s, %s\n",
	       u.release, cpu, online_cpus(), vuln, clk, date);
	printf("  %-2s %-10s %-58s %10s %10s %10s %7s %12s %s\n", "", "id", "mechanism",
	       "median ns", "min ns", "max ns", "ratio", "throughput", "status");

	if (strchr(sections, 'a')) {
		int prev;

		/* nr_wakeups in /proc/PID/sched counts only while schedstats are on. */
		schedstats_on = schedstats_enable(&prev);
		printf("vmexec-bench: section A counts wakeups: %s (kernel.sched_schedstats was %d)\n",
		       schedstats_on ? wakeup_field : "no", prev);
		section_a();
		schedstats_restore(prev);
	}
	wakeups_counted = schedstats_on;
	schedstats_on = 0;
	if (strchr(sections, 'b'))
		section_b();
	if (strchr(sections, 'c'))
		section_c();
	if (strchr(sections, 'd'))
		section_d();
	if (strchr(sections, 'e'))
		section_e();
	if (strchr(sections, 'f'))
		section_f();
	if (strchr(sections, 'h'))
		section_h();

	if (csv) {
		f = fopen(csv, "w");
		if (!f) {
			perror(csv);
			return 1;
		}
		fprintf(f, "#meta,kernel,\"%s\"\n", u.release);
		fprintf(f, "#meta,cpu,\"%s\"\n", cpu);
		fprintf(f, "#meta,cpus,%d\n", online_cpus());
		fprintf(f, "#meta,meltdown,\"%s\"\n", vuln);
		fprintf(f, "#meta,clocksource,\"%s\"\n", clk);
		fprintf(f, "#meta,pcid,%s\n", strstr(flags, " pcid ") ? "yes" : "no");
		fprintf(f, "#meta,ospke,%s\n", strstr(flags, " ospke ") ? "yes" : "no");
		fprintf(f, "#meta,guest_date,\"%s\"\n", date);
		fprintf(f, "#meta,runs,%d\n", BENCH_RUNS);
		fprintf(f, "#meta,scale,%g\n", scale);
		fprintf(f, "#meta,wakeup_counter,\"%s\"\n",
			wakeups_counted ? wakeup_field : "none (no schedstats)");
		fprintf(f, "#meta,xstate_size,%d\n", vmexec_xstate_size());
		fprintf(f, "section,id,mechanism,ops_per_run,runs,median_ns_per_op,min_ns_per_op,"
			   "max_ns_per_op,ratio,ratio_base,throughput,status,note,"
			   "caller_vol_cs_per_op,caller_invol_cs_per_op,caller_wakeups_per_op,"
			   "target_vol_cs_per_op,target_invol_cs_per_op,target_wakeups_per_op\n");
		for (i = 0; i < nresults; i++)
			print_row(&results[i], f, 1);
		if (fclose(f)) {
			perror(csv);
			return 1;
		}
	}
	/* After the CSV: a trace that goes wrong costs no row. */
	if (strchr(sections, 't'))
		section_a_trace();
	printf("vmexec-bench: %d rows, %d failed\n", nresults, nfailed);
	return nfailed ? 1 : 0;
}
