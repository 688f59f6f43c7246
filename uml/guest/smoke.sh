#!/bin/sh
# shellcheck shell=sh
# The workload run inside User-mode Linux, once per mode (uml/guest/run.sh);
# its output must be byte-identical whatever drives the UML guest's
# processes (ptrace or vmexec): nothing here prints times, pids or addresses
# that depend on the host.
W=/bin/workload

echo "== system"
echo "uname: $(uname -s -r -m)"
echo "pid of init's child shell is >1: $([ $$ -gt 1 ] && echo yes)"

echo "== pipelines"
echo "pipeline: $(echo one two three | tr ' ' '\n' | sort -r | tr '\n' ' ')"
echo "seq|sort|head: $(seq 1 3000 | sort -rn | head -n 3 | tr '\n' ' ')"
echo "md5 of 4 MiB of zeros: $(dd if=/dev/zero bs=64k count=64 2>/dev/null | md5sum)"
echo "long pipe: $(seq 1 500 | cat | cat | grep 7 | cat | wc -l)"

echo "== fork/exec"
i=0
while [ $i -lt 100 ]; do
	/bin/true
	i=$((i + 1))
done
echo "ran /bin/true $i times"
echo "subshells: $(for j in 1 2 3 4 5 6 7 8 9 10; do (echo $j); done | tr '\n' ' ')"
$W fork 50

echo "== signals"
sh -c 'trap "echo trapped USR1" USR1; kill -USR1 $$; echo after USR1'
# In a shell of its own whose stderr is dropped: whether that shell reports
# "Terminated" for the job before wait reaps it is a race.
sh -c 'sleep 30 & sp=$!; kill -TERM $sp; wait $sp; echo "sleep killed by TERM: status $?"' 2>/dev/null
sh -c 'kill -KILL $$'
echo "sh killed itself with KILL: status $?"
$W catch

echo "== page faults"
$W touch 2000
echo "awk array: $(awk 'BEGIN { for (i = 0; i < 20000; i++) a[i] = i * 2; s = 0; for (k in a) s += a[k]; print s }')"

echo "== fpu"
$W fpu 2000

echo "== segfault"
$W segv
echo "workload segv: status $?"

echo "== files"
echo hello >/tmp/f
cat /tmp/f /tmp/f | sort -u
ls /bin/busybox /bin/workload
echo "== guest ptrace"
$W ptrace-step
echo "workload ptrace-step: status $?"
# Stock UML 6.12's PTRACE_GETFPREGS/SETFPREGS act on the tracer's own FP
# registers, not the child's: this output has a file of its own, which
# run.sh shows for stock UML and requires to pass in the patched binary's
# modes, identically.
{
	$W ptrace-fpregs
	echo "workload ptrace-fpregs: status $?"
} >/out/fpregs.out 2>&1

echo "== core dump"
# shellcheck disable=SC3045 # busybox sh has ulimit -c
(ulimit -c unlimited && $W core)
echo "workload core: status $?"
echo "== done"
