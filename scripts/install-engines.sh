#!/usr/bin/env bash
# Install every scanner this machine can have: each engine's own install.sh (Debian packages, or a private
# virtualenv under var/tools for scanners whose dependencies clash with the web app's).
source "$(dirname "$0")/lib.sh"
cd "$LANTERN_ROOT"
apt_install util-linux procps iproute2 openssl
for script in engines/*/install.sh; do
  bash "$script" || { echo "lantern: $script failed" >&2; exit 1; }
done
