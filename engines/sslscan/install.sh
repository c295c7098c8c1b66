#!/usr/bin/env bash
# sslscan from Debian (2.0.7 on bookworm).
source "$(dirname "$0")/../../scripts/lib.sh"
command -v sslscan >/dev/null 2>&1 || apt_install sslscan
