#!/usr/bin/env bash
# Installs the Debian packages runbox builds and tests with (DESIGN.md's list,
# plus the compiler and setpriv). Installs only what is missing.
#   scripts/install-deps.sh [--test] [PACKAGE...]
# --test adds what scripts/test.sh needs beyond that (docs/testing.md).
set -euo pipefail

packages=(
    gcc meson ninja-build pkg-config   # the build
    python3 python3-dev                # the embedded interpreter (python3-embed)
    libseccomp-dev libcjson-dev zlib1g-dev
    nettle-dev                         # MD5 of datasets, as evalplus names its caches
    libmicrohttpd-dev                  # runbox serve's HTTP server
    check                              # unit tests
    util-linux                         # setpriv: hostile tests run unprivileged
    python3-mesonpy python3-venv       # the Python package: pip install . into a venv (docs/python.md)
)
# The fuzz targets' compiler and libFuzzer (Debian 12's clang is 14; libFuzzer
# is in libclang-rt-14-dev, which clang only recommends), and llvm-symbolizer
# for file:line in their crash reports. The sanitizer build uses gcc, whose
# ASan and UBSan runtimes (libasan8, libubsan1) come with it. pytest runs the
# Python package's suite.
test_packages=(clang-14 libclang-rt-14-dev llvm-14 python3-pytest)
# runbox serve's end-to-end tests use real HTTP clients: curl and requests.
test_packages+=(curl python3-requests)
if [ "${1:-}" = --test ]; then
    shift
    packages+=("${test_packages[@]}")
fi
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
