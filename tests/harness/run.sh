#!/bin/bash
# run.sh MODE SERIES...: the harness driver behind the top-level Makefile.
#
#   fetch   pick the newest release per series, cache vmlinuz, install headers
#   module  fetch headers and build the module (W=1, warnings fail)
#   check   build tests, then per kernel: module, initramfs, boot, run suites
#   run     the same with /tests/vmexec-demo instead of the suites (one kernel)
#   bench   build bench/ (BENCH_O) and, for section g, vmexec-run
#           ($TESTS_O/bin), then per kernel: module,
#           initramfs with /bench (and strace), boot, run /bench/vmexec-bench
#           and /bench/vmexec-run-bench (section u: /uml/bench.sh, User-mode
#           Linux, its binaries built first); bench/report.sh prints the tables
#           and writes them to $BENCH_RESULTS (markdown and CSV)
#
# Kernels run one after another; a failing kernel does not stop the next.
# Runs sharing one $VMEXEC_CACHE are serialised with a lock.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -ge 2 ] || die "usage: run.sh fetch|module|check|run|bench SERIES..."
mode=$1
shift
case "$mode" in
fetch | module | check | run | bench) ;;
*) die "unknown mode '$mode'" ;;
esac
need_cmd flock

H=$HARNESS_DIR
# Section u (User-mode Linux): its binaries are built (uml/build.sh, minutes
# when an input changed; a lock of its own) before the qemu lock is taken.
if [ "$mode" = bench ]; then
	case "${BENCH_SECTIONS:-}" in *u*) bash "$REPO_DIR/uml/build.sh" build ;; esac
fi
mkdir -p "$VMEXEC_CACHE"
exec 9>"$VMEXEC_CACHE/.lock"
if ! flock -n 9; then
	log "waiting for another harness run holding $VMEXEC_CACHE/.lock"
	flock -w "$LOCK_TIMEOUT" 9 || die "lock $VMEXEC_CACHE/.lock still held after $LOCK_TIMEOUT s"
fi

if [ "$mode" = check ] || [ "$mode" = run ]; then
	bash "$H/tests.sh"
	if [ "$mode" = check ]; then
		[ -x "$TESTS_O/vmexec-tests" ] ||
			die "$TESTS_O/vmexec-tests was not built (tests/Makefile must produce it)"
	else
		[ -x "$TESTS_O/vmexec-demo" ] ||
			die "$TESTS_O/vmexec-demo was not built (tests/Makefile must produce it for 'make run')"
	fi
fi

if [ "$mode" = bench ]; then
	case "$BENCH_SECTIONS" in
	'' | *[!a-htu]*) die "BENCH_SECTIONS=$BENCH_SECTIONS: use letters a-h, t and u (default abcdeg)" ;;
	esac
	bash "$H/bench.sh" build
	# A benchmark boot runs far longer than the suites (a-e about 10
	# minutes under TCG, g about 17).
	BOOT_TIMEOUT=${BENCH_TIMEOUT:-3600}
	export BOOT_TIMEOUT
	: "${BENCH_COMMAND:=tests/harness/run.sh bench $*}"
	export BENCH_COMMAND
fi

results=()
summaries=()
nfail=0
for series in "$@"; do
	if ! rel=$(bash "$H/kernel.sh" release "$series"); then
		results+=("FAIL $series: no kernel release found")
		nfail=$((nfail + 1))
		continue
	fi
	stage=
	case "$mode" in
	fetch)
		bash "$H/kernel.sh" image "$rel" && bash "$H/kernel.sh" headers "$rel" || stage=fetch ;;
	module)
		bash "$H/kernel.sh" headers "$rel" || stage=headers
		[ -n "$stage" ] || bash "$H/module.sh" "$rel" || stage=module ;;
	check | run)
		bmode=check
		[ "$mode" = check ] || bmode=demo
		bash "$H/kernel.sh" image "$rel" || stage=fetch
		[ -n "$stage" ] || bash "$H/kernel.sh" headers "$rel" || stage=headers
		[ -n "$stage" ] || bash "$H/module.sh" "$rel" || stage=module
		[ -n "$stage" ] || bash "$H/initramfs.sh" "$rel" || stage=initramfs
		[ -n "$stage" ] || bash "$H/boot.sh" "$bmode" "$rel" || stage=boot
		summary=$(build_dir "$rel")/check-summary.txt
		if [ "$mode" = check ]; then
			if [ -s "$summary" ]; then
				mapfile -t -O "${#summaries[@]}" summaries <"$summary"
			elif [ "$stage" = boot ] || [ -z "$stage" ]; then
				summaries+=("$rel: no Check summary line in the console log")
			fi
		fi
		;;
	bench)
		# No table from an earlier boot when this one fails before booting.
		rm -f -- "$(build_dir "$rel")/bench.csv" "$(build_dir "$rel")/vrbench.csv" \
			"$(build_dir "$rel")/umlbench.csv"
		bash "$H/kernel.sh" image "$rel" || stage=fetch
		# Section D's ext4 file system needs modules of the kernel package.
		case "$BENCH_SECTIONS" in
		*d*) [ -n "$stage" ] || bash "$H/kernel.sh" bench-modules "$rel" || stage=fetch ;;
		esac
		[ -n "$stage" ] || bash "$H/kernel.sh" headers "$rel" || stage=headers
		[ -n "$stage" ] || bash "$H/module.sh" "$rel" || stage=module
		[ -n "$stage" ] || bash "$H/initramfs.sh" "$rel" bench || stage=initramfs
		[ -n "$stage" ] || bash "$H/boot.sh" bench "$rel" || stage=boot
		# A failed row still leaves a table worth printing.
		if [ -s "$(build_dir "$rel")/bench.csv" ] || [ -s "$(build_dir "$rel")/vrbench.csv" ] ||
			[ -s "$(build_dir "$rel")/umlbench.csv" ]; then
			bash "$H/bench.sh" report "$rel" || stage=${stage:-report}
		fi
		;;
	esac
	if [ -n "$stage" ]; then
		results+=("FAIL $rel ($mode: failed at $stage)")
		nfail=$((nfail + 1))
	else
		results+=("PASS $rel ($mode)")
	fi
done

echo
echo "==== vmexec harness: $mode ===="
printf '%s\n' "${results[@]}"
[ "${#summaries[@]}" -eq 0 ] || printf '%s\n' "${summaries[@]}"
[ "$nfail" -eq 0 ]
