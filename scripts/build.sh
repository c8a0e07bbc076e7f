#!/usr/bin/env bash
# Configures (once) and builds runbox into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Debian interpreter, never one that happens to be first on PATH (pyenv...):
# pkg-config must find the system's python3-embed.
export PKG_CONFIG_PATH=
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=debugoptimized >/dev/null
fi
meson compile -C build >/dev/null
