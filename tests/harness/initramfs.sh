#!/bin/bash
# initramfs.sh RELEASE [bench|uml]: pack the guest initramfs for one kernel.
#
# Contents: busybox-static (/bin/busybox, applet links made at boot), /init
# (tests/harness/init), /etc/vmexec-splat-patterns, the module at
# /vmexec.ko and every executable of $TESTS_O under /tests (plus
# $TESTS_O/extra.sh if present). Output: gzip'd newc cpio at
# $VMEXEC_CACHE/build/RELEASE/initrd.gz.
# With "bench" (make bench): the executables of $BENCH_O go under /bench
# instead, and /tests stays empty; if $BENCH_SECTIONS has g (the vmexec-run
# workload), the host's /usr/bin/strace (a dynamically linked Debian binary)
# goes to /usr/bin/strace with every library `ldd` lists and the dynamic
# loader, each at its host path. Without strace on the host the guest has
# none and the strace rows are absent (a warning says so). If it has d
# (section D writes files to ext4), the modules kernel.sh bench-modules
# cached go to /lib/modules/vmexec-bench (with their load-order) and the
# host's /usr/sbin/mke2fs (with its libraries, as strace) and
# /etc/mke2fs.conf come along: the guest's /init makes an ext4 file system
# on a brd RAM disk with them. If it has u (User-mode Linux), $BENCH_O/uml
# (staged by bench.sh build with uml/stage.sh) goes under /uml.
# With "uml" (uml/check.sh): every file of $UML_STAGE goes under /uml as is
# (User-mode Linux binaries, their initramfs, run.sh), /tests stays empty.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 1 ] || { [ $# -eq 2 ] && { [ "$2" = bench ] || [ "$2" = uml ]; }; } ||
	die "usage: initramfs.sh RELEASE [bench|uml]"
rel=$1
bench=
uml=
case "${2:-}" in
bench) bench=1 ;;
uml) uml=1 ;;
esac
need_cmd cpio gzip readelf od
ko=$(ko_path "$rel")
out=$(initrd_path "$rel")
stage=$(build_dir "$rel")/initramfs
busybox=${BUSYBOX:-/bin/busybox}

[ -f "$ko" ] || die "$ko is missing: build the module first"
[ -x "$busybox" ] || die "$busybox is missing: install busybox-static"
is_static_elf "$(realpath "$busybox")" ||
	die "$busybox is not statically linked: install busybox-static (not busybox)"
if [ -n "$bench" ]; then
	[ -d "$BENCH_O" ] || die "BENCH_O=$BENCH_O does not exist: build the benchmark programs first"
elif [ -n "$uml" ]; then
	[ -d "${UML_STAGE:-}" ] || die "UML_STAGE is not a directory: uml/check.sh sets it"
else
	[ -d "$TESTS_O" ] || die "TESTS_O=$TESTS_O does not exist: build the test programs first"
fi

rm -rf -- "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,tests,root}
cp -L -- "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 -- "$HARNESS_DIR/init" "$stage/init"
install -m 0644 -- "$HARNESS_DIR/splat-patterns" "$stage/etc/vmexec-splat-patterns"
install -m 0644 -- "$HARNESS_DIR/expected-oom.awk" "$stage/etc/vmexec-expected-oom.awk"
install -m 0644 -- "$ko" "$stage/$MODULE_NAME.ko"

n=0
src_dir=$TESTS_O
dest=tests
if [ -n "$bench" ]; then
	src_dir=$BENCH_O
	dest=bench
	mkdir -p "$stage/bench"
fi
if [ -n "$uml" ]; then
	mkdir -p "$stage/uml"
	cp -a -- "$UML_STAGE"/. "$stage/uml/"
	n=$(find "$stage/uml" -type f | wc -l)
	dest=uml
	src_dir=$UML_STAGE
fi
for f in "$src_dir"/*; do
	[ -z "$uml" ] || break
	[ -f "$f" ] || continue
	name=${f##*/}
	if [ -z "$bench" ] && [ "$name" = extra.sh ]; then
		install -m 0755 -- "$f" "$stage/tests/extra.sh"
		continue
	fi
	[ -x "$f" ] || continue
	case "$name" in *.sh) continue ;; esac
	if [ "$(head -c 4 -- "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && ! is_static_elf "$f"; then
		die "$f is dynamically linked: the guest has no libc, link it with -static"
	fi
	install -m 0755 -- "$f" "$stage/$dest/$name"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no ${uml:+files}${uml:-executables} in $src_dir"

# Tools for the tests and for make run (vmexec-run, vmexec-audit, ...): every
# executable in $TESTS_O/bin goes to /usr/bin in the guest, in every mode.
for f in "$TESTS_O"/bin/*; do
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
	is_static_elf "$f" || die "$f is not a static ELF: the guest has no libc, link it with -static"
	install -m 0755 -- "$f" "$stage/usr/bin/${f##*/}"
done

# copy_host_prog PATH: a dynamically linked host program, its libraries
# and the loader at the paths ldd names (ld.so finds them in its built-in
# multiarch directories).
copy_host_prog() {
	local prog=$1 lib libs
	need_cmd ldd
	if ldd "$prog" | grep -q 'not found'; then
		die "ldd $prog: a library is missing: $(ldd "$prog" | grep 'not found' | tr '\n' ' ')"
	fi
	# "name => /path (addr)" or "/path (addr)"; linux-vdso has no path.
	mapfile -t libs < <(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' | sort -u)
	[ "${#libs[@]}" -gt 0 ] || die "ldd $prog listed no libraries"
	mkdir -p -- "$stage$(dirname -- "$prog")"
	install -m 0755 -- "$prog" "$stage$prog"
	for lib in "${libs[@]}"; do
		mkdir -p -- "$stage$(dirname -- "$lib")"
		cp -L -- "$lib" "$stage$lib"
	done
	log "$rel: $prog and ${#libs[@]} libraries (${libs[*]}) in the initramfs"
}

# strace for section g.
copy_strace() {
	if [ ! -x /usr/bin/strace ]; then
		log "warning: /usr/bin/strace not found on the host (install the strace package, tests/harness/host-packages): the vmexec-run workload (section g) runs without its strace rows"
		return 0
	fi
	copy_host_prog /usr/bin/strace
}

# Section D's ext4 file system: the modules, mke2fs and its configuration.
copy_ext4() {
	local mods m
	mods=$(bench_modules_dir "$rel")
	if [ -f "$mods/load-order" ]; then
		mkdir -p "$stage/lib/modules/vmexec-bench"
		while IFS= read -r m; do
			[ -f "$mods/$m.ko" ] || die "$mods/$m.ko is missing (kernel.sh bench-modules $rel)"
			install -m 0644 -- "$mods/$m.ko" "$stage/lib/modules/vmexec-bench/$m.ko"
		done <"$mods/load-order"
		install -m 0644 -- "$mods/load-order" "$stage/lib/modules/vmexec-bench/load-order"
	elif is_debug_release "$rel"; then
		log "warning: $rel: no bench modules; section D's ext4 rows need ext4 and brd built in"
	else
		die "$mods/load-order is missing: run tests/harness/kernel.sh bench-modules $rel"
	fi
	[ -x /usr/sbin/mke2fs ] || die "/usr/sbin/mke2fs is missing: install e2fsprogs (tests/harness/host-packages)"
	copy_host_prog /usr/sbin/mke2fs
	if [ -f /etc/mke2fs.conf ]; then
		install -m 0644 /etc/mke2fs.conf "$stage/etc/mke2fs.conf"
	fi
}
if [ -n "$bench" ]; then
	case "${BENCH_SECTIONS:-abcdeg}" in *g*) copy_strace ;; esac
	# Section u: what tests/harness/bench.sh build staged (uml/stage.sh).
	case "${BENCH_SECTIONS:-abcdeg}" in
	*u*)
		[ -x "$BENCH_O/uml/bench.sh" ] || die "$BENCH_O/uml/bench.sh is missing: tests/harness/bench.sh build stages it for section u"
		mkdir -p "$stage/uml"
		cp -a -- "$BENCH_O/uml"/. "$stage/uml/"
		;;
	esac
	case "${BENCH_SECTIONS:-abcdeg}" in *d*) copy_ext4 ;; esac
fi

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$out.part"
mv -- "$out.part" "$out"
log "$rel: packed $out ($n ${dest} programs, $(du -k "$out" | cut -f1) KiB)"
