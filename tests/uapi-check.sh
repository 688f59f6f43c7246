#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# uapi-check.sh [HEADER]: check the uapi header (default uapi/linux/vmexec.h)
#   - stands alone as C90 (-pedantic), C11 and C++, warning-free;
#   - no struct defined in it has a hole or padding: gcc -Wpadded, and pahole
#     on its DWARF (no "XXX ... hole", no "padding").
# Exit status 0 only if every check passed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
hdr=${1:-$here/../uapi/linux/vmexec.h}
CC=${CC:-gcc}
CXX=${CXX:-g++}
PAHOLE=${PAHOLE:-pahole}

[ -f "$hdr" ] || { echo "uapi-check: $hdr: no such file" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/inc/linux"
cp "$hdr" "$tmp/inc/linux/vmexec.h"
printf '#include <linux/vmexec.h>\n' >"$tmp/t.c"

failed=0
ok() { echo "uapi-check: ok: $*"; }
bad() { echo "uapi-check: FAIL: $*" >&2; failed=1; }

warn="-Wall -Wextra -Werror"
if $CC -std=c90 -pedantic $warn -I"$tmp/inc" -c "$tmp/t.c" -o "$tmp/c90.o"; then
	ok "C90 -pedantic"
else
	bad "C90 -pedantic"
fi
if $CC -std=c11 -pedantic $warn -Wpadded -I"$tmp/inc" -c "$tmp/t.c" -o "$tmp/c11.o"; then
	ok "C11 -pedantic -Wpadded"
else
	bad "C11 -pedantic -Wpadded (see above)"
fi
if $CXX -std=c++11 -pedantic $warn -fsyntax-only -x c++ -I"$tmp/inc" "$tmp/t.c"; then
	ok "C++11 -fsyntax-only"
else
	bad "C++11 -fsyntax-only"
fi

# Every struct the header defines at top level ("struct vmexec_x {").
structs=$(sed -n 's/^struct \([A-Za-z0-9_]*\)[[:space:]]*{.*/\1/p' "$hdr")
if [ -z "$structs" ]; then
	bad "no struct definitions found in $hdr"
elif ! command -v "$PAHOLE" >/dev/null 2>&1; then
	bad "$PAHOLE not found (install dwarves)"
elif ! $CC -std=c11 -g -fno-eliminate-unused-debug-types -I"$tmp/inc" \
		-c "$tmp/t.c" -o "$tmp/dbg.o"; then
	bad "compiling with -g"
else
	for s in $structs; do
		if ! $PAHOLE -C "$s" "$tmp/dbg.o" >"$tmp/$s.txt" 2>&1 ||
		   ! grep -q "^struct $s {" "$tmp/$s.txt"; then
			bad "pahole does not know struct $s"
			cat "$tmp/$s.txt" >&2
		elif grep -Eq 'XXX|hole|padding' "$tmp/$s.txt"; then
			bad "struct $s has holes or padding:"
			cat "$tmp/$s.txt" >&2
		else
			ok "struct $s: $(sed -n 's@.*/\* size: \([0-9]*\),.*@\1@p' \
				"$tmp/$s.txt" | tail -n 1) bytes, no holes, no padding"
		fi
	done
fi

[ "$failed" -eq 0 ] && echo "uapi-check: all passed" || echo "uapi-check: FAILED" >&2
exit "$failed"
