#!/bin/sh
# shellcheck shell=sh
# Run inside UML by uml/guest/run.sh's "stubkill" and "nostub" modes.
# stubkill (vmexec_stub): a process whose host stub is killed from outside
# UML must die, and UML must carry on.
# nostub (vmexec, new address spaces: holder_end=inside on the command
# line): the holder has no host process that could be killed; run.sh checks
# that none holds its page, then creates /out/end-holder, and the holder is
# ended here with the SIGSEGV a stub's death gives it, so that what follows
# is the same.
/bin/workload hold >/out/hold.out &
p=$!
# told: /out/end-holder is there (a glob, not test -e: the glob reads the
# host directory afresh each time).
told() {
	for f in /out/*; do
		[ "$f" != /out/end-holder ] || return 0
	done
	return 1
}
if [ "${holder_end:-}" = inside ]; then
	i=0
	while [ $i -lt 600 ] && ! told; do
		sleep 1
		i=$((i + 1))
	done
	kill -SEGV $p
fi
wait $p
echo "holder ended: status $?"
echo "UML still runs processes: $(echo ok | cat)"
