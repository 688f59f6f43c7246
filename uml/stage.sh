# shellcheck shell=bash
# Sourced by uml/check.sh (make uml-check) and tests/harness/bench.sh (make
# bench, section u), after tests/harness/common.sh: what goes under /uml of
# the qemu guest's initramfs (initramfs.sh RELEASE uml|bench copies it).
#
# uml_stage STAGE STOCK [VMEXEC]: STAGE gets the UML binaries as
# linux-stock and linux-vmexec (the paths uml/build.sh printed; VMEXEC
# empty: stock only), uml/guest/run.sh and uml/guest/bench.sh (they run in
# the qemu guest), uml/guest/workload built statically (also used there, to
# time UML from outside) and uml-initrd.gz, UML's own initramfs: busybox,
# uml/guest/init as /init, every other uml/guest/*.sh at / and the
# workload at /bin/workload. STAGE and STAGE.root are made afresh.
UML_GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/guest" && pwd)

uml_stage() {
	local stage=$1 stock=$2 vm=${3:-} root f busybox=${BUSYBOX:-/bin/busybox}
	root=$stage.root
	need_cmd cpio gzip gcc
	is_static_elf "$(realpath "$busybox")" || die "$busybox is not statically linked: install busybox-static"
	rm -rf -- "$stage" "$root"
	mkdir -p "$stage" "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,out}
	cp -- "$stock" "$stage/linux-stock"
	[ -z "$vm" ] || cp -- "$vm" "$stage/linux-vmexec"
	install -m 0755 -- "$UML_GUEST_DIR/run.sh" "$stage/run.sh"
	install -m 0755 -- "$UML_GUEST_DIR/bench.sh" "$stage/bench.sh"
	cp -L -- "$busybox" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install -m 0755 -- "$UML_GUEST_DIR/init" "$root/init"
	for f in "$UML_GUEST_DIR"/*.sh; do
		case "${f##*/}" in run.sh | bench.sh) continue ;; esac
		install -m 0755 -- "$f" "$root/${f##*/}"
	done
	gcc -O2 -static -Wall -Wextra -Werror -o "$root/bin/workload" "$UML_GUEST_DIR/workload.c" ||
		die "building uml/guest/workload.c failed"
	install -m 0755 -- "$root/bin/workload" "$stage/workload"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$stage/uml-initrd.gz"
	rm -rf -- "$root"
}
