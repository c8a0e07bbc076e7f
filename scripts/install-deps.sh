#!/usr/bin/env bash
# Installs the Debian packages runbox builds and tests with (DESIGN.md's list,
# plus the compiler and setpriv). Installs only what is missing.
set -euo pipefail

packages=(
    gcc meson ninja-build pkg-config   # the build
    python3 python3-dev                # the embedded interpreter (python3-embed)
    libseccomp-dev libcjson-dev zlib1g-dev
    check                              # unit tests
    util-linux                         # setpriv: hostile tests run unprivileged
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
