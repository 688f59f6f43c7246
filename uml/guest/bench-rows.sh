#!/bin/sh
# shellcheck shell=sh
# Run inside User-mode Linux by uml/guest/bench.sh (make bench, section u),
# once per UML boot: each row's operations, timed inside UML by
# /bin/workload with CLOCK_MONOTONIC (UML's clock, which is the host's),
# one line "time NAME N: X ns/op" per row. The counts come from the UML
# command line (init gets unknown parameters as environment variables).
# Any failing row fails the script.
WORKLOAD_TIME=ns
export WORKLOAD_TIME
W=/bin/workload
sys=${ub_sys:-1000}
dd=${ub_dd:-500}
touch=${ub_touch:-250}
fork=${ub_fork:-10}
true=${ub_true:-10}
$W getppid "$sys" || exit 1
$W stat "$sys" || exit 1
$W read "$sys" || exit 1
# One op = one byte: a 1-byte read and a 1-byte write.
$W timed "$dd" dd if=/dev/zero of=/dev/null bs=1 count="$dd" || exit 1
$W touch "$touch" || exit 1
$W fork "$fork" || exit 1
# One op = one /bin/true from the shell loop (fork, exec, exit, wait).
# shellcheck disable=SC2016 # expanded by that sh
$W timed "$true" sh -c 'i=0; while [ $i -lt "$1" ]; do /bin/true; i=$((i + 1)); done' sh "$true" || exit 1
echo "bench-rows: done"
