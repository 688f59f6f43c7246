#!/bin/bash
# Pick and fetch the Debian stock kernels the guests boot.
#
#   kernel.sh release SERIES   print the newest release apt offers (6.1 or 6.12),
#                              or the debug kernel's release (series debug)
#   kernel.sh image RELEASE    make sure the cache holds vmlinuz-RELEASE
#   kernel.sh headers RELEASE  make sure /lib/modules/RELEASE/build exists
#   kernel.sh bench-modules RELEASE
#                              make sure the cache holds the modules make
#                              bench's section D loads in the guest for its
#                              ext4 file system (kernels/RELEASE/bench-modules)
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

# unpack_image_deb RELEASE: download the image package into a scratch
# directory of the cache and unpack it to $fetch_tmp/x.
fetch_tmp=
unpack_image_deb() {
	local rel=$1 dir deb
	dir=$(kernel_dir "$rel")
	need_cmd apt-get dpkg-deb
	mkdir -p "$dir"
	fetch_tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
	trap 'rm -rf "$fetch_tmp"' EXIT
	log "$rel: downloading linux-image-$rel-unsigned into $dir"
	(cd "$fetch_tmp" && apt-get -q -o APT::Sandbox::User=root download "linux-image-$rel-unsigned" >&2) ||
		die "apt-get download linux-image-$rel-unsigned failed"
	deb=$(find "$fetch_tmp" -maxdepth 1 -name "linux-image-${rel}-unsigned_*.deb" -print -quit)
	[ -n "$deb" ] || die "apt-get download left no .deb in $fetch_tmp"
	dpkg-deb -x "$deb" "$fetch_tmp/x" || die "dpkg-deb -x $deb failed"
}

# Section D of make bench writes files to ext4, which Debian builds as a
# module: the guest loads ext4 and brd (the RAM disk it lives on) with
# everything modules.dep says they need, and crc32c_generic first, which
# ext4 and jbd2 ask the crypto API for (metadata_csum; the guest has no
# modprobe configuration to load it on demand).
BENCH_MODULES="crc32c_generic brd ext4"

# extract_bench_modules RELEASE ROOT: copy BENCH_MODULES and their
# dependencies from ROOT/lib/modules/RELEASE, uncompressed, to
# bench_modules_dir RELEASE, with the file load-order (one name a line,
# dependencies first).
extract_bench_modules() {
	local rel=$1 root=$2 moddir out tmp line mod name m src
	local -A mpath mdeps seen builtin
	local order=()
	moddir=$root/lib/modules/$rel
	out=$(bench_modules_dir "$rel")
	[ -d "$moddir/kernel" ] || die "$moddir/kernel is missing"
	# The package leaves modules.dep to depmod at install time.
	if [ ! -s "$moddir/modules.dep" ]; then
		need_cmd depmod
		depmod -b "$root" "$rel" || die "depmod -b $root $rel failed"
		[ -s "$moddir/modules.dep" ] || die "depmod left no $moddir/modules.dep"
	fi
	while IFS= read -r line; do
		mod=${line%%:*}
		name=${mod##*/}
		name=${name%%.ko*}
		name=${name//-/_}
		mpath[$name]=$mod
		mdeps[$name]=${line#*:}
	done <"$moddir/modules.dep"
	if [ -f "$moddir/modules.builtin" ]; then
		while IFS= read -r mod; do
			name=${mod##*/}
			name=${name%%.ko*}
			builtin[${name//-/_}]=1
		done <"$moddir/modules.builtin"
	fi
	visit() {
		local n=$1 dep dn
		[ -z "${seen[$n]:-}" ] || return 0
		seen[$n]=1
		if [ -z "${mpath[$n]:-}" ]; then
			[ -n "${builtin[$n]:-}" ] || die "$rel: module $n is neither in modules.dep nor built in"
			log "$rel: $n is built in"
			return 0
		fi
		for dep in ${mdeps[$n]}; do
			dn=${dep##*/}
			dn=${dn%%.ko*}
			visit "${dn//-/_}"
		done
		order+=("$n")
	}
	for m in $BENCH_MODULES; do
		visit "$m"
	done
	tmp=$out.part
	rm -rf -- "$tmp"
	mkdir -p "$tmp"
	for m in "${order[@]}"; do
		src=$moddir/${mpath[$m]}
		case "$src" in
		*.ko) cp -- "$src" "$tmp/$m.ko" ;;
		*.ko.xz) need_cmd xz && xz -dc -- "$src" >"$tmp/$m.ko" ;;
		*.ko.zst) need_cmd zstd && zstd -qdc -- "$src" >"$tmp/$m.ko" ;;
		*.ko.gz) gzip -dc -- "$src" >"$tmp/$m.ko" ;;
		*) die "$src: unknown module compression" ;;
		esac || die "unpacking $src failed"
		echo "$m" >>"$tmp/load-order"
	done
	touch "$tmp/load-order"
	rm -rf -- "$out"
	mv -- "$tmp" "$out"
	log "$rel: bench modules in $out: ${order[*]}"
}

cmd_image() {
	local rel=$1 dir vmlinuz
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
	unpack_image_deb "$rel"
	local tmp=$fetch_tmp
	[ -s "$tmp/x/boot/vmlinuz-$rel" ] || die "the package holds no boot/vmlinuz-$rel"
	cp -- "$tmp/x/boot/config-$rel" "$dir/" 2>/dev/null || true
	# The same package has the modules make bench needs: no second download.
	[ -f "$(bench_modules_dir "$rel")/load-order" ] || extract_bench_modules "$rel" "$tmp/x"
	mv -- "$tmp/x/boot/vmlinuz-$rel" "$vmlinuz.part"
	mv -- "$vmlinuz.part" "$vmlinuz"
	log "$rel: cached $vmlinuz"
}

cmd_bench_modules() {
	local rel=$1
	if is_debug_release "$rel"; then
		log "$rel: no module package for the debug kernel: section D's ext4 rows need ext4 and brd built in"
		return 0
	fi
	if [ -f "$(bench_modules_dir "$rel")/load-order" ]; then
		log "$rel: cached $(bench_modules_dir "$rel")"
		return 0
	fi
	unpack_image_deb "$rel"
	extract_bench_modules "$rel" "$fetch_tmp/x"
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

[ $# -eq 2 ] || die "usage: kernel.sh release SERIES | image RELEASE | headers RELEASE | bench-modules RELEASE"
case "$1" in
release) cmd_release "$2" ;;
image) cmd_image "$2" ;;
headers) cmd_headers "$2" ;;
bench-modules) cmd_bench_modules "$2" ;;
*) die "kernel.sh: unknown command '$1'" ;;
esac
