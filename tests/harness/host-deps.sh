#!/bin/bash
# host-deps.sh: install the Debian packages listed in host-packages that are
# missing (apt-get update first). Run by `make check`/`make run` before
# anything else, and by .ci/run; a no-op when everything is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' host-packages | grep -v '^$')
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "vmexec-harness: installing host packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
