#!/bin/bash
# bench.sh build | report RELEASE: the make bench steps outside the guest.
#
#   build           make -C $BENCH_SRC O=$BENCH_O (static guest programs);
#                   (vmexec-bench and vmexec-run-bench, for /bench); with
#                   section g in $BENCH_SECTIONS also vmexec-run (make -C
#                   $TESTS_SRC O=$TESTS_O, that target only; initramfs.sh
#                   puts $TESTS_O/bin/* in /usr/bin); with section u the
#                   User-mode Linux binaries, staged in $BENCH_O/uml
#                   (uml/stage.sh; initramfs.sh puts it at /uml)
#   report RELEASE  turn build/RELEASE/bench.csv, vrbench.csv and
#                   umlbench.csv (what the guest wrote to ttyS1) into
#                   $BENCH_RESULTS/RELEASE.{md,csv} (uml-RELEASE.{md,csv}
#                   when BENCH_SECTIONS=u) and print the tables
#                   (bench/report.sh)
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "${1:-}" in
build)
	[ -f "$BENCH_SRC/Makefile" ] || die "$BENCH_SRC/Makefile is missing"
	mkdir -p "$BENCH_O"
	log "building guest benchmark programs: $MAKE -C $BENCH_SRC O=$BENCH_O"
	$MAKE -C "$BENCH_SRC" O="$BENCH_O" >&2 || die "building the benchmark programs failed"
	case "$BENCH_SECTIONS" in
	*g*)
		[ -f "$TESTS_SRC/Makefile" ] || die "$TESTS_SRC/Makefile is missing"
		mkdir -p "$TESTS_O"
		vr=("$TESTS_O/bin/vmexec-run")
		log "building the vmexec-run workload (section g): $MAKE -C $TESTS_SRC O=$TESTS_O ${vr[*]}"
		$MAKE -C "$TESTS_SRC" O="$TESTS_O" "${vr[@]}" >&2 ||
			die "building vmexec-run failed"
		# Which vmexec-run source was built (for the report's header).
		vr_src=$(dirname -- "$TESTS_SRC")/tools/vmexec-run
		vr_desc="$vr_src"
		if git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1; then
			head=$(git -C "$REPO_DIR" rev-parse --short=12 HEAD)
			case "$vr_src/" in
			"$REPO_DIR"/*)
				if git -C "$REPO_DIR" diff --quiet HEAD -- "$vr_src"; then
					vr_desc="tools/vmexec-run/ at commit $head"
				else
					vr_desc="tools/vmexec-run/ at commit $head plus uncommitted changes (diff sha256 $(git -C "$REPO_DIR" diff HEAD -- "$vr_src" | sha256sum | cut -c1-12))"
				fi
				;;
			*) vr_desc="$vr_desc (outside the work tree; work tree at $head)" ;;
			esac
		fi
		printf '%s, built %s\n' "$vr_desc" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" >"$BENCH_O/vmexec-run-source.txt"
		;;
	esac
	case "$BENCH_SECTIONS" in
	*u*)
		# User-mode Linux (run.sh built both binaries before the qemu lock;
		# here they are current): staged as for make uml-check.
		# shellcheck source=uml/stage.sh
		. "$REPO_DIR/uml/stage.sh"
		uml_stock=$(bash "$REPO_DIR/uml/build.sh" path stock)
		uml_vmexec=$(bash "$REPO_DIR/uml/build.sh" path vmexec)
		log "staging User-mode Linux (section u) in $BENCH_O/uml: $uml_stock, $uml_vmexec"
		uml_stage "$BENCH_O/uml" "$uml_stock" "$uml_vmexec"
		printf 'stock UML %s, patched UML %s (uml/*.patch at commit %s%s)\n' \
			"$(basename -- "$(dirname -- "$uml_stock")" | cut -c1-12)" \
			"$(basename -- "$(dirname -- "$uml_vmexec")" | cut -c1-12)" \
			"$(git -C "$REPO_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
			"$(git -C "$REPO_DIR" diff --quiet HEAD -- uml 2>/dev/null || echo ', uml/ with uncommitted changes')" \
			>"$BENCH_O/uml-source.txt"
		;;
	*) rm -rf -- "$BENCH_O/uml" "$BENCH_O/uml-source.txt" ;;
	esac
	;;
report)
	[ $# -eq 2 ] || die "usage: bench.sh report RELEASE"
	rel=$2
	csv=$(build_dir "$rel")/bench.csv
	vrcsv=$(build_dir "$rel")/vrbench.csv
	umlcsv=$(build_dir "$rel")/umlbench.csv
	[ -s "$csv" ] || [ -s "$vrcsv" ] || [ -s "$umlcsv" ] || die "$csv, $vrcsv and $umlcsv are all missing or empty"
	[ -s "$csv" ] || csv=
	[ -s "$vrcsv" ] || vrcsv=
	[ -s "$umlcsv" ] || umlcsv=
	mkdir -p "$BENCH_RESULTS"
	smp=$QEMU_SMP
	if [ "$ICOUNT" = 1 ]; then
		case "$rel" in 6.1.*) smp=1 ;; esac
	fi
	qemu_desc="qemu TCG: $(qemu-system-x86_64 --version | head -n 1), -accel $ACCEL -cpu $QEMU_CPU -smp $smp -m $QEMU_MEM"
	if [ "$ICOUNT" = 1 ]; then
		# Every figure is in guest nanoseconds = executed instructions.
		qemu_desc="$qemu_desc -icount shift=0,sleep=off (figures count guest instructions: 1 ns = 1 instruction)"
	fi
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
	if [ -n "$vrcsv" ] && [ -s "$BENCH_O/vmexec-run-source.txt" ]; then
		src_desc="$src_desc; vmexec-run: $(cat -- "$BENCH_O/vmexec-run-source.txt")"
	fi
	if [ -n "$umlcsv" ] && [ -s "$BENCH_O/uml-source.txt" ]; then
		src_desc="$src_desc; User-mode Linux: $(cat -- "$BENCH_O/uml-source.txt")"
	fi
	# A run of section u alone writes uml-RELEASE.{md,csv}, so that it does
	# not replace the tables of the other sections' run.
	name=$rel
	[ "$BENCH_SECTIONS" != u ] || name=uml-$rel
	BENCH_COMMAND=${BENCH_COMMAND:-make bench} QEMU_DESC=$qemu_desc SRC_DESC=$src_desc \
		UML_CSV=$umlcsv RESULTS_NAME=$name \
		bash "$BENCH_SRC/report.sh" "$csv" "$rel" "$BENCH_RESULTS" "$vrcsv"
	;;
*) die "usage: bench.sh build | report RELEASE" ;;
esac
