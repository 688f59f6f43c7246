#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/dkms.sh: the DKMS side of vmexec.
#
#   dkms.sh stage DIR
#       Copy what DKMS needs (dkms.conf, VERSION, Kbuild, module/ and uapi/ sources,
#       no build junk) into DIR, usually /usr/src/vmexec-VERSION. The copied
#       dkms.conf has the version written in.
#   dkms.sh build RELEASE OUTDIR
#       Stage into OUTDIR/src, then `dkms add/build/install` with private
#       trees under OUTDIR (--dkmstree, --sourcetree, --installtree,
#       --no-depmod): nothing is written outside OUTDIR. No signing key is
#       made: sign_file points at a path that does not exist. Checks the
#       make log for warnings and modinfo for the version and vermagic, and
#       prints on stdout the path of OUTDIR/vmexec.ko, an uncompressed copy of
#       the module dkms installed (6.12 installs vmexec.ko.xz).
#   dkms.sh install SRCDIR [RELEASE...]
#       The system install behind `make install-dkms`: SRCDIR is
#       SOURCETREE/vmexec-VERSION (already staged); dkms add it (after
#       removing an earlier add of the same version), then build and install
#       for each RELEASE (default: every /lib/modules/*/build with a
#       Makefile). DKMS_FLAGS (e.g. --dkmstree DIR --installtree DIR) go to
#       every dkms call. dkms signs the module as it is set up to (on Debian
#       it makes /var/lib/dkms/mok.key on first use; export sign_file=/none
#       to build unsigned).
#
# Environment: MODULE_SRC, UAPI_SRC (default: module/ and uapi/ of this tree).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE_SRC=${MODULE_SRC:-$top/module}
UAPI_SRC=${UAPI_SRC:-$top/uapi}
name=vmexec

die() { printf 'dkms.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'dkms.sh: %s\n' "$*" >&2; }

version=$(cat "$top/VERSION") || die "no $top/VERSION"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION '$version' is not X.Y.Z"

cmd_stage() {
	local dir=$1 f
	[ -f "$MODULE_SRC/Kbuild" ] || die "MODULE_SRC=$MODULE_SRC has no Kbuild"
	[ -f "$UAPI_SRC/linux/vmexec.h" ] || die "UAPI_SRC=$UAPI_SRC has no linux/vmexec.h"
	rm -rf -- "$dir"
	mkdir -p -- "$dir/module" "$dir/uapi/linux"
	for f in "$MODULE_SRC"/Kbuild "$MODULE_SRC"/Makefile "$MODULE_SRC"/*.c "$MODULE_SRC"/*.h; do
		case ${f##*/} in *.mod.c) continue ;; esac
		install -m 0644 -- "$f" "$dir/module/"
	done
	install -m 0644 -- "$UAPI_SRC"/linux/*.h "$dir/uapi/linux/"
	install -m 0644 -- "$top/VERSION" "$top/Kbuild" "$dir/"
	sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$version\"/" "$top/dkms.conf" >"$dir/dkms.conf"
	chmod 0644 "$dir/dkms.conf"
	grep -qx "PACKAGE_VERSION=\"$version\"" "$dir/dkms.conf" ||
		die "could not write the version into $dir/dkms.conf"
}

cmd_build() {
	local rel=$1 out=$2 ko log_file
	command -v dkms >/dev/null || die "dkms not found (apt-get install dkms)"
	[ -e "/lib/modules/$rel/build/Makefile" ] ||
		die "/lib/modules/$rel/build is missing: install linux-headers-$rel"
	out=$(realpath -m -- "$out")
	rm -rf -- "$out"
	mkdir -p -- "$out/tree" "$out/src" "$out/lib/modules/$rel"
	ln -s "/lib/modules/$rel/build" "$out/lib/modules/$rel/build"
	cmd_stage "$out/src/$name-$version"

	local dk=(dkms --dkmstree "$out/tree" --sourcetree "$out/src"
		--installtree "$out/lib/modules")
	# dkms 3.0.10 makes a signing key in /var/lib/dkms unless sign_file
	# names a program that does not exist.
	export sign_file=/nonexistent/vmexec-no-signing
	local key_before=no
	[ ! -e /var/lib/dkms/mok.key ] || key_before=yes
	log "$rel: dkms add/build/install $name/$version (private trees in $out)"
	"${dk[@]}" add "$out/src/$name-$version" >&2 || die "dkms add failed"
	if ! "${dk[@]}" build -m "$name" -v "$version" -k "$rel" >&2; then
		cat "$out/tree/$name/$version/build/make.log" >&2 2>/dev/null || true
		die "$rel: dkms build failed"
	fi
	log_file=$out/tree/$name/$version/$rel/x86_64/log/make.log
	if grep -i 'warning:' "$log_file" >&2; then
		die "$rel: the DKMS build printed warnings (log: $log_file)"
	fi
	"${dk[@]}" install -m "$name" -v "$version" -k "$rel" --no-depmod >&2 ||
		die "$rel: dkms install failed"
	"${dk[@]}" status -m "$name" -v "$version" -k "$rel" >&2
	ko=
	for f in "$out/lib/modules/$rel/updates/dkms/$name".ko{,.xz,.gz,.zst}; do
		[ ! -f "$f" ] || ko=$f
	done
	[ -n "$ko" ] || die "$rel: dkms install left no $name.ko* in $out/lib/modules/$rel/updates/dkms"
	case $ko in
	*.xz) xz -dc -- "$ko" >"$out/$name.ko" ;;
	*.gz) gzip -dc -- "$ko" >"$out/$name.ko" ;;
	*.zst) zstd -qdc -- "$ko" >"$out/$name.ko" ;;
	*) cp -- "$ko" "$out/$name.ko" ;;
	esac
	[ "$(modinfo -F version "$out/$name.ko")" = "$version" ] ||
		die "$rel: $ko has version '$(modinfo -F version "$out/$name.ko")', not $version"
	[ "$(modinfo -F vermagic "$out/$name.ko" | cut -d' ' -f1)" = "$rel" ] ||
		die "$rel: $ko was built for '$(modinfo -F vermagic "$out/$name.ko")'"
	if [ "$key_before" = no ] && [ -e /var/lib/dkms/mok.key ]; then
		die "$rel: dkms wrote a signing key into /var/lib/dkms"
	fi
	log "$rel: DKMS built and installed $ko"
	printf '%s\n' "$out/$name.ko"
}

cmd_install() {
	local src=$1 rel ok=0 failed=()
	shift
	local rels=("$@") flags=()
	command -v dkms >/dev/null || die "dkms not found (apt-get install dkms)"
	[ -f "$src/dkms.conf" ] || die "$src has no dkms.conf (stage it first)"
	[ "$(basename "$src")" = "$name-$version" ] || die "$src is not .../$name-$version"
	read -r -a flags <<<"${DKMS_FLAGS:-}"
	if [ ${#rels[@]} -eq 0 ]; then
		for d in /lib/modules/*/build; do
			[ -e "$d/Makefile" ] || continue
			rel=${d%/build}
			rels+=("${rel##*/}")
		done
	fi
	[ ${#rels[@]} -gt 0 ] ||
		die "no kernel headers in /lib/modules/*/build: install linux-headers-\$(uname -r)"
	local dk=(dkms "${flags[@]}" --sourcetree "$(dirname "$src")")
	if "${dk[@]}" status -m "$name" -v "$version" 2>/dev/null | grep -q .; then
		log "removing the earlier $name/$version from dkms"
		"${dk[@]}" remove -m "$name" -v "$version" --all >&2 || true
	fi
	"${dk[@]}" add -m "$name" -v "$version" >&2 || die "dkms add failed"
	for rel in "${rels[@]}"; do
		if "${dk[@]}" install -m "$name" -v "$version" -k "$rel" >&2; then
			ok=$((ok + 1))
		else
			failed+=("$rel")
		fi
	done
	"${dk[@]}" status -m "$name" -v "$version" >&2
	[ ${#failed[@]} -eq 0 ] || die "dkms install failed for: ${failed[*]}"
	log "installed $name/$version for ${rels[*]}"
}

case "${1:-}" in
install)
	[ $# -ge 2 ] || die "usage: dkms.sh install SRCDIR [RELEASE...]"
	shift
	cmd_install "$@" ;;
stage)
	[ $# -eq 2 ] || die "usage: dkms.sh stage DIR"
	cmd_stage "$2" ;;
build)
	[ $# -eq 3 ] || die "usage: dkms.sh build RELEASE OUTDIR"
	cmd_build "$2" "$3" ;;
*)
	die "usage: dkms.sh stage DIR | build RELEASE OUTDIR | install SRCDIR [RELEASE...]" ;;
esac
