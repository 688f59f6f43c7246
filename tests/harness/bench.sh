#!/bin/bash
# bench.sh build | report RELEASE: the make bench steps outside the guest.
#
#   build           make -C $BENCH_SRC O=$BENCH_O (static guest programs)
#   report RELEASE  turn build/RELEASE/bench.csv (what the guest wrote to
#                   ttyS1) into $BENCH_RESULTS/RELEASE.{md,csv} and print
#                   the table (bench/report.sh)
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "${1:-}" in
build)
	[ -f "$BENCH_SRC/Makefile" ] || die "$BENCH_SRC/Makefile is missing"
	mkdir -p "$BENCH_O"
	log "building guest benchmark programs: $MAKE -C $BENCH_SRC O=$BENCH_O"
	$MAKE -C "$BENCH_SRC" O="$BENCH_O" >&2 || die "building the benchmark programs failed"
	;;
report)
	[ $# -eq 2 ] || die "usage: bench.sh report RELEASE"
	rel=$2
	csv=$(build_dir "$rel")/bench.csv
	[ -s "$csv" ] || die "$csv is missing or empty"
	mkdir -p "$BENCH_RESULTS"
	qemu_desc="qemu TCG: $(qemu-system-x86_64 --version | head -n 1), -accel $ACCEL -cpu $QEMU_CPU -smp $QEMU_SMP -m $QEMU_MEM"
	[ "$ACCEL" = tcg ] || qemu_desc="qemu ${ACCEL^^} (not TCG): $(qemu-system-x86_64 --version | head -n 1)"
	# Which module source was measured.
	src_desc="MODULE_SRC=$MODULE_SRC"
	if git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1; then
		head=$(git -C "$REPO_DIR" rev-parse --short=12 HEAD)
		case "$MODULE_SRC/" in
		"$REPO_DIR"/*)
			if git -C "$REPO_DIR" diff --quiet HEAD -- "$MODULE_SRC" "$UAPI_SRC"; then
				src_desc="module/ and uapi/ at commit $head"
			else
				src_desc="module/ and uapi/ at commit $head plus uncommitted changes"
			fi
			;;
		*) src_desc="$src_desc (outside the work tree; work tree at $head)" ;;
		esac
	fi
	src_desc=${BENCH_SRC_DESC:-$src_desc}
	BENCH_COMMAND=${BENCH_COMMAND:-make bench} QEMU_DESC=$qemu_desc SRC_DESC=$src_desc \
		bash "$BENCH_SRC/report.sh" "$csv" "$rel" "$BENCH_RESULTS"
	;;
*) die "usage: bench.sh build | report RELEASE" ;;
esac
