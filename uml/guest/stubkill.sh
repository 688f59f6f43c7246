#!/bin/sh
# shellcheck shell=sh
# Run inside UML by uml/guest/run.sh's "stubkill" mode: a process whose host
# stub is killed from outside UML must die, and UML must carry on.
/bin/workload hold &
p=$!
wait $p
echo "holder ended: status $?"
echo "UML still runs processes: $(echo ok | cat)"
