#!/usr/bin/env bash
# masscan from Debian. It sends raw packets, so it only works for a worker allowed raw sockets (root or
# CAP_NET_RAW), and it does not work on loopback (see shared/ENGINES.md).
source "$(dirname "$0")/../../scripts/lib.sh"
command -v masscan >/dev/null 2>&1 || apt_install masscan
