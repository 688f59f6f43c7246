#!/bin/bash
# The debugging kernel (KASAN, KFENCE, lockdep, kmemleak...) that
# `make check-debug` boots, built from Debian's linux-source-6.12.
#
#   build.sh release   print its release (uname -r), e.g. 6.12.117-vmexec-debug
#   build.sh build     make sure it is built and current (see below)
#
# Everything lives in $VMEXEC_CACHE/debug-kernel, never in the git tree:
#   src-PKGVERSION/linux-source-6.12   the extracted sources
#   build-PKGVERSION                    the O= build directory (kbuild dir for M=)
# and the harness finds it as kernels/RELEASE/vmlinuz-RELEASE plus
# kernels/RELEASE/build -> the build directory (common.sh kbuild_dir()).
#
# The configuration is `make allnoconfig` with tests/debug-kernel/config
# (KCONFIG_ALLCONFIG), then olddefconfig; every line of the fragment must
# survive into .config. A build is reused as long as the fragment, the
# linux-source-6.12 package version and the compiler are the same (a stamp
# holds their hash); otherwise it is configured and built again (make -j
# DEBUG_KERNEL_JOBS, default 2, under nice 10). A lock of its own
# serialises builds, so compiling does not hold the qemu harness lock.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../harness/common.sh"
# shellcheck source=tests/harness/linux-source.sh
. "$(dirname "${BASH_SOURCE[0]}")/../harness/linux-source.sh"

# The kernel's make gets its own -j and flags, not those of a calling make.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL
DK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$DK_DIR/config
: "${DEBUG_KERNEL_JOBS:=2}"
DK_CACHE=$VMEXEC_CACHE/debug-kernel

# Packages a kernel build needs beyond host-packages (installed if missing).
BUILD_PKGS=(flex bison bc libelf-dev libssl-dev xz-utils)
BUILD_WHAT="debug kernel"

# Extract the tarball once per package version; drop other versions' trees.
ensure_source_tree() {
	local ver=$1 dir tmp old
	dir=$DK_CACHE/src-$ver
	if [ ! -f "$dir/.extracted" ]; then
		log "debug kernel: extracting $TARBALL into $dir"
		rm -rf -- "$dir"
		tmp=$(mktemp -d "$DK_CACHE/.src.XXXXXX")
		nice -n 10 tar -xJf "$TARBALL" -C "$tmp" || { rm -rf -- "$tmp"; die "extracting $TARBALL failed"; }
		[ -f "$tmp/$SRC_PKG/Makefile" ] || { rm -rf -- "$tmp"; die "$TARBALL holds no $SRC_PKG/Makefile"; }
		mv -- "$tmp" "$dir"
		touch "$dir/.extracted"
	fi
	for old in "$DK_CACHE"/src-* "$DK_CACHE"/build-*; do
		[ -e "$old" ] || continue
		case "$old" in "$DK_CACHE/src-$ver" | "$DK_CACHE/build-$ver") continue ;; esac
		log "debug kernel: removing stale $old"
		rm -rf -- "$old"
	done
	printf '%s\n' "$dir/$SRC_PKG"
}

localversion() {
	sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$FRAGMENT"
}

# VERSION.PATCHLEVEL.SUBLEVEL EXTRAVERSION of the tree, plus LOCALVERSION.
tree_release() {
	local src=$1
	awk -v lv="$(localversion)" '
		/^VERSION *=/ { v = $3 } /^PATCHLEVEL *=/ { p = $3 }
		/^SUBLEVEL *=/ { s = $3 } /^EXTRAVERSION *=/ { e = $3 }
		/^NAME *=/ { exit }
		END { printf "%s.%s.%s%s%s\n", v, p, s, e, lv }' "$src/Makefile"
}

stamp_key() {
	local ver=$1
	{
		printf 'pkg %s\n' "$ver"
		gcc --version | head -n 1
		ld --version | head -n 1
		cat "$FRAGMENT"
	} | sha256sum | cut -d' ' -f1
}

take_lock() {
	mkdir -p "$DK_CACHE"
	exec 8>"$DK_CACHE/.lock"
	if ! flock -n 8; then
		log "debug kernel: waiting for another build holding $DK_CACHE/.lock"
		flock -w "$LOCK_TIMEOUT" 8 || die "lock $DK_CACHE/.lock still held after $LOCK_TIMEOUT s"
	fi
}

cmd_release() {
	local ver src
	need_cmd dpkg-query tar flock
	take_lock
	ver=$(ensure_source_pkg)
	src=$(ensure_source_tree "$ver")
	tree_release "$src"
}

cmd_build() {
	local ver src out rel key kdir start secs
	need_cmd dpkg-query tar gcc make flock sha256sum nice
	take_lock
	ensure_build_pkgs
	ver=$(ensure_source_pkg)
	src=$(ensure_source_tree "$ver")
	rel=$(tree_release "$src")
	out=$DK_CACHE/build-$ver
	key=$(stamp_key "$ver")
	kdir=$(kernel_dir "$rel")

	if [ "$(cat "$out/.vmexec-stamp" 2>/dev/null)" = "$key" ] &&
		[ -s "$out/arch/x86/boot/bzImage" ] && [ -s "$(vmlinuz_path "$rel")" ] &&
		[ -e "$kdir/build/Makefile" ]; then
		log "debug kernel: $rel is current ($out)"
		return 0
	fi

	log "debug kernel: configuring $rel in $out (fragment $FRAGMENT)"
	mkdir -p "$out"
	rm -f -- "$out/.vmexec-stamp"
	# allnoconfig + fragment, then olddefconfig, from scratch every time.
	rm -f -- "$out/.config"
	make -s -C "$src" O="$out" KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig >&2 ||
		die "debug kernel: make allnoconfig failed"
	make -s -C "$src" O="$out" olddefconfig >&2 || die "debug kernel: make olddefconfig failed"
	check_config "$out/.config"

	log "debug kernel: building $rel (make -j$DEBUG_KERNEL_JOBS, nice 10; log $out/build.log)"
	start=$(date +%s)
	# LOCALVERSION= (set, empty): no "+" from scripts/setlocalversion.
	if ! nice -n 10 make -C "$src" O="$out" -j"$DEBUG_KERNEL_JOBS" LOCALVERSION= \
		bzImage modules >"$out/build.log" 2>&1; then
		tail -n 40 "$out/build.log" >&2
		die "debug kernel: build failed (log: $out/build.log)"
	fi
	secs=$(($(date +%s) - start))
	[ "$(cat "$out/include/config/kernel.release")" = "$rel" ] ||
		die "debug kernel: built $(cat "$out/include/config/kernel.release"), expected $rel"

	mkdir -p "$kdir"
	cp -- "$out/arch/x86/boot/bzImage" "$(vmlinuz_path "$rel").part"
	mv -- "$(vmlinuz_path "$rel").part" "$(vmlinuz_path "$rel")"
	cp -- "$out/.config" "$kdir/config-$rel"
	ln -sfn -- "$out" "$kdir/build"
	printf '%s\n' "$key" >"$out/.vmexec-stamp"
	log "debug kernel: built $rel in ${secs} s ($((secs / 60)) min, -j$DEBUG_KERNEL_JOBS)"
}

[ $# -eq 1 ] || die "usage: build.sh release | build"
case "$1" in
release) cmd_release ;;
build) cmd_build ;;
*) die "build.sh: unknown command '$1'" ;;
esac
