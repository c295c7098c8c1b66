#!/usr/bin/env bash
# testssl.sh from Debian (3.0.8 on bookworm); the package installs the executable as /usr/bin/testssl.
source "$(dirname "$0")/../../scripts/lib.sh"
command -v testssl >/dev/null 2>&1 || apt_install testssl.sh
