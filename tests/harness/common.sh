# shellcheck shell=bash
# Sourced by the host-side harness scripts: settings, paths and helpers.
# Every setting can be overridden from the environment (the top-level
# Makefile exports them).

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$HARNESS_DIR/../.." && pwd)

log() { printf 'vmexec-harness: %s\n' "$*" >&2; }
die() { printf 'vmexec-harness: error: %s\n' "$*" >&2; exit 1; }

: "${VMEXEC_CACHE:=${HOME:-/var/tmp}/.cache/vmexec}"
: "${MODULE_SRC:=$REPO_DIR/module}"
: "${UAPI_SRC:=$REPO_DIR/uapi}"
: "${TESTS_SRC:=$REPO_DIR/tests}"
: "${TREE_TAG:=$(printf '%s' "$REPO_DIR" | md5sum | cut -c1-8)}"
# Build directories per source tree: dependency files name absolute paths.
: "${TESTS_O:=$VMEXEC_CACHE/tests-$TREE_TAG}"
# make bench: benchmark sources, their build directory, where tables go.
: "${BENCH_SRC:=$REPO_DIR/bench}"
: "${BENCH_O:=$VMEXEC_CACHE/bench-$TREE_TAG}"
: "${BENCH_RESULTS:=$REPO_DIR/bench/results}"
# Sections: a-f run /bench/vmexec-bench -s (f, pass-through, only when asked
# for), g the vmexec-run workload (bench/vmexec-run-bench.c).
: "${BENCH_SECTIONS:=abcdeg}"
: "${ACCEL:=tcg}"
: "${QEMU_CPU:=max}"
: "${QEMU_MEM:=1024}"
: "${QEMU_SMP:=2}"
# ICOUNT=1 (make bench): qemu -icount shift=0,sleep=off, so the guest clock
# advances one nanosecond per executed instruction: benchmark figures count
# instructions, the same on any host. One vCPU where a kernel does not boot
# with two in that mode (6.1 hangs bringing up the second CPU).
: "${ICOUNT:=0}"
: "${BOOT_TIMEOUT:=600}"
: "${LOCK_TIMEOUT:=3600}"
: "${MAKE:=make}"
MODULE_NAME=vmexec

# Absolute paths: sub-makes run with -C elsewhere.
VMEXEC_CACHE=$(realpath -m -- "$VMEXEC_CACHE")
MODULE_SRC=$(realpath -m -- "$MODULE_SRC")
UAPI_SRC=$(realpath -m -- "$UAPI_SRC")
TESTS_SRC=$(realpath -m -- "$TESTS_SRC")
TESTS_O=$(realpath -m -- "$TESTS_O")
BENCH_SRC=$(realpath -m -- "$BENCH_SRC")
BENCH_O=$(realpath -m -- "$BENCH_O")
BENCH_RESULTS=$(realpath -m -- "$BENCH_RESULTS")

case "$VMEXEC_CACHE/" in
"$REPO_DIR"/*) die "VMEXEC_CACHE=$VMEXEC_CACHE is inside the git tree $REPO_DIR: build outputs must stay out of it" ;;
esac
case "$TESTS_O/" in
"$REPO_DIR"/*) die "TESTS_O=$TESTS_O is inside the git tree $REPO_DIR: build outputs must stay out of it" ;;
esac
case "$BENCH_O/" in
"$REPO_DIR"/*) die "BENCH_O=$BENCH_O is inside the git tree $REPO_DIR: build outputs must stay out of it" ;;
esac

# Per-release locations.
kernel_dir() { printf '%s/kernels/%s\n' "$VMEXEC_CACHE" "$1"; }
vmlinuz_path() { printf '%s/vmlinuz-%s\n' "$(kernel_dir "$1")" "$1"; }
build_dir() { printf '%s/build/%s\n' "$VMEXEC_CACHE" "$1"; }
ko_path() { printf '%s/module/%s.ko\n' "$(build_dir "$1")" "$MODULE_NAME"; }
initrd_path() { printf '%s/initrd.gz\n' "$(build_dir "$1")"; }
# Modules make bench's section D loads in the guest (kernel.sh bench-modules).
bench_modules_dir() { printf '%s/bench-modules\n' "$(kernel_dir "$1")"; }
# A kernel the harness built itself (the debug kernel) has its kbuild tree
# linked at kernels/RELEASE/build; stock kernels use the installed headers.
kbuild_dir() {
	if [ -e "$(kernel_dir "$1")/build/Makefile" ]; then
		printf '%s/build\n' "$(kernel_dir "$1")"
	else
		printf '/lib/modules/%s/build\n' "$1"
	fi
}
# The debug kernel (series "debug"): releases ending in -vmexec-debug.
is_debug_release() { case "$1" in *-vmexec-debug) return 0 ;; esac; return 1; }

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "'$c' not found: install the host packages listed in tests/harness/host-packages"
	done
}

# True if the ELF file has no program interpreter (statically linked).
is_static_elf() {
	local hdr
	hdr=$(head -c 4 -- "$1" | od -An -c | tr -d ' ')
	[ "$hdr" = '177ELF' ] || return 1
	! readelf -l -- "$1" 2>/dev/null | grep -q 'INTERP'
}
