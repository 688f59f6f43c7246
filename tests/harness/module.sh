#!/bin/bash
# module.sh RELEASE: build the module for one kernel, out of the git tree.
#
# Copies $MODULE_SRC and $UAPI_SRC side by side into
# $VMEXEC_CACHE/build/RELEASE/{module,uapi} and runs kbuild there with W=1.
# Any "warning:" in the build output fails the build. With MODULE_FROM=dkms
# the module DKMS builds (tools/dkms.sh, private trees) replaces it.
set -euo pipefail
# shellcheck source=tests/harness/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 1 ] || die "usage: module.sh RELEASE"
rel=$1
kb=$(kbuild_dir "$rel")
bdir=$(build_dir "$rel")
ko=$(ko_path "$rel")
buildlog=$bdir/module-build.log

[ -e "$kb/Makefile" ] || die "$kb is missing: run 'make fetch' (or kernel.sh headers $rel)"
[ -f "$MODULE_SRC/Kbuild" ] || [ -f "$MODULE_SRC/Makefile" ] ||
	die "MODULE_SRC=$MODULE_SRC has no Kbuild or Makefile (module not written yet?)"
[ -d "$UAPI_SRC" ] || die "UAPI_SRC=$UAPI_SRC is not a directory"

mkdir -p "$bdir"
rm -rf -- "$bdir/module" "$bdir/uapi"
cp -a -- "$MODULE_SRC" "$bdir/module"
cp -a -- "$UAPI_SRC" "$bdir/uapi"
# Drop any build junk that was copied along from an in-tree build.
find "$bdir/module" "$bdir/uapi" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
	-o -name '*.mod.c' -o -name '.*.cmd' -o -name 'Module.symvers' \
	-o -name 'modules.order' -o -name '*.a' \) -type f -delete

# module/Makefile passes the version from ./VERSION to Kbuild; do the same.
extra=()
[ ! -f "$REPO_DIR/VERSION" ] || extra=(VMEXEC_VERSION="$(cat "$REPO_DIR/VERSION")")

log "$rel: building $MODULE_NAME.ko (W=1) in $bdir/module"
set +e
$MAKE -C "$kb" M="$bdir/module" W=1 "${extra[@]}" modules 2>&1 | tee "$buildlog" >&2
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || die "$rel: module build failed (exit $rc; log: $buildlog)"
if grep -qi 'warning:' "$buildlog"; then
	grep -i 'warning:' "$buildlog" | sed "s/^/$rel: /" >&2
	die "$rel: module build printed warnings (W=1 must be clean; log: $buildlog)"
fi
[ -f "$ko" ] || die "$rel: build succeeded but $ko is missing"
log "$rel: built $ko"

# MODULE_FROM=dkms: the guest loads the module DKMS built (tools/dkms.sh:
# dkms add/build/install with private trees under $bdir/dkms), not the
# kbuild one above, which still had to pass W=1.
case "${MODULE_FROM:-kbuild}" in
kbuild) ;;
dkms)
	dkms_ko=$(MODULE_SRC=$MODULE_SRC UAPI_SRC=$UAPI_SRC \
		bash "$REPO_DIR/tools/dkms.sh" build "$rel" "$bdir/dkms") ||
		die "$rel: DKMS build failed (MODULE_FROM=dkms)"
	cp -- "$dkms_ko" "$ko"
	log "$rel: the guest gets the DKMS-built module ($dkms_ko)"
	;;
*) die "MODULE_FROM=$MODULE_FROM: use kbuild or dkms" ;;
esac
