#!/bin/bash
# report.sh CSV RELEASE OUTDIR [VRCSV]: the tables of one make bench boot.
#
# Reads the CSV vmexec-bench wrote in the guest (sections a-f; CSV may be ""
# when only g or u ran), the CSV of vmexec-run-bench (section g, the
# vmexec-run workload; VRCSV, optional, may be "") and the CSV of
# uml/guest/bench.sh (section u, User-mode Linux; UML_CSV in the
# environment, optional), writes
# OUTDIR/RELEASE.csv (the host's meta lines, then the vmexec-bench rows under
# their "section,id,..." header, then the vmexec-run rows under their
# "workload,runner,..." header, then the UML rows under their
# "uml_row,config,..." header) and OUTDIR/RELEASE.md (header + tables + the
# issues' targets), and prints the markdown.
# Environment (set by tests/harness/bench.sh): BENCH_COMMAND, QEMU_DESC,
# SRC_DESC, UML_CSV, RESULTS_NAME (the files' name instead of RELEASE).
set -euo pipefail

[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: report.sh CSV|'' RELEASE OUTDIR [VRCSV]" >&2; exit 2; }
csv=$1
rel=$2
out=$3
vrcsv=${4:-}
umlcsv=${UML_CSV:-}
name=${RESULTS_NAME:-$rel}
[ -n "$csv" ] || [ -n "$vrcsv" ] || [ -n "$umlcsv" ] || { echo "report.sh: no CSV given" >&2; exit 2; }
mkdir -p "$out"
date_utc=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

{
	printf '#meta,command,"%s"\n' "${BENCH_COMMAND:-make bench}"
	printf '#meta,host_date,"%s"\n' "$date_utc"
	printf '#meta,qemu,"%s"\n' "${QEMU_DESC:-qemu TCG}"
	printf '#meta,module_source,"%s"\n' "${SRC_DESC:-unknown}"
	[ -z "$csv" ] || cat -- "$csv"
	# The vmexec-run block: its meta lines unless vmexec-bench gave them.
	[ -z "$vrcsv" ] || awk -F, 'FILENAME == ARGV[1] { if ($0 ~ /^#meta,/) seen[$2] = 1; next }
		/^#meta,/ && ($2 in seen) { next }
		{ print }' "${csv:-/dev/null}" "$vrcsv"
	# The UML block, likewise.
	[ -z "$umlcsv" ] || awk -F, 'FILENAME != ARGV[ARGC - 1] { if ($0 ~ /^#meta,/) seen[$2] = 1; next }
		/^#meta,/ && ($2 in seen) { next }
		{ print }' "${csv:-/dev/null}" "${vrcsv:-/dev/null}" "$umlcsv"
} >"$out/$name.csv.part"
mv -- "$out/$name.csv.part" "$out/$name.csv"

awk -v rel="$rel" '
function parse(line,    i, c, f, inq, n) {
	n = 0; f = ""; inq = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (c == "\"") { inq = !inq; continue }
		if (c == "," && !inq) { F[++n] = f; f = ""; continue }
		f = f c
	}
	F[++n] = f
	return n
}
function num(v) { return v ~ /^-?[0-9.]+$/ }
function fmt(v) {
	if (!num(v)) return v
	if (v >= 100) return sprintf("%.0f", v)
	return sprintf("%.1f", v)
}
function target(desc, a, b, op, limit,    r, ok) {
	if (!(a in med) || !(b in med) || !num(med[a]) || !num(med[b]) || med[b] == 0) {
		printf "| %s | %s / %s | n/a | %s %s | not measured |\n", desc, a, b, op, limit
		return
	}
	r = med[a] / med[b]
	ok = (op == ">=") ? (r >= limit) : (r <= limit)
	printf "| %s | %s / %s | %.2f | %s %s | %s |\n", desc, a, b, r, op, limit,
		ok ? "holds" : sprintf("misses (%.1fx off)", (op == ">=") ? limit / r : r / limit)
}
# tracer median / vmexec-run median on one workload
function vtarget(desc, w, a, b, limit,    r) {
	if (!((w, a) in vmed) || !((w, b) in vmed) || vmed[w, b] <= 0) {
		printf "| %s | %s / %s (%s) | n/a | >= %s | not measured%s |\n", desc, a, b, w, limit,
			(a ~ /^strace/ && meta["strace"] == "not found") ? " (no strace in the guest)" : ""
		return
	}
	r = vmed[w, a] / vmed[w, b]
	printf "| %s | %s / %s (%s) | %.2f | >= %s | %s |\n", desc, a, b, w, r, limit,
		(r >= limit) ? "holds" : sprintf("misses (%.1fx off)", limit / r)
}
BEGIN { nrow = 0; nvr = 0; numl = 0; block = "" }
/^#meta,/ { parse($0); meta[F[2]] = F[3]; next }
/^section,/ { block = "main"; next }
/^workload,runner,/ { block = "vr"; next }
/^uml_row,config,/ { block = "uml"; next }
NF && block == "uml" {
	# uml_row,config,runs,median_ns,min_ns,max_ns,ops,values
	parse($0)
	if (!(F[1] in useen)) { useen[F[1]] = 1; uorder[++numl] = F[1] }
	for (i = 2; i <= 8; i++) U[F[1], F[2], i] = F[i]
	next
}
NF && block == "main" {
	parse($0)
	nrow++
	for (i = 1; i <= 19; i++) R[nrow, i] = F[i]
	med[F[2]] = F[6]
}
NF && block == "vr" {
	# workload,runner,runs,median_ms,min_ms,max_ms,slowdown_vs_native,tracer_over_vmexec
	parse($0)
	nvr++
	for (i = 1; i <= 8; i++) V[nvr, i] = F[i]
	if (num(F[4]))
		vmed[F[1], F[2]] = F[4]
}
END {
	printf "## vmexec bench: %s (qemu TCG)\n\n", rel
	printf "- command: `%s`\n", meta["command"]
	printf "- date: %s (host); guest clock %s\n", meta["host_date"],
		nrow ? meta["guest_date"] : nvr ? meta["vrbench_guest_date"] : meta["umlbench_guest_date"]
	printf "- kernel: %s (Debian stock), %s\n", meta["kernel"], meta["qemu"]
	if (nrow)
		printf "- guest CPU (/proc/cpuinfo): \"%s\" x %s; meltdown: %s (so no PTI CR3 writes per syscall); PCID: %s; OSPKE: %s; clocksource %s\n",
			meta["cpu"], meta["cpus"], meta["meltdown"], meta["pcid"], meta["ospke"], meta["clocksource"]
	else
		printf "- guest CPU (/proc/cpuinfo): \"%s\" x %s\n", meta["cpu"], meta["cpus"]
	printf "- module: %s\n", meta["module_source"]
	if (nrow)
		main_table()
	if (nvr)
		vr_table()
	if (numl)
		uml_table()
}
function ufig(r, c) {
	if (!((r, c, 4) in U)) return "n/a"
	return sprintf("%s (%s-%s)", fmt(U[r, c, 4]), fmt(U[r, c, 5]), fmt(U[r, c, 6]))
}
function uratio(r, a, b) {
	if (!((r, a, 4) in U) || !((r, b, 4) in U) || U[r, b, 4] <= 0) return ""
	return U[r, a, 4] / U[r, b, 4]
}
function uml_table(    i, r, desc, want, x, ctl, icount, unit) {
	desc["getppid"] = "getppid() (one system call)"
	desc["stat"] = "stat(\"/bin/busybox\")"
	desc["read"] = "1-byte read() of /dev/zero"
	desc["dd"] = "`dd if=/dev/zero of=/dev/null bs=1`, per byte (a read and a write)"
	desc["touch"] = "first touch of an anonymous page (one page fault)"
	desc["fork"] = "fork + _exit + waitpid"
	desc["true"] = "shell loop running /bin/true, per /bin/true"
	desc["boot"] = "boot to halt (UML, its init, poweroff; timed from outside)"
	want["getppid"] = 2; want["stat"] = 2; want["read"] = 2; want["dd"] = 2
	want["touch"] = 3; want["fork"] = 1; want["true"] = 1; want["boot"] = 1
	icount = (meta["qemu"] ~ /icount/)
	unit = icount ? "guest instructions (icount: 1 ns = 1 instruction)" : "wall-clock ns of the qemu TCG guest"
	printf "\n### User-mode Linux (section u)\n\n"
	printf "- `/uml/bench.sh -n %s` in the guest (uml/guest/bench.sh; guest clock %s, %s s in all): %s for 1 warm-up and %s measured runs, all of UML pinned to CPU 0 (taskset)\n",
		meta["uml_runs"], meta["umlbench_guest_date"], meta["uml_seconds"],
		(("getppid", "vmexec_stub", 4) in U) ? \
		"stock UML, the patched UML in ptrace mode (the control), in vmexec mode (`vmexec` on its command line: new address spaces, no stub processes) and in vmexec mode with stub processes (`vmexec_stub`), each booted in turn (stock, ptrace, vmexec, vmexec_stub)" : \
		"stock UML, the patched UML in ptrace mode (the control) and in vmexec mode (`vmexec` on its command line; stub processes held the address spaces then), each booted in turn (stock, ptrace, vmexec)",
		meta["uml_runs"]
	printf "- per run, one UML boot runs every per-operation row (uml/guest/bench-rows.sh; counts: %s), each timed inside UML by /bin/workload with CLOCK_MONOTONIC, and one more boots to halt doing nothing, timed from the qemu guest\n", meta["uml_counts"]
	if (meta["uml_scale"] != 1)
		printf "- **operation counts scaled by %s (debug run, not a publishable table)**\n", meta["uml_scale"]
	printf "- figures: %s per operation, median (min-max) over the measured runs; ratios of medians\n", unit
	printf "- VMEXEC_IOC_GET_STATS at halt, printed by the last vmexec boot: %s\n", meta["uml_stats"]
	if ("uml_stats_stub" in meta)
		printf "- and by the last vmexec_stub boot: %s\n", meta["uml_stats_stub"]
	printf "- UML boots repeated because the UML process died (figures discarded): %s\n\n", meta["uml_retries"]
	printf "| row | operation | ops/run | stock UML | patched, ptrace | patched, vmexec | patched, vmexec_stub | stock / vmexec | stock / vmexec_stub | ptrace / stock |\n"
	printf "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
	for (i = 1; i <= numl; i++) {
		r = uorder[i]
		if (r == "clock") continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, desc[r], U[r, "stock", 7],
			ufig(r, "stock"), ufig(r, "ptrace"), ufig(r, "vmexec"), ufig(r, "vmexec_stub"),
			(x = uratio(r, "stock", "vmexec")) == "" ? "n/a" : sprintf("%.2f", x),
			(x = uratio(r, "stock", "vmexec_stub")) == "" ? "n/a" : sprintf("%.2f", x),
			(x = uratio(r, "ptrace", "stock")) == "" ? "n/a" : sprintf("%.2f", x)
	}
	if (("clock", "stock", 4) in U)
		printf "\nUML'"'"'s clock against the qemu guest'"'"'s: the rows, timed by UML'"'"'s clock, took %.1f%% (stock), %.1f%% (ptrace), %.1f%% (vmexec)%s of their UML boot timed from outside (medians; it must not exceed 100%%).\n",
			U["clock", "stock", 4] / 10, U["clock", "ptrace", 4] / 10, U["clock", "vmexec", 4] / 10,
			(("clock", "vmexec_stub", 4) in U) ? sprintf(", %.1f%% (vmexec_stub)", U["clock", "vmexec_stub", 4] / 10) : ""
	printf "\nTargets (ratios of medians from this boot):\n\n"
	printf "| target | row | ratio | wanted | verdict |\n|---|---|--:|---|---|\n"
	for (i = 1; i <= numl; i++) {
		r = uorder[i]
		if (!(r in want)) continue
		x = uratio(r, "stock", "vmexec")
		if (x == "") {
			printf "| stock / vmexec | %s | n/a | >= %s | not measured |\n", r, want[r]
			continue
		}
		printf "| %s | %s | %.2f | >= %s | %s |\n",
			want[r] == 2 ? "syscall-heavy: vmexec >= 2x faster than stock" : want[r] == 3 ? "page faults: vmexec >= 3x faster than stock" : "vmexec not slower than stock",
			r, x, want[r], (x >= want[r]) ? "holds" : sprintf("misses (%.1fx off)", want[r] / x)
	}
	for (i = 1; i <= numl; i++) {
		r = uorder[i]
		if (!(r in want) || (x = uratio(r, "ptrace", "stock")) == "") continue
		ctl = (x >= 0.9 && x <= 1.1) ? "holds" : "misses"
		printf "| control: patched ptrace within 10%% of stock | %s | %.2f | 0.90-1.10 | %s |\n", r, x, ctl
	}
}
function main_table(    i) {
	printf "- each row: %s measured runs after 1 warm-up run, in a fresh process; ns per operation: median, min and max over the runs; ratio = row median / the median of the vmexec row named in the section (same boot; > 1 means slower than vmexec)\n", meta["runs"]
	if (meta["scale"] != 1)
		printf "- **operation counts scaled by %s (debug run, not a publishable table)**\n", meta["scale"]
	printf "- all figures are emulated time under qemu TCG: compare within this table only\n\n"
	printf "| id | mechanism | ops/run | median ns/op | min | max | ratio | throughput | status | note |\n"
	printf "|---|---|--:|--:|--:|--:|--:|--:|---|---|\n"
	for (i = 1; i <= nrow; i++) {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			R[i, 2], R[i, 3], R[i, 4] + 0 ? R[i, 4] : "", fmt(R[i, 6]), fmt(R[i, 7]),
			fmt(R[i, 8]), R[i, 9] ? R[i, 9] : "", R[i, 11], R[i, 12], R[i, 13]
	}
	printf "\nTargets (ratios of medians from this boot):\n\n"
	printf "| target | rows | ratio | wanted | verdict |\n|---|---|--:|---|---|\n"
	target("A: vmexec >= 10x faster than PTRACE_SYSEMU+GETREGS/SETREGS", "A4", "A1", ">=", 10)
	target("A: vmexec no slower than in-process SUD", "A1", "A6", "<=", 1)
	target("A: vmexec at most 3x native getppid()", "A1", "A10", "<=", 3)
	target("A (switch-free RUN): >= 10x faster than SYSEMU", "A4", "A3", ">=", 10)
	target("A (switch-free RUN): no slower than SUD", "A3", "A6", "<=", 1)
	target("A (switch-free RUN): at most 3x getppid()", "A3", "A10", "<=", 3)
	target("C: vmexec >= 20x faster than ptrace injection", "C3", "C1", ">=", 20)
	if (("A-cr3" in med) && num(med["A-cr3"]))
		printf "\nOne mm switch (CR3 load, TCG soft-TLB flush) costs about %s ns here: A1 pays two per round trip, A3 none.\n", fmt(med["A-cr3"])
	switch_table()
	breakdown_table()
	h_table()
}
# Section H: a new mm against the stub way, side by side (medians of this boot).
function hpair(desc, a, b, unit,    x) {
	if (!(a in med) || !(b in med) || !num(med[a]) || !num(med[b])) {
		printf "| %s | %s | %s | n/a |\n", desc, (a in med) ? med[a] : "n/a", (b in med) ? med[b] : "n/a"
		return
	}
	x = med[a] != 0 ? sprintf("%.2f", med[b] / med[a]) : "n/a"
	printf "| %s | %s %s | %s %s | %s |\n", desc, fmt(med[a]), unit, fmt(med[b]), unit, x
}
function hmem(desc, id,    p, s, n, rs, rn) {
	p = med[id "-pvm"]; s = med[id "-stub"]; n = med[id "-new"]
	if (!num(p) || !num(s) || !num(n) || p == 0) {
		printf "| %s | %s | %s | %s | n/a | n/a |\n", desc, p, s, n
		return
	}
	printf "| %s | %s | %s | %s | %.2f | %.2f |\n", desc, fmt(p), fmt(s), fmt(n), s / p, n / p
}
function h_table(    f, i, k, lab) {
	if (!("H1-stub" in med) && !("H4" in med) && !("H8-pvm" in med))
		return
	printf "\nSection H, a new mm (VMEXEC_BIND_NEW_MM) against the stub way (fork, stop, pidfd BIND, munmap of everything; medians of this boot, new / stub < 1: the new mm is cheaper). The H2/H3 rows above are bytes per address space, not ns:\n\n"
	printf "| operation | stub way | new mm | new / stub |\n|---|--:|--:|--:|\n"
	hpair("create + tear down (H1)", "H1-stub", "H1-new", "ns")
	hpair("create only (H1-*-c)", "H1-stub-c", "H1-new-c", "ns")
	hpair("tear down only (H1-*-t)", "H1-stub-t", "H1-new-t", "ns")
	split("slab sunr pt kstack avail free", f, " ")
	split("Slab|SUnreclaim|PageTables|KernelStack|MemAvailable taken|free pages incl. per-CPU lists taken", lab, "|")
	for (k = 1; k <= 6; k++)
		hpair(lab[k] " per address space (H2/H3)", "H2-" f[k], "H3-" f[k], "B")
	hpair("RUN round trip (H4/H5)", "H4", "H5", "ns")
	hpair("CONTEXT_RUN round trip (H6/H7)", "H6", "H7", "ns")
	printf "\nSection H, copies (ns per call, medians): process_vm_readv/writev on a stub against VMEXEC_IOC_MEM on the stub'"'"'s mm and on a new mm:\n\n"
	printf "| copy | process_vm_*v, stub | MEM, stub | MEM, new mm | MEM stub / pvm | MEM new / pvm |\n|---|--:|--:|--:|--:|--:|\n"
	hmem("read 8 B", "H8"); hmem("read 4 KiB", "H9"); hmem("read 64 KiB", "H10"); hmem("read 16 x 4 KiB", "H11")
	hmem("write 8 B", "H12"); hmem("write 4 KiB", "H13"); hmem("write 64 KiB", "H14"); hmem("write 16 x 4 KiB", "H15")
}
# Context switches and wakeups per operation (the CSV columns 14-19).
function switch_table(    i, any, wk) {
	for (i = 1; i <= nrow; i++)
		if (R[i, 14] != "")
			any = 1
	if (!any)
		return
	wk = meta["wakeup_counter"]
	wk = (wk == "" || wk ~ /^none/) ? "wakeups not counted (no schedstats)" : sprintf("wakeups = times the task was woken (%s in /proc/PID/task/TID/sched, kernel.sched_schedstats=1 during section A)", wk)
	printf "\nSwitches per round trip (section A): context switches of the row'"'"'s process (caller: all its threads) and of its target (the stub, tracee or notifying process; n/a: none), from voluntary_ctxt_switches and nonvoluntary_ctxt_switches in /proc/PID/task/TID/status; %s. Deltas over the measured runs, taken outside the timed region, divided by the operations:\n\n", wk
	printf "| id | mechanism | caller voluntary | caller involuntary | caller wakeups | target voluntary | target involuntary | target wakeups |\n"
	printf "|---|---|--:|--:|--:|--:|--:|--:|\n"
	for (i = 1; i <= nrow; i++)
		if (R[i, 14] != "")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", R[i, 2], R[i, 3],
				R[i, 14], R[i, 15], R[i, 16], R[i, 17], R[i, 18], R[i, 19]
}
# A1 in parts, from the decomposition rows of section A.
function bpart(desc, rows, v) {
	printf "| %s | %s | %s | %.1f%% |\n", desc, rows, fmt(v), 100 * v / med["A1"]
}
function breakdown_table(    k, need) {
	split("A1 A2 A3 A10 A11 A14 A15 A16 A17", need, " ")
	for (k in need)
		if (!(need[k] in med) || !num(med[need[k]]))
			return
	printf "\nThe A1 round trip in parts (medians of this boot; derived rows A-*; bench/README.md, Breakdown):\n\n"
	printf "| part | rows | ns/op | share of A1 |\n|---|---|--:|--:|\n"
	bpart("the caller'"'"'s syscall entry and exit, and its loop", "A10", med["A10"])
	bpart("fd lookup, vfs ioctl dispatch", "A11 - A10", med["A11"] - med["A10"])
	bpart("RUN'"'"'s case, get_user() of the size", "A14 - A11", med["A14"] - med["A11"])
	bpart("copy-in of struct vmexec_run", "A15 - A14", med["A15"] - med["A14"])
	bpart("argument and caller checks, held-signal lookup", "A16 - A15", med["A16"] - med["A15"])
	bpart("the guest'"'"'s syscall entry and exit", "A10", med["A10"])
	bpart("the rest: bound mm, hook, state swaps, FPU, exit copy-out", "A3 - A16 - A10",
		med["A3"] - med["A16"] - med["A10"])
	bpart("two mm switches", "A1 - A3", med["A1"] - med["A3"])
	bpart("total", "A1", med["A1"])
	printf "\nWith an xstate buffer (%s bytes) a round trip costs A2 - A1 = %s more (%s without mm switches, A17 - A3).\n",
		meta["xstate_size"], fmt(med["A2"] - med["A1"]), fmt(med["A17"] - med["A3"])
}
function vr_table(    i, mib, args, bb) {
	args = meta["vrbench_args"]
	bb = meta["busybox"]
	sub(/ multi-call binary\.?$/, "", bb)
	mib = 16
	if (match(args, /-m [0-9]+/))
		mib = substr(args, RSTART + 3, RLENGTH - 3)
	printf "\n### vmexec-run workload\n\n"
	printf "- `/bench/vmexec-run-bench %s` in the guest (bench/vmexec-run-bench.c; guest clock %s, %s s in all): %s applets on files in /tmp (tmpfs)\n",
		args, meta["vrbench_guest_date"], meta["vrbench_seconds"], bb
	printf "- workloads: dd = `busybox dd if=FILE of=/dev/null bs=512` on a %s MiB file (the syscall-heavy case); sha = `busybox sha256sum FILE` (4 KiB reads, compute-bound); find = `busybox find` over 3,000 files in 60 directories (path-heavy)\n", mib
	printf "- runners: native; `vmexec-run --` (read/write/... passed through in place when the module offers it); `vmexec-run --no-passthrough --` (every syscall an exit); ptrace loop (PTRACE_SYSCALL + PTRACE_GETREGS at every stop, no decoding); `strace -f -o /dev/null` (strace: %s)\n", meta["strace"]
	printf "- each row: the whole command, %s measured runs after 1 warm-up, wall-clock ms: median, min and max over the runs; every run must exit 0 with the native run'"'"'s output size; vs native = median / native median; ratio = tracer median / vmexec-run median (bold rows)\n", V[1, 3]
	printf "- all figures are emulated time under qemu TCG: compare within this table only\n\n"
	printf "| workload | runner | runs | median ms | min | max | vs native | ratio |\n"
	printf "|---|---|--:|--:|--:|--:|--:|--:|\n"
	for (i = 1; i <= nvr; i++) {
		if (V[i, 4] == "" && V[i, 8] != "")
			printf "| %s | **%s** | %s | | | | | **%.2f** |\n", V[i, 1], V[i, 2], V[i, 3], V[i, 8]
		else
			printf "| %s | %s | %s | %s | %s | %s | %.2f | |\n", V[i, 1], V[i, 2], V[i, 3],
				fmt(V[i, 4]), fmt(V[i, 5]), fmt(V[i, 6]), V[i, 7]
	}
	printf "\nTarget (ratios of medians from this boot):\n\n"
	printf "| target | rows | ratio | wanted | verdict |\n|---|---|--:|---|---|\n"
	vtarget("strace -f / vmexec-run >= 5 on dd", "dd", "strace -f -o /dev/null", "vmexec-run", 5)
	vtarget("the same without pass-through (every syscall an exit)", "dd",
		"strace -f -o /dev/null", "vmexec-run --no-passthrough", 5)
}
' "$out/$name.csv" >"$out/$name.md.part"
mv -- "$out/$name.md.part" "$out/$name.md"
echo
cat -- "$out/$name.md"
echo
echo "report.sh: wrote $out/$name.md and $out/$name.csv" >&2
