# shellcheck shell=bash
# linux-source.sh: Debian's linux-source-6.12 and the packages a build from it
# needs, for the scripts that build from that tree (tests/debug-kernel/build.sh,
# uml/build.sh). Sourced after common.sh. The caller sets BUILD_PKGS (the
# packages beyond host-packages), BUILD_WHAT (what it builds, for messages
# and its log prefix) and FRAGMENT (its config fragment).

SRC_PKG=linux-source-6.12
TARBALL=/usr/src/$SRC_PKG.tar.xz

# Install whatever of BUILD_PKGS is missing (as root), or die saying which.
ensure_build_pkgs() {
	local p missing=()
	for p in "${BUILD_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || die "missing packages to build $BUILD_WHAT: ${missing[*]} (installing needs root)"
	log "$BUILD_WHAT: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

src_pkg_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$SRC_PKG" 2>/dev/null |
		awk '$3 == "installed" { print $4 }'
}

# Install SRC_PKG if it or its tarball is missing (as root); print its version.
ensure_source_pkg() {
	local ver
	ver=$(src_pkg_version)
	if [ -z "$ver" ] || [ ! -s "$TARBALL" ]; then
		[ "$(id -u)" = 0 ] || die "$SRC_PKG is not installed and installing it needs root"
		log "$BUILD_WHAT: installing $SRC_PKG"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"$SRC_PKG" >&2 || die "apt-get install $SRC_PKG failed"
		ver=$(src_pkg_version)
		if [ -z "$ver" ] || [ ! -s "$TARBALL" ]; then
			die "$SRC_PKG installed but $TARBALL is missing"
		fi
	fi
	printf '%s\n' "$ver"
}

# Every line of FRAGMENT (set or "is not set") must be in the .config as is.
check_config() {
	local cfg=$1 line bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=* | "# CONFIG_"*" is not set") ;;
		*) continue ;;
		esac
		if ! grep -qxF -- "$line" "$cfg"; then
			log "$BUILD_WHAT: fragment line '$line' did not survive olddefconfig" \
				"(.config: $(grep -E "^(# )?${line#\# }" "$cfg" | head -n 1 || true))"
			bad=1
		fi
	done <"$FRAGMENT"
	[ "$bad" -eq 0 ] || die "$BUILD_WHAT: config fragment $FRAGMENT is not satisfiable as written"
}
