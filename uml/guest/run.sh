#!/bin/sh
# shellcheck shell=sh
# Runs in the qemu guest, with the vmexec module loaded (tests/harness/init,
# mode uml): boots /uml/linux-stock with ptrace, then
# /uml/linux-vmexec with ptrace and with "vmexec" (the modes listed in
# /uml/modes), each on the busybox initramfs /uml/uml-initrd.gz running
# smoke.sh, and compares the outputs. Exit status 0 only if every UML run
# halted normally, every smoke.sh exited 0, all outputs are byte-identical
# to the first run's, and the vmexec run's GET_STATS counted syscall exits.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
# UML's physical memory is a file in TMPDIR (tmpfs here). Static glibc
# registers an rseq area, which the UML stubs (clones of UML) inherit and
# would fault on: turn it off.
TMPDIR=/tmp
GLIBC_TUNABLES=glibc.pthread.rseq=0
export TMPDIR GLIBC_TUNABLES
limit=$(cat /uml/timeout 2>/dev/null || echo 600)
fail=0

say() { echo "uml-run: $*"; }

# boot NAME BINARY [UML ARGS...]
boot() {
	name=$1
	bin=$2
	shift 2
	out=/tmp/uml-$name
	rm -rf "$out"
	mkdir -p "$out"
	say "$name: $bin $*"
	start=$(date +%s)
	timeout -s KILL "$limit" "$bin" mem=64M initrd=/uml/uml-initrd.gz \
		con0=null,fd:1 con=null smoke_out="$out" "$@" \
		</dev/null >"$out/console.log" 2>"$out/kernel.log"
	rc=$?
	secs=$(($(date +%s) - start))
	say "$name: exited $rc after $secs s; smoke.sh exit status $(cat "$out/smoke.rc" 2>/dev/null || echo none)"
	sed "s/^/uml-$name-console: /" "$out/console.log"
	sed "s/^/uml-$name-kernel: /" "$out/kernel.log" | tail -n 40
	sed "s/^/uml-$name-smoke: /" "$out/smoke.out" 2>/dev/null
	if [ "$rc" -ne 0 ] || [ "$(cat "$out/smoke.rc" 2>/dev/null)" != 0 ]; then
		say "FAIL: $name"
		fail=1
	fi
}

# same NAME: its smoke.out is byte-identical to the reference run's.
same() {
	if cmp -s "/tmp/uml-$ref/smoke.out" "/tmp/uml-$1/smoke.out"; then
		say "$1: smoke.sh output identical to $ref ($(wc -c <"/tmp/uml-$1/smoke.out") bytes)"
	else
		say "FAIL: $1: smoke.sh output differs from $ref:"
		diff "/tmp/uml-$ref/smoke.out" "/tmp/uml-$1/smoke.out"
		fail=1
	fi
}

# /uml/modes (uml/check.sh, UML_MODES): which runs, in order.
modes=$(cat /uml/modes 2>/dev/null || echo stock ptrace vmexec)
ref=
for m in $modes; do
	case "$m" in
	stock) boot stock /uml/linux-stock ;;
	ptrace) boot ptrace /uml/linux-vmexec ;;
	vmexec) boot vmexec /uml/linux-vmexec vmexec ;;
	*) say "FAIL: unknown mode $m"; fail=1; continue ;;
	esac
	if [ -z "$ref" ]; then
		ref=$m
	else
		same "$m"
	fi
	[ "$m" = vmexec ] || continue
	# UML's line at halt: GET_STATS of every address space it closed.
	stats=$(grep '^vmexec: .* address spaces closed: ' /tmp/uml-vmexec/kernel.log)
	say "vmexec: ${stats:-no GET_STATS line at halt}"
	case "$stats" in
	*" closed: "[1-9]*" syscall exits"*) ;;
	*) say "FAIL: vmexec: no syscall exits counted by VMEXEC_IOC_GET_STATS"; fail=1 ;;
	esac
done
[ "$fail" -eq 0 ] && say "PASS"
exit "$fail"
