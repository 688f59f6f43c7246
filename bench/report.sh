#!/bin/bash
# report.sh CSV RELEASE OUTDIR: the table of one make bench boot.
#
# Reads the CSV vmexec-bench wrote in the guest, writes OUTDIR/RELEASE.csv
# (the same rows, with the host's meta lines added) and OUTDIR/RELEASE.md
# (header + table + the targets), and prints the markdown.
# Environment (set by tests/harness/bench.sh): BENCH_COMMAND, QEMU_DESC,
# SRC_DESC.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: report.sh CSV RELEASE OUTDIR" >&2; exit 2; }
csv=$1
rel=$2
out=$3
mkdir -p "$out"
date_utc=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

{
	printf '#meta,command,"%s"\n' "${BENCH_COMMAND:-make bench}"
	printf '#meta,host_date,"%s"\n' "$date_utc"
	printf '#meta,qemu,"%s"\n' "${QEMU_DESC:-qemu TCG}"
	printf '#meta,module_source,"%s"\n' "${SRC_DESC:-unknown}"
	cat -- "$csv"
} >"$out/$rel.csv.part"
mv -- "$out/$rel.csv.part" "$out/$rel.csv"

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
BEGIN { nrow = 0 }
/^#meta,/ { parse($0); meta[F[2]] = F[3]; next }
/^section,/ { next }
NF {
	parse($0)
	nrow++
	for (i = 1; i <= 13; i++) R[nrow, i] = F[i]
	med[F[2]] = F[6]
}
END {
	printf "## vmexec bench: %s (qemu TCG)\n\n", rel
	printf "- command: `%s`\n", meta["command"]
	printf "- date: %s (host); guest clock %s\n", meta["host_date"], meta["guest_date"]
	printf "- kernel: %s (Debian stock), %s\n", meta["kernel"], meta["qemu"]
	printf "- guest CPU (/proc/cpuinfo): \"%s\" x %s; meltdown: %s (so no PTI CR3 writes per syscall); PCID: %s; OSPKE: %s; clocksource %s\n",
		meta["cpu"], meta["cpus"], meta["meltdown"], meta["pcid"], meta["ospke"], meta["clocksource"]
	printf "- module: %s\n", meta["module_source"]
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
	printf "\nTargets of issue 4 (ratios of medians from this boot):\n\n"
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
}
' "$out/$rel.csv" >"$out/$rel.md.part"
mv -- "$out/$rel.md.part" "$out/$rel.md"
echo
cat -- "$out/$rel.md"
echo
echo "report.sh: wrote $out/$rel.md and $out/$rel.csv" >&2
