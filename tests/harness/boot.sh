#!/bin/bash
# boot.sh MODE RELEASE: boot the cached kernel with its initramfs under qemu
# and judge the run. MODE is check (run the suites), demo (vmexec-demo) or
# bench (/bench/vmexec-bench; its CSV comes back on ttyS1 and is written to
# build/RELEASE/bench.csv; section g's vmexec-run-bench CSV to
# build/RELEASE/vrbench.csv; section u's User-mode Linux CSV to
# build/RELEASE/umlbench.csv) or uml (/uml/run.sh, from uml/check.sh).
#
# Passes only if the guest wrote its pass token for RELEASE to the second
# serial port (ttyS1 -> $VMEXEC_CACHE/build/RELEASE/ttyS1.log) and the
# console log (build/RELEASE/console.log) shows no kernel splat.
# Writes the Check summary lines, prefixed with RELEASE, to
# build/RELEASE/check-summary.txt.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 2 ] || die "usage: boot.sh check|demo|bench|uml RELEASE"
mode=$1
rel=$2
case "$mode" in
check) token="VMEXEC-GUEST-PASS $rel" ;;
demo) token="VMEXEC-DEMO-PASS $rel" ;;
bench) token="VMEXEC-BENCH-PASS $rel" ;;
uml) token="VMEXEC-UML-PASS $rel" ;;
*) die "unknown mode '$mode' (check, demo, bench or uml)" ;;
esac
case "$ACCEL" in
tcg | kvm) ;;
*) die "ACCEL=$ACCEL: use tcg (default) or kvm (explicit opt-in; no fallback chains)" ;;
esac
need_cmd qemu-system-x86_64 timeout

bdir=$(build_dir "$rel")
vmlinuz=$(vmlinuz_path "$rel")
initrd=$(initrd_path "$rel")
console=$bdir/console.log
tokfile=$bdir/ttyS1.log
summary=$bdir/check-summary.txt
benchcsv=$bdir/bench.csv
vrbenchcsv=$bdir/vrbench.csv
umlbenchcsv=$bdir/umlbench.csv
[ -s "$vmlinuz" ] || die "$vmlinuz missing: run 'make fetch'"
[ -s "$initrd" ] || die "$initrd missing: pack the initramfs first"
rm -f -- "$console" "$tokfile" "$summary"
[ "$mode" != bench ] || rm -f -- "$benchcsv" "$vrbenchcsv" "$umlbenchcsv"

# Leave the guest time to dump its kernel log before the host gives up.
test_timeout=$((BOOT_TIMEOUT > 180 ? BOOT_TIMEOUT - 90 : BOOT_TIMEOUT / 2))
append="console=ttyS0 panic=-1 panic_on_warn=1 oops=panic"
# A loaded host stalls TCG vCPUs long enough for the clocksource watchdog to
# declare the TSC unstable; the static-key flip that follows is patched with
# int3 while the other vCPU runs, and qemu 7.2 TCG has been seen executing a
# stale int3 there (an "Oops: int3" in sched_clock_cpu, no module frame). The
# guest's TSC is the host's, so tell the kernel to trust it.
append+=" tsc=reliable"
append+=" vmexec_harness.mode=$mode vmexec_harness.test_timeout=$test_timeout"
# Run time of vmexec-stress and vmexec-fuzz (their defaults if unset).
[ -z "${VMEXEC_STRESS_TIME:-}" ] || append+=" vmexec_harness.stress_time=$VMEXEC_STRESS_TIME"
[ -z "${VMEXEC_FUZZ_TIME:-}" ] || append+=" vmexec_harness.fuzz_time=$VMEXEC_FUZZ_TIME"
if [ "$mode" = check ] || [ "$mode" = uml ]; then
	# Like a production host: auditing on (init also loads an exit rule,
	# so every task has a real audit context) and vsyscall emulation in
	# execute-only mode; the tests and User-mode Linux must exercise the
	# module's paths through audit contexts and vsyscall emulation. Not for
	# bench (timings) or demo.
	append+=" audit=1 vsyscall=xonly"
fi
smp=$QEMU_SMP
icount=()
if [ "$mode" = bench ]; then
	# Sections a-f (vmexec-bench) and g (vmexec-run workload); BENCH_SCALE
	# (fewer ops) is for debugging only.
	append+=" vmexec_harness.bench_sections=$BENCH_SECTIONS"
	[ -z "${BENCH_SCALE:-}" ] || append+=" vmexec_harness.bench_scale=$BENCH_SCALE"
	if [ "$ICOUNT" = 1 ]; then
		icount=(-icount "shift=0,sleep=off")
		# 6.1 hangs bringing up a second vCPU in icount mode.
		case "$rel" in 6.1.*) smp=1 ;; esac
		# Boot-time kernel work would otherwise be counted in the first figures.
		append+=" vmexec_harness.bench_idle=3"
	fi
fi
if is_debug_release "$rel"; then
	# 6.12's identify_cpu() clears the boot CPU's capability bits before it
	# reads them again; an interrupt in that window finds LA57 clear, and
	# KASAN then reports the 5-level direct map as a wild access (seen as
	# "BUG: KASAN: wild-memory-access in do_raw_spin_lock" from
	# handle_edge_irq during boot, before any module). 4-level paging has no
	# such window; the stock kernels keep testing 5-level paging.
	append+=" no5lvl"
fi
[ -z "${KERNEL_APPEND:-}" ] || append+=" $KERNEL_APPEND"

qemu=(qemu-system-x86_64 -accel "$ACCEL" "${icount[@]}" -cpu "$QEMU_CPU" -m "$QEMU_MEM"
	-smp "$smp" -nographic -monitor none -no-reboot
	-serial stdio -serial "file:$tokfile"
	-kernel "$vmlinuz" -initrd "$initrd" -append "$append")

log "$rel: booting ($mode, accel $ACCEL, limit ${BOOT_TIMEOUT} s): ${qemu[*]}"
start=$(date +%s)
set +e
# stdin from /dev/null: qemu then leaves the terminal alone.
timeout -k 10 "$BOOT_TIMEOUT" "${qemu[@]}" </dev/null 2>&1 | tee "$console.raw"
rc=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - start))
tr -d '\r' <"$console.raw" >"$console"
rm -f -- "$console.raw"

fail=
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	fail="guest timed out after ${BOOT_TIMEOUT} s"
elif [ "$rc" -ne 0 ]; then
	fail="qemu exited $rc"
fi
if [ -z "$fail" ] && ! tr -d '\r' <"$tokfile" 2>/dev/null | grep -qxF "$token"; then
	reason=$(tr -d '\r' <"$tokfile" 2>/dev/null | grep -m1 '^VMEXEC-GUEST-FAIL' || true)
	if [ -n "$reason" ]; then
		fail="guest reported: ${reason#VMEXEC-GUEST-FAIL }"
	elif grep -q 'Kernel panic' "$console"; then
		fail="kernel panic: $(grep -m1 'Kernel panic' "$console")"
	else
		fail="no pass token on ttyS1"
	fi
fi
# The OOM kill a test provokes in its own cgroup is not a splat.
if awk -f "$HARNESS_DIR/expected-oom.awk" "$console" |
	grep -nE -f "$HARNESS_DIR/splat-patterns" >"$bdir/splats.txt"; then
	echo "---- $rel: kernel splats in the console log ----"
	head -n 40 "$bdir/splats.txt"
	[ -n "$fail" ] || fail="kernel splats in the console log (see $bdir/splats.txt)"
fi

if [ "$mode" = bench ]; then
	tr -d '\r' <"$tokfile" 2>/dev/null |
		sed -n '/^VMEXEC-BENCH-CSV-BEGIN$/,/^VMEXEC-BENCH-CSV-END$/p' |
		sed '1d;$d' >"$benchcsv" || true
	tr -d '\r' <"$tokfile" 2>/dev/null |
		sed -n '/^VMEXEC-VRBENCH-CSV-BEGIN$/,/^VMEXEC-VRBENCH-CSV-END$/p' |
		sed '1d;$d' >"$vrbenchcsv" || true
	tr -d '\r' <"$tokfile" 2>/dev/null |
		sed -n '/^VMEXEC-UMLBENCH-CSV-BEGIN$/,/^VMEXEC-UMLBENCH-CSV-END$/p' |
		sed '1d;$d' >"$umlbenchcsv" || true
	[ -s "$benchcsv" ] || rm -f -- "$benchcsv"
	[ -s "$vrbenchcsv" ] || rm -f -- "$vrbenchcsv"
	[ -s "$umlbenchcsv" ] || rm -f -- "$umlbenchcsv"
	if [ -n "$(printf '%s' "$BENCH_SECTIONS" | tr -d gu)" ] && [ ! -s "$benchcsv" ]; then
		[ -n "$fail" ] || fail="no benchmark CSV on ttyS1"
	fi
	case "$BENCH_SECTIONS" in
	*g*) [ -s "$vrbenchcsv" ] || [ -n "$fail" ] || fail="no vmexec-run workload CSV (section g) on ttyS1" ;;
	esac
	case "$BENCH_SECTIONS" in
	*u*) [ -s "$umlbenchcsv" ] || [ -n "$fail" ] || fail="no User-mode Linux CSV (section u) on ttyS1" ;;
	esac
fi

grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$console" |
	sed "s/^/$rel: /" >"$summary" || true
# vmexec-run-tests: its count per mode (new-mm, stub, fallback) and any FAIL.
grep -E '^(vmexec-tests: skipped |vmexec-(stress|fuzz): (PASS|FAIL)|vmexec-run-tests: |FAIL: (new-mm|stub|fallback): |vmexec-init: kmemleak: )' "$console" |
	sed "s/^/$rel: /" >>"$summary" || true

if [ -n "$fail" ]; then
	log "$rel: FAIL ($mode, ${elapsed} s): $fail (console: $console)"
	exit 1
fi
log "$rel: PASS ($mode, ${elapsed} s)"
