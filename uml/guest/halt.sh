#!/bin/sh
# shellcheck shell=sh
# Run inside User-mode Linux by uml/guest/bench.sh (make bench, section u)
# for the boot-to-halt row: nothing, so that UML's boot, init's hostfs mount
# and the power-off are all that is timed.
echo "halt: nothing to do"
