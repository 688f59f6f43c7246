#!/bin/sh
# shellcheck shell=sh
# Run inside UML by uml/guest/run.sh's "timing" mode: rough per-operation
# times of the workload (UML's clock, which is the host's). Not a benchmark:
# one run each, nothing pinned; for a first look at the ratios only.
WORKLOAD_TIME=1
export WORKLOAD_TIME
/bin/workload getppid 20000
/bin/workload touch 5000
/bin/workload fork 200
s=$(date +%s)
i=0
while [ $i -lt 200 ]; do
	/bin/true
	i=$((i + 1))
done
echo "time /bin/true x 200: $(($(date +%s) - s)) s"
