#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# packaging/deb/build.sh: `make deb`. Builds three binary packages with
# dpkg-deb alone (no debhelper), from `make install` and tools/dkms.sh:
#
#   vmexec-dkms_V-1_all.deb     /usr/src/vmexec-V (dkms.conf with the version
#                               written in), vmexec(4), the udev rule,
#                               modules-load.d and sysusers.d entries; its
#                               postinst creates group vmexec and runs dkms's
#                               common.postinst (build + install for the
#                               kernels with headers), its prerm dkms remove.
#   libvmexec1_V-1_amd64.deb    libvmexec.so.1
#   libvmexec-dev_V-1_amd64.deb headers, libvmexec.so, libvmexec.a,
#                               vmexec.pc, section 3 man pages
#
# V is the VERSION file. Output: $DEB_O (default ~/.cache/vmexec/deb).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${DEB_O:=${VMEXEC_CACHE:-${HOME:-/var/tmp}/.cache/vmexec}/deb}"
: "${MAKE:=make}"
version=$(cat "$top/VERSION")
debver=$version-1
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$multiarch
maint="vmexec developers <vmexec@localhost>"

die() { printf 'deb: error: %s\n' "$*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

work=$DEB_O/work
rm -rf -- "$work"
mkdir -p -- "$work" "$DEB_O"

# Everything `make install` puts in place, with Debian's paths.
inst=$work/install
$MAKE -s -C "$top" install DESTDIR="$inst" PREFIX=/usr libdir="$libdir" \
	LIB_O="$work/lib" >/dev/null

# Debian policy: man pages gzip -9n, links pointing at the .gz.
find "$inst/usr/share/man" -type f -name '*.[34]' -exec gzip -9n {} +
find "$inst/usr/share/man" -type l -name '*.[34]' | while read -r l; do
	ln -s "$(readlink "$l").gz" "$l.gz"
	rm -f -- "$l"
done

# pkg_dir NAME: a fresh package root with DEBIAN/ and the copyright file.
pkg_dir() {
	local d=$work/$1
	mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1"
	{
		echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
		echo "Upstream-Name: vmexec"
		echo
		echo "Files: *"
		echo "License: GPL-2.0 (module, tools); (GPL-2.0 WITH Linux-syscall-note) OR MIT (libvmexec, uapi header)"
		echo " On Debian systems the GPL-2 is in /usr/share/common-licenses/GPL-2."
	} >"$d/usr/share/doc/$1/copyright"
	printf '%s\n' "$d"
}

# move FROM-ROOT TO-ROOT PATH...: move installed paths into a package.
move() {
	local from=$1 to=$2 p
	shift 2
	for p in "$@"; do
		mkdir -p "$to/$(dirname "$p")"
		mv -- "$from/$p" "$to/$p"
	done
}

installed_size() { du -sk --exclude=DEBIAN "$1" | cut -f1; }

# ---- libvmexec1
lib=$(pkg_dir libvmexec1)
move "$inst" "$lib" "$libdir/libvmexec.so.1"
chmod 0644 "$lib$libdir/libvmexec.so.1"	# Debian policy: shared libraries are not executable
# The newest glibc symbol version the library uses.
glibc=$(objdump -T "$lib$libdir/libvmexec.so.1" | grep -o 'GLIBC_[0-9.]*' |
	sed 's/GLIBC_//' | sort -V | tail -n 1)
cat >"$lib/DEBIAN/control" <<EOT
Package: libvmexec1
Source: vmexec
Version: $debver
Architecture: $arch
Multi-Arch: same
Maintainer: $maint
Installed-Size: $(installed_size "$lib")
Depends: libc6 (>= $glibc)
Section: libs
Priority: optional
Description: library for the vmexec kernel module (/dev/vmexec)
 libvmexec wraps the ioctls of /dev/vmexec: bind another process's address
 space by pidfd, run system calls in it, and run its code on the calling
 thread until the next system call or signal.
EOT
echo "libvmexec 1 libvmexec1 (>= $version)" >"$lib/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$lib/DEBIAN/triggers"

# ---- libvmexec-dev
dev=$(pkg_dir libvmexec-dev)
move "$inst" "$dev" "$libdir/libvmexec.so" "$libdir/libvmexec.a" \
	"$libdir/pkgconfig/vmexec.pc" usr/include/libvmexec.h usr/include/linux/vmexec.h \
	usr/share/man/man3
cat >"$dev/DEBIAN/control" <<EOT
Package: libvmexec-dev
Source: vmexec
Version: $debver
Architecture: $arch
Multi-Arch: same
Maintainer: $maint
Installed-Size: $(installed_size "$dev")
Depends: libvmexec1 (= $debver), linux-libc-dev
Section: libdevel
Priority: optional
Description: library for the vmexec kernel module - development files
 Headers (<libvmexec.h>, <linux/vmexec.h>), the static library, vmexec.pc
 for pkg-config and the section 3 manual pages of libvmexec.
EOT

# ---- vmexec-dkms
dk=$(pkg_dir vmexec-dkms)
bash "$top/tools/dkms.sh" stage "$dk/usr/src/vmexec-$version"
move "$inst" "$dk" usr/share/man/man4 usr/lib/udev/rules.d/60-vmexec.rules \
	usr/lib/modules-load.d/vmexec.conf usr/lib/sysusers.d/vmexec.conf
cat >"$dk/DEBIAN/control" <<EOT
Package: vmexec-dkms
Source: vmexec
Version: $debver
Architecture: all
Maintainer: $maint
Installed-Size: $(installed_size "$dk")
Depends: dkms (>= 3.0), adduser
Recommends: linux-headers-amd64 | linux-headers-generic
Section: kernel
Priority: optional
Description: vmexec kernel module (DKMS source)
 /dev/vmexec lets a task bind another process's address space by pidfd, run
 system calls inside it, and run that process's code on its own thread,
 getting control back at every system call and signal. x86-64, Linux 6.1 to
 6.12. DKMS builds the module for every kernel with headers installed.
EOT
cat >"$dk/DEBIAN/postinst" <<EOT
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
	getent group vmexec >/dev/null || addgroup --system --quiet vmexec
	/usr/lib/dkms/common.postinst vmexec $version "" "" "\$2"
	if command -v udevadm >/dev/null && [ -d /run/udev ]; then
		udevadm control --reload-rules || true
	fi
fi
exit 0
EOT
cat >"$dk/DEBIAN/prerm" <<EOT
#!/bin/sh
set -e
case "\$1" in
remove|upgrade|deconfigure)
	dkms remove -m vmexec -v $version --all >/dev/null 2>&1 || true
	;;
esac
exit 0
EOT
chmod 0755 "$dk/DEBIAN/postinst" "$dk/DEBIAN/prerm"

# Whatever `make install` installed must now be in a package.
left=$(find "$inst" -type f -o -type l)
[ -z "$left" ] || die "installed but in no package: $left"

for p in libvmexec1:"$arch" libvmexec-dev:"$arch" vmexec-dkms:all; do
	name=${p%%:*}
	dpkg-deb --root-owner-group -Zxz --build "$work/$name" \
		"$DEB_O/${name}_${debver}_${p##*:}.deb" >/dev/null
	echo "deb: $DEB_O/${name}_${debver}_${p##*:}.deb"
done
