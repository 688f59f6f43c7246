#!/bin/sh
# shellcheck shell=sh
# bench.sh [-n RUNS] [-x SCALE] [-t SECONDS] -o CSV: make bench's section u
# (tests/harness/init runs it in the qemu guest, the module loaded).
#
# Four UML configurations: stock (/uml/linux-stock), ptrace (the patched
# /uml/linux-vmexec without "vmexec": the control, which must match stock),
# vmexec (the patched binary with "vmexec": new address spaces, no stub
# processes) and vmexec_stub (with "vmexec_stub": vmexec with a stub
# process holding each address space). One warm-up run and RUNS (5)
# measured runs; each run boots every configuration in turn, in the order
# stock, ptrace, vmexec, vmexec_stub, first on /bench-rows.sh (every
# per-operation row, timed inside UML by /bin/workload) and then on
# /halt.sh (boot to halt, timed here from outside by /uml/workload timed,
# CLOCK_MONOTONIC of the qemu guest). Every UML process (UML, its stubs if
# any) is pinned to CPU 0 with taskset. SCALE multiplies the operation
# counts (debugging only).
#
# Checks: every UML boot halts normally, bench-rows.sh exits 0 with every
# row's figure, the vmexec and vmexec_stub boots say at boot they run in
# their mode and print VMEXEC_IOC_GET_STATS totals with syscall exits at
# halt, the others do neither; UML's clock is checked against the qemu
# guest's: the time the rows take by UML's clock must not exceed the boot's
# time measured from outside (the CSV gives the share).
#
# CSV: #meta lines, then "uml_row,config,runs,median_ns,min_ns,max_ns,ops,
# values" (ns per operation; values = the measured runs in run order).
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
TMPDIR=/tmp
GLIBC_TUNABLES=glibc.pthread.rseq=0
export TMPDIR GLIBC_TUNABLES

runs=5
scale=1
limit=3600
csv=
while getopts n:x:t:o: o; do
	case "$o" in
	n) runs=$OPTARG ;;
	x) scale=$OPTARG ;;
	t) limit=$OPTARG ;;
	o) csv=$OPTARG ;;
	*) echo "usage: bench.sh [-n RUNS] [-x SCALE] [-t SECONDS] -o CSV" >&2; exit 2 ;;
	esac
done
[ -n "$csv" ] || { echo "usage: bench.sh [-n RUNS] [-x SCALE] [-t SECONDS] -o CSV" >&2; exit 2; }

say() { echo "uml-bench: $*"; }
fail=0
bad() {
	say "FAIL: $*"
	fail=1
}

# Operation counts per row (a UML boot on bench-rows.sh runs them all).
count() { awk -v n="$1" -v s="$scale" 'BEGIN { c = int(n * s); print (c < 1) ? 1 : c }'; }
n_sys=$(count 1000)
n_dd=$(count 500)
n_touch=$(count 250)
n_fork=$(count 10)
n_true=$(count 10)
deadline=$(($(date +%s) + limit))
raw=/tmp/uml-bench.raw
: >"$raw"

# uml CONFIG SCRIPT OUT: boot UML on SCRIPT, pinned to CPU 0, timed from
# outside; OUT gets console.log (with the outside time as its last line),
# kernel.log, smoke.out and smoke.rc. A UML process that dies (exit status
# not 0: stock UML was seen killed by SIGABRT after "reboot: Power down")
# is booted once more; every such boot is printed and counted in the CSV's
# #meta,uml_retries, and its figures are discarded.
retries=0
retried=
uml() {
	uml_once "$@" && return 0
	[ "$rc" -ne 0 ] || return 1
	retries=$((retries + 1))
	retried="${retried:+$retried; }$c $2 run $r (exit $rc)"
	say "booting $c on $2 again (run $r): UML exited $rc"
	fail=0
	uml_once "$@"
}

uml_once() {
	c=$1
	bin=/uml/linux-vmexec
	[ "$c" != stock ] || bin=/uml/linux-stock
	set -- "$2" "$3"
	case "$c" in vmexec*) set -- "$@" "$c" ;; esac
	script=$1
	out=$2
	shift 2
	rm -rf "$out"
	mkdir -p "$out"
	left=$((deadline - $(date +%s)))
	[ "$left" -gt 0 ] || left=1
	WORKLOAD_TIME=ns taskset 1 /uml/workload timed 1 \
		timeout -s KILL "$left" "$bin" mem=64M initrd=/uml/uml-initrd.gz \
		con0=null,fd:1 con=null smoke_out="$out" smoke="$script" \
		ub_sys="$n_sys" ub_dd="$n_dd" ub_touch="$n_touch" ub_fork="$n_fork" ub_true="$n_true" \
		"$@" </dev/null >"$out/console.log" 2>"$out/kernel.log"
	rc=$?
	outside=$(sed -n 's/^time timeout 1: \([0-9]*\) ns\/op$/\1/p' "$out/console.log")
	stats=$(grep '^vmexec: .* address spaces closed: ' "$out/kernel.log")
	if [ "$rc" -ne 0 ] || [ -z "$outside" ] || [ "$(cat "$out/smoke.rc" 2>/dev/null)" != 0 ]; then
		bad "$c $script run $r: UML exit $rc, script exit $(cat "$out/smoke.rc" 2>/dev/null || echo none)"
		sed "s/^/uml-bench-$c-console: /" "$out/console.log"
		tail -n 20 "$out/kernel.log" | sed "s/^/uml-bench-$c-kernel: /"
		sed "s/^/uml-bench-$c-out: /" "$out/smoke.out" 2>/dev/null
		return 1
	fi
	case "$c:$stats" in
	vmexec*:*" closed: "[1-9]*" syscall exits"*) ;;
	vmexec*:*)
		bad "$c $script run $r: no syscall exits in VMEXEC_IOC_GET_STATS at halt"
		return 1
		;;
	*:) ;;
	*)
		bad "$c $script run $r: GET_STATS line from a ptrace-mode UML: $stats"
		return 1
		;;
	esac
	mode=$(grep '^vmexec: userspace runs on ' "$out/kernel.log")
	case "$c:$mode" in
	vmexec:*"; new address spaces, no stub processes") ;;
	vmexec_stub:*"; address spaces held by stub processes (vmexec_stub)") ;;
	stock: | ptrace:) ;;
	*)
		bad "$c $script run $r: not in its mode: ${mode:-no vmexec line at boot}"
		return 1
		;;
	esac
	return 0
}

# row NAME RUN CONFIG VALUE: one raw figure (run 0 is the warm-up).
row() { echo "$1 $3 $2 $4" >>"$raw"; }

say "$runs measured runs after 1 warm-up; counts: getppid/stat/read $n_sys, dd $n_dd bytes, touch $n_touch pages, fork $n_fork, /bin/true $n_true; UML pinned to CPU 0 of $(grep -c '^processor' /proc/cpuinfo)"
start=$(date +%s)
r=0
while [ "$r" -le "$runs" ] && [ "$fail" -eq 0 ]; do
	for c in stock ptrace vmexec vmexec_stub; do
		o=/tmp/uml-bench-$c
		uml "$c" /bench-rows.sh "$o" || break
		inside=0
		for w in getppid:getppid:"$n_sys" stat:stat:"$n_sys" read:read:"$n_sys" dd:dd:"$n_dd" \
			touch:touch:"$n_touch" fork:fork:"$n_fork" true:sh:"$n_true"; do
			name=${w%%:*}
			w=${w#*:}
			tag=${w%%:*}
			n=${w#*:}
			v=$(sed -n "s/^time $tag $n: \\([0-9]*\\) ns\\/op\$/\\1/p" "$o/smoke.out")
			if [ -z "$v" ]; then
				bad "$c run $r: no figure for $name in bench-rows.sh's output"
				sed "s/^/uml-bench-$c-out: /" "$o/smoke.out"
				break 2
			fi
			row "$name" "$r" "$c" "$v"
			inside=$((inside + v * n))
		done
		outside=$(sed -n 's/^time timeout 1: \([0-9]*\) ns\/op$/\1/p' "$o/console.log")
		if [ "$inside" -le 0 ] || [ "$inside" -gt "$outside" ]; then
			bad "$c run $r: UML's clock says the rows took $inside ns, the qemu guest's clock says the whole UML run took $outside ns"
			break
		fi
		row clock "$r" "$c" "$((inside * 1000 / outside))"
		say "run $r $c: rows $((inside / 1000000)) ms by UML's clock, UML run $((outside / 1000000)) ms from outside"
	done
	[ "$fail" -eq 0 ] || break
	for c in stock ptrace vmexec vmexec_stub; do
		o=/tmp/uml-bench-halt-$c
		uml "$c" /halt.sh "$o" || break
		row boot "$r" "$c" "$(sed -n 's/^time timeout 1: \([0-9]*\) ns\/op$/\1/p' "$o/console.log")"
	done
	r=$((r + 1))
done
secs=$(($(date +%s) - start))
say "$r runs in $secs s"
[ "$fail" -eq 0 ] || exit 1

# Medians, min and max over the measured runs (run 0 is the warm-up).
{
	echo "#meta,uml_runs,$runs"
	echo "#meta,uml_seconds,$secs"
	echo "#meta,uml_counts,\"getppid/stat/read $n_sys, dd $n_dd bytes, touch $n_touch pages, fork $n_fork, /bin/true $n_true\""
	echo "#meta,uml_scale,$scale"
	echo "#meta,uml_retries,\"$retries${retried:+: $retried}\""
	echo "#meta,uml_stats,\"$(grep '^vmexec: .* address spaces closed: ' /tmp/uml-bench-vmexec/kernel.log)\""
	echo "#meta,uml_stats_stub,\"$(grep '^vmexec: .* address spaces closed: ' /tmp/uml-bench-vmexec_stub/kernel.log)\""
	echo "uml_row,config,runs,median_ns,min_ns,max_ns,ops,values"
	for w in getppid:"$n_sys" stat:"$n_sys" read:"$n_sys" dd:"$n_dd" touch:"$n_touch" \
		fork:"$n_fork" true:"$n_true" boot:1 clock:0; do
		name=${w%%:*}
		n=${w#*:}
		for c in stock ptrace vmexec vmexec_stub; do
			vals=$(awk -v w="$name" -v c="$c" '$1 == w && $2 == c && $3 > 0 { printf "%s ", $4 }' "$raw")
			# shellcheck disable=SC2086 # one value per word
			printf '%s\n' $vals | sort -n | awk -v w="$name" -v c="$c" -v n="$n" -v vals="${vals% }" '
				{ v[NR] = $1 }
				END {
					if (NR == 0) exit 1
					m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
					printf "%s,%s,%d,%s,%s,%s,%s,\"%s\"\n", w, c, NR, m, v[1], v[NR], n, vals
				}'
		done
	done
} >"$csv"
say "wrote $csv"
