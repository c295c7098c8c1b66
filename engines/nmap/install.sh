#!/usr/bin/env bash
# nmap from Debian.
source "$(dirname "$0")/../../scripts/lib.sh"
command -v nmap >/dev/null 2>&1 || apt_install nmap
