#!/bin/sh
# shellcheck shell=sh
# Runs in the qemu guest, with the vmexec module loaded (tests/harness/init,
# mode uml): boots /uml/linux-stock with ptrace, then
# /uml/linux-vmexec with ptrace and with "vmexec" (the modes listed in
# /uml/modes), each on the busybox initramfs /uml/uml-initrd.gz running
# smoke.sh, and compares the outputs. Exit status 0 only if every UML run
# halted normally, every smoke.sh exited 0, all outputs are byte-identical
# to the first run's, and the vmexec run's GET_STATS counted syscall exits.
# Modes stubkill and timing: see stubkill() and timing() below.
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

# halt_abort DIR RC: whether the run in DIR ended in UML 6.12's own abort at
# halt: killed by SIGABRT (exit status 134) after its smoke script exited 0
# and the kernel printed "reboot: Power down". Stock UML does this as well as
# both modes of the patched binary, rarely and not seen twice in a row
# (uml/README.md); the caller boots such a run once more. UML's last kernel
# log lines are printed as uml-run lines, which the harness's summary shows.
halt_abort() {
	[ "$2" -eq 134 ] && [ "$(cat "$1/smoke.rc" 2>/dev/null)" = 0 ] &&
		grep -q 'reboot: Power down' "$1/console.log" 2>/dev/null || return 1
	say "UML killed by SIGABRT at halt; the end of its kernel log:"
	tail -n 8 "$1/kernel.log" | sed 's/^/uml-run:   /'
	return 0
}

# boot NAME BINARY [UML ARGS...]: boot_once, and once more after UML's
# abort at halt; a second failure of any kind fails the check.
boot() {
	boot_once "$@" && return 0
	if halt_abort "/tmp/uml-$1" "$rc"; then
		say "$1: booting again"
		boot_once "$@" && return 0
	fi
	say "FAIL: $1"
	fail=1
}

# boot_once NAME BINARY [UML ARGS...]: one UML boot on smoke.sh, output in
# /tmp/uml-NAME; true if UML exited 0 and so did smoke.sh.
boot_once() {
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
	[ "$rc" -eq 0 ] && [ "$(cat "$out/smoke.rc" 2>/dev/null)" = 0 ]
}

# The stub of /bin/workload hold: the process with its page at 0x5a5a0000
# that is not UML itself ($1: busybox timeout execs UML in its own process;
# while UML runs a guest, its own maps show the guest's address space). A
# stub has nothing of the UML binary mapped.
holder_stub() {
	for m in /proc/[0-9]*/maps; do
		grep -q '^5a5a0000-' "$m" 2>/dev/null || continue
		p=${m#/proc/}
		p=${p%/maps}
		[ "$p" != "$1" ] || continue
		! grep -q 'linux-vmexec' "$m" 2>/dev/null || continue
		echo "$p"
		return 0
	done
	return 1
}

# stubkill: UML in vmexec mode runs stubkill.sh; once its holder process has
# its page, SIGKILL that process's stub from here. The holder must die
# (fatal SIGSEGV from UML), UML must go on and halt normally. Booted once
# more after UML's abort at halt, as boot() does.
stubkill() {
	stubkill_once && return 0
	if [ -n "$stub" ] && grep -qx 'holder ended: status 139' /tmp/uml-stubkill/smoke.out &&
		grep -qx 'UML still runs processes: ok' /tmp/uml-stubkill/smoke.out &&
		halt_abort /tmp/uml-stubkill "$rc"; then
		say "stubkill: booting again"
		stubkill_once && return 0
	fi
	say "FAIL: stubkill"
	fail=1
}

# stubkill_once: one such boot; true if it passed.
stubkill_once() {
	out=/tmp/uml-stubkill
	rm -rf "$out"
	mkdir -p "$out"
	say "stubkill: /uml/linux-vmexec vmexec smoke=/stubkill.sh"
	timeout -s KILL "$limit" /uml/linux-vmexec mem=64M initrd=/uml/uml-initrd.gz \
		con0=null,fd:1 con=null smoke_out="$out" smoke=/stubkill.sh vmexec \
		</dev/null >"$out/console.log" 2>"$out/kernel.log" &
	uml=$!
	stub=
	i=0
	while [ $i -lt "$limit" ] && [ -z "$stub" ] && kill -0 "$uml" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		stub=$(holder_stub "$uml")
	done
	if [ -n "$stub" ]; then
		say "stubkill: killing stub $stub (UML is $uml; the stub's $(grep PPid "/proc/$stub/status" | tr -d '\t'))"
		kill -KILL "$stub"
	else
		say "stubkill: no stub with a page at 0x5a5a0000 found"
	fi
	wait "$uml"
	rc=$?
	say "stubkill: UML exited $rc; stubkill.sh exit status $(cat "$out/smoke.rc" 2>/dev/null || echo none)"
	sed "s/^/uml-stubkill-smoke: /" "$out/smoke.out" 2>/dev/null
	grep -v '^busybox: ' "$out/kernel.log" | tail -n 5 | sed "s/^/uml-stubkill-kernel: /"
	[ -n "$stub" ] && [ "$rc" -eq 0 ] && grep -qx 'holder ended: status 139' "$out/smoke.out" &&
		grep -qx 'UML still runs processes: ok' "$out/smoke.out"
}

# timing: timing.sh under stock UML, then the patched one with vmexec, each
# line prefixed; figures only, nothing compared or judged.
timing() {
	for t in stock vmexec; do
		out=/tmp/uml-timing-$t
		rm -rf "$out"
		mkdir -p "$out"
		bin=/uml/linux-vmexec
		set --
		if [ "$t" = stock ]; then
			bin=/uml/linux-stock
		else
			set -- vmexec
		fi
		timeout -s KILL "$limit" "$bin" mem=64M initrd=/uml/uml-initrd.gz con0=null,fd:1 \
			con=null smoke_out="$out" smoke=/timing.sh "$@" \
			</dev/null >"$out/console.log" 2>"$out/kernel.log"
		sed "s/^/uml-timing-$t: /" "$out/smoke.out" 2>/dev/null
	done
}

# fpregs NAME: guest PTRACE_GETFPREGS/SETFPREGS (smoke.sh's fpregs.out).
# Stock UML 6.12 reads and writes the FP registers of the host stub of the
# current address space (the tracer's), not the child's: shown, not judged.
# The patched binary must pass in each of its modes, with the same output.
fpregs() {
	f=/tmp/uml-$1/fpregs.out
	sed "s/^/uml-$1-fpregs: /" "$f" 2>/dev/null
	[ "$1" != stock ] || return 0
	if ! grep -qx 'workload ptrace-fpregs: status 0' "$f" 2>/dev/null; then
		say "FAIL: $1: guest PTRACE_GETFPREGS/SETFPREGS"
		fail=1
	elif [ -z "$fpref" ]; then
		fpref=$1
	elif cmp -s "/tmp/uml-$fpref/fpregs.out" "$f"; then
		say "$1: fpregs.out identical to $fpref ($(wc -c <"$f") bytes)"
	else
		say "FAIL: $1: fpregs.out differs from $fpref:"
		diff "/tmp/uml-$fpref/fpregs.out" "$f"
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
fpref=
for m in $modes; do
	case "$m" in
	stock) boot stock /uml/linux-stock ;;
	ptrace) boot ptrace /uml/linux-vmexec ;;
	vmexec) boot vmexec /uml/linux-vmexec vmexec ;;
	stubkill)
		stubkill
		continue
		;;
	timing)
		timing
		continue
		;;
	*) say "FAIL: unknown mode $m"; fail=1; continue ;;
	esac
	fpregs "$m"
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
