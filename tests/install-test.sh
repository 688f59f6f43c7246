#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-test.sh: `make install` into a scratch DESTDIR, then build a small
# program against the installed header and library with nothing but
# `pkg-config --cflags --libs vmexec` (PKG_CONFIG_SYSROOT_DIR points
# pkg-config into the DESTDIR), link it once shared and once static, and run
# it. On a machine without the module, vmexec_open() must return -ENOENT and
# the program prints that. Also checks the installed file list, the soname,
# the symbol versions, the .pc version and that every man page renders.
# Host-side; exits 0 only if every check passed.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAKE=${MAKE:-make}
CC=${CC:-cc}
version=$(cat "$top/VERSION")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
prefix=/usr
libdir=$prefix/lib/x86_64-linux-gnu
pass=0
fail=0
ok() { echo "install-test: ok: $*"; pass=$((pass + 1)); }
bad() { echo "install-test: FAIL: $*" >&2; fail=$((fail + 1)); }

# The build of libvmexec goes to $tmp, not the tree.
$MAKE -s -C "$top" install DESTDIR="$dest" PREFIX="$prefix" libdir="$libdir" \
	LIB_O="$tmp/lib" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; echo "install-test: make install failed" >&2; exit 1; }

for f in "$libdir/libvmexec.so.1" "$libdir/libvmexec.so" "$libdir/libvmexec.a" \
	"$libdir/pkgconfig/vmexec.pc" "$prefix/include/libvmexec.h" \
	"$prefix/include/linux/vmexec.h" "$prefix/share/man/man4/vmexec.4" \
	"$prefix/share/man/man3/vmexec_open.3" \
	/usr/lib/udev/rules.d/60-vmexec.rules /usr/lib/modules-load.d/vmexec.conf \
	/usr/lib/sysusers.d/vmexec.conf; do
	if [ -e "$dest$f" ]; then ok "installed $f"; else bad "missing $f"; fi
done
[ "$(readlink "$dest$libdir/libvmexec.so")" = libvmexec.so.1 ] &&
	ok "libvmexec.so -> libvmexec.so.1" || bad "libvmexec.so is not a link to libvmexec.so.1"
soname=$(readelf -d "$dest$libdir/libvmexec.so.1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libvmexec.so.1 ] && ok "soname $soname" || bad "soname '$soname'"
if nm -D --defined-only "$dest$libdir/libvmexec.so.1" | awk '$2 == "T"' |
	grep -v '@@LIBVMEXEC_' >&2; then
	bad "exported functions without a LIBVMEXEC_ version (above)"
else
	ok "every exported function is versioned"
fi
grep -qx 'SUBSYSTEM=="misc", KERNEL=="vmexec", GROUP="vmexec", MODE="0660"' \
	"$dest/usr/lib/udev/rules.d/60-vmexec.rules" && ok "udev rule" || bad "udev rule"
grep -qx vmexec "$dest/usr/lib/modules-load.d/vmexec.conf" && ok "modules-load.d" ||
	bad "modules-load.d entry"

export PKG_CONFIG_PATH=
export PKG_CONFIG_LIBDIR=$dest$libdir/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$dest
pcver=$(pkg-config --modversion vmexec) || pcver=
[ "$pcver" = "$version" ] && ok "pkg-config --modversion vmexec: $pcver" ||
	bad "pkg-config version '$pcver', VERSION is $version"
flags=$(pkg-config --cflags --libs vmexec) || { bad "pkg-config --cflags --libs vmexec"; flags=; }
echo "install-test: pkg-config --cflags --libs vmexec: $flags"

cat >"$tmp/t.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <libvmexec.h>
#include <linux/vmexec.h>

int main(void)
{
	int fd = vmexec_open();

	if (fd >= 0) {
		int v = vmexec_api_version(fd);

		printf("vmexec_open: fd %d, API version %d\n", fd, v);
		return v == VMEXEC_API_VERSION ? 0 : 1;
	}
	printf("vmexec_open: %d (%s)\n", fd, strerror(-fd));
	/* No module on this machine: the device node does not exist. */
	return fd == -ENOENT ? 0 : 1;
}
C
# The program is built like an outside user would: only pkg-config's flags.
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror -o "$tmp/t" "$tmp/t.c" $flags; then
	ok "built against the installed header and libvmexec.so"
	out=$(LD_LIBRARY_PATH=$dest$libdir "$tmp/t") && ok "ran: $out" || bad "ran: $out"
	ldd_line=$(LD_LIBRARY_PATH=$dest$libdir ldd "$tmp/t" | grep libvmexec || true)
	case $ldd_line in
	*"$dest$libdir/libvmexec.so.1"*) ok "linked to the installed libvmexec.so.1" ;;
	*) bad "not linked to the installed library: $ldd_line" ;;
	esac
else
	bad "building with pkg-config's flags"
fi
# shellcheck disable=SC2086
if $CC -std=c99 -Wall -Wextra -Werror -static -o "$tmp/ts" "$tmp/t.c" \
	$(pkg-config --static --cflags --libs vmexec); then
	out=$("$tmp/ts") && ok "static build ran: $out" || bad "static build ran: $out"
else
	bad "static build with pkg-config --static"
fi
# The same in C++, which must see the C linkage of the header.
if command -v "${CXX:-g++}" >/dev/null; then
	# shellcheck disable=SC2086
	if "${CXX:-g++}" -Wall -Wextra -Werror -x c++ -o "$tmp/tpp" "$tmp/t.c" $flags &&
		out=$(LD_LIBRARY_PATH=$dest$libdir "$tmp/tpp"); then
		ok "C++ build ran: $out"
	else
		bad "C++ build against the installed header"
	fi
fi

# Every installed man page renders without warnings.
for m in "$dest$prefix"/share/man/man*/*; do
	w=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null) || w="man failed: $w"
	[ -z "$w" ] || bad "man -l ${m##*/}: $w"
done
ok "man pages render ($(find "$dest$prefix/share/man" -type f | wc -l) pages)"

echo "install-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
