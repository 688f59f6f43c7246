#!/bin/bash
# User-mode Linux (ARCH=um, x86-64) from Debian's linux-source-6.12, in two
# builds: stock, and with uml/*.patch applied (the vmexec backend).
#
#   build.sh build           make sure both binaries are built and current
#   build.sh path stock|vmexec   build if needed, print that binary's path
#
# Inputs: the linux-source-6.12 package (exactly UML_SRC_VERSION below;
# another version is refused, since the patch is written against it), the
# config fragment uml/config (allnoconfig + fragment, then olddefconfig;
# every line must survive), the compiler and linker, and for the patched
# binary uml/*.patch (applied in name order, each checked with --dry-run
# first) and uapi/linux/vmexec.h (found through the include path
# VMEXEC_UAPI=<repo>/uapi, never copied into the patch).
#
# Everything lives in $VMEXEC_CACHE/uml, never in the git tree:
#   src-PKGVERSION/linux-source-6.12   the pristine extracted sources
#   work-stock/build                   O= build of the stock tree
#   work-vmexec/src, work-vmexec/build a hard-linked copy of the sources
#                                      with the patches applied, and its O=
#                                      build (reused: only what the patches
#                                      change is rebuilt)
#   HASH/linux, HASH/config, HASH/build.log
#                                      a finished binary; HASH is the
#                                      sha256 of that binary's inputs
# A binary whose HASH directory exists is reused as is. Builds run under
# nice 19 with make -j UML_JOBS (default 2), serialised by a lock of their
# own (not the qemu harness lock).
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/harness/common.sh"
# shellcheck source=tests/harness/linux-source.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/harness/linux-source.sh"

unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL
UML_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$UML_DIR/config
UAPI_DIR=$UAPI_SRC
# The source the patches are written against.
UML_SRC_VERSION=6.12.118-1~deb12u1
: "${UML_JOBS:=2}"
UC=$VMEXEC_CACHE/uml

BUILD_PKGS=(flex bison bc libc6-dev xz-utils patch)
BUILD_WHAT=uml

# Extract the tarball once per package version.
ensure_source_tree() {
	local ver=$1 dir tmp
	dir=$UC/src-$ver
	if [ ! -f "$dir/.extracted" ]; then
		log "uml: extracting $TARBALL into $dir"
		rm -rf -- "$dir"
		tmp=$(mktemp -d "$UC/.src.XXXXXX")
		nice -n 19 tar -xJf "$TARBALL" -C "$tmp" || { rm -rf -- "$tmp"; die "extracting $TARBALL failed"; }
		[ -f "$tmp/$SRC_PKG/Makefile" ] || { rm -rf -- "$tmp"; die "$TARBALL holds no $SRC_PKG/Makefile"; }
		mv -- "$tmp" "$dir"
		touch "$dir/.extracted"
	fi
	printf '%s\n' "$dir/$SRC_PKG"
}

patches() {
	local p
	for p in "$UML_DIR"/*.patch; do
		[ -f "$p" ] && printf '%s\n' "$p"
	done
}

# The sha256 of one binary's inputs.
input_key() {
	local variant=$1 ver=$2 p
	{
		printf 'uml %s pkg %s\n' "$variant" "$ver"
		gcc --version | head -n 1
		ld --version | head -n 1
		cat "$FRAGMENT"
		if [ "$variant" = vmexec ]; then
			while IFS= read -r p; do
				printf 'patch %s\n' "${p##*/}"
				cat "$p"
			done < <(patches)
			cat "$UAPI_DIR/linux/vmexec.h"
		fi
	} | sha256sum | cut -d' ' -f1
}

# The patched tree: hard links to the pristine files, except the files a
# patch touches, which are real copies (reverted to pristine before the
# patches are applied again). Kept between builds so make rebuilds little.
prepare_patched_tree() {
	local pristine=$1 tree=$2 f p list prev
	list=$tree/.vmexec-patched-files
	if [ ! -f "$tree/.linked" ]; then
		log "uml: linking a copy of $pristine into $tree"
		rm -rf -- "$tree"
		mkdir -p "$(dirname "$tree")"
		cp -al -- "$pristine" "$tree"
		touch "$tree/.linked"
	fi
	# Undo the previous patches: pristine files back (as new files: their
	# objects were built from the patched text), new files gone; the patched
	# versions are kept in $prev, so that a file the new patches leave as it
	# was gets its old mtime back (mm_id.h, included almost everywhere, would
	# otherwise rebuild the whole tree).
	prev=$(dirname "$tree")/prev
	rm -rf -- "$prev"
	mkdir -p "$prev"
	if [ -f "$list" ]; then
		while IFS= read -r f; do
			if [ -e "$tree/$f" ]; then
				mkdir -p "$prev/$(dirname "$f")"
				cp -p -- "$tree/$f" "$prev/$f"
			fi
			if [ -e "$pristine/$f" ]; then
				cmp -s -- "$pristine/$f" "$tree/$f" ||
					cp --remove-destination -- "$pristine/$f" "$tree/$f"
			else
				rm -f -- "$tree/$f"
			fi
		done <"$list"
		rm -f -- "$list"
	fi
	: >"$list.new"
	while IFS= read -r p; do
		# Files the patch names (+++ b/PATH): break their links first.
		sed -n 's|^+++ b/\([^	]*\).*|\1|p' "$p" >>"$list.new"
	done < <(patches)
	sort -u -o "$list.new" "$list.new"
	while IFS= read -r f; do
		[ ! -e "$tree/$f" ] || cp -p --remove-destination -- "$pristine/$f" "$tree/$f"
	done <"$list.new"
	mv -- "$list.new" "$list"
	while IFS= read -r p; do
		patch -d "$tree" -p1 --dry-run -s -F0 -N <"$p" >/dev/null ||
			die "uml: ${p##*/} does not apply to $SRC_PKG $UML_SRC_VERSION"
		patch -d "$tree" -p1 -s -F0 -N --no-backup-if-mismatch <"$p" ||
			die "uml: applying ${p##*/} failed"
		log "uml: applied ${p##*/}"
	done < <(patches)
	# Patched files as they were last time keep that mtime; others are new.
	while IFS= read -r f; do
		[ -e "$tree/$f" ] || continue
		if [ -e "$prev/$f" ] && cmp -s -- "$prev/$f" "$tree/$f"; then
			touch -r "$prev/$f" -- "$tree/$f"
		else
			touch -- "$tree/$f"
		fi
	done <"$list"
	rm -rf -- "$prev"
}

# build_variant stock|vmexec: print the binary's path, building it if needed.
build_variant() {
	local variant=$1 ver pristine src work out key start secs makeargs=()
	ver=$(ensure_source_pkg)
	[ "$ver" = "$UML_SRC_VERSION" ] ||
		die "uml: $SRC_PKG is $ver; the patches in $UML_DIR are for $UML_SRC_VERSION (install that version, or port the patches and change UML_SRC_VERSION in uml/build.sh)"
	pristine=$(ensure_source_tree "$ver")
	key=$(input_key "$variant" "$ver")
	out=$UC/$key
	if [ -x "$out/linux" ]; then
		log "uml: $variant binary is current ($out/linux)"
		printf '%s\n' "$out/linux"
		return 0
	fi
	work=$UC/work-$variant
	src=$pristine
	if [ "$variant" = vmexec ]; then
		[ -n "$(patches)" ] || die "uml: no $UML_DIR/*.patch to build the vmexec binary from"
		[ -f "$UAPI_DIR/linux/vmexec.h" ] || die "uml: $UAPI_DIR/linux/vmexec.h is missing"
		src=$work/src
		prepare_patched_tree "$pristine" "$src"
		makeargs+=(VMEXEC_UAPI="$UAPI_DIR")
	fi
	mkdir -p "$work/build"
	log "uml: configuring $variant UML in $work/build (fragment $FRAGMENT)"
	rm -f -- "$work/build/.config"
	make -s -C "$src" O="$work/build" ARCH=um SUBARCH=x86_64 \
		KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig >&2 || die "uml: make allnoconfig failed"
	make -s -C "$src" O="$work/build" ARCH=um SUBARCH=x86_64 olddefconfig >&2 ||
		die "uml: make olddefconfig failed"
	check_config "$work/build/.config"
	log "uml: building $variant UML (make -j$UML_JOBS, nice 19; log $work/build/build.log)"
	start=$(date +%s)
	if ! nice -n 19 make -C "$src" O="$work/build" ARCH=um SUBARCH=x86_64 -j"$UML_JOBS" \
		LOCALVERSION= "${makeargs[@]}" linux >"$work/build/build.log" 2>&1; then
		tail -n 40 "$work/build/build.log" >&2
		die "uml: $variant build failed (log: $work/build/build.log)"
	fi
	secs=$(($(date +%s) - start))
	is_static_elf "$work/build/linux" || die "uml: $work/build/linux is not a static ELF"
	rm -rf -- "$out.part"
	mkdir -p "$out.part"
	cp -- "$work/build/linux" "$out.part/linux"
	cp -- "$work/build/.config" "$out.part/config"
	cp -- "$work/build/build.log" "$out.part/build.log"
	printf '%s\n' "$variant" >"$out.part/variant"
	rm -rf -- "$out"
	mv -- "$out.part" "$out"
	log "uml: built $variant UML in ${secs} s: $out/linux"
	printf '%s\n' "$out/linux"
}

take_lock() {
	mkdir -p "$UC"
	exec 8>"$UC/.lock"
	if ! flock -n 8; then
		log "uml: waiting for another build holding $UC/.lock"
		flock -w "$LOCK_TIMEOUT" 8 || die "lock $UC/.lock still held after $LOCK_TIMEOUT s"
	fi
}

need_cmd dpkg-query tar gcc make flock sha256sum nice patch cmp
case "${1:-}" in
build)
	[ $# -eq 1 ] || die "usage: build.sh build | path stock|vmexec"
	take_lock
	ensure_build_pkgs
	build_variant stock >/dev/null
	build_variant vmexec >/dev/null
	;;
path)
	[ $# -eq 2 ] || die "usage: build.sh build | path stock|vmexec"
	case "$2" in stock | vmexec) ;; *) die "build.sh path: stock or vmexec, not '$2'" ;; esac
	take_lock
	ensure_build_pkgs
	build_variant "$2"
	;;
*) die "usage: build.sh build | path stock|vmexec" ;;
esac
