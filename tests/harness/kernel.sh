#!/bin/bash
# Pick and fetch the Debian stock kernels the guests boot.
#
#   kernel.sh release SERIES   print the newest release apt offers (6.1 or 6.12),
#                              or the debug kernel's release (series debug)
#   kernel.sh image RELEASE    make sure the cache holds vmlinuz-RELEASE
#   kernel.sh headers RELEASE  make sure /lib/modules/RELEASE/build exists
#
# The image package is downloaded and extracted into $VMEXEC_CACHE, never
# installed. Headers are installed with apt-get (needs root). The debug
# kernel (series "debug") is built from linux-source-6.12 instead, by
# tests/debug-kernel/build.sh, which also provides its kbuild tree.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEBUG_KERNEL_SH=$REPO_DIR/tests/debug-kernel/build.sh

image_regex() {
	case "$1" in
	6.1) printf '%s\n' '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
	6.12) printf '%s\n' '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
	*) die "unknown kernel series '$1' (known: 6.1 6.12)" ;;
	esac
}

apt_updated=
newest_image_pkg() {
	local re=$1 pkg
	pkg=$(apt-cache search --names-only "$re" | awk '{print $1}' | sort -V | tail -n 1)
	if [ -z "$pkg" ] && [ -z "$apt_updated" ] && [ "$(id -u)" = 0 ]; then
		log "apt knows no package matching $re: running apt-get update"
		apt-get update >&2 || die "apt-get update failed"
		apt_updated=1
		pkg=$(apt-cache search --names-only "$re" | awk '{print $1}' | sort -V | tail -n 1)
	fi
	printf '%s\n' "$pkg"
}

cmd_release() {
	local series=$1 re pkg rel
	if [ "$series" = debug ]; then
		bash "$DEBUG_KERNEL_SH" release
		return
	fi
	need_cmd apt-cache
	re=$(image_regex "$series")
	pkg=$(newest_image_pkg "$re")
	[ -n "$pkg" ] || die "apt offers no package matching $re (run apt-get update?)"
	rel=${pkg#linux-image-}
	rel=${rel%-unsigned}
	printf '%s\n' "$rel"
}

cmd_image() {
	local rel=$1 dir vmlinuz deb
	if is_debug_release "$rel"; then
		bash "$DEBUG_KERNEL_SH" build
		return
	fi
	dir=$(kernel_dir "$rel")
	vmlinuz=$(vmlinuz_path "$rel")
	if [ -s "$vmlinuz" ]; then
		log "$rel: cached $vmlinuz"
		return 0
	fi
	need_cmd apt-get dpkg-deb
	mkdir -p "$dir"
	fetch_tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
	trap 'rm -rf "$fetch_tmp"' EXIT
	local tmp=$fetch_tmp
	log "$rel: downloading linux-image-$rel-unsigned into $dir"
	(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "linux-image-$rel-unsigned" >&2) ||
		die "apt-get download linux-image-$rel-unsigned failed"
	deb=$(find "$tmp" -maxdepth 1 -name "linux-image-${rel}-unsigned_*.deb" -print -quit)
	[ -n "$deb" ] || die "apt-get download left no .deb in $tmp"
	dpkg-deb -x "$deb" "$tmp/x" || die "dpkg-deb -x $deb failed"
	[ -s "$tmp/x/boot/vmlinuz-$rel" ] || die "$deb holds no boot/vmlinuz-$rel"
	cp -- "$tmp/x/boot/config-$rel" "$dir/" 2>/dev/null || true
	mv -- "$tmp/x/boot/vmlinuz-$rel" "$vmlinuz.part"
	mv -- "$vmlinuz.part" "$vmlinuz"
	log "$rel: cached $vmlinuz"
}

cmd_headers() {
	local rel=$1 kb
	if is_debug_release "$rel"; then
		[ -e "$(kbuild_dir "$rel")/Makefile" ] || bash "$DEBUG_KERNEL_SH" build
		return
	fi
	kb=$(kbuild_dir "$rel")
	if [ -e "$kb/Makefile" ]; then
		log "$rel: headers present ($kb)"
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "$kb is missing and installing linux-headers-$rel needs root"
	log "$rel: installing linux-headers-$rel"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"linux-headers-$rel" >&2 || die "apt-get install linux-headers-$rel failed"
	[ -e "$kb/Makefile" ] || die "linux-headers-$rel installed but $kb/Makefile is missing"
}

[ $# -eq 2 ] || die "usage: kernel.sh release SERIES | image RELEASE | headers RELEASE"
case "$1" in
release) cmd_release "$2" ;;
image) cmd_image "$2" ;;
headers) cmd_headers "$2" ;;
*) die "kernel.sh: unknown command '$1'" ;;
esac
