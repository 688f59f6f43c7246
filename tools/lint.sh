#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/lint.sh: the kernel-convention checks behind `make lint`.
#
#   1. checkpatch.pl --strict --no-tree -f on module/ and uapi/ sources, from
#      Debian's linux-source-6.12 (the tarball in /usr/src; the script and
#      the two data files it reads are extracted into $VMEXEC_CACHE/checkpatch,
#      never into the tree);
#   2. sparse (make C=2) and W=1 against each kernel of KERNELS (headers
#      installed by tests/harness/kernel.sh): any warning or error fails;
#   3. tests/uapi-check.sh (the header alone in C90/C11/C++, no padding).
#
# Environment: KERNELS="6.1 6.12", VMEXEC_CACHE=~/.cache/vmexec, MAKE=make,
# CHECKPATCH=path (use that checkpatch.pl instead), LINUX_SOURCE_SERIES=6.12.
# Exit status 0 only if everything is clean.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${KERNELS:=6.1 6.12}"
: "${VMEXEC_CACHE:=${HOME:-/var/tmp}/.cache/vmexec}"
: "${MAKE:=make}"
: "${LINUX_SOURCE_SERIES:=6.12}"
export VMEXEC_CACHE
harness=$top/tests/harness
failed=()

log() { printf 'lint: %s\n' "$*" >&2; }
die() { printf 'lint: error: %s\n' "$*" >&2; exit 1; }

# The files checked: tracked sources if this is a git tree, else the globs.
sources() {
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -- 'module/*.c' 'module/*.h' 'uapi/*.h'
	else
		local f
		for f in "$top"/module/*.c "$top"/module/*.h "$top"/uapi/linux/*.h; do
			case $f in *.mod.c) ;; *) echo "${f#"$top"/}" ;; esac
		done
	fi
}

checkpatch_path() {
	local dir=$VMEXEC_CACHE/checkpatch/$LINUX_SOURCE_SERIES tarball
	tarball=/usr/src/linux-source-$LINUX_SOURCE_SERIES.tar.xz
	if [ -x "$dir/scripts/checkpatch.pl" ] && [ "$dir/scripts/checkpatch.pl" -nt "$tarball" ]; then
		echo "$dir/scripts/checkpatch.pl"
		return
	fi
	if [ ! -f "$tarball" ]; then
		[ "$(id -u)" = 0 ] || die "$tarball is missing: apt-get install linux-source-$LINUX_SOURCE_SERIES"
		log "installing linux-source-$LINUX_SOURCE_SERIES (for checkpatch.pl)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"linux-source-$LINUX_SOURCE_SERIES" >&2 || die "apt-get install linux-source-$LINUX_SOURCE_SERIES failed"
	fi
	log "extracting checkpatch.pl from $tarball into $dir"
	rm -rf -- "$dir"
	mkdir -p -- "$dir"
	tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' >&2 ||
		die "could not extract checkpatch.pl from $tarball"
	touch "$dir/scripts/checkpatch.pl"
	echo "$dir/scripts/checkpatch.pl"
}

waivers=$top/tools/lint-waivers

# checkpatch_ignores PATH: the --ignore list tools/lint-waivers gives PATH.
checkpatch_ignores() {
	awk -v f="$1" '$1 == "checkpatch" && $2 == f { print $3 }' "$waivers" | paste -sd, -
}

run_checkpatch() {
	local cp f ign files=() bad=0
	cp=${CHECKPATCH:-$(checkpatch_path)}
	mapfile -t files < <(sources)
	[ ${#files[@]} -gt 0 ] || die "no module/ or uapi/ sources found"
	log "checkpatch --strict on ${#files[@]} files ($cp)"
	for f in "${files[@]}"; do
		ign=$(checkpatch_ignores "$f")
		[ -z "$ign" ] || log "checkpatch: $f: waived (tools/lint-waivers): $ign"
		if ! (cd "$top" && perl "$cp" --no-tree -f --strict --quiet --show-types \
			--no-summary ${ign:+--ignore "$ign"} "$f"); then
			bad=1
		fi
	done
	if [ "$bad" = 0 ]; then
		log "checkpatch: clean"
	else
		failed+=("checkpatch")
	fi
}

# sparse_waived FILE:LINE:...warning...: whether tools/lint-waivers lets it through.
sparse_waived() {
	local path=${1%%:*} rest=${1#*:} line re
	line=${rest%%:*}
	[[ $line =~ ^[0-9]+$ ]] && [ -f "$path" ] || return 1
	while read -r re; do
		sed -n "${line}p" "$path" | grep -Eq -- "$re" && return 0
	done < <(awk -v f="${path##*/}" '$1 == "sparse" && $2 == f { print $3 }' "$waivers")
	return 1
}

# sparse and W=1 in one kbuild run per kernel, on a copy out of the tree.
run_sparse() {
	local series rel dir out
	command -v sparse >/dev/null || die "sparse not found (apt-get install sparse)"
	for series in $KERNELS; do
		rel=$(bash "$harness/kernel.sh" release "$series") || { failed+=("sparse $series: no release"); continue; }
		bash "$harness/kernel.sh" headers "$rel" || { failed+=("sparse $rel: no headers"); continue; }
		dir=$VMEXEC_CACHE/lint/$rel
		bash "$top/tools/dkms.sh" stage "$dir"
		out=$dir/sparse.log
		log "$rel: make C=2 W=1 (sparse $(sparse --version 2>/dev/null || echo '?'))"
		if ! $MAKE -C "/lib/modules/$rel/build" M="$dir/module" C=2 W=1 \
			VMEXEC_VERSION="$(cat "$top/VERSION")" modules >"$out" 2>&1; then
			cat "$out" >&2
			failed+=("build C=2 W=1 $rel")
			continue
		fi
		local w n=0 waived=0
		while IFS= read -r w; do
			if sparse_waived "$w"; then
				waived=$((waived + 1))
				log "$rel: waived (tools/lint-waivers): ${w#"$dir"/}"
			else
				printf '%s\n' "$w" >&2
				n=$((n + 1))
			fi
		done < <(grep -E 'warning:|error:' "$out" || true)
		if [ "$n" -gt 0 ]; then
			failed+=("sparse/W=1 $rel: $n findings (log: $out)")
		else
			log "$rel: sparse C=2 and W=1: clean ($waived waived)"
		fi
	done
}

run_uapi_check() {
	if sh "$top/tests/uapi-check.sh"; then :; else failed+=("uapi-check"); fi
}

run_checkpatch
run_sparse
run_uapi_check

if [ ${#failed[@]} -gt 0 ]; then
	printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
log "all clean (checkpatch --strict, sparse C=2 and W=1 on $KERNELS, uapi-check)"
