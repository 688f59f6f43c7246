#!/bin/bash
# check.sh SERIES...: boot User-mode Linux inside the stock-kernel guests.
#
# Builds stock and patched UML (uml/build.sh), packs UML's own busybox
# initramfs (uml/guest/init + uml/guest/smoke.sh), then per kernel series:
# the module, a harness initramfs with /uml (the binaries, UML's initramfs,
# uml/guest/run.sh) and a qemu boot in harness mode "uml", whose init loads
# the module and runs /uml/run.sh. Passes if every kernel's guest wrote
# VMEXEC-UML-PASS (every UML run halted, smoke.sh outputs identical).
# UML_MODES="stock ptrace vmexec vmexec_stub stubkill nostub": the runs, in
# order (stock: stock UML; ptrace, vmexec, vmexec_stub: the patched binary
# in ptrace mode, in vmexec mode with new address spaces and no stub
# processes, and in vmexec mode with stubs, outputs compared with the
# first; stubkill: vmexec_stub mode, a guest process's stub killed from
# outside; nostub: vmexec mode, no host process holds a guest process's
# page, so there is no stub to kill; timing: rough per-operation times,
# stock against both vmexec modes, not judged and not in the default).
# UML_STOCK_ONLY=1: only the stock binary (no patch needed).
# UML_BOOT_TIMEOUT=3600: seconds per qemu boot.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/harness/common.sh"
# shellcheck source=uml/stage.sh
. "$(dirname "${BASH_SOURCE[0]}")/stage.sh"

[ $# -ge 1 ] || die "usage: uml/check.sh SERIES..."
UML_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
H=$HARNESS_DIR
need_cmd cpio gzip flock gcc

# Three UML boots under TCG take minutes each.
BOOT_TIMEOUT=${UML_BOOT_TIMEOUT:-3600}
export BOOT_TIMEOUT
: "${UML_MODES:=stock ptrace vmexec vmexec_stub stubkill nostub}"
[ "${UML_STOCK_ONLY:-0}" != 1 ] || UML_MODES=stock
start=$(date +%s)
stock=$(bash "$UML_DIR/build.sh" path stock)
vm=
[ "${UML_STOCK_ONLY:-0}" = 1 ] || vm=$(bash "$UML_DIR/build.sh" path vmexec)

mkdir -p "$VMEXEC_CACHE"
exec 9>"$VMEXEC_CACHE/.lock"
if ! flock -n 9; then
	log "waiting for another harness run holding $VMEXEC_CACHE/.lock"
	flock -w "$LOCK_TIMEOUT" 9 || die "lock $VMEXEC_CACHE/.lock still held after $LOCK_TIMEOUT s"
fi

# The guest tools (vmexec-audit, vmexec-seccomp-exec) for the production-like
# uml guest (tests/harness/init): initramfs.sh copies $TESTS_O/bin.
bash "$H/tests.sh"

UML_STAGE=$VMEXEC_CACHE/uml/stage
export UML_STAGE
uml_stage "$UML_STAGE" "$stock" "$vm"
printf '%s\n' "$UML_MODES" >"$UML_STAGE/modes"
printf '%s\n' "${UML_TIMEOUT:-600}" >"$UML_STAGE/timeout"

results=()
nfail=0
for series in "$@"; do
	if ! rel=$(bash "$H/kernel.sh" release "$series"); then
		results+=("FAIL $series: no kernel release found")
		nfail=$((nfail + 1))
		continue
	fi
	stage=
	bash "$H/kernel.sh" image "$rel" || stage=fetch
	[ -n "$stage" ] || bash "$H/kernel.sh" headers "$rel" || stage=headers
	[ -n "$stage" ] || bash "$H/module.sh" "$rel" || stage=module
	[ -n "$stage" ] || bash "$H/initramfs.sh" "$rel" uml || stage=initramfs
	[ -n "$stage" ] || bash "$H/boot.sh" uml "$rel" || stage=boot
	if [ -n "$stage" ]; then
		results+=("FAIL $rel (uml: failed at $stage)")
		nfail=$((nfail + 1))
	else
		results+=("PASS $rel (uml)")
	fi
	grep -E '^uml-run: ' "$(build_dir "$rel")/console.log" 2>/dev/null | sed "s/^/$rel: /" || true
done

echo
echo "==== vmexec harness: uml ($(($(date +%s) - start)) s) ===="
printf '%s\n' "${results[@]}"
[ "$nfail" -eq 0 ]
