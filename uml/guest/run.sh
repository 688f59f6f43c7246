#!/bin/sh
# shellcheck shell=sh
# Runs in the qemu guest, with the vmexec module loaded (tests/harness/init,
# mode uml): boots /uml/linux-stock with ptrace, then /uml/linux-vmexec
# with ptrace, with "vmexec" (new address spaces, no stub processes) and
# with "vmexec_stub" (vmexec with stub processes) (the modes listed in
# /uml/modes), each on the busybox initramfs /uml/uml-initrd.gz running
# smoke.sh, and compares the outputs. Exit status 0 only if every UML run
# halted normally, every smoke.sh exited 0, all outputs are byte-identical
# to the first run's, each vmexec run said at boot it was in the mode asked
# for and its GET_STATS counted syscall exits. Modes stubkill, nostub and
# timing: see holder() and timing() below.
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

# uml_stubs UML: how many child processes UML has that do not share its
# memory (its stubs; UML's helper threads have the binary mapped).
uml_stubs() {
	n=0
	for s in /proc/[0-9]*/status; do
		awk -v u="$1" '$1 == "PPid:" && $2 == u { f = 1 } END { exit !f }' "$s" 2>/dev/null || continue
		p=${s#/proc/}
		p=${p%/status}
		! grep -q 'linux-vmexec' "/proc/$p/maps" 2>/dev/null || continue
		n=$((n + 1))
	done
	echo "$n"
}

# holder stubkill|nostub: UML runs stubkill.sh, whose holder process takes
# a page at 0x5a5a0000.
# stubkill: vmexec_stub mode; once a stub has the holder's page, SIGKILL
# that stub from here. The holder must die (fatal SIGSEGV from UML), UML
# must go on and halt normally.
# nostub: vmexec mode with new address spaces, where the stub-kill test has
# nothing to kill: once the holder said it has its page, no host process
# but UML may hold that page and UML may have no stub at all; then the
# holder is ended from inside UML (stubkill.sh) and UML must halt normally.
# Booted once more after UML's abort at halt, as boot() does.
holder() {
	holder_once "$1" && return 0
	if [ -n "$found" ] && [ "$ok" = 1 ] &&
		grep -qx 'holder ended: status 139' "/tmp/uml-$1/smoke.out" &&
		grep -qx 'UML still runs processes: ok' "/tmp/uml-$1/smoke.out" &&
		halt_abort "/tmp/uml-$1" "$rc"; then
		say "$1: booting again"
		holder_once "$1" && return 0
	fi
	say "FAIL: $1"
	fail=1
}

# holder_once stubkill|nostub: one such boot; true if it passed.
holder_once() {
	name=$1
	out=/tmp/uml-$name
	rm -rf "$out"
	mkdir -p "$out"
	if [ "$name" = stubkill ]; then
		set -- vmexec_stub
	else
		set -- vmexec holder_end=inside
	fi
	say "$name: /uml/linux-vmexec $* smoke=/stubkill.sh"
	timeout -s KILL "$limit" /uml/linux-vmexec mem=64M initrd=/uml/uml-initrd.gz \
		con0=null,fd:1 con=null smoke_out="$out" smoke=/stubkill.sh "$@" \
		</dev/null >"$out/console.log" 2>"$out/kernel.log" &
	uml=$!
	found=
	ok=1
	i=0
	while [ $i -lt "$limit" ] && [ -z "$found" ] && kill -0 "$uml" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		if [ "$name" = stubkill ]; then
			found=$(holder_stub "$uml")
		elif grep -qx 'holding a page at 0x5a5a0000' "$out/hold.out" 2>/dev/null; then
			found=holder
		fi
	done
	if [ -z "$found" ]; then
		say "$name: no holder with a page at 0x5a5a0000 found"
		ok=0
	elif [ "$name" = stubkill ]; then
		say "stubkill: killing stub $found (UML is $uml, with $(uml_stubs "$uml") stubs; the stub's $(grep PPid "/proc/$found/status" | tr -d '\t'))"
		kill -KILL "$found"
	else
		stub=$(holder_stub "$uml")
		stubs=$(uml_stubs "$uml")
		if [ -n "$stub" ] || [ "$stubs" != 0 ]; then
			say "FAIL: nostub: host process ${stub:-none} holds the holder's page; UML (pid $uml) has $stubs stub processes"
			ok=0
		else
			say "nostub: the holder has its page, no host process but UML holds it, UML (pid $uml) has no stub process: nothing outside UML to kill; the holder is ended from inside UML"
		fi
		: >"$out/end-holder"
	fi
	wait "$uml"
	rc=$?
	say "$name: UML exited $rc; stubkill.sh exit status $(cat "$out/smoke.rc" 2>/dev/null || echo none)"
	sed "s/^/uml-$name-smoke: /" "$out/smoke.out" 2>/dev/null
	grep -v '^busybox: ' "$out/kernel.log" | tail -n 5 | sed "s/^/uml-$name-kernel: /"
	[ -n "$found" ] && [ "$ok" = 1 ] && [ "$rc" -eq 0 ] &&
		grep -qx 'holder ended: status 139' "$out/smoke.out" &&
		grep -qx 'UML still runs processes: ok' "$out/smoke.out" && mode_ok "$name"
}

# mode_ok NAME: the patched UML's line at boot says it ran NAME's vmexec
# mode: new address spaces (vmexec, nostub) or stub processes (vmexec_stub,
# stubkill). True for the other runs.
mode_ok() {
	case "$1" in
	vmexec | nostub) want='new address spaces, no stub processes' ;;
	vmexec_stub | stubkill) want='address spaces held by stub processes (vmexec_stub)' ;;
	*) return 0 ;;
	esac
	line=$(grep '^vmexec: userspace runs on ' "/tmp/uml-$1/kernel.log")
	say "$1: ${line:-no vmexec line at boot}"
	case "$line" in
	*"; $want") return 0 ;;
	esac
	say "FAIL: $1: not in the mode asked for ($want)"
	return 1
}

# timing: timing.sh under stock UML, then the patched one with vmexec (new
# address spaces) and with vmexec_stub, each line prefixed; figures only,
# nothing compared or judged.
timing() {
	for t in stock vmexec vmexec_stub; do
		out=/tmp/uml-timing-$t
		rm -rf "$out"
		mkdir -p "$out"
		bin=/uml/linux-vmexec
		set --
		if [ "$t" = stock ]; then
			bin=/uml/linux-stock
		else
			set -- "$t"
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
modes=$(cat /uml/modes 2>/dev/null || echo stock ptrace vmexec vmexec_stub)
ref=
fpref=
for m in $modes; do
	case "$m" in
	stock) boot stock /uml/linux-stock ;;
	ptrace) boot ptrace /uml/linux-vmexec ;;
	vmexec) boot vmexec /uml/linux-vmexec vmexec ;;
	vmexec_stub) boot vmexec_stub /uml/linux-vmexec vmexec_stub ;;
	stubkill | nostub)
		holder "$m"
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
	case "$m" in
	vmexec*) ;;
	*) continue ;;
	esac
	mode_ok "$m" || fail=1
	# UML's line at halt: GET_STATS of every address space it closed.
	stats=$(grep '^vmexec: .* address spaces closed: ' "/tmp/uml-$m/kernel.log")
	say "$m: ${stats:-no GET_STATS line at halt}"
	case "$stats" in
	*" closed: "[1-9]*" syscall exits"*) ;;
	*) say "FAIL: $m: no syscall exits counted by VMEXEC_IOC_GET_STATS"; fail=1 ;;
	esac
done
[ "$fail" -eq 0 ] && say "PASS"
exit "$fail"
