#!/bin/bash
# tests.sh: build the statically linked guest test programs into $TESTS_O
# (make -C $TESTS_SRC O=$TESTS_O). They do not depend on the kernel.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -f "$TESTS_SRC/Makefile" ] ||
	die "$TESTS_SRC/Makefile is missing: the guest test programs are not written yet"
mkdir -p "$TESTS_O"
log "building guest test programs: $MAKE -C $TESTS_SRC O=$TESTS_O"
$MAKE -C "$TESTS_SRC" O="$TESTS_O" >&2 || die "building the guest test programs failed"
